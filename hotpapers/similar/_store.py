"""Vectors in the database: float16 bytes per paper, written in batches, read by id."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

import numpy as np
from sqlalchemy import Engine, and_, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session, col

from hotpapers.similar._model import MODEL_NAME, embed_texts, paper_text
from hotpapers.storage.db import transaction
from hotpapers.storage.models import Paper, PaperVector

log = logging.getLogger(__name__)

_STORED = np.dtype("<f2")  # half the bytes of float32; cosine ranks are unchanged at 3 digits


@dataclass
class EmbedReport:
    embedded: int = 0
    seconds: float = 0.0

    @property
    def per_second(self) -> float:
        return self.embedded / self.seconds if self.seconds > 0 else 0.0


def to_bytes(vector: np.ndarray) -> bytes:
    return np.asarray(vector, dtype=_STORED).tobytes()


def from_bytes(blob: bytes) -> np.ndarray:
    return np.frombuffer(blob, dtype=_STORED).astype(np.float32)


def vectors_for(session: Session, paper_ids: Iterable[str]) -> dict[str, np.ndarray]:
    """The stored vectors (float32, unit length) of those papers that have one."""
    ids = list(dict.fromkeys(paper_ids))
    found: dict[str, np.ndarray] = {}
    for start in range(0, len(ids), 500):  # bounded IN lists
        query = select(col(PaperVector.paper_id), col(PaperVector.vector)).where(
            col(PaperVector.paper_id).in_(ids[start : start + 500]),
            col(PaperVector.model) == MODEL_NAME,
        )
        found.update((paper_id, from_bytes(blob)) for paper_id, blob in session.execute(query))
    return found


def _upsert(session: Session, rows: list[dict[str, object]]) -> None:
    """One prepared INSERT ... ON CONFLICT run for every row (executemany): a multi-row VALUES
    statement is compiled anew for each batch, and compiling 5,000 bound parameters cost more CPU
    than pooling the vectors. On the session's connection (Core): the ORM's bulk path would
    walk every row again."""
    dialect = sqlite if session.get_bind().dialect.name == "sqlite" else postgresql
    statement = dialect.insert(PaperVector.__table__)  # type: ignore[attr-defined]
    excluded = statement.excluded
    session.connection().execute(
        statement.on_conflict_do_update(
            index_elements=["paper_id"],
            set_={
                "model": excluded.model,
                "vector": excluded.vector,
                "submitted": excluded.submitted,
                "added_at": excluded.added_at,
            },
        ),
        rows,
    )


def store_vectors(
    session: Session,
    papers: Sequence[tuple[str, datetime | None]],
    vectors: np.ndarray,
) -> None:
    """Write (or replace) the vectors of `papers` ((id, submitted) pairs, same order)."""
    if not papers:
        return
    now = datetime.now(UTC)
    stored = np.asarray(vectors, dtype=_STORED)  # one conversion for the batch
    rows: list[dict[str, object]] = [
        {
            "paper_id": paper_id,
            "model": MODEL_NAME,
            "vector": vector.tobytes(),
            "submitted": submitted,
            "added_at": now,
        }
        for (paper_id, submitted), vector in zip(papers, stored, strict=True)
    ]
    _upsert(session, rows)


_Row = tuple[str, str, str, datetime | None]


def _missing_batch(session: Session, after: str, limit: int) -> list[_Row]:
    """The next papers in id order without a vector of the current model."""
    vector = PaperVector.__table__  # type: ignore[attr-defined]
    paper = Paper.__table__  # type: ignore[attr-defined]
    query = (
        select(paper.c.id, paper.c.title, paper.c.abstract, paper.c.submitted)
        .select_from(
            paper.outerjoin(
                vector, and_(vector.c.paper_id == paper.c.id, vector.c.model == MODEL_NAME)
            )
        )
        .where(vector.c.paper_id.is_(None), paper.c.id > after)
        .order_by(paper.c.id)
        .limit(limit)
    )
    return [tuple(row) for row in session.execute(query)]  # type: ignore[misc]


def _named_batch(session: Session, ids: Sequence[str]) -> list[_Row]:
    paper = Paper.__table__  # type: ignore[attr-defined]
    query = select(paper.c.id, paper.c.title, paper.c.abstract, paper.c.submitted).where(
        paper.c.id.in_(ids)
    )
    return [tuple(row) for row in session.execute(query)]  # type: ignore[misc]


def _embed_and_store(engine: Engine, rows: list[_Row]) -> None:
    vectors = embed_texts([paper_text(title, abstract) for _, title, abstract, _ in rows])
    with transaction(engine) as session:
        store_vectors(
            session, [(paper_id, submitted) for paper_id, _, _, submitted in rows], vectors
        )


def embed_missing(
    engine: Engine,
    paper_ids: Sequence[str] | None = None,
    *,
    batch_size: int = 4000,
    on_progress: Callable[[int], None] | None = None,
) -> EmbedReport:
    """Embed and store, batch by batch (one transaction each), the papers without a vector.

    `paper_ids`: embed exactly these instead (again, if they have one: a collect passes the
    papers it just wrote, whose title or abstract may have changed).
    """
    report = EmbedReport()
    started = time.perf_counter()
    after, offset = "", 0
    while paper_ids is None or offset < len(paper_ids):
        with Session(engine) as session:
            if paper_ids is None:
                rows = _missing_batch(session, after, batch_size)
            else:
                rows = _named_batch(session, paper_ids[offset : offset + batch_size])
                offset += batch_size
        if rows:
            _embed_and_store(engine, rows)
            after = rows[-1][0]
            report.embedded += len(rows)
            if on_progress is not None:
                on_progress(report.embedded)
        elif paper_ids is None:
            break
    report.seconds = time.perf_counter() - started
    log.info("embedded %d papers in %.1f s", report.embedded, report.seconds)
    return report
