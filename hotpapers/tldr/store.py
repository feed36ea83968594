"""The TL;DR cache: one row per paper version (`Tldr`), read by the surfaces that show them.

A TL;DR belongs to the version whose title and abstract it summarises: once arXiv announces
a v2 (the stored title and abstract are then v2's), v1's sentence is no longer shown and v2
gets its own. Writing is an insert that ignores a row already there, so two runs at once
keep the first sentence and never fail.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import replace
from datetime import datetime

from sqlalchemy import Engine, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session, col

from hotpapers.ranking.scoring import RankedPaper
from hotpapers.storage.db import transaction
from hotpapers.storage.models import Paper, Tldr

_TABLE = Tldr.__table__  # type: ignore[attr-defined]


def current_tldrs(session: Session, paper_ids: Iterable[str]) -> dict[str, str]:
    """paper id -> the TL;DR of its current (latest) version, for those that have one."""
    ids = sorted(set(paper_ids))
    if not ids:
        return {}
    query = (
        select(col(Tldr.paper_id), col(Tldr.text))
        .join(Paper, col(Paper.id) == col(Tldr.paper_id))
        .where(col(Tldr.paper_id).in_(ids), col(Tldr.version) == col(Paper.latest_version))
    )
    return {paper_id: text for paper_id, text in session.execute(query)}


def with_tldrs(
    session: Session, ranked: Sequence[RankedPaper], *, enabled: bool
) -> list[RankedPaper]:
    """`ranked` with each paper's current TL;DR attached where one is cached; as it is when
    [tldr] is off (`enabled` False): sentences cached while it was on are not shown then."""
    if not enabled:
        return list(ranked)
    found = current_tldrs(session, (item.paper.arxiv_id for item in ranked))
    return [
        replace(item, tldr=found[item.paper.arxiv_id]) if item.paper.arxiv_id in found else item
        for item in ranked
    ]


def engine_tldrs(engine: Engine, paper_ids: Iterable[str]) -> dict[str, str]:
    with Session(engine) as session:
        return current_tldrs(session, paper_ids)


def missing_versions(session: Session, paper_ids: Sequence[str]) -> dict[str, int]:
    """paper id -> its latest version, for the papers whose latest version has no TL;DR."""
    if not paper_ids:
        return {}
    query = (
        select(col(Paper.id), col(Paper.latest_version), col(Tldr.paper_id))
        .outerjoin(
            Tldr,
            (col(Tldr.paper_id) == col(Paper.id))
            & (col(Tldr.version) == col(Paper.latest_version)),
        )
        .where(col(Paper.id).in_(list(paper_ids)))
    )
    return {paper_id: version for paper_id, version, cached in session.execute(query) if not cached}


def save_tldr(
    engine: Engine,
    paper_id: str,
    version: int,
    text: str,
    *,
    model: str,
    tokens: tuple[int, int],
    now: datetime,
) -> None:
    """Keep one version's TL;DR (a row already there, from a run at the same time, stays)."""
    row = {
        "paper_id": paper_id,
        "version": version,
        "text": text,
        "model": model,
        "prompt_tokens": tokens[0],
        "completion_tokens": tokens[1],
        "created_at": now,
    }
    with transaction(engine) as session:
        dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
        session.execute(dialect.insert(_TABLE).values(**row).on_conflict_do_nothing())
