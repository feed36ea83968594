"""Scheduled delivery end to end: the real client and its scheduler cog, a fake clock and the
fake Discord. Assertions are about what appears in the fake's channels and threads."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import aiohttp
import pytest
from sqlalchemy import Engine

from bot.client import HotpapersBot
from bot.scheduler import SchedulerCog
from hotpapers.db import transaction
from hotpapers.models import GuildSettings, SocialPost, Subscription
from tests import test_bot_delivery as delivery
from tests.discord_support import bot_settings
from tests.test_bot_delivery import PAPERS, DeliveryFake, posted
from tests.test_delivery import NEXT_DAY, add_papers, record, subscribe

fake = delivery.fake  # the fake Discord fixture, shared

MONDAY = NEXT_DAY  # 2026-11-23, announced Sunday 20:00 New York (01:00 UTC)
LA_CHANNEL = 3001  # a channel of another server, in Los Angeles
LA_GUILD = "2001"
MONDAY_PAPERS = [
    (record("2611.00301", "Monday scaling"), 500),
    (record("2611.00302", "Monday vision", ("cs.CV", "cs.LG")), 300),
    (record("2611.00303", "Monday quiet"), 10),  # under the threshold at post time
]


def at(hour: int, minute: int = 0, day: int = 23) -> datetime:
    return datetime(2026, 11, day, hour, minute, tzinfo=UTC)


class Clock:
    """A clock the test moves by hand."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


def add_monday(engine: Engine) -> None:
    add_papers(engine, MONDAY, [r for r, _ in MONDAY_PAPERS], [s for _, s in MONDAY_PAPERS])
    subscribe(engine, PAPERS, "category", "cs.LG")  # server 2000: the defaults, 09:00 UTC
    with transaction(engine) as session:
        session.add(GuildSettings(guild_id=LA_GUILD, timezone="America/Los_Angeles"))
        session.add(
            Subscription(
                target=f"channel:{LA_CHANNEL}",
                guild_id=LA_GUILD,
                channel_id=str(LA_CHANNEL),
                user_id="7",
                kind="category",
                value="cs.LG",
            )
        )


async def _running(client: HotpapersBot, fake: DeliveryFake) -> asyncio.Task[None]:
    task = asyncio.create_task(client.start("fake-token"))
    await fake.wait_ready(timeout=10)
    await asyncio.wait_for(client.wait_until_ready(), 10)
    return task


@pytest.fixture
def clock() -> Clock:
    return Clock(at(8, 59))


@pytest.fixture
async def scheduler(
    fake: DeliveryFake, engine: Engine, clock: Clock
) -> AsyncIterator[SchedulerCog]:
    """A running bot without its own ticking loop, and a scheduler the test ticks by hand."""
    add_monday(engine)
    async with aiohttp.ClientSession() as session:
        client = HotpapersBot(
            bot_settings(fake),
            engine,
            session,
            clock=clock,
            guild_ready_timeout=0.05,
            schedule_deliveries=False,
        )
        task = await _running(client, fake)
        try:
            cog = SchedulerCog(client, autostart=False)
            await client.add_cog(cog)
            yield cog
        finally:
            await client.close()
            await asyncio.wait_for(task, 10)


async def settled(cog: SchedulerCog, *targets: str, timeout: float = 10.0) -> None:
    """Wait until the scheduler has delivered (settled) Monday's digest for `targets`."""
    deadline = asyncio.get_running_loop().time() + timeout
    while not all((target, MONDAY) in cog.settled for target in targets):
        assert asyncio.get_running_loop().time() < deadline, cog.settled
        await asyncio.sleep(0.02)


def sent_to_channels(fake: DeliveryFake) -> int:
    return len(posted(fake))


async def test_before_the_post_time_nothing_after_it_the_digest_once(
    scheduler: SchedulerCog, fake: DeliveryFake, clock: Clock
) -> None:
    assert await scheduler.tick() == []
    assert sent_to_channels(fake) == 0 and fake.threads == []

    clock.now = at(9, 0)
    reports = await scheduler.tick()
    assert sum(report.sent for report in reports) == 2
    [header] = fake.in_channel(3000)
    assert header["content"] == "Hot Papers 2026-11-23 · cs.LG"
    thread = fake.thread_of(3000)
    assert fake.papers_in(thread["id"]) == ["2611.00301", "2611.00302"]
    assert fake.in_channel(LA_CHANNEL) == []  # 09:00 in Los Angeles is 17:00 UTC
    before = sent_to_channels(fake)

    # Minutes later a quiet paper turns hot: the digest is out, nothing trickles in.
    with transaction(scheduler.bot.engine) as session:
        session.add(
            SocialPost(source="x", post_id="late", paper_id="2611.00303", likes=900, taken_at=at(9))
        )
    clock.now = at(9, 1)
    assert sum(report.sent for report in await scheduler.tick()) == 0
    assert sent_to_channels(fake) == before
    # Nor after a restart (a new scheduler remembers nothing; the ledger does).
    fresh = SchedulerCog(scheduler.bot, autostart=False)
    clock.now = at(9, 2)
    assert sum(report.sent for report in await fresh.tick()) == 0
    assert sent_to_channels(fake) == before
    assert fake.papers_in(thread["id"]) == ["2611.00301", "2611.00302"]


async def test_a_server_in_another_time_zone_gets_it_at_its_own_time(
    scheduler: SchedulerCog, fake: DeliveryFake, clock: Clock
) -> None:
    clock.now = at(9, 0)
    await scheduler.tick()
    assert fake.in_channel(LA_CHANNEL) == []
    clock.now = at(16, 59)
    await scheduler.tick()
    assert fake.in_channel(LA_CHANNEL) == []

    clock.now = at(17, 0)  # 09:00 in Los Angeles
    reports = await scheduler.tick()
    assert [(t.target, t.sent) for r in reports for t in r.targets] == [
        (f"channel:{LA_CHANNEL}", 2)
    ]
    [header] = fake.in_channel(LA_CHANNEL)
    assert header["content"] == "Hot Papers 2026-11-23 · cs.LG"
    assert fake.papers_in(fake.thread_of(LA_CHANNEL)["id"]) == ["2611.00301", "2611.00302"]
    assert len(fake.in_channel(3000)) == 1 and len(fake.threads) == 2
    before = sent_to_channels(fake)
    clock.now = at(17, 1)
    await scheduler.tick()
    assert sent_to_channels(fake) == before


async def test_no_announcement_no_tick_work(
    scheduler: SchedulerCog, fake: DeliveryFake, clock: Clock
) -> None:
    clock.now = at(9, 0, day=28)  # a Saturday: Friday's digest went out on Friday
    assert await scheduler.tick() == []
    assert fake.threads == [] and sent_to_channels(fake) == 0


async def test_the_client_schedules_by_itself_unless_told_not_to(
    fake: DeliveryFake, engine: Engine
) -> None:
    add_monday(engine)
    async with aiohttp.ClientSession() as session:
        client = HotpapersBot(
            bot_settings(fake),
            engine,
            session,
            clock=lambda: at(9, 30),
            guild_ready_timeout=0.05,
        )
        task = await _running(client, fake)
        try:
            cog = client.get_cog(SchedulerCog.__cog_name__)
            assert cog is not None
            assert cog.ticker.is_running()  # type: ignore[attr-defined]
            # Its first tick comes right after connecting: the digest appears by itself.
            await settled(cog, PAPERS)  # type: ignore[arg-type]
            assert fake.papers_in(fake.thread_of(3000)["id"]) == ["2611.00301", "2611.00302"]
            assert fake.in_channel(LA_CHANNEL) == []
        finally:
            await client.close()
            await asyncio.wait_for(task, 10)
        quiet = HotpapersBot(bot_settings(fake), engine, session, schedule_deliveries=False)
        async with quiet:
            await quiet.setup_hook()
            assert quiet.get_cog(SchedulerCog.__cog_name__) is None


async def test_interval_and_clock_are_injectable(
    scheduler: SchedulerCog, fake: DeliveryFake, clock: Clock
) -> None:
    fast = SchedulerCog(scheduler.bot, clock=lambda: at(17, 5), interval=0.05)
    assert fast.ticker.seconds == 0.05
    fast.ticker.start()
    try:
        await settled(fast, PAPERS, f"channel:{LA_CHANNEL}")
        assert len(fake.in_channel(LA_CHANNEL)) == 1
        assert len(fake.in_channel(3000)) == 1  # both are due at 17:05 UTC
        before = sent_to_channels(fake)
        await asyncio.sleep(0.3)  # several more ticks: nothing more
        assert sent_to_channels(fake) == before and len(fake.threads) == 2
    finally:
        fast.ticker.cancel()
