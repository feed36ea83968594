""" "Rising from earlier days": papers whose attention came days after their listing.

A paper ranks once, on its own listing (`candidates`), so one that gathers its attention
later would never be shown. Each surface (the Markdown post, the site, Discord) records what
it showed and at what score (`ShownPaper`); its Rising section lists the papers of the last
`rising.days` days whose score grew most since that surface last showed them (from 0 when it
never did), each at most once per surface. The choice for a day is recorded with it, so a
re-run or a rebuild of that day shows the same papers.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from datetime import date, datetime, timedelta

from sqlmodel import Session, col, select

from hotpapers.arxiv.ids import abs_url
from hotpapers.config import Settings
from hotpapers.ranking.candidates import load_candidates
from hotpapers.ranking.scoring import RankedPaper, Rise, format_number, rank_papers
from hotpapers.storage.models import Announcement, ShownPaper
from hotpapers.storage.store import insert_ignore

POST, SITE, DISCORD = "post", "site", "discord"
MAIN, RISING = "main", "rising"
TITLE = "Rising from earlier days"

# Every paper of an earlier listing that could have grown enough (see _risers).
_WHOLE_LISTING = 100_000


def record_shown(
    session: Session,
    surface: str,
    day: date,
    items: Iterable[RankedPaper],
    now: datetime,
    section: str = MAIN,
) -> None:
    """Remember that `surface` showed `items` in `day`'s output; the first record of a paper
    on a day stays (a re-run does not move the baseline)."""
    rows = [
        {
            "surface": surface,
            "listing_date": day,
            "paper_id": item.paper.arxiv_id,
            "section": section,
            "score": item.score,
            "shown_at": now,
        }
        for item in items
    ]
    insert_ignore(session, ShownPaper, rows)


def record_first_showing(
    session: Session, surface: str, day: date, items: Iterable[RankedPaper], now: datetime
) -> None:
    """For a page that is rebuilt with current scores (the site's day pages): remember what it
    showed when first published; a rebuild adds nothing (a late riser that now makes its own
    day's page was not shown there when people looked)."""
    query = select(ShownPaper.id).where(
        ShownPaper.surface == surface, ShownPaper.listing_date == day, ShownPaper.section == MAIN
    )
    if session.exec(query.limit(1)).first() is None:
        record_shown(session, surface, day, items, now)


def rising_papers(
    session: Session,
    settings: Settings,
    surface: str,
    day: date,
    now: datetime,
    *,
    choose: bool = True,
    cache: dict[date, list[RankedPaper]] | None = None,
) -> list[RankedPaper]:
    """`day`'s Rising section on `surface`, best growth first (each paper's `rise` set, its
    rank its place in the section): the one recorded for `day`, or else (with `choose`) chosen
    now and recorded in `session` (the caller commits).

    `cache`: listing day -> its ranking at `now`, shared by the calls of one build.
    """
    recorded = _rising_ids(session, surface, day)
    if recorded or not choose:
        if not recorded:
            return []
        risers = _risers(session, settings, surface, day, now, cache, only=recorded)
        return _renumbered([r for r in risers if r.paper.arxiv_id in recorded])
    rising = settings.rising
    least = settings.ranking.threshold if rising.min_growth is None else rising.min_growth
    earlier = _rising_ids(session, surface, None)
    chosen = [
        r
        for r in _risers(session, settings, surface, day, now, cache)
        if _growth(r) >= least and r.paper.arxiv_id not in earlier
    ][: rising.top]
    record_shown(session, surface, day, chosen, now, RISING)
    return _renumbered(chosen)


def _risers(
    session: Session,
    settings: Settings,
    surface: str,
    day: date,
    now: datetime,
    cache: dict[date, list[RankedPaper]] | None,
    *,
    only: set[str] | None = None,
) -> list[RankedPaper]:
    """Every paper of the listings in the window before `day`, by growth since last shown
    (`only`: the listings of these papers are enough)."""
    start = day - timedelta(days=settings.rising.days)
    shown = _last_shown(session, surface, start, day)
    found = []
    for listed in _listing_days(session, start, day, only):
        if cache is None or listed not in cache:
            ranked = _whole_ranking(session, settings, listed, now)
            if cache is not None:
                cache[listed] = ranked
        else:
            ranked = cache[listed]
        for item in ranked:
            before = shown.get(item.paper.arxiv_id, 0.0)
            if item.score > before:
                rise = Rise(listed=listed, before=before, growth=item.score - before)
                found.append(dataclasses.replace(item, rise=rise))
    found.sort(key=lambda r: (-_growth(r), -r.score, r.paper.arxiv_id))
    return _renumbered(found)


def _growth(item: RankedPaper) -> float:
    return item.rise.growth if item.rise is not None else 0.0


def _whole_ranking(
    session: Session, settings: Settings, listed: date, now: datetime
) -> list[RankedPaper]:
    """Every paper that ranks on `listed`, scored at `now` (as its own day's ranking does)."""
    ranking = settings.ranking
    return rank_papers(
        load_candidates(session, listed, None, now),
        weights=ranking.weights,
        threshold=float("-inf"),
        top=_WHOLE_LISTING,
        now=now,
        decay_hours=ranking.decay_hours,
    )


def _renumbered(found: list[RankedPaper]) -> list[RankedPaper]:
    return [dataclasses.replace(r, rank=n) for n, r in enumerate(found, 1)]


def _listing_days(session: Session, start: date, day: date, only: set[str] | None) -> list[date]:
    query = select(col(Announcement.listing_date)).where(
        col(Announcement.listing_date) >= start, col(Announcement.listing_date) < day
    )
    if only is not None:
        query = query.where(col(Announcement.paper_id).in_(sorted(only)))
    return list(session.exec(query.distinct().order_by(col(Announcement.listing_date))).all())


def _last_shown(session: Session, surface: str, start: date, day: date) -> dict[str, float]:
    """paper id -> its score when `surface` last showed it before `day` (since `start`)."""
    query = (
        select(ShownPaper.paper_id, ShownPaper.score)
        .where(
            ShownPaper.surface == surface,
            col(ShownPaper.listing_date) >= start,
            col(ShownPaper.listing_date) < day,
        )
        .order_by(col(ShownPaper.listing_date))
    )
    return {paper_id: score for paper_id, score in session.exec(query).all()}


def _rising_ids(session: Session, surface: str, day: date | None) -> set[str]:
    """Papers `surface` showed as rising on `day` (None: on any day)."""
    query = select(ShownPaper.paper_id).where(
        ShownPaper.surface == surface, ShownPaper.section == RISING
    )
    if day is not None:
        query = query.where(ShownPaper.listing_date == day)
    return set(session.exec(query).all())


def post_entries(rising: Iterable[RankedPaper]) -> list[dict[str, str]]:
    """What the Markdown template prints for each rising paper (all text formatted)."""
    return [
        {
            "title": r.paper.title,
            "abs_url": abs_url(r.paper.arxiv_id),
            "listed": r.rise.listed.isoformat() if r.rise else "",
            "score": format_number(round(r.score, 2)),
            "growth": format_number(round(_growth(r), 2)),
        }
        for r in rising
    ]
