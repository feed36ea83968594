"""The use-cases: collect, backfill, import, rank, write the post. The CLI, the scheduler and
the tests all call these, the same way."""

from __future__ import annotations

import logging
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path

import aiohttp
from sqlalchemy import Engine, func
from sqlmodel import Session, col, select

from hotpapers.arxiv import calendar, sources
from hotpapers.arxiv.client import ArxivClient
from hotpapers.arxiv.subscribed import collected_categories
from hotpapers.config import Settings
from hotpapers.errors import HotpapersError, InputError
from hotpapers.plumbing import failpoints
from hotpapers.plumbing.metrics import PAPERS_COLLECTED
from hotpapers.ranking import classic, rising
from hotpapers.ranking.scoring import RankedPaper, rank_papers
from hotpapers.render.markdown import render_post
from hotpapers.storage.db import transaction
from hotpapers.storage.models import Announcement, FeedState
from hotpapers.storage.store import record_announcements, upsert_papers

log = logging.getLogger(__name__)


@dataclass(slots=True)
class CollectReport:
    listing_date: date
    status: str  # collected / unchanged / no-announcement
    source: str = ""
    papers: int = 0
    inserted: int = 0
    updated: int = 0
    announcements: int = 0
    skipped: int = 0
    requests: int = 0

    def sentence(self) -> str:
        if self.status == "no-announcement":
            return (
                f"{self.listing_date}: arXiv made no announcement for this date; nothing changed."
            )
        if self.status == "unchanged":
            return f"{self.listing_date}: the feed has not changed since the last collection."
        skipped = f", {self.skipped} malformed entries skipped" if self.skipped else ""
        return (
            f"{self.listing_date}: {self.papers} papers from the {self.source} "
            f"({self.inserted} new, {self.updated} updated, {self.announcements} new listings"
            f"{skipped}; {self.requests} requests to arXiv)."
        )


def _now(now: datetime | None) -> datetime:
    return now or datetime.now(UTC)


def resolve_listing_date(settings: Settings, listing_date: date | None, now: datetime) -> date:
    """The requested listing date, or the newest one announced; a date before arXiv began or
    in the future is an error. A past date may be one without a listing: see `no_listing`."""
    current = calendar.current_listing_date(now, settings.arxiv.holidays)
    if listing_date is None:
        return current
    _check_not_before_arxiv(listing_date)
    if listing_date > current:
        raise InputError(_not_announced(listing_date, settings.arxiv.holidays))
    return listing_date


def _check_not_before_arxiv(day: date, option: str = "") -> None:
    if day < calendar.FIRST_LISTING:
        named = f"{option} {day}" if option else str(day)
        raise InputError(f"{named} is before arXiv's first announcement ({calendar.FIRST_LISTING})")


def _not_announced(day: date, holidays: Collection[date]) -> str:
    """Why a future `day` has no listing yet: it never will, or when it will be announced."""
    if not calendar.in_range(day):
        return f"{day} is not a date arXiv can have announced yet"
    reason = calendar.no_listing_reason(day, holidays)
    if reason is not None:
        return reason
    when = calendar.announced_at(day).astimezone(calendar.ET)
    return (
        f"the listing of {day} is not announced yet "
        f"(arXiv announces it on {when:%A %Y-%m-%d at %H:%M} New York time)"
    )


def no_listing(settings: Settings, day: date, nothing: str = "nothing to post") -> str | None:
    """One sentence when arXiv made no announcement for `day` (nothing is made for it)."""
    reason = calendar.no_listing_reason(day, settings.arxiv.holidays)
    return None if reason is None else f"{reason}; {nothing}."


async def collect(
    settings: Settings,
    engine: Engine,
    listing_date: date | None = None,
    categories: Sequence[str] | None = None,
    *,
    now: datetime | None = None,
    client: ArxivClient | None = None,
) -> CollectReport:
    """Collect one listing into the database (the feed for today, the archive for the past).

    `categories`: these only; by default the configured ones and those subscriptions need.

    `client`: a long-lived client (the service's), left open, so its pacing spans runs.
    """
    now = _now(now)
    day = resolve_listing_date(settings, listing_date, now)
    cats = list(categories or collected_categories(settings.arxiv, engine))
    if not calendar.is_listing_date(day, settings.arxiv.holidays):
        return CollectReport(day, "no-announcement")
    current = calendar.current_listing_date(now, settings.arxiv.holidays)
    if client is not None:
        return await _collect_with(client, settings, engine, day, cats, use_feed=day == current)
    async with ArxivClient(settings.arxiv) as own:
        return await _collect_with(own, settings, engine, day, cats, use_feed=day == current)


async def _collect_with(
    client: ArxivClient,
    settings: Settings,
    engine: Engine,
    day: date,
    cats: list[str],
    *,
    use_feed: bool,
) -> CollectReport:
    before = client.requests_made
    listing = await _feed_listing(client, settings, engine, day, cats) if use_feed else None
    if listing is None:
        listing = await _archive_listing(client, settings, day, cats)
        listing = _without_repeated_cross_lists(engine, listing, cats)
    report = CollectReport(
        day, "unchanged" if listing.not_modified else "collected", listing.source
    )
    if not listing.not_modified:
        _write_listing(engine, listing, cats, settings.arxiv.rss_url, report)
        _embed_collected(engine, [record.arxiv_id for record in listing.records])
    report.requests = client.requests_made - before
    log.info("collect %s", report.sentence())
    return report


def _embed_collected(engine: Engine, paper_ids: list[str]) -> None:
    """Vectors for "similar papers" of what a collect wrote (again: abstracts change). The
    listing is committed already; a failure here leaves those papers for `hotpapers embed`."""
    from hotpapers.similar import embed_missing

    if not paper_ids:
        return
    try:
        embed_missing(engine, paper_ids)
    except HotpapersError:
        log.warning("the collected papers were not embedded for similar papers", exc_info=True)


def feed_url(rss_url: str, categories: Sequence[str]) -> str:
    return f"{rss_url.rstrip('/')}/{'+'.join(categories)}"


async def _feed_listing(
    client: ArxivClient, settings: Settings, engine: Engine, day: date, cats: list[str]
) -> sources.Listing | None:
    """Today's listing from the feed, or None when the feed does not (yet) show `day`."""
    etag, modified = _feed_validators(engine, feed_url(settings.arxiv.rss_url, cats), day)
    feed = await sources.read_feed(client, cats, etag, modified)
    if feed.not_modified:
        return sources.Listing(day, [], "feed", not_modified=True)
    if feed.listing_date != day or feed.page is None:
        log.info("the feed shows %s, not %s; using the archive instead", feed.listing_date, day)
        return None
    records = await sources.enrich(client, feed.page.entries, settings.arxiv.batch_size)
    return sources.Listing(day, records, "feed", feed.page.skipped, feed.etag, feed.last_modified)


def _feed_validators(engine: Engine, url: str, day: date) -> tuple[str | None, str | None]:
    """The stored ETag, but only while that listing is really in the database."""
    with Session(engine) as session:
        state = session.get(FeedState, url)
        if state is None or state.listing_date != day or not _has_listing(session, day):
            return None, None
        return state.etag, state.last_modified


def _has_listing(session: Session, day: date) -> bool:
    query = select(func.count()).select_from(Announcement).where(Announcement.listing_date == day)  # type: ignore[arg-type]
    return bool(session.execute(query).scalar_one())


async def _archive_listing(
    client: ArxivClient, settings: Settings, day: date, cats: list[str]
) -> sources.Listing:
    arxiv = settings.arxiv
    if arxiv.backfill_source == "oai":
        return await sources.listing_from_archive(
            client, day, cats, arxiv.holidays, arxiv.page_size, arxiv.max_retries
        )
    return await sources.listing_from_api(
        client, day, cats, arxiv.holidays, arxiv.page_size, arxiv.max_retries
    )


def _without_repeated_cross_lists(
    engine: Engine, listing: sources.Listing, cats: list[str]
) -> sources.Listing:
    """Drop the late cross-lists already announced in each of their categories before this day:
    OAI shows a metadata change (journal ref, DOI) of an old cross-list the same way."""
    if not listing.late_cross:
        return listing
    with Session(engine) as session:
        query = select(Announcement.paper_id, Announcement.category).where(
            col(Announcement.paper_id).in_(listing.late_cross),
            col(Announcement.listing_date) < listing.listing_date,
        )
        seen = {(paper_id, category) for paper_id, category in session.execute(query)}
    repeated = {
        record.arxiv_id
        for record in listing.records
        if record.arxiv_id in listing.late_cross
        and all((record.arxiv_id, c) in seen for c in set(cats) & set(record.categories))
    }
    if repeated:
        log.info(
            "%d papers changed on %s were cross-listed before; not listed again",
            len(repeated),
            listing.listing_date,
        )
    listing.records = [r for r in listing.records if r.arxiv_id not in repeated]
    return listing


def _write_listing(
    engine: Engine, listing: sources.Listing, cats: list[str], rss_url: str, report: CollectReport
) -> None:
    """Everything of one listing in one transaction: all of it lands, or none of it."""
    with transaction(engine) as session:
        stats = upsert_papers(session, listing.records)
        report.announcements = record_announcements(
            session, listing.listing_date, listing.records, cats
        )
        if listing.source == "feed":
            _save_feed_state(session, feed_url(rss_url, cats), listing)
        failpoints.reach("collect.before_commit")
    report.papers = len(listing.records)
    PAPERS_COLLECTED.inc(report.papers)
    report.inserted, report.updated = stats.inserted, stats.updated
    report.skipped = listing.skipped


def _save_feed_state(session: Session, url: str, listing: sources.Listing) -> None:
    state = session.get(FeedState, url) or FeedState(url=url)
    state.etag, state.last_modified = listing.etag, listing.last_modified
    state.listing_date, state.fetched_at = listing.listing_date, datetime.now(UTC)
    session.add(state)


@dataclass(slots=True)
class BackfillReport:
    reports: list[CollectReport] = field(default_factory=list)

    @property
    def papers(self) -> int:
        return sum(r.papers for r in self.reports)


async def backfill(
    settings: Settings,
    engine: Engine,
    start: date,
    end: date,
    categories: Sequence[str] | None = None,
    *,
    now: datetime | None = None,
    on_day: Callable[[CollectReport, int, int], None] | None = None,
) -> BackfillReport:
    """Collect every listing in [start, end] from the archive, one transaction per day."""
    if end < start:
        raise InputError(f"--from {start} is after --to {end}")
    _check_not_before_arxiv(start, "--from")
    current = calendar.current_listing_date(_now(now), settings.arxiv.holidays)
    if start > current:
        raise InputError(f"--from {start} is after the newest arXiv listing ({current})")
    end = min(end, current)
    days = list(calendar.listing_dates(start, end, settings.arxiv.holidays))
    cats = list(categories or collected_categories(settings.arxiv, engine))
    result = BackfillReport()
    async with ArxivClient(settings.arxiv) as client:
        for index, day in enumerate(days, 1):
            report = await _collect_with(client, settings, engine, day, cats, use_feed=False)
            result.reports.append(report)
            if on_day:
                on_day(report, index, len(days))
    return result


def rank(
    settings: Settings,
    engine: Engine,
    listing_date: date,
    *,
    now: datetime | None = None,
    top: int | None = None,
    categories: Sequence[str] | None = None,
) -> list[RankedPaper]:
    """The ranked papers of one listing, from what has been measured up to `now`."""
    top = top or settings.ranking.top
    return _ranked(settings, engine, listing_date, _now(now), top, categories)


def _ranked(
    settings: Settings,
    engine: Engine,
    listing_date: date,
    now: datetime,
    top: int | None,
    categories: Sequence[str] | None = None,
    *,
    printable_only: bool = False,
) -> list[RankedPaper]:
    from hotpapers.ranking.candidates import load_candidates

    with Session(engine) as session:
        candidates = load_candidates(session, listing_date, categories, now)
    if printable_only:
        candidates = [c for c in candidates if classic.printable(c.paper)]
    ranking = settings.ranking
    weights = classic.post_weights(ranking.weights) if printable_only else ranking.weights
    return rank_papers(
        candidates,
        weights=weights,
        threshold=ranking.threshold,
        top=top,
        now=now,
        decay_hours=ranking.decay_hours,
    )


def write_post(
    settings: Settings,
    engine: Engine,
    listing_date: date,
    *,
    now: datetime | None = None,
    out_dir: Path | None = None,
) -> Path:
    """Render the day's Markdown post and write it atomically; returns its path."""
    from hotpapers.publish.files import write_post as write_file

    now = _now(now)
    # The classic post (hotpapers/ranking/classic.py): every paper over the threshold unless
    # digest.top caps them, and only papers that have a PDF.
    ranked = _ranked(settings, engine, listing_date, now, settings.digest.top, printable_only=True)
    # What the post shows is remembered (rising.py) only if it renders; a re-run after a
    # failed write shows the same papers (the day's choice and first scores are kept).
    with transaction(engine) as session:
        risers = []
        if settings.rising.post:
            risers = rising.rising_papers(session, settings, rising.POST, listing_date, now)
        text = render_post(
            listing_date,
            ranked,
            settings.digest,
            generated_at=now,
            template_path=settings.digest.template,
            rising=rising.post_entries(risers),
        )
        rising.record_shown(session, rising.POST, listing_date, ranked, now)
    return write_file(out_dir or settings.digest.posts_dir, listing_date, text)


async def measure_signals(
    settings: Settings,
    engine: Engine,
    *,
    now: datetime | None = None,
    session: aiohttp.ClientSession | None = None,
) -> list:
    """Measure every enabled social source for the papers in their measuring window.

    `session`: a long-lived HTTP session (the service's), left open; else one for this run.
    """
    if session is not None:
        return await _measure_with(settings, engine, _now(now), session)
    async with aiohttp.ClientSession() as own:
        return await _measure_with(settings, engine, _now(now), own)


async def _measure_with(
    settings: Settings, engine: Engine, now: datetime, session: aiohttp.ClientSession
) -> list:
    from hotpapers.signals.embeds import refresh_embeds
    from hotpapers.signals.measure import measure, papers_in_window
    from hotpapers.signals.registry import enabled_sources

    sources = enabled_sources(settings, session)
    reports = await measure(settings, engine, sources, now=now)
    # Whenever X ran, not only when it measured: a run killed after saving X's results but
    # before the embeds leaves posts without one, and the next run has nothing due on X.
    # Only missing or expired embeds are fetched, so a run with nothing to do asks nothing.
    if any(r.source == "x" and not r.skipped for r in reports):
        with Session(engine) as db:
            ids = [p.arxiv_id for p in papers_in_window(db, now, settings.ranking.measure_days)]
        await refresh_embeds(
            settings.signals.x, engine, session, ids, now, settings.digest.max_embeds
        )
    return reports


def explain_paper(
    settings: Settings, engine: Engine, arxiv_id: str, *, now: datetime | None = None
) -> list[str]:
    """How one paper's score was made, term by term, on its first listing date."""
    from hotpapers.ranking.candidates import load_candidates
    from hotpapers.ranking.scoring import explain

    now = _now(now)
    with Session(engine) as session:
        query = select(func.min(Announcement.listing_date)).where(Announcement.paper_id == arxiv_id)  # type: ignore[arg-type]
        day = session.execute(query).scalar_one()
        if day is None:
            raise InputError(f"{arxiv_id} has not been collected; run `hotpapers collect` first")
        found = [
            c for c in load_candidates(session, day, None, now) if c.paper.arxiv_id == arxiv_id
        ]
    ranking = settings.ranking
    header = f"{arxiv_id} (listed {day}): {found[0].paper.title}"
    return [header, *explain(found[0], ranking.weights, now=now, decay_hours=ranking.decay_hours)]
