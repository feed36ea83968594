"""How vectors are computed and written (#13 §2 speed): the same bytes as WordLlama's own
`embed`, whatever the batching or the tokenizer's threads, without padding, written in one
prepared statement per batch."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import tracemalloc
from datetime import UTC, datetime

import numpy as np
from sqlalchemy import Engine, event
from sqlmodel import Session, select

from hotpapers.similar import embed_missing, embed_texts, paper_text
from hotpapers.similar._model import model
from hotpapers.similar._store import to_bytes
from hotpapers.storage.db import transaction
from hotpapers.storage.models import PaperVector
from hotpapers.storage.records import PaperRecord
from hotpapers.storage.store import upsert_papers

# Short and long, accents, symbols and characters the vocabulary only has as bytes.
TEXTS = [
    paper_text("Graph neural networks", "Message passing on molecular graphs."),
    paper_text("Schrödinger's ∇·E = ρ/ε₀", "3.5% (GNNs) naïve-ly — 量子 📈 ﬁnite‐size."),
    paper_text("A", ""),
    paper_text("Dark matter halos " * 20, "We measure density profiles of halos. " * 60),
    *(paper_text(f"Paper {n}", f"Abstract number {n} about topic {n % 7}.") for n in range(40)),
]


def test_vectors_are_wordllamas_own_byte_for_byte() -> None:
    """embed_texts gives exactly the float32 rows of WordLlama's `embed` (norm=True)."""
    ours = embed_texts(TEXTS)
    theirs = model().embed(list(TEXTS), norm=True, batch_size=16)
    assert ours.dtype == np.float32 and ours.shape == theirs.shape
    assert ours.tobytes() == np.ascontiguousarray(theirs, dtype=np.float32).tobytes()


def test_the_shipped_normalizer_runs_in_python_with_the_same_tokens() -> None:
    """The normalizer done by str.replace (the fast path, taken for the shipped tokenizer) and
    the tokenizer's own give the same tokens."""
    from tokenizers import Tokenizer

    from hotpapers.similar._model import _Encoder, _encoder, _load_lock

    with _load_lock:
        fast = _encoder()
    assert fast.normalizes_here
    own = Tokenizer.from_str(model().tokenizer.to_str())
    own.no_padding()
    plain = _Encoder(own, fast.table, normalizes_here=False)
    assert [e.ids for e in fast.encode(TEXTS)] == [e.ids for e in plain.encode(TEXTS)]


def test_one_thread_and_parallel_tokenizing_give_identical_bytes() -> None:
    """A process whose tokenizer runs on one thread stores the same bytes as this process's
    parallel batch encoding."""
    script = textwrap.dedent(
        """
        import sys
        from hotpapers.similar import embed_texts
        from hotpapers.similar._store import to_bytes
        texts = sys.stdin.read().split("\\x00")
        sys.stdout.write("".join(to_bytes(v).hex() + "\\n" for v in embed_texts(texts)))
        """
    )
    env = {**os.environ, "TOKENIZERS_PARALLELISM": "false", "RAYON_NUM_THREADS": "1"}
    done = subprocess.run(
        [sys.executable, "-c", script],
        input="\x00".join(TEXTS),
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == [to_bytes(v).hex() for v in embed_texts(TEXTS)]


def test_a_long_text_does_not_pad_the_whole_batch() -> None:
    """Memory stays small when one long abstract shares a batch with 500 short ones (padding
    every text to the longest would gather ~200 MB)."""
    texts = [TEXTS[3], *(f"short text {n}" for n in range(500))]
    embed_texts(texts[:2])  # the model is loaded outside the measurement
    tracemalloc.start()
    try:
        embed_texts(texts)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 16 * 2**20, f"peak {peak / 2**20:.0f} MiB"


def _store_papers(engine: Engine, count: int) -> None:
    records = [
        PaperRecord(
            arxiv_id=f"2611.{n:05d}",
            version=1,
            title=f"Paper {n} on topic {n % 5}",
            abstract=TEXTS[n % len(TEXTS)],
            authors=("Someone",),
            categories=("cs.LG",),
            primary_category="cs.LG",
            submitted=datetime(2026, 11, 1 + n % 20, tzinfo=UTC),
        )
        for n in range(count)
    ]
    with transaction(engine) as session:
        upsert_papers(session, records)


def test_stored_vectors_do_not_depend_on_the_batch_size(engine: Engine) -> None:
    """Each stored vector is its paper's own embed_texts row, in float16, whatever the batch."""
    _store_papers(engine, 30)
    embed_missing(engine, batch_size=7)
    with Session(engine) as session:
        stored = {v.paper_id: v.vector for v in session.exec(select(PaperVector))}
    embed_missing(engine, sorted(stored), batch_size=1000)  # again, all in one batch
    with Session(engine) as session:
        again = {v.paper_id: v.vector for v in session.exec(select(PaperVector))}
    assert len(stored) == 30 and stored == again
    n = 11
    expected = embed_texts([paper_text(f"Paper {n} on topic {n % 5}", TEXTS[n % len(TEXTS)])])
    assert stored[f"2611.{n:05d}"] == to_bytes(expected[0])


def test_vectors_are_written_in_one_prepared_statement_per_batch(engine: Engine) -> None:
    """A batch of 2,500 papers is one executemany, not one compiled statement per 1,000 rows
    (compiling thousands of bound parameters cost more CPU than the embedding's pooling)."""
    _store_papers(engine, 2500)
    writes: list[tuple[bool, int]] = []

    def record(_conn, _cursor, statement, parameters, _context, executemany) -> None:  # type: ignore[no-untyped-def]
        if statement.lstrip().upper().startswith("INSERT INTO PAPER_VECTOR"):
            writes.append((executemany, len(parameters)))

    event.listen(engine, "before_cursor_execute", record)
    try:
        assert embed_missing(engine, batch_size=4000).embedded == 2500
    finally:
        event.remove(engine, "before_cursor_execute", record)
    assert writes and all(many for many, _ in writes), writes
    assert sum(rows for _, rows in writes) == 2500
