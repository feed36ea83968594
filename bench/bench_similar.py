"""Similar papers at scale (#13 §2): embedding speed, nearest-neighbour latency, and quality.

    python bench/bench_similar.py embed --url sqlite:////work/data/similar_1m.db
    python bench/bench_similar.py stages --url sqlite:////work/data/similar_1m.db --papers 5000
    python bench/bench_similar.py query --url sqlite:////work/data/similar_1m.db
    python bench/bench_similar.py steps --url postgresql+psycopg://postgres@127.0.0.1/similar_1m
    python bench/bench_similar.py quality --snapshot bench/data/snapshot_1000000.jsonl

`embed` runs hotpapers' own `embed_missing` over every paper without a vector; `stages` times its
parts one by one (CPU seconds) on papers without a vector, writing nothing; `query` times the
`/similar` use-case (`similar_to`) and, side by side on the same vectors, a plain float32 scan and
an HNSW index (usearch); `steps` times each step of `similar_to`, the database work done the old
way (three checkouts, each a transaction) and the current way (one autocommit connection),
alternating; `quality` compares WordLlama with a TF-IDF baseline (scikit-learn).
Results go to BENCHMARKS.md by hand, with the load average printed here.
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

if TYPE_CHECKING:
    import numpy as np
    from sqlalchemy import Engine

    from hotpapers.similar._index import VectorIndex


def machine() -> str:
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    return f"{os.cpu_count()} CPUs, Python {platform.python_version()}, load average {load}"


def run_embed(url: str) -> None:
    from hotpapers.similar import embed_missing
    from hotpapers.storage.db import make_engine

    engine = make_engine(url)
    print("machine:", machine(), flush=True)

    def progress(done: int) -> None:
        if done % 100_000 < 4000:
            print(f"  {done:,} embedded  {time.strftime('%H:%M:%S')}", flush=True)

    cpu = time.process_time()
    report = embed_missing(engine, on_progress=progress)
    cpu = time.process_time() - cpu
    rate = report.per_second
    print(f"embedded {report.embedded:,} papers in {report.seconds:.1f} s -> {rate:,.0f} papers/s")
    if report.embedded:
        print(f"CPU time {cpu:.1f} s (all threads) -> {report.embedded / cpu:,.0f} papers/CPU-s")
    if rate:
        print(f"2.9M papers at this rate: {2_900_000 / rate / 60:.1f} min")
    print("machine at the end:", machine())


def run_stages(url: str, papers: int) -> None:
    """CPU seconds of each part of embedding `papers` papers without a vector: read, text,
    tokenize, pool, float16, write (rolled back: the database is left as it was)."""
    from sqlmodel import Session

    from hotpapers.similar._model import _encoder, _pooled, embed_texts, paper_text
    from hotpapers.similar._store import _missing_batch, store_vectors
    from hotpapers.storage.db import make_engine

    engine = make_engine(url)
    print("machine:", machine(), flush=True)
    embed_texts(["the model loads outside the measurement"])
    encoder, spent = _encoder(), dict.fromkeys(("read", "text", "tokenize", "pool", "write"), 0.0)

    @contextmanager
    def clock(stage: str) -> Iterator[None]:
        started = time.process_time()
        yield
        spent[stage] = spent.get(stage, 0.0) + time.process_time() - started

    with Session(engine) as session:
        with clock("read"):
            rows = _missing_batch(session, "", papers)
        for start in range(0, len(rows), 4000):  # embed_missing's batch size
            batch = rows[start : start + 4000]
            with clock("text"):
                texts = [paper_text(title, abstract) for _, title, abstract, _ in batch]
            with clock("tokenize"):
                tokens = encoder.encode(texts)
            with clock("pool"):
                vectors = _pooled(encoder.table, tokens)
            with clock("write"):
                store_vectors(session, [(row[0], row[3]) for row in batch], vectors)
            with clock("float16 (inside write)"):
                [vector.tobytes() for vector in vectors.astype("<f2")]
        session.rollback()
    total = sum(v for k, v in spent.items() if not k.startswith("float16"))
    for stage, seconds in spent.items():
        print(f"  {stage:>22}: {seconds:6.2f} CPU-s  ({seconds / max(total, 1e-9):4.0%})")
    print(f"{len(rows):,} papers, {total:.2f} CPU-s -> {len(rows) / total:,.0f} papers/CPU-s")
    print("machine at the end:", machine())


def run_fill(url: str, seed_papers: int) -> None:
    """Give every paper a vector, fast (SQLite only, plain sqlite3 in one transaction): the real
    embeddings of the first `seed_papers` papers, repeated with noise. For latency figures only:
    the values are synthetic. `embed` measures the real path."""
    import sqlite3

    import numpy as np

    from hotpapers.similar import MODEL_NAME, embed_texts, paper_text

    if url.startswith("postgresql"):
        _fill_postgres(url, seed_papers)
        return
    path = url.removeprefix("sqlite:///")
    connection = sqlite3.connect(path)
    rows = connection.execute(
        "SELECT title, abstract FROM paper ORDER BY id LIMIT ?", (seed_papers,)
    ).fetchall()
    base = embed_texts([paper_text(title, abstract) for title, abstract in rows])
    rng = np.random.default_rng(1)
    started = time.perf_counter()
    papers = connection.execute("SELECT id, submitted FROM paper ORDER BY id").fetchall()
    now = time.strftime("%Y-%m-%d %H:%M:%S.000000", time.gmtime())

    def values():  # type: ignore[no-untyped-def]
        for start in range(0, len(papers), 50_000):
            chunk = papers[start : start + 50_000]
            vectors = base[rng.integers(0, len(base), len(chunk))]
            vectors = vectors + rng.normal(0, 0.02, vectors.shape).astype(np.float32)
            vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
            blobs = vectors.astype("<f2")
            for (paper_id, submitted), blob in zip(chunk, blobs, strict=True):
                yield paper_id, MODEL_NAME, blob.tobytes(), submitted, now

    with connection:
        connection.execute("DELETE FROM paper_vector")
        connection.executemany("INSERT INTO paper_vector VALUES (?, ?, ?, ?, ?)", values())
    connection.close()
    print(f"filled {len(papers):,} vectors in {time.perf_counter() - started:.0f} s")


def _fill_postgres(url: str, seed_papers: int) -> None:
    """The same as run_fill, with COPY."""
    import numpy as np
    import psycopg

    from hotpapers.similar import MODEL_NAME, embed_texts, paper_text

    with psycopg.connect(url.replace("postgresql+psycopg", "postgresql")) as connection:
        rows = connection.execute(
            "SELECT title, abstract FROM paper ORDER BY id LIMIT %s", (seed_papers,)
        ).fetchall()
        base = embed_texts([paper_text(title, abstract) for title, abstract in rows])
        rng = np.random.default_rng(1)
        started = time.perf_counter()
        papers = connection.execute("SELECT id, submitted FROM paper ORDER BY id").fetchall()
        connection.execute("DELETE FROM paper_vector")
        now = datetime.now(UTC)
        copy_sql = "COPY paper_vector (paper_id, model, vector, submitted, added_at) FROM STDIN"
        with connection.cursor() as cursor, cursor.copy(copy_sql) as copy:
            for start in range(0, len(papers), 50_000):
                chunk = papers[start : start + 50_000]
                vectors = base[rng.integers(0, len(base), len(chunk))]
                vectors = vectors + rng.normal(0, 0.02, vectors.shape).astype(np.float32)
                vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
                for (paper_id, submitted), vector in zip(chunk, vectors, strict=True):
                    blob = vector.astype("<f2").tobytes()
                    copy.write_row((paper_id, MODEL_NAME, blob, submitted, now))
    print(f"filled {len(papers):,} vectors in {time.perf_counter() - started:.0f} s")


def _percentiles(seconds: list[float]) -> str:
    ordered = sorted(seconds)
    p50 = ordered[len(ordered) // 2]
    p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]
    return f"p50 {p50 * 1000:.1f} ms, p99 {p99 * 1000:.1f} ms (n={len(ordered)})"


def run_query(url: str, queries: int, hnsw: int) -> None:
    """The /similar use-case at this database's size, then the same vectors three ways."""
    import numpy as np

    from hotpapers.similar import nearest, similar_to
    from hotpapers.similar._index import _index_for
    from hotpapers.storage.db import make_engine

    engine = make_engine(url)
    print("machine:", machine(), flush=True)
    started = time.perf_counter()
    nearest(engine, np.ones(256, dtype=np.float32) / 16, 1)
    index = _index_for(engine)
    print(f"first search (loads {len(index):,} vectors): {time.perf_counter() - started:.1f} s")
    rng = np.random.default_rng(7)
    ids = [index.ids[i] for i in rng.integers(0, len(index), queries)]
    times = []
    for paper_id in ids:
        started = time.perf_counter()
        result = similar_to(engine, paper_id, 10)
        times.append(time.perf_counter() - started)
        assert result.sentence is None, result.sentence
    print("similar_to (lookup + vector + two-stage scan + summaries):", _percentiles(times))
    _compare_searches(index, ids[: min(queries, 200)], hnsw)
    print("machine at the end:", machine())


class _Laps:
    """Wall time per step (each lap ends one), and CPU seconds: of this thread, of this process
    (BLAS threads too; they spin on after a scan, into the next steps), and of the PostgreSQL
    server processes behind the engine's connections (from /proc, in clock ticks of 10 ms:
    meaningful as sums over many queries)."""

    def __init__(self, engine: Engine) -> None:
        from sqlalchemy import event

        self.wall: dict[str, list[float]] = {}
        self.cpu: dict[str, float] = {}
        self.thread: dict[str, float] = {}
        self.server: dict[str, float] = {}
        self.backends: set[int] = set()
        self._before = 0  # ticks the servers had spent when first seen (the vector load's)
        self._last = (0.0, 0.0, 0.0, 0.0)
        if engine.dialect.name == "postgresql":

            def remember(dbapi_connection, *_) -> None:  # type: ignore[no-untyped-def]
                pid = dbapi_connection.info.backend_pid
                if pid not in self.backends:
                    self.backends.add(pid)
                    self._before += self._ticks(pid)

            event.listen(engine, "checkout", remember)

    @staticmethod
    def _ticks(pid: int) -> int:
        stat = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return int(stat[11]) + int(stat[12])

    def _now(self) -> tuple[float, float, float, float]:
        ticks = sum(self._ticks(pid) for pid in self.backends) - self._before
        server = ticks / os.sysconf("SC_CLK_TCK")
        return time.perf_counter(), time.thread_time(), time.process_time(), server

    def start(self) -> None:
        self._last = self._now()

    def lap(self, name: str) -> None:
        now = self._now()
        wall, thread, cpu, server = (b - a for a, b in zip(self._last, now, strict=True))
        self.wall.setdefault(name, []).append(wall)
        self.thread[name] = self.thread.get(name, 0.0) + thread
        self.cpu[name] = self.cpu.get(name, 0.0) + cpu
        self.server[name] = self.server.get(name, 0.0) + server
        self._last = self._now()

    def report(self, title: str) -> None:
        print(title)
        queries = len(next(iter(self.wall.values())))
        totals = [sum(times) for times in zip(*self.wall.values(), strict=True)]
        for name, times in [*self.wall.items(), ("total", totals)]:
            per_query = [
                (sum(spent.values()) if name == "total" else spent[name]) / queries * 1000
                for spent in (self.thread, self.cpu, self.server)
            ]
            print(
                f"  {name:>22}: wall {_percentiles(times)}; CPU per query: this thread "
                "{:.2f} ms, process {:.2f} ms, server {:.2f} ms".format(*per_query)
            )


def run_steps(url: str, queries: int) -> None:
    """Each step of `similar_to` on `queries` papers, the old and the current way alternating
    (the same paper, the same load): where the time goes, and what one connection saves."""
    import numpy as np
    from sqlmodel import Session

    from hotpapers.similar import nearest
    from hotpapers.similar._index import _index_for, _newest_added, refresh
    from hotpapers.similar._lookup import _reading
    from hotpapers.similar._store import vectors_for
    from hotpapers.storage import queries as q
    from hotpapers.storage.db import make_engine

    engine = make_engine(url)
    print("machine:", machine(), flush=True)
    nearest(engine, np.ones(256, dtype=np.float32) / 16, 1)
    index = _index_for(engine)
    rng = np.random.default_rng(7)
    ids = [index.ids[i] for i in rng.integers(0, len(index), queries)]
    old, new = _Laps(engine), _Laps(engine)
    for paper_id in ids:
        old.start()
        with Session(engine) as session:
            q.get_paper(session, paper_id)
            old.lap("checkout + paper")
            vector = vectors_for(session, [paper_id])[paper_id]
        old.lap("vector (table) + close")
        with engine.connect() as connection:
            _newest_added(connection)
        old.lap("refresh check (own)")
        found = index.search(vector, 10, None, {paper_id})
        old.lap("scan")
        with Session(engine) as session:
            q.papers_by_ids(session, [n.paper_id for n in found])
        old.lap("summaries (own)")
        new.start()
        with _reading(engine) as session:
            q.get_paper(session, paper_id)
            new.lap("checkout + paper")
            refresh(engine, index, session.connection())
            new.lap("refresh check")
            held = index.vector_of(paper_id)
            assert held is not None  # every sampled paper has a vector in the index
            new.lap("vector (index)")
            found = index.search(held, 10, None, {paper_id})
            new.lap("scan")
            q.papers_by_ids(session, [n.paper_id for n in found])
        new.lap("summaries + close")
    old.report("old: three checkouts, each a transaction; the vector from the table")
    new.report("now: one autocommit connection; the vector from the index")
    print("machine at the end:", machine())


def _compare_searches(index: VectorIndex, ids: list[str], hnsw: int) -> None:
    """Exact float32 scan vs the two-stage scan (recall@10 against exact) vs HNSW (usearch)."""
    import numpy as np

    full = index._full[: len(index)]
    exact32 = full.astype(np.float32)
    queries = [exact32[index.positions[p]] for p in ids]
    truth, times = [], []
    for query in queries:
        started = time.perf_counter()
        scores = exact32 @ query
        best = np.argpartition(-scores, 11)[:11]
        times.append(time.perf_counter() - started)
        truth.append({index.ids[i] for i in best[np.argsort(-scores[best])][1:]})
    print("exact float32 scan:", _percentiles(times))
    del exact32
    times, hits = [], 0
    for query, expected in zip(queries, truth, strict=True):
        started = time.perf_counter()
        found = index.search(query, 11, None, ())
        times.append(time.perf_counter() - started)
        hits += len({n.paper_id for n in found[1:]} & expected)
    print(
        f"two-stage scan (64-dim float32, then 256 float16): {_percentiles(times)}, "
        f"recall@10 {hits / (10 * len(queries)):.3f}"
    )
    if hnsw:
        _hnsw(full[:hnsw], queries)


def _hnsw(vectors: np.ndarray, queries: list[np.ndarray]) -> None:
    import numpy as np
    from usearch.index import Index

    count = len(vectors)
    started = time.perf_counter()
    cpu = time.process_time()
    ann = Index(ndim=256, metric="cos", dtype="f16", connectivity=16)
    ann.add(np.arange(count), vectors, threads=2)
    print(
        f"HNSW (usearch, f16, M=16) build of {count:,}: {time.perf_counter() - started:.0f} s "
        f"wall, {time.process_time() - cpu:.0f} CPU s",
        flush=True,
    )
    times = []
    for query in queries:
        started = time.perf_counter()
        ann.search(query, 11)
        times.append(time.perf_counter() - started)
    print("HNSW search:", _percentiles(times))


def run_scan_cpu(count: int, searches: int) -> None:
    """The two-stage scan alone over `count` clustered random vectors: wall time and the CPU
    time of the searching thread (what a quiet machine's wall time would be, one BLAS thread)."""
    import numpy as np

    from hotpapers.similar._index import VectorIndex

    print("machine:", machine(), flush=True)
    rng = np.random.default_rng(0)
    centres = rng.standard_normal((2000, 256), dtype=np.float32)
    index = VectorIndex()
    for start in range(0, count, 100_000):
        size = min(100_000, count - start)
        noise = 0.5 * rng.standard_normal((size, 256), dtype=np.float32)
        vectors = centres[rng.integers(0, 2000, size)] + noise
        vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
        index.add([f"p{start + i}" for i in range(size)], vectors, [0] * size)
    wall, cpu = [], []
    for number in range(searches):
        query = index._full[(number * 997) % count].astype(np.float32)
        started, thread = time.perf_counter(), time.thread_time()
        index.search(query, 10, None, ())
        wall.append(time.perf_counter() - started)
        cpu.append(time.thread_time() - thread)
    print(f"two-stage scan of {count:,}: wall {_percentiles(wall)}; CPU {_percentiles(cpu)}")
    print("machine at the end:", machine())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    embed = sub.add_parser("embed")
    embed.add_argument("--url", required=True)
    stages = sub.add_parser("stages")
    stages.add_argument("--url", required=True)
    stages.add_argument("--papers", type=int, default=5000)
    fill = sub.add_parser("fill")
    fill.add_argument("--url", required=True)
    fill.add_argument("--seed-papers", type=int, default=5000)
    query = sub.add_parser("query")
    query.add_argument("--url", required=True)
    query.add_argument("--queries", type=int, default=300)
    query.add_argument("--hnsw", type=int, default=0, help="Also build HNSW over this many.")
    scan = sub.add_parser("scan-cpu", help="Run with OPENBLAS_NUM_THREADS=1.")
    scan.add_argument("--papers", type=int, default=1_000_000)
    scan.add_argument("--searches", type=int, default=100)
    steps = sub.add_parser("steps")
    steps.add_argument("--url", required=True)
    steps.add_argument("--queries", type=int, default=300)
    quality = sub.add_parser("quality")
    quality.add_argument("--snapshot", type=Path, required=True)
    quality.add_argument("--papers", type=int, default=10_000)
    quality.add_argument("--historic", type=Path, default=Path("../shared/reference/historic"))
    args = parser.parse_args()
    if args.command == "embed":
        run_embed(args.url)
    elif args.command == "stages":
        run_stages(args.url, args.papers)
    elif args.command == "fill":
        run_fill(args.url, args.seed_papers)
    elif args.command == "query":
        run_query(args.url, args.queries, args.hnsw)
    elif args.command == "steps":
        run_steps(args.url, args.queries)
    elif args.command == "scan-cpu":
        run_scan_cpu(args.papers, args.searches)
    elif args.command == "quality":
        from similar_quality import historic, report, snapshot

        print("machine:", machine(), flush=True)
        report("historic posts (real text)", historic(args.historic))
        report("generated snapshot (random-word abstracts)", snapshot(args.snapshot, args.papers))
        print("machine at the end:", machine())


if __name__ == "__main__":
    main()
