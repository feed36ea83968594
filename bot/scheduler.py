"""Posting each day's digest by itself: every subscribed channel (and DM) at its post time.

A loop ticks every minute once the bot is connected. A tick looks at the listings still open
(`open_listings`: none on weekends and holidays once the last digest is out), asks the
database which active targets are due (`is_due`, in their server's time zone), and only
then plans (in a thread: the database calls block) and delivers the due digests with the
`DiscordCourier`. The exactly-once ledger makes a repeated tick harmless; besides, a target
whose digest went out is *settled* for that listing and not planned again, so papers that
turn hot later in the day never trickle into an old thread.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Collection, Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING

from discord.ext import commands, tasks
from sqlalchemy import Engine
from sqlmodel import Session, col, select

from bot.courier import DiscordCourier
from hotpapers.config import Settings
from hotpapers.delivery import DeliveryReport, TargetPlan, deliver, due_targets, plan
from hotpapers.delivery._schedule import SETTLE, is_due, open_listings
from hotpapers.models import Delivery, DeliveryThread, GuildSettings, Subscription

if TYPE_CHECKING:
    from bot.client import HotpapersBot

log = logging.getLogger(__name__)

TICK_SECONDS = 60.0


@dataclass(frozen=True)
class _Due:
    """One listing's due targets at one tick, and the plans of those with something to post."""

    listing_date: date
    targets: tuple[str, ...]
    plans: tuple[TargetPlan, ...]


class SchedulerCog(commands.Cog):
    """Delivers digests at each target's post time. `clock` defaults to the bot's;
    `interval` is in seconds; `autostart=False` leaves the loop off (tests call `tick`)."""

    def __init__(
        self,
        bot: HotpapersBot,
        *,
        clock: Callable[[], datetime] | None = None,
        interval: float = TICK_SECONDS,
        settle: timedelta = SETTLE,
        autostart: bool = True,
    ) -> None:
        self.bot = bot
        self.clock = clock or bot.clock
        self.settle = settle
        self.autostart = autostart
        # (target, listing date) whose digest is out, or had nothing to post when due.
        self.settled: set[tuple[str, date]] = set()
        self._lock = asyncio.Lock()
        self.ticker.change_interval(seconds=interval)

    async def cog_unload(self) -> None:
        self.ticker.cancel()

    @commands.Cog.listener()
    async def on_ready(self) -> None:
        # Only a connected bot ticks: a REST-only login (the CLI's deliver) never gets here.
        if self.autostart and not self.ticker.is_running():
            self.ticker.start()

    @tasks.loop(seconds=TICK_SECONDS)
    async def ticker(self) -> None:
        try:
            await self.tick()
        except Exception:  # an outage this minute must not stop the loop for good
            log.exception("scheduled delivery failed; trying again next tick")

    async def tick(self) -> list[DeliveryReport]:
        """Deliver every digest due now (the older listing first); the reports."""
        async with self._lock:
            now = self.clock()
            settings: Settings = self.bot.settings
            days = open_listings(now, settings.arxiv.holidays, self.settle)
            self.settled = {key for key in self.settled if key[1] in days}
            if not days:
                return []
            work = await asyncio.to_thread(
                _due_work,
                self.bot.engine,
                settings,
                days,
                now,
                frozenset(self.settled),
                self.settle,
            )
            reports = []
            courier = DiscordCourier(self.bot)
            for due in reversed(work):  # the older listing first
                report = await deliver(
                    self.bot.engine, courier, list(due.plans), due.listing_date, now
                )
                reports.append(report)
                outcomes = {item.target: item.outcome for item in report.targets}
                for target in due.targets:
                    # Nothing to post, or delivered: settled. Busy, retry or error: next tick.
                    if outcomes.get(target, "ok") == "ok":
                        self.settled.add((target, due.listing_date))
                if report.targets:
                    log.info(
                        "scheduled %s: %d target(s), %d paper(s) sent",
                        due.listing_date,
                        len(report.targets),
                        report.sent,
                    )
            return reports


def _due_work(
    engine: Engine,
    settings: Settings,
    days: list[date],
    now: datetime,
    settled: Collection[tuple[str, date]],
    settle: timedelta,
) -> list[_Due]:
    """Per open listing (newest first), the targets due now and not settled, and their plans.

    Plans (the expensive part: ranking the day) only when some target is due.
    """
    found: list[_Due] = []
    with Session(engine) as session:
        guild_of = _active_targets(session)
        if not guild_of:
            return found
        guilds = {guild for guild in guild_of.values() if guild is not None}
        query = select(GuildSettings).where(col(GuildSettings.guild_id).in_(guilds))
        by_guild = {row.guild_id: row for row in session.exec(query)}
        defaults = settings.discord
        newer: date | None = None  # the listing after `day`, if it is open too
        for day in days:
            due = [
                target
                for target in guild_of
                if (target, day) not in settled
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
            due = [target for target in due if target not in done]
            if due:
                plans = due_targets(
                    plan(session, settings, day, now),
                    by_guild,
                    defaults,
                    day,
                    now,
                    guild_of=guild_of,
                    superseded_by=newer,
                    settle=settle,
                )
                wanted = set(due)
                chosen = tuple(item for item in plans if item.target in wanted)
                found.append(_Due(day, tuple(due), chosen))
            newer = day
    return found


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
