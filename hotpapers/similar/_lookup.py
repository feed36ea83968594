"""The use-case behind /similar, `hotpapers similar` and the site: a paper's nearest papers."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime

from sqlalchemy import Engine
from sqlmodel import Session

from hotpapers.similar._index import nearest_to_stored
from hotpapers.storage import queries

# Below this cosine a neighbour is noise, not a similar paper. Measured with WordLlama on real
# abstracts (the 151 papers of the historic posts, nearly all ML): the median pair scores 0.31
# and 99% of papers have their nearest above 0.3; papers on unrelated topics (molecular graphs
# and dark matter) score -0.1 to 0.15. A tiny database offers only such papers as "nearest".
SIMILARITY_FLOOR = 0.2


@dataclass(frozen=True)
class SimilarResult:
    """The paper asked about and its neighbours (best first, with their cosine similarity), or
    `sentence`, one sentence saying why there is nothing to show."""

    paper: queries.PaperDetail | None
    neighbours: list[tuple[queries.PaperSummary, float]] = field(default_factory=list)
    sentence: str | None = None


def similar_to(
    engine: Engine, arxiv_id: str, k: int = 5, since: date | datetime | None = None
) -> SimilarResult:
    """The `k` papers most like `arxiv_id` (a canonical id) by title and abstract, those
    at `SIMILARITY_FLOOR` or above only (fewer than `k`, or a sentence, when no more are)."""
    with _reading(engine) as session:
        paper = queries.get_paper(session, arxiv_id)
        if paper is None:
            return SimilarResult(
                None,
                sentence=f"arXiv:{arxiv_id} is not in the database yet (only collected or "
                f"imported papers are), so there is nothing to compare it with.",
            )
        found = nearest_to_stored(engine, session, arxiv_id, k, since)
        if found is None:
            return SimilarResult(
                paper,
                sentence=f"arXiv:{arxiv_id} has no content vector yet; papers get one when they "
                "are collected or imported, and `hotpapers embed` adds the missing ones.",
            )
        if found and all(n.score < SIMILARITY_FLOOR for n in found):
            return SimilarResult(
                paper,
                sentence=f"No stored paper is close enough to arXiv:{arxiv_id} by title and "
                f"abstract (none reaches a similarity of {SIMILARITY_FLOOR:.2f}).",
            )
        found = [n for n in found if n.score >= SIMILARITY_FLOOR]
        summaries = {
            s.arxiv_id: s for s in queries.papers_by_ids(session, [n.paper_id for n in found])
        }
    neighbours = [(summaries[n.paper_id], n.score) for n in found if n.paper_id in summaries]
    if not neighbours:
        return SimilarResult(
            paper, sentence=f"No other paper is stored yet to compare arXiv:{arxiv_id} with."
        )
    return SimilarResult(paper, neighbours)


@contextmanager
def _reading(engine: Engine) -> Iterator[Session]:
    """One connection for the whole lookup, each statement on its own (autocommit). On
    PostgreSQL every checkout costs a ping and every transaction a BEGIN and a ROLLBACK, each a
    round trip that waits for the server to be scheduled on a busy machine; and a transaction
    gives these reads nothing, since under READ COMMITTED (the default) each statement takes
    its own snapshot anyway."""
    with engine.connect() as connection:
        connection.execution_options(isolation_level="AUTOCOMMIT")
        with Session(bind=connection) as session:
            yield session
