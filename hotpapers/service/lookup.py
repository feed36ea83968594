"""Look-ups the interactive commands need beyond `hotpapers.storage.queries`: the listing date a
paper ranks on and its score there, and the cached TL;DRs they show."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import Engine, func, select
from sqlmodel import Session, col

from hotpapers.config import Settings
from hotpapers.ranking.scoring import RankedPaper
from hotpapers.service import use_cases as jobs
from hotpapers.storage.models import Announcement
from hotpapers.tldr.store import current_tldrs, with_tldrs

# Enough to find any paper of one listing in the ranking (RankingSettings.top's maximum).
WHOLE_LISTING = 1000


@dataclass(frozen=True)
class PaperScore:
    listing_date: date
    ranked: RankedPaper


def ranked_listing_date(session: Session, arxiv_id: str) -> date | None:
    """The listing date `arxiv_id` ranks on (its first: later ones are replacements or
    cross-lists of a paper already listed), or None if never announced."""
    query = select(func.min(col(Announcement.listing_date))).where(
        col(Announcement.paper_id) == arxiv_id
    )
    return session.execute(query).scalar_one_or_none()


def paper_score(
    settings: Settings, engine: Engine, arxiv_id: str, *, now: datetime | None = None
) -> PaperScore | None:
    """The paper's rank and score on the listing it ranks on; None if unlisted or below
    threshold."""
    with Session(engine) as session:
        day = ranked_listing_date(session, arxiv_id)
    if day is None:
        return None
    ranking = jobs.rank(settings, engine, day, now=now, top=WHOLE_LISTING)
    found = next((item for item in ranking if item.paper.arxiv_id == arxiv_id), None)
    return PaperScore(day, found) if found is not None else None


# A slash command only reads the TL;DR cache (hotpapers/tldr/store.py), never asks the endpoint:
# Discord wants an answer within seconds, and every request is spent from the daily cap.


def paper_tldr(session: Session, settings: Settings, arxiv_id: str) -> str | None:
    """The cached TL;DR of the paper's current version; None without one or with [tldr] off."""
    if not settings.tldr.enabled:
        return None
    return current_tldrs(session, [arxiv_id]).get(arxiv_id)


def with_cached_tldrs(
    session: Session, settings: Settings, ranked: list[RankedPaper]
) -> list[RankedPaper]:
    """`ranked` with each cached TL;DR attached; as it is with [tldr] off."""
    return with_tldrs(session, ranked, enabled=settings.tldr.enabled)
