"""Posting each day's digest by itself: every subscribed channel (and DM) at its post time.

Two loops run once the bot is connected. The *ticker* (every minute) runs only on the leader
(`bot.leader`: one process of a deployment, elected with a PostgreSQL advisory lock; on
SQLite the only process): it looks at the listings still open (`open_listings`: none on
weekends and holidays once the last digest is out), asks the database which active targets
are due (`is_due`, in their server's time zone) and queues one task per due target in the
`delivery_task` work queue. On the weekly digest's weekday the week's thread of each channel is
queued beside its digest, and also on that weekday when it has no listing (an arXiv holiday
or a weekend weekday: the week's thread alone). The *drainer* runs in every process: up to
`discord.delivery_workers` workers claim tasks, plan the target (the listing's plans are
computed once, in a thread, and shared) and deliver it through one shared, paced courier.

A target's digest is queued once per listing (the queue's unique key), so a target whose
digest went out is *settled* for that listing in every process and across restarts: papers
that turn hot later in the day never trickle into an old thread. The exactly-once ledger of
each paper makes a task run twice (a takeover after a crash) harmless.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Iterable
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING

from discord.ext import commands, tasks
from sqlalchemy import Engine
from sqlmodel import Session, col, select

from bot.courier import DiscordCourier
from hotpapers.arxiv.calendar import is_listing_date
from hotpapers.cluster import queue
from hotpapers.cluster.drain import POLL_SECONDS, Drainer
from hotpapers.config import Settings
from hotpapers.delivery import DeliveryReport
from hotpapers.delivery._schedule import SETTLE, is_due, open_listings
from hotpapers.delivery._week import unlisted_week_days
from hotpapers.ranking.week import is_weekly_day
from hotpapers.storage.models import (
    Delivery,
    DeliveryTask,
    DeliveryThread,
    GuildSettings,
    Subscription,
)

if TYPE_CHECKING:
    from bot.client import HotpapersBot

log = logging.getLogger(__name__)

TICK_SECONDS = 60.0


class SchedulerCog(commands.Cog):
    """Queues due digests (on the leader) and delivers queued ones (everywhere).

    `clock` defaults to the bot's; `interval` (the ticker) and `poll` (the drainer, when idle)
    are in seconds; `autostart=False` leaves both loops off (tests call `tick`).
    """

    def __init__(
        self,
        bot: HotpapersBot,
        *,
        clock: Callable[[], datetime] | None = None,
        interval: float = TICK_SECONDS,
        poll: float = POLL_SECONDS,
        settle: timedelta = SETTLE,
        autostart: bool = True,
    ) -> None:
        self.bot = bot
        self.clock = clock or bot.clock
        self.settle = settle
        self.autostart = autostart
        self.courier = DiscordCourier(bot)  # one courier, one pacer, for every worker
        self.drainer = Drainer(
            bot.engine,
            bot.settings,
            self.courier,
            name=bot.leader.name,
            clock=self.clock,
            poll_seconds=poll,
        )
        self._lock = asyncio.Lock()
        self._draining: asyncio.Task[None] | None = None
        self._pending: set[asyncio.Task[None]] = set()
        self.ticker.change_interval(seconds=interval)
        bot.leader.on_change(self._on_leadership)

    async def cog_unload(self) -> None:
        await self.stop()

    @commands.Cog.listener()
    async def on_ready(self) -> None:
        # Only a connected bot schedules: a REST-only login (the CLI's deliver) never gets here.
        if self.autostart:
            await self.start()

    async def start(self) -> None:
        """Campaign for leadership, and start the ticker and the drainer (idempotent)."""
        await self.bot.campaign()
        if not self.ticker.is_running():
            self.ticker.start()
        if self._draining is None or self._draining.done():
            self._draining = asyncio.create_task(self.drainer.run(), name="delivery-drainer")

    async def stop(self) -> None:
        """Stop both loops; a task in hand goes back to the queue at once, for any process."""
        self.ticker.cancel()
        for task in list(self._pending):
            task.cancel()
        if self._draining is not None:
            self._draining.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._draining
            self._draining = None
        await self.drainer.close()

    def _on_leadership(self, leading: bool) -> None:
        log.info(
            "%s %s the scheduler leader", self.bot.leader.name, "is" if leading else "is no longer"
        )
        if leading and self.ticker.is_running():
            # Queue what is due now rather than at the next minute (the old leader may have
            # died just before its tick).
            task = asyncio.create_task(self._schedule_and_wake())
            self._pending.add(task)
            task.add_done_callback(self._pending.discard)

    @tasks.loop(seconds=TICK_SECONDS)
    async def ticker(self) -> None:
        await self._schedule_and_wake()

    async def _schedule_and_wake(self) -> None:
        try:
            if await self.schedule():
                self.drainer.wake()
        except Exception:  # an outage this minute must not stop the loop for good
            log.exception("scheduling deliveries failed; trying again next tick")

    async def schedule(self) -> int:
        """On the leader, queue every digest due now; the number of new tasks (0 elsewhere)."""
        if not self.bot.leader.is_leader:
            return 0
        async with self._lock:
            now = self.clock()
            settings: Settings = self.bot.settings
            days = open_listings(now, settings.arxiv.holidays, self.settle)
            days = sorted({*days, *unlisted_week_days(settings, now, self.settle)}, reverse=True)
            if not days:
                return 0
            return await asyncio.to_thread(
                _enqueue_due, self.bot.engine, settings, days, now, self.settle
            )

    async def tick(self) -> list[DeliveryReport]:
        """Queue what is due (on the leader) and deliver whatever is ready, here and now; the
        reports per listing, older first (for tests and one-shot runs)."""
        await self.schedule()
        return await self.drainer.drain()


def _enqueue_due(
    engine: Engine, settings: Settings, days: list[date], now: datetime, settle: timedelta
) -> int:
    """Queue, per open listing (newest first; a weekly day without a listing among them), the
    active targets due now that have no task for it yet and whose digest is not already out
    (e.g. sent by the CLI); the number queued."""
    queued = 0
    with Session(engine) as session:
        guild_of = _active_targets(session)
        if not guild_of:
            return 0
        guilds = {guild for guild in guild_of.values() if guild is not None}
        query = select(GuildSettings).where(col(GuildSettings.guild_id).in_(guilds))
        by_guild = {row.guild_id: row for row in session.exec(query)}
        defaults = settings.discord
        holidays = settings.arxiv.holidays
        newer: date | None = None  # the listing after `day`, if it is open too
        due_by_day: list[tuple[date, list[str]]] = []
        for day in days:
            known = _queued(session, day)
            listed = is_listing_date(day, holidays)
            due = [
                key
                for key, target in _task_keys(settings, day, guild_of, listed)
                if key not in known
                and is_due(
                    target,
                    by_guild,
                    defaults,
                    day,
                    now,
                    guild_of=guild_of,
                    superseded_by=newer,
                    settle=settle,
                )
            ]
            done = _delivered(session, day, due)
            due_by_day.append((day, [target for target in due if target not in done]))
            if listed:  # a week thread alone never supersedes the digest before it
                newer = day
    for day, targets in reversed(due_by_day):  # the older listing first
        added = queue.enqueue(engine, targets, day, now)
        if added:
            log.info("queued %d digest(s) of %s", added, day)
        queued += added
    return queued


def _task_keys(
    settings: Settings, day: date, guild_of: dict[str, str | None], listed: bool = True
) -> list[tuple[str, str]]:
    """(task key, target) of what may be due on `day`: every target's digest (when `day` is
    `listed`) and, on the weekly digest's day, every channel's week thread (keyed
    "channel:N/week", as its ledger)."""
    keys = [(target, target) for target in guild_of] if listed else []
    if is_weekly_day(settings, day):
        keys += [(f"{t}/week", t) for t in guild_of if t.startswith("channel:")]
    return keys


def _queued(session: Session, day: date) -> set[str]:
    """Targets with a task for `day` already (in any state)."""
    query = select(DeliveryTask.target).where(DeliveryTask.listing_date == day)  # type: ignore[arg-type]
    return set(session.exec(query))


def _active_targets(session: Session) -> dict[str, str | None]:
    """Target -> its server id (None for DMs), for every target with an active subscription."""
    query = (
        select(Subscription.target, Subscription.guild_id)
        .where(Subscription.status == "active")
        .order_by(col(Subscription.id))
    )
    found: dict[str, str | None] = {}
    for target, guild in session.exec(query):
        if found.get(target) is None:
            found[target] = guild
    return found


def _delivered(session: Session, day: date, targets: Iterable[str]) -> set[str]:
    """Targets whose digest of `day` is out (e.g. before a restart, or by the CLI): a thread
    started, papers recorded, none still claimed by an unfinished run."""
    wanted = list(targets)
    if not wanted:
        return set()
    threads = select(DeliveryThread.target).where(
        DeliveryThread.listing_date == day,  # type: ignore[arg-type]
        col(DeliveryThread.target).in_(wanted),
        col(DeliveryThread.header_message_id).is_not(None),
    )
    rows = select(Delivery.target, Delivery.state).where(
        Delivery.listing_date == day,  # type: ignore[arg-type]
        col(Delivery.target).in_(wanted),
    )
    started = set(session.exec(threads))
    recorded: set[str] = set()
    claimed: set[str] = set()
    for target, state in session.exec(rows):
        recorded.add(target)
        if state == "claimed":
            claimed.add(target)
    return (started & recorded) - claimed


async def setup(bot: HotpapersBot) -> None:
    await bot.add_cog(SchedulerCog(bot))
