"""Nearest neighbours in process: every vector of one database in memory, searched exactly.

Why not an ANN index: at a million papers an HNSW graph takes minutes to build on this machine's
two CPUs and must then be kept on disk beside the database; a scan needs neither (BENCHMARKS.md,
"Similar papers", has both measured). The scan is two-stage. WordLlama's vectors are trained so
that their first 64 dimensions are a good embedding by themselves (Matryoshka training), so the
first stage scores every paper on those 64 (a quarter of the memory to read), and the second
re-scores a shortlist on all 256.

Freshness: each search first asks the table for its newest `added_at` (one index lookup) and,
when it moved, loads the rows added since the last load (minus a margin for transactions that
committed late). A re-embedded paper replaces its row in place.
"""

from __future__ import annotations

import logging
import threading
import time
import weakref
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

import numpy as np
from sqlalchemy import BigInteger, ColumnElement, Connection, Engine, cast, func, select
from sqlmodel import Session, col

from hotpapers.similar._model import DIMENSIONS, MODEL_NAME
from hotpapers.similar._store import vectors_for
from hotpapers.storage.models import PaperVector

log = logging.getLogger(__name__)

PREFIX = 64  # dimensions of the first stage
SHORTLIST = 256  # candidates the second stage re-scores
_EXACT_BELOW = 50_000  # below this many papers the full scan is as cheap as the two stages
_LATE_COMMIT = timedelta(minutes=2)
_NO_DATE = np.iinfo(np.int64).min


@dataclass(frozen=True)
class Neighbour:
    paper_id: str
    score: float  # cosine similarity, -1 to 1


def _seconds(moment: datetime | date) -> int:
    if not isinstance(moment, datetime):
        moment = datetime(moment.year, moment.month, moment.day, tzinfo=UTC)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return int(moment.timestamp())


def _prefix_of(vectors: np.ndarray) -> np.ndarray:
    prefix = np.ascontiguousarray(vectors[:, :PREFIX], dtype=np.float32)
    norms = np.linalg.norm(prefix, axis=1, keepdims=True)
    return prefix / np.where(norms == 0, 1, norms)


class VectorIndex:
    """The vectors of one database, in growable arrays (capacity doubles as papers arrive)."""

    def __init__(self) -> None:
        self.ids: list[str] = []
        self.positions: dict[str, int] = {}
        self._full = np.zeros((0, DIMENSIONS), dtype=np.float16)
        self._prefix = np.zeros((0, PREFIX), dtype=np.float32)
        self._submitted = np.zeros(0, dtype=np.int64)
        self.newest_added: datetime | None = None
        self.lock = threading.Lock()

    def __len__(self) -> int:
        return len(self.ids)

    def _grow(self, held: int, needed: int) -> None:
        capacity = len(self._submitted)
        if needed <= capacity:
            return
        capacity = max(needed, capacity * 2, 1024)
        for name in ("_full", "_prefix", "_submitted"):
            old = getattr(self, name)
            new = np.zeros((capacity, *old.shape[1:]), dtype=old.dtype)
            new[:held] = old[:held]
            setattr(self, name, new)

    def add(self, ids: Sequence[str], vectors: np.ndarray, submitted: Sequence[int]) -> None:
        """Add papers, or replace the vectors of papers already held."""
        held, slots = len(self.ids), []
        for paper_id in ids:
            slot = self.positions.get(paper_id)
            if slot is None:
                slot = self.positions[paper_id] = len(self.ids)
                self.ids.append(paper_id)
            slots.append(slot)
        self._grow(held, len(self.ids))
        where = np.asarray(slots, dtype=np.int64)
        self._full[where] = vectors.astype(np.float16)
        self._prefix[where] = _prefix_of(vectors)
        self._submitted[where] = np.asarray(submitted, dtype=np.int64)

    def vector_of(self, paper_id: str) -> np.ndarray | None:
        """The vector held for `paper_id` (float32), or None. The same numbers as the table's
        (float16 there and here, widened the same way)."""
        slot = self.positions.get(paper_id)
        return None if slot is None else self._full[slot].astype(np.float32)

    def search(
        self, query: np.ndarray, k: int, since: int | None, exclude: Collection[str]
    ) -> list[Neighbour]:
        count = len(self.ids)
        if count == 0 or k < 1:
            return []
        query = np.asarray(query, dtype=np.float32)
        allowed = None if since is None else self._submitted[:count] >= since
        shortlist = max(SHORTLIST, 4 * k)
        if count <= max(_EXACT_BELOW, shortlist):
            candidates = np.arange(count)
        else:
            candidates = self._shortlist(query, shortlist, allowed)
        if allowed is not None:
            candidates = candidates[allowed[candidates]]
        skip = {self.positions[p] for p in exclude if p in self.positions}
        if skip:
            candidates = candidates[~np.isin(candidates, list(skip))]
        scores = self._full[candidates].astype(np.float32) @ query
        best = np.argsort(-scores, kind="stable")[:k]
        return [Neighbour(self.ids[candidates[i]], float(scores[i])) for i in best]

    def _shortlist(self, query: np.ndarray, size: int, allowed: np.ndarray | None) -> np.ndarray:
        prefix = query[:PREFIX] / max(float(np.linalg.norm(query[:PREFIX])), 1e-12)
        scores = self._prefix[: len(self.ids)] @ prefix
        if allowed is not None:
            scores[~allowed] = -np.inf
        size = min(size, len(scores) - 1)
        return np.argpartition(-scores, size)[: size + 1]


_indexes: weakref.WeakKeyDictionary[Engine, VectorIndex] = weakref.WeakKeyDictionary()
_registry_lock = threading.Lock()


def _index_for(engine: Engine) -> VectorIndex:
    with _registry_lock:
        index = _indexes.get(engine)
        if index is None:
            index = _indexes[engine] = VectorIndex()
        return index


def forget_cached_indexes() -> None:
    """Drop every in-process index (they are loaded again on the next search)."""
    with _registry_lock:
        _indexes.clear()


def _newest_added(connection: Connection) -> datetime | None:
    newest = connection.execute(select(func.max(PaperVector.added_at))).scalar_one()
    if isinstance(newest, datetime) and newest.tzinfo is None:
        newest = newest.replace(tzinfo=UTC)
    return newest


def _epoch_seconds(engine: Engine) -> ColumnElement[int]:
    """`submitted` as whole seconds since 1970 computed by the database: a million rows load
    without a datetime object each."""
    if engine.dialect.name == "sqlite":
        seconds = cast(func.strftime("%s", col(PaperVector.submitted)), BigInteger)
    else:
        seconds = cast(func.extract("epoch", col(PaperVector.submitted)), BigInteger)
    return func.coalesce(seconds, int(_NO_DATE))


def refresh(engine: Engine, index: VectorIndex, connection: Connection | None = None) -> None:
    """Load into `index` what the table gained since the index last looked. `connection`: an
    open one to ask on (saves a checkout and, on PostgreSQL, its round trips); any load runs on
    a connection of its own (it streams, which PostgreSQL does inside a transaction)."""
    if connection is None:
        with engine.connect() as own:
            newest = _newest_added(own)
    else:
        newest = _newest_added(connection)
    if newest is None or (index.newest_added is not None and newest <= index.newest_added):
        return
    started = time.perf_counter()
    query = select(
        col(PaperVector.paper_id), col(PaperVector.vector), _epoch_seconds(engine)
    ).where(col(PaperVector.model) == MODEL_NAME)
    if index.newest_added is not None:
        query = query.where(col(PaperVector.added_at) >= index.newest_added - _LATE_COMMIT)
    loaded = 0
    with engine.connect() as connection:
        result = connection.execution_options(yield_per=50_000).execute(query)
        for rows in result.partitions():
            blob = b"".join(row[1] for row in rows)
            vectors = np.frombuffer(blob, dtype="<f2").reshape(len(rows), DIMENSIONS)
            index.add(
                [row[0] for row in rows], vectors.astype(np.float32), [row[2] for row in rows]
            )
            loaded += len(rows)
    index.newest_added = newest
    log.info("similar: loaded %d vectors in %.2f s", loaded, time.perf_counter() - started)


def nearest(
    engine: Engine,
    vector: np.ndarray,
    k: int = 10,
    since: datetime | date | None = None,
    exclude: Collection[str] = (),
) -> list[Neighbour]:
    """The `k` stored papers most like `vector` (cosine), best first; only papers submitted on or
    after `since` when given; never those in `exclude`."""
    index = _index_for(engine)
    with index.lock:
        refresh(engine, index)
        return index.search(vector, k, None if since is None else _seconds(since), exclude)


def nearest_to_stored(
    engine: Engine, session: Session, arxiv_id: str, k: int, since: date | datetime | None
) -> list[Neighbour] | None:
    """The `k` papers nearest to `arxiv_id`'s stored vector (as `nearest`, never itself), or
    None when it has no vector. The refresh check runs on `session`'s connection. The vector
    is the index's copy (the same float16 numbers, just brought up to date): the table is asked
    only when the index lacks it (a row committed after the index's margin for late commits)."""
    index = _index_for(engine)
    with index.lock:
        refresh(engine, index, session.connection())
        vector = index.vector_of(arxiv_id)
        if vector is None:
            vector = vectors_for(session, [arxiv_id]).get(arxiv_id)
        if vector is None:
            return None
        return index.search(vector, k, None if since is None else _seconds(since), {arxiv_id})
