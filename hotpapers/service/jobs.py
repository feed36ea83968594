"""The scheduled job bodies: thin wrappers that call the same use-cases as the CLI.

Each run is recorded in `JobStatus` (through `track_job`, read by /healthz). The database
going away is retried a few times with back-off, then the run fails with one sentence; a
failed run never stops the scheduler or the other jobs. The daily Markdown post is claimed
in the `Publication` ledger before it is written and marked "sent" after, so it is made once
per listing date whatever the clock, the restarts or the number of processes do.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import TypeVar

import aiohttp
from sqlalchemy import Engine, func, select
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlmodel import Session

from hotpapers.arxiv.client import ArxivClient
from hotpapers.config import Settings
from hotpapers.errors import DatabaseError
from hotpapers.ops.status import track_job
from hotpapers.plumbing.metrics import POSTS_DELIVERED
from hotpapers.service import schedule
from hotpapers.service import use_cases as jobs
from hotpapers.storage.db import transaction
from hotpapers.storage.models import Announcement, Publication

log = logging.getLogger(__name__)

T = TypeVar("T")

MARKDOWN = "markdown"
WEEK_POST = "markdown-week"  # the weekly post (hotpapers/service/weekly.py), by its last day
X_DRY_RUN = "x-dry-run"  # a dry run of the X post, recorded so it is shown once a day
DONE_STATES = ("sent", "dry-run")
# After a failed publication, wait this long before trying again (not at every check).
RETRY_AFTER = timedelta(minutes=15)


@dataclass(slots=True)
class Retry:
    """How often and how patiently a run retries a database that went away."""

    attempts: int = 4
    first_delay: float = 2.0


def _db_away(exc: BaseException) -> bool:
    if isinstance(exc, OperationalError):
        return True
    return isinstance(exc, DatabaseError) and isinstance(exc.__cause__, OperationalError)


async def with_db_retry(call: Callable[[], Awaitable[T]], what: str, retry: Retry) -> T:
    """`await call()`, again with doubling delays while the database is unreachable; then a
    DatabaseError saying so (every step it retries is one transaction, so nothing is half-done).
    """
    delay = retry.first_delay
    for attempt in range(1, retry.attempts + 1):
        try:
            return await call()
        except (OperationalError, DatabaseError) as exc:
            if not _db_away(exc):
                raise
            if attempt == retry.attempts:
                log.error("%s: database unreachable after %d attempts", what, attempt)
                raise DatabaseError(
                    f"{what} failed: the database could not be reached "
                    f"({retry.attempts} attempts); nothing was half-written"
                ) from exc
            log.warning("%s: database unreachable (attempt %d), retrying in %.0fs",
                        what, attempt, delay)  # fmt: skip
            await asyncio.sleep(delay)
            delay *= 2
    raise AssertionError("unreachable")  # pragma: no cover


def _utc(moment: datetime) -> datetime:
    """Aware UTC, as the columns want it (a naive time, as some drivers return, is UTC)."""
    return moment.astimezone(UTC) if moment.tzinfo else moment.replace(tzinfo=UTC)


def is_collected(engine: Engine, listing_date: date) -> bool:
    """Whether any paper of `listing_date` is in the database."""
    with Session(engine) as session:
        query = select(func.count()).where(Announcement.listing_date == listing_date)  # type: ignore[arg-type]
        return bool(session.execute(query).scalar_one())


def is_published(engine: Engine, kind: str, listing_date: date) -> bool:
    """Whether the ledger says `kind` of `listing_date` is done."""
    with Session(engine) as session:
        row = _publication(session, kind, listing_date)
        return row is not None and row.state in DONE_STATES


def _publication(session: Session, kind: str, listing_date: date) -> Publication | None:
    query = select(Publication).where(
        Publication.kind == kind,  # type: ignore[arg-type]
        Publication.listing_date == listing_date,  # type: ignore[arg-type]
    )
    return session.execute(query).scalars().first()


def _held(row: Publication, now: datetime, lease: float) -> bool:
    """Whether another run's claim on `row` is still within its lease."""
    if row.state != "claimed" or row.claimed_at is None:
        return False
    return _utc(now) - _utc(row.claimed_at) < timedelta(seconds=lease)


def claim(engine: Engine, kind: str, listing_date: date, now: datetime, lease: float) -> int | None:
    """Claim `kind` of `listing_date`: the row id, or None when it is done or another run
    holds a claim younger than `lease` seconds."""
    try:
        with transaction(engine) as session:
            row = _publication(session, kind, listing_date)
            if row is None:
                row = Publication(kind=kind, listing_date=listing_date)
            elif row.state in DONE_STATES or _held(row, now, lease):
                return None
            row.state, row.claimed_at, row.done_at = "claimed", _utc(now), None
            session.add(row)
            session.flush()
            return row.id
    except DatabaseError as exc:
        if isinstance(exc.__cause__, IntegrityError):
            return None  # another process inserted the claim first
        raise


def complete(engine: Engine, row_id: int, state: str, detail: str, now: datetime) -> None:
    """Mark a claimed publication done ("sent", "dry-run") or "failed"."""
    with transaction(engine) as session:
        row = session.get(Publication, row_id)
        if row is None:  # pragma: no cover - rows are never deleted
            return
        row.state, row.detail, row.done_at = state, detail[:2000], _utc(now)
        session.add(row)


class ServiceJobs:
    """The job bodies of one service process, bound to its settings, engine and name."""

    def __init__(
        self, settings: Settings, engine: Engine, process: str, retry: Retry | None = None
    ) -> None:
        self.settings = settings
        self.engine = engine
        self.process = process
        self.retry = retry or Retry()
        self._failed_at: dict[str, datetime] = {}  # publication kind -> last failure
        # One HTTP client per service for the life of the process (made on first use, in the
        # loop): arXiv's pacing then spans runs, and connections are reused.
        self._arxiv: ArxivClient | None = None
        self._http: aiohttp.ClientSession | None = None

    def arxiv_client(self) -> ArxivClient:
        if self._arxiv is None:
            self._arxiv = ArxivClient(self.settings.arxiv)
        return self._arxiv

    def http_session(self) -> aiohttp.ClientSession:
        if self._http is None or self._http.closed:
            self._http = aiohttp.ClientSession()
        return self._http

    async def aclose(self) -> None:
        """Close the shared HTTP clients."""
        if self._arxiv is not None:
            await self._arxiv.aclose()
        if self._http is not None and not self._http.closed:
            await self._http.close()

    async def _db(self, what: str, func: Callable[..., T], *args: object) -> T:
        return await with_db_retry(lambda: asyncio.to_thread(func, *args), what, self.retry)

    def _holidays(self) -> list[date]:
        return list(self.settings.arxiv.holidays)

    async def collect(self, listing_date: date, now: datetime | None = None) -> bool:
        """Collect `listing_date`; True once the feed shows it (or arXiv skipped that day)."""
        async with track_job(self.engine, "collect", self.process) as run:
            report = await with_db_retry(
                lambda: jobs.collect(
                    self.settings, self.engine, listing_date, now=now, client=self.arxiv_client()
                ),
                "collect",
                self.retry,
            )
            run.detail = report.sentence()
        # The feed still showing the previous day makes collect fall back to the archive.
        return report.status in ("unchanged", "no-announcement") or report.source == "feed"

    async def needs_collect(self, now: datetime) -> date | None:
        """The newest announced listing when none of it is in the database (after downtime)."""
        day = jobs.resolve_listing_date(self.settings, None, now)
        collected = await self._db("collect check", is_collected, self.engine, day)
        return None if collected else day

    async def signals(self, now: datetime | None = None) -> None:
        """Measure the social signals of the papers in their measuring window."""
        async with track_job(self.engine, "signals", self.process) as run:
            reports = await with_db_retry(
                lambda: jobs.measure_signals(
                    self.settings, self.engine, now=now, session=self.http_session()
                ),
                "signals",
                self.retry,
            )
            run.detail = "; ".join(r.sentence() for r in reports) or "no source enabled"

    async def tldr(self, now: datetime | None = None) -> None:
        """TL;DRs for the newest listing's top papers (only those not made yet are asked)."""
        from hotpapers.tldr.job import summarise_day

        async with track_job(self.engine, "tldr", self.process) as run:
            report = await with_db_retry(
                lambda: summarise_day(
                    self.settings, self.engine, now=now, session=self.http_session()
                ),
                "tldr",
                self.retry,
            )
            run.detail = report.sentence()

    async def markdown(self, now: datetime) -> Path | None:
        """Write the daily Markdown post if one is due (then rebuild the site); its path."""
        config = self.settings.scheduler
        day = await self._due(MARKDOWN, now, config.post_time)
        if day is None:
            return None
        async with (
            self._attempt(MARKDOWN, now),
            track_job(self.engine, "markdown", self.process) as run,
        ):
            lease = self.settings.cluster.task_lease_seconds
            row_id = await self._db("markdown claim", claim, self.engine, MARKDOWN, day, now, lease)
            if row_id is None:
                run.detail = f"{day}: another run has it"
                return None
            try:
                write = functools.partial(jobs.write_post, now=now)
                path = await self._db("markdown post", write, self.settings, self.engine, day)
            except BaseException as exc:
                await self._fail(row_id, exc, now)
                raise
            await self._db("markdown ledger", complete, self.engine, row_id, "sent", str(path), now)
            POSTS_DELIVERED.labels("markdown").inc()
            run.detail = f"{day}: post written to {path}"
        if self.settings.site.enabled:
            await self.site(now)
        return path

    async def weekly(self, now: datetime) -> Path | None:
        """Write the week's post on the configured weekday, once (the ledger says so)."""
        from hotpapers.service.weekly import week_due_day, write_week_post

        day = week_due_day(self.settings, now)
        if day is None or await self._db("week check", is_published, self.engine, WEEK_POST, day):
            return None
        async with track_job(self.engine, "weekly", self.process) as run:
            lease = self.settings.cluster.task_lease_seconds
            row_id = await self._db("week claim", claim, self.engine, WEEK_POST, day, now, lease)
            if row_id is None:
                run.detail = f"{day}: another run has it"
                return None
            try:
                write = functools.partial(write_week_post, now=now)
                path = await self._db("week post", write, self.settings, self.engine, day)
            except BaseException as exc:
                await self._fail(row_id, exc, now)
                raise
            await self._db("week ledger", complete, self.engine, row_id, "sent", str(path), now)
            POSTS_DELIVERED.labels("markdown").inc()
            run.detail = f"week ending {day}: post written to {path}"
        return path

    async def _fail(self, row_id: int, exc: BaseException, now: datetime) -> None:
        try:
            await asyncio.to_thread(complete, self.engine, row_id, "failed", str(exc), now)
        except Exception:  # the claim then expires after its lease; retried then
            log.warning("could not mark publication %s failed", row_id, exc_info=True)

    async def site(self, now: datetime | None = None) -> None:
        """Rebuild the static site (after a new post)."""
        from hotpapers.site.build import build_site

        async with track_job(self.engine, "site", self.process) as run:
            build = functools.partial(build_site, now=now)
            report = await self._db("site build", build, self.settings, self.engine)
            run.detail = report.sentence()

    async def x_post(self, now: datetime) -> str | None:
        """Post (or, on a dry run, show once) the day's X summary if due; its status."""
        from hotpapers.publish.x import publish_daily

        config = self.settings.publish.x
        kind = X_DRY_RUN if config.dry_run else "x"
        day = await self._due(kind, now, config.post_time)
        if day is None:
            return None
        async with self._attempt(kind, now), track_job(self.engine, "x", self.process) as run:
            report = await with_db_retry(
                lambda: publish_daily(self.settings, self.engine, day, now=now), "x", self.retry
            )
            run.detail = report.sentence()
            if report.status == "dry-run":
                await self._record_dry_run(day, report.sentence(), now)
            return report.status  # posts are counted in POSTS_DELIVERED by the X client

    async def _record_dry_run(self, day: date, sentence: str, now: datetime) -> None:
        lease = self.settings.cluster.task_lease_seconds
        row_id = await self._db("x ledger", claim, self.engine, X_DRY_RUN, day, now, lease)
        if row_id is not None:
            await self._db("x ledger", complete, self.engine, row_id, "dry-run", sentence, now)

    @contextlib.asynccontextmanager
    async def _attempt(self, kind: str, now: datetime) -> AsyncIterator[None]:
        """Note a failed publication, so the next try waits RETRY_AFTER (not every check)."""
        try:
            yield
        except Exception:
            self._failed_at[kind] = now
            raise
        self._failed_at.pop(kind, None)

    async def _due(self, kind: str, now: datetime, post_time: str) -> date | None:
        """The listing date to publish `kind` for now: due, not done, and collected."""
        failed = self._failed_at.get(kind)
        if failed is not None and now - failed < RETRY_AFTER:
            return None
        timezone = self.settings.scheduler.timezone
        day = schedule.publication_day(now, post_time, timezone, self._holidays())
        if await self._db(f"{kind} check", is_published, self.engine, kind, day):
            return None
        if not await self._db(f"{kind} check", is_collected, self.engine, day):
            log.debug("%s for %s is due but that listing is not collected yet", kind, day)
            return None
        return day
