"""What the site shows, read from the database: the ranked days, per category and per paper.

The ranking is the one `hotpapers rank` prints (`jobs.rank`); nothing is scored again here
(the newest page's "Rising from earlier days" comes from `hotpapers.ranking.rising`, which records
what the pages showed). Everything is ordered explicitly so that the same database always
gives the same site.
"""

from __future__ import annotations

import dataclasses
import re
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime

from sqlalchemy import Engine, func
from sqlmodel import Session, col, select

from hotpapers.config import Settings
from hotpapers.ranking.rising import SITE, record_first_showing, rising_papers
from hotpapers.ranking.scoring import RankedPaper
from hotpapers.service import use_cases as jobs
from hotpapers.site.views import safe_url
from hotpapers.storage.db import transaction
from hotpapers.storage.models import Announcement, SignalSnapshot, SocialPost
from hotpapers.tldr.store import engine_tldrs

# Rank every paper of a day once (the day page shows the top, category pages dig deeper).
_EVERY_PAPER = 1_000_000
# A long gap (collection paused, no signals) must not make one build rank the whole archive.
_SCAN_FACTOR = 4
_UNSAFE_SLUG = re.compile(r"[^A-Za-z0-9._-]")


def slug(text: str) -> str:
    """A path segment that cannot climb out of its folder: old-style ids have a slash."""
    cleaned = _UNSAFE_SLUG.sub("_", text)
    return "_" + cleaned if cleaned.startswith(".") else cleaned


@dataclass(frozen=True)
class Day:
    day: date
    ranked: list[RankedPaper]  # the day's top papers, best first
    rising: list[RankedPaper] = field(default_factory=list)  # "Rising from earlier days"


@dataclass(frozen=True)
class Listing:
    """A ranked list on one page: a day's top papers, or a category's papers of a day."""

    day: date
    ranked: list[RankedPaper]


@dataclass(frozen=True)
class PaperLinks:
    """Where a paper is discussed and its code, as the HN and HF sources stored them."""

    hn: str = ""  # the Hacker News thread with the most points
    hf: str = ""  # the Hugging Face paper page
    code: str = ""  # the repository the Hugging Face page names


@dataclass(frozen=True)
class SimilarPaper:
    arxiv_id: str
    title: str
    score: float  # cosine similarity of title + abstract
    on_site: bool  # it has a page of its own here (else the link goes to arXiv)


SIMILAR_ON_PAGE = 5


def similar_papers(engine: Engine, paper_ids: list[str]) -> dict[str, list[SimilarPaper]]:
    """For each paper page: its nearest papers by content (hotpapers/similar/)."""
    from hotpapers.similar import similar_to

    found: dict[str, list[SimilarPaper]] = {}
    for paper_id in paper_ids:
        result = similar_to(engine, paper_id, SIMILAR_ON_PAGE)
        if result.neighbours:
            found[paper_id] = [
                SimilarPaper(s.arxiv_id, s.title, score, s.arxiv_id in paper_ids)
                for s, score in result.neighbours
            ]
    return found


@dataclass
class SiteContent:
    days: list[Day] = field(default_factory=list)  # newest first
    # category -> its listings, newest day first.
    categories: dict[str, list[Listing]] = field(default_factory=dict)
    # paper id -> (day, ranked paper) for every appearance, newest first.
    papers: dict[str, list[tuple[date, RankedPaper]]] = field(default_factory=dict)
    # paper id -> its discussion and code links (papers with none are left out).
    links: dict[str, PaperLinks] = field(default_factory=dict)
    # paper id -> the TL;DR of its current version (hotpapers/tldr/), where one was made.
    tldrs: dict[str, str] = field(default_factory=dict)
    # paper id -> the stored papers most like it (papers without a vector are left out).
    similar: dict[str, list[SimilarPaper]] = field(default_factory=dict)


def gather(settings: Settings, engine: Engine, now: datetime) -> SiteContent:
    """The newest `site.feed_days` listing days that have a ranking, with their papers."""
    top = settings.ranking.top
    wanted = set(settings.arxiv.categories)
    content = SiteContent()
    by_category: dict[str, list[Listing]] = defaultdict(list)
    for day in _listing_dates(engine, now, settings.site.feed_days * _SCAN_FACTOR):
        ranked = jobs.rank(settings, engine, day, now=now, top=_EVERY_PAPER)
        if not ranked:
            continue
        content.days.append(Day(day, ranked[:top]))
        for category, listing in _category_listings(day, ranked, wanted, top).items():
            by_category[category].append(listing)
        if len(content.days) >= settings.site.feed_days:
            break
    content.categories = {name: by_category[name] for name in sorted(by_category)}
    content.papers = _appearances(content)
    content.links = paper_links(engine, list(content.papers), now)
    content.similar = similar_papers(engine, list(content.papers))
    content.days = _with_rising(settings, engine, content.days, now)
    risers = [item.paper.arxiv_id for day in content.days for item in day.rising]
    if settings.tldr.enabled:  # sentences cached while [tldr] was on are not shown once off
        content.tldrs = engine_tldrs(engine, [*content.papers, *risers])
    return content


def _with_rising(settings: Settings, engine: Engine, days: list[Day], now: datetime) -> list[Day]:
    """Each day page's papers are remembered when it is first published; the newest day's
    Rising section is chosen now (once), older pages keep the section chosen for them."""
    if not days:
        return days
    cache: dict[date, list[RankedPaper]] = {}  # one ranking per listing day for the build
    with transaction(engine) as session:
        for day in reversed(days):
            record_first_showing(session, SITE, day.day, day.ranked, now)
        if not settings.rising.site:
            return days
        found = [
            rising_papers(session, settings, SITE, day.day, now, choose=not n, cache=cache)
            for n, day in enumerate(days)
        ]
    return [dataclasses.replace(day, rising=r) for day, r in zip(days, found, strict=True)]


def _listing_dates(engine: Engine, now: datetime, limit: int) -> list[date]:
    """Listing dates with announcements up to `now`, newest first."""
    query = (
        select(col(Announcement.listing_date))
        .where(col(Announcement.listing_date) <= now.date())
        .distinct()
        .order_by(col(Announcement.listing_date).desc())
        .limit(limit)
    )
    with Session(engine) as session:
        return list(session.execute(query).scalars())


def _category_listings(
    day: date, ranked: Sequence[RankedPaper], wanted: set[str], top: int
) -> dict[str, Listing]:
    """Per configured category, its best `top` papers of the day (ranks stay the day's)."""
    found: dict[str, list[RankedPaper]] = defaultdict(list)
    for item in ranked:
        for category in dict.fromkeys(item.paper.categories):
            if (category in wanted or not wanted) and len(found[category]) < top:
                found[category].append(item)
    return {category: Listing(day, items) for category, items in found.items()}


def _appearances(content: SiteContent) -> dict[str, list[tuple[date, RankedPaper]]]:
    """Every paper shown anywhere, with the days it was ranked on."""
    seen: dict[str, dict[date, RankedPaper]] = defaultdict(dict)
    for day in content.days:
        for item in day.ranked:
            seen[item.paper.arxiv_id][day.day] = item
    for listings in content.categories.values():
        for listing in listings:
            for item in listing.ranked:
                seen[item.paper.arxiv_id].setdefault(listing.day, item)
    return {
        paper_id: sorted(days.items(), key=lambda pair: pair[0], reverse=True)
        for paper_id, days in sorted(seen.items())
    }


def paper_links(engine: Engine, paper_ids: list[str], now: datetime) -> dict[str, PaperLinks]:
    """The HN thread, HF page and code link of each paper that has them (plain http(s))."""
    found: dict[str, dict[str, str]] = defaultdict(dict)
    query = (
        select(SocialPost.paper_id, SocialPost.source, SocialPost.url, SocialPost.text)
        .where(
            col(SocialPost.source).in_(("hn", "hf")),
            col(SocialPost.paper_id).in_(paper_ids),
            col(SocialPost.taken_at) <= now,
        )
        .order_by(col(SocialPost.likes).desc(), col(SocialPost.id))  # busiest thread first
    )
    with Session(engine) as session:
        for paper_id, source, url, text in session.execute(query):
            links = found[paper_id]
            if safe_url(url):
                links.setdefault(source, safe_url(url))
            if source == "hf":
                # The HF source stores the repository as the text's second line.
                code = next((safe_url(line) for line in text.splitlines()[1:2]), "")
                if code:
                    links.setdefault("code", code)
    return {paper_id: PaperLinks(**links) for paper_id, links in sorted(found.items()) if links}


def measurements(engine: Engine, paper_id: str, now: datetime) -> tuple[int, float]:
    """How many snapshots a paper's attention chart is drawn from, and over how many days."""
    query = select(
        func.count(), func.min(SignalSnapshot.taken_at), func.max(SignalSnapshot.taken_at)
    ).where(col(SignalSnapshot.paper_id) == paper_id, col(SignalSnapshot.taken_at) <= now)
    with Session(engine) as session:
        count, first, last = session.execute(query).one()
    if not count or first is None or last is None:
        return 0, 0.0
    return int(count), (last - first).total_seconds() / 86400
