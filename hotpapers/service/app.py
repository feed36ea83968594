"""`hotpapers run`: the scheduler, the publishers and the adapters on one event loop.

One engine, one leader election, one AsyncIOScheduler. Scheduled jobs run only while this
process leads (the scheduler is paused otherwise); adapters such as the Discord bot are
components loaded through the `hotpapers.components` entry points, so the core never imports
them. SIGTERM / Ctrl-C stops new work, lets the work in hand finish for up to
`[scheduler] shutdown_grace_seconds` (then cancels it: the ledgers make a retry exact),
closes everything and returns, so the command exits 0.
"""

from __future__ import annotations

import asyncio
import logging
import signal
import tempfile
from collections.abc import Awaitable, Callable
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any, Protocol, runtime_checkable
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from aiohttp import web
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.date import DateTrigger
from apscheduler.triggers.interval import IntervalTrigger
from sqlalchemy import Engine

from hotpapers.arxiv import calendar
from hotpapers.cluster.leader import LeaderElection, process_name
from hotpapers.config import Settings
from hotpapers.errors import ConfigError
from hotpapers.service import schedule
from hotpapers.service.jobs import Retry, ServiceJobs

log = logging.getLogger("hotpapers.service")

COMPONENTS_GROUP = "hotpapers.components"


@runtime_checkable
class Component(Protocol):
    """Something the service runs beside the scheduler (e.g. the Discord bot)."""

    name: str

    async def start(self) -> None: ...

    async def stop(self, grace: float) -> None: ...

    def health(self) -> dict[str, Any]: ...


ComponentFactory = Callable[[Settings, Engine, LeaderElection], "Component | None"]


class CollectTrigger(BaseTrigger):
    """Fires `delay_minutes` after each arXiv announcement (20:00 New York, per its calendar)."""

    def __init__(self, holidays: list[date], delay_minutes: int) -> None:
        self.holidays = holidays
        self.delay_minutes = delay_minutes

    def get_next_fire_time(
        self, previous_fire_time: datetime | None, now: datetime
    ) -> datetime | None:
        after = previous_fire_time or now
        return schedule.next_collect(after, self.holidays, self.delay_minutes)[1]

    def __str__(self) -> str:
        return f"arxiv-announcements(+{self.delay_minutes}min)"


def load_components() -> list[ComponentFactory]:
    """The component factories installed under the `hotpapers.components` entry points."""
    from importlib.metadata import entry_points

    factories = []
    for entry in entry_points(group=COMPONENTS_GROUP):
        try:
            factories.append(entry.load())
        except ImportError:
            log.warning("component %s is not available", entry.name, exc_info=True)
    return factories


def check_startup(settings: Settings, *, now: datetime | None = None) -> None:
    """Fail fast with one sentence (ConfigError): zones, post times, template, output dirs."""
    for key, zone in (
        ("scheduler.timezone", settings.scheduler.timezone),
        ("discord.default_timezone", settings.discord.default_timezone),
    ):
        try:
            ZoneInfo(zone)
        except (ZoneInfoNotFoundError, ValueError):
            raise ConfigError(f"{key}: {zone!r} is not an IANA time zone") from None
    for key, value in (
        ("scheduler.post_time", settings.scheduler.post_time),
        ("publish.x.post_time", settings.publish.x.post_time),
    ):
        try:
            schedule.parse_post_time(value)
        except ValueError:
            raise ConfigError(f"{key}: {value!r} is not a time of day as HH:MM") from None
    check_template(settings, now or datetime.now(UTC))
    _check_x_credentials(settings)
    _check_writable("digest.posts_dir", Path(settings.digest.posts_dir))
    if settings.site.enabled:
        _check_writable("site.out_dir", Path(settings.site.out_dir).absolute().parent)


def check_template(settings: Settings, now: datetime) -> None:
    """Render the post template against a one-paper sample now, not at post time."""
    from hotpapers.ranking.scoring import PaperView, PostSignal, RankedPaper
    from hotpapers.render.markdown import render_post

    paper = PaperView(
        arxiv_id="2601.00001", title="A sample paper", authors=("Ada Lovelace", "Alan Turing"),
        categories=("cs.LG",), abstract="We check the template.", primary_category="cs.LG",
        announced=now,
    )  # fmt: skip
    post = PostSignal(
        source="x", post_id="1", author_id="1", author_handle="sample", text="read this",
        url="https://x.com/sample/status/1", reposts=1, likes=1, created_at=now, taken_at=now,
    )  # fmt: skip
    sample = RankedPaper(1, paper, 2.0, {"x": {"retweets": 1, "likes": 1}}, (post,), now)
    try:
        render_post(now.date(), [sample], settings.digest, generated_at=now)
    except ConfigError:
        raise
    except Exception as exc:  # e.g. a division by zero in the template: still its fault
        shown = settings.digest.template or "the built-in post template"
        log.debug("template check failed", exc_info=True)
        raise ConfigError(f"Post template {shown} failed to render: {exc}.") from None


def _check_x_credentials(settings: Settings) -> None:
    """Posting to X for real needs its four OAuth secrets: say so now, not at post time."""
    config = settings.publish.x
    if not config.enabled or config.dry_run:
        return
    from hotpapers.publish.x_client import missing_credentials

    missing = missing_credentials(config)
    if missing:
        raise ConfigError(
            f"publish.x is enabled but its credentials are not set: {', '.join(missing)}"
        )


def _check_writable(key: str, folder: Path) -> None:
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=folder):
            pass
    except OSError as exc:
        raise ConfigError(f"{key}: cannot write to {folder} ({exc.strerror or exc})") from None


class Service:
    """The whole service in one process; `await run()` until SIGTERM / Ctrl-C."""

    def __init__(
        self,
        settings: Settings,
        engine: Engine,
        *,
        clock: Callable[[], datetime] | None = None,
        components: list[ComponentFactory] | None = None,
        retry: Retry | None = None,
    ) -> None:
        self.settings = settings
        self.engine = engine
        self.clock = clock or (lambda: datetime.now(UTC))
        self.name = process_name(settings)
        self.jobs = ServiceJobs(settings, engine, self.name, retry)
        self.leader = LeaderElection(
            engine,
            key=settings.cluster.leader_lock_key,
            name=self.name,
            poll_seconds=settings.cluster.leader_poll_seconds,
        )
        self.factories = load_components() if components is None else components
        self.components: list[Component] = []
        self.scheduler = self._make_scheduler()
        self.stopping = asyncio.Event()
        self._inflight: set[asyncio.Task[None]] = set()
        self._runners: list[web.AppRunner] = []

    # --- the scheduled jobs -------------------------------------------------------------

    def _make_scheduler(self) -> AsyncIOScheduler:
        config = self.settings.scheduler
        scheduler = AsyncIOScheduler(
            timezone=UTC,
            job_defaults={
                "coalesce": True,
                "max_instances": 1,
                "misfire_grace_time": config.misfire_grace_seconds,
            },
        )
        holidays = list(self.settings.arxiv.holidays)
        every = IntervalTrigger(minutes=config.publish_check_minutes, timezone=UTC)
        jobs: list[tuple[str, Callable[[], Awaitable[None]], BaseTrigger]] = [
            ("collect", self.collect_job, CollectTrigger(holidays, config.collect_delay_minutes)),
            ("signals", self.signals_job,
             IntervalTrigger(minutes=config.signals_interval_minutes, timezone=UTC)),
            ("markdown", self.markdown_job, every),
        ]  # fmt: skip
        if self.settings.publish.x.enabled:
            jobs.append(("x", self.x_job, every))
        if self.settings.digest.weekly.enabled:
            jobs.append(("weekly", self.weekly_job, every))
        for job_id, func, trigger in jobs:
            scheduler.add_job(func, trigger, id=job_id, name=job_id, replace_existing=True)
        return scheduler

    async def _guarded(self, name: str, body: Callable[[], Awaitable[Any]]) -> None:
        """Run one job body as a tracked task: skipped unless leading and running; a failure
        is logged (and recorded by the body) but never reaches the scheduler."""
        if not self.leader.is_leader or self.stopping.is_set():
            log.debug("job %s skipped: not leading or stopping", name)
            return
        task = asyncio.create_task(self._quietly(name, body), name=f"job:{name}")
        self._inflight.add(task)
        task.add_done_callback(self._inflight.discard)
        # Shielded: stopping the scheduler must not cancel the work in hand (see stop()).
        await asyncio.shield(task)

    @staticmethod
    async def _quietly(name: str, body: Callable[[], Awaitable[Any]]) -> None:
        try:
            await body()
        except Exception:  # recorded in JobStatus by track_job; the scheduler goes on
            log.debug("job %s failed", name, exc_info=True)

    async def collect_job(self, listing_date: date | None = None) -> None:
        """Collect the newest listing; look again later while the feed shows the old day."""

        async def body() -> None:
            now = self.clock()
            day = listing_date or calendar.current_listing_date(now, self.settings.arxiv.holidays)
            if not await self.jobs.collect(day, now):
                self._retry_collect(day, now)

        await self._guarded("collect", body)

    def _retry_collect(self, day: date, now: datetime) -> None:
        config = self.settings.scheduler
        again = schedule.collect_retry_at(
            day, now, delay_minutes=config.collect_delay_minutes,
            retry_minutes=config.collect_retry_minutes, retry_hours=config.collect_retry_hours,
        )  # fmt: skip
        if again is None:
            log.error("collect: the feed still does not show %s; giving up for today", day)
            return
        log.info("collect: the feed does not show %s yet; trying again at %s", day, again)
        if self.scheduler.running:
            self.scheduler.add_job(
                self.collect_job, DateTrigger(run_date=again), args=[day],
                id="collect-retry", name="collect-retry", replace_existing=True,
            )  # fmt: skip

    async def signals_job(self) -> None:
        await self._guarded("signals", lambda: self.jobs.signals(self.clock()))
        # The top papers move as attention is measured: their TL;DRs follow (new ones only).
        if self.settings.tldr.enabled:
            await self._guarded("tldr", lambda: self.jobs.tldr(self.clock()))

    async def markdown_job(self) -> None:
        await self._guarded("markdown", lambda: self.jobs.markdown(self.clock()))

    async def weekly_job(self) -> None:
        await self._guarded("weekly", lambda: self.jobs.weekly(self.clock()))

    async def x_job(self) -> None:
        await self._guarded("x", lambda: self.jobs.x_post(self.clock()))

    async def catch_up(self) -> None:
        """After start-up or a change of leader: what was missed, once each (never a day
        already done: the ledger decides)."""
        now = self.clock()
        day = await self._safely(self.jobs.needs_collect(now))
        if day is not None:
            await self.collect_job(day)
        await self.markdown_job()
        if self.settings.digest.weekly.enabled:
            await self.weekly_job()
        if self.settings.publish.x.enabled:
            await self.x_job()

    @staticmethod
    async def _safely(awaitable: Awaitable[date | None]) -> date | None:
        try:
            return await awaitable
        except Exception:
            log.warning("catch-up check failed; the scheduled jobs will retry", exc_info=True)
            return None

    # --- leadership --------------------------------------------------------------------

    def _on_leadership(self, leading: bool) -> None:
        if self.stopping.is_set() or not self.scheduler.running:
            return
        if leading:
            log.info("%s leads: scheduled jobs on", self.name)
            self.scheduler.resume()
            task = asyncio.get_running_loop().create_task(self.catch_up(), name="catch-up")
            self._inflight.add(task)
            task.add_done_callback(self._inflight.discard)
        else:
            log.info("%s follows: scheduled jobs paused", self.name)
            self.scheduler.pause()

    # --- running and stopping ----------------------------------------------------------

    def health(self) -> dict[str, Any]:
        """Extra keys for /healthz: leadership and each component's state."""
        return {
            "leader": self.leader.is_leader,
            "components": {c.name: c.health() for c in self.components},
        }

    async def start(self) -> None:
        """Check the configuration, then start servers, components, election and scheduler."""
        check_startup(self.settings, now=self.clock())
        await self._build_site()
        await self._start_servers()
        for factory in self.factories:
            component = factory(self.settings, self.engine, self.leader)
            if component is not None:
                await component.start()
                self.components.append(component)
                log.info("component %s started", component.name)
        self.scheduler.start(paused=True)
        self.leader.on_change(self._on_leadership)
        await self.leader.start()
        log.info("hotpapers run: %s started (%s)", self.name, self._jobs_line())

    def _jobs_line(self) -> str:
        return ", ".join(f"{job.id} next {job.next_run_time or 'paused'}"
                         for job in self.scheduler.get_jobs())  # fmt: skip

    async def _build_site(self) -> None:
        """Build the site once from what the database holds, so the site server never
        shows an empty folder until the first scheduled job. A failure is logged, not
        fatal: the scheduled rebuilds try again."""
        if not self.settings.site.enabled:
            return
        from hotpapers.errors import HotpapersError
        from hotpapers.site.build import build_site

        try:
            report = await asyncio.to_thread(
                build_site, self.settings, self.engine, now=self.clock()
            )
        except HotpapersError as exc:
            log.warning("the site could not be built at start-up: %s", exc)
            return
        except Exception:  # e.g. the database not answering yet: the jobs retry later
            log.warning("the site could not be built at start-up", exc_info=True)
            return
        log.info("start-up %s", report.sentence())

    async def _start_servers(self) -> None:
        ops, site = self.settings.ops, self.settings.site
        if ops.port:
            from hotpapers.ops.http import ops_app, serve_ops

            app = ops_app(self.settings, self.engine, extra=self.health)
            self._runners.append(await serve_ops(app, ops.host, ops.port))
        if site.enabled and site.port and site.host:
            from hotpapers.ops.http import listen
            from hotpapers.site.serve import site_app, site_path

            app = site_app(Path(site.out_dir), site_path(self.settings))
            self._runners.append(await listen(app, site.host, site.port, setting="site.port"))
            log.info("site on http://%s:%s", site.host, site.port)

    def request_stop(self) -> None:
        """Stop taking new work (the signal handlers call this)."""
        if not self.stopping.is_set():
            log.info("hotpapers run: stopping (no new work; finishing the work in hand)")
            self.stopping.set()

    async def stop(self) -> None:
        """Let the work in hand finish within the grace time, then close everything."""
        grace = self.settings.scheduler.shutdown_grace_seconds
        if self.scheduler.running:
            self.scheduler.shutdown(wait=False)
        await asyncio.gather(
            self._drain(grace),
            *(self._stop_component(c, grace) for c in reversed(self.components)),
        )
        await self.leader.stop()
        await self.jobs.aclose()
        for runner in reversed(self._runners):
            await runner.cleanup()
        await asyncio.to_thread(self.engine.dispose)
        log.info("hotpapers run: stopped cleanly")

    async def _drain(self, grace: float) -> None:
        pending = {task for task in self._inflight if not task.done()}
        if not pending:
            return
        _, late = await asyncio.wait(pending, timeout=grace)
        for task in late:
            log.warning("abandoning %s after %.0fs (it is retried exactly next run)",
                        task.get_name(), grace)  # fmt: skip
            task.cancel()
        await asyncio.gather(*late, return_exceptions=True)

    @staticmethod
    async def _stop_component(component: Component, grace: float) -> None:
        try:
            await component.stop(grace)
        except Exception:
            log.warning("component %s did not stop cleanly", component.name, exc_info=True)

    async def run(self) -> None:
        """Run until SIGTERM / SIGINT, then stop cleanly."""
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(signum, self.request_stop)
        try:
            await self.start()
            await self.stopping.wait()
        except BaseException:
            self.stopping.set()  # a failed start-up: close what was opened, then report it
            raise
        finally:
            await self.stop()
            for signum in (signal.SIGTERM, signal.SIGINT):
                loop.remove_signal_handler(signum)
