"""Scheduled delivery end to end: the real client and its scheduler cog, a fake clock and the
fake Discord. Assertions are about what appears in the fake's channels and threads."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import aiohttp
import pytest
from sqlalchemy import Engine
from sqlmodel import Session, select

from bot.client import HotpapersBot
from bot.render import header_content
from bot.scheduler import SchedulerCog
from hotpapers.delivery import DeliveryReport
from hotpapers.delivery._schedule import due_at
from hotpapers.fakes.discord import FakeDiscord
from hotpapers.storage.db import transaction
from hotpapers.storage.models import DeliveryTask, GuildSettings, SocialPost, Subscription
from tests.bot import test_bot_delivery as delivery
from tests.bot.discord_support import bot_settings
from tests.bot.test_bot_delivery import PAPERS, posted
from tests.delivery.test_delivery import NEXT_DAY, add_papers, record, subscribe

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


async def _running(client: HotpapersBot, fake: FakeDiscord) -> asyncio.Task[None]:
    task = asyncio.create_task(client.start("fake-token"))
    await fake.wait_ready(timeout=10)
    await asyncio.wait_for(client.wait_until_ready(), 10)
    return task


@pytest.fixture
def clock() -> Clock:
    return Clock(at(8, 59))


@pytest.fixture
async def scheduler(fake: FakeDiscord, engine: Engine, clock: Clock) -> AsyncIterator[SchedulerCog]:
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
            await client.campaign()  # on PostgreSQL an election: this one process wins it
            await asyncio.wait_for(client.leader.wait_until_leader(), 10)
            cog = SchedulerCog(client, autostart=False)
            await client.add_cog(cog)
            yield cog
        finally:
            await client.close()
            await asyncio.wait_for(task, 10)


def done_tasks(engine: Engine, day: date = MONDAY) -> set[str]:
    """Targets whose digest task of `day` is done (settled: delivered, or nothing to post)."""
    with Session(engine) as session:
        query = select(DeliveryTask.target).where(
            DeliveryTask.listing_date == day,  # type: ignore[arg-type]
            DeliveryTask.state == "done",
        )
        return set(session.exec(query))


async def settled(cog: SchedulerCog, *targets: str, timeout: float = 10.0) -> None:
    """Wait until the scheduler has delivered (settled) Monday's digest for `targets`."""
    deadline = asyncio.get_running_loop().time() + timeout
    while not set(targets) <= (done := done_tasks(cog.bot.engine)):
        assert asyncio.get_running_loop().time() < deadline, done
        await asyncio.sleep(0.02)


def sent_to_channels(fake: FakeDiscord) -> int:
    return len(posted(fake))


async def test_before_the_post_time_nothing_after_it_the_digest_once(
    scheduler: SchedulerCog, fake: FakeDiscord, clock: Clock
) -> None:
    assert await scheduler.tick() == []
    assert sent_to_channels(fake) == 0 and fake.threads == []

    clock.now = at(9, 0)
    reports = await scheduler.tick()
    assert sum(report.sent for report in reports) == 2
    [header] = fake.in_channel(3000)
    assert header["content"] == header_content("Hot Papers 2026-11-23 · cs.LG")
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
    scheduler: SchedulerCog, fake: FakeDiscord, clock: Clock
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
    assert header["content"] == header_content("Hot Papers 2026-11-23 · cs.LG")
    assert fake.papers_in(fake.thread_of(LA_CHANNEL)["id"]) == ["2611.00301", "2611.00302"]
    assert len(fake.in_channel(3000)) == 1 and len(fake.threads) == 2
    before = sent_to_channels(fake)
    clock.now = at(17, 1)
    await scheduler.tick()
    assert sent_to_channels(fake) == before


async def test_no_announcement_no_tick_work(
    scheduler: SchedulerCog, fake: FakeDiscord, clock: Clock
) -> None:
    clock.now = at(9, 0, day=28)  # a Saturday: Friday's digest went out on Friday
    assert await scheduler.tick() == []
    assert fake.threads == [] and sent_to_channels(fake) == 0


async def test_the_client_schedules_by_itself_unless_told_not_to(
    fake: FakeDiscord, engine: Engine
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
            # It campaigns by itself (on SQLite it leads from the start) and wins: alone.
            await asyncio.wait_for(client.leader.wait_until_leader(), 10)
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
    scheduler: SchedulerCog, fake: FakeDiscord, clock: Clock
) -> None:
    fast = SchedulerCog(scheduler.bot, clock=lambda: at(17, 5), interval=0.05, poll=0.05)
    assert fast.ticker.seconds == 0.05
    await fast.start()
    try:
        await settled(fast, PAPERS, f"channel:{LA_CHANNEL}")
        assert len(fake.in_channel(LA_CHANNEL)) == 1
        assert len(fake.in_channel(3000)) == 1  # both are due at 17:05 UTC
        before = sent_to_channels(fake)
        await asyncio.sleep(0.3)  # several more ticks: nothing more
        assert sent_to_channels(fake) == before and len(fake.threads) == 2
    finally:
        await fast.stop()


# -- clock jumps and daylight-saving changes: each digest once, none skipped ----------------


def sent_total(reports: list[DeliveryReport]) -> int:
    return sum(report.sent for report in reports)


async def test_a_clock_jumping_back_an_hour_never_posts_twice(
    scheduler: SchedulerCog, fake: FakeDiscord, clock: Clock
) -> None:
    """Delivered at 09:00; the clock is set back to 08:00 and passes 09:00 again: no repeat."""
    clock.now = at(9, 0)
    assert sent_total(await scheduler.tick()) == 2
    for hour, minute in [(8, 0), (8, 59), (9, 0), (9, 30)]:
        clock.now = at(hour, minute)
        assert sent_total(await scheduler.tick()) == 0
    assert len(fake.in_channel(3000)) == 1 and len(fake.threads) == 1
    assert fake.papers_in(fake.thread_of(3000)["id"]) == ["2611.00301", "2611.00302"]


async def test_a_clock_jumping_forward_past_the_post_time_still_posts_once(
    scheduler: SchedulerCog, fake: FakeDiscord, clock: Clock
) -> None:
    """The clock leaps from 08:30 to 10:30 (09:00 never seen): the digest still goes out, once."""
    clock.now = at(8, 30)
    assert sent_total(await scheduler.tick()) == 0
    clock.now = at(10, 30)
    assert sent_total(await scheduler.tick()) == 2
    clock.now = at(10, 31)
    assert sent_total(await scheduler.tick()) == 0
    assert fake.papers_in(fake.thread_of(3000)["id"]) == ["2611.00301", "2611.00302"]


CAIRO_DAY = date(2026, 10, 29)  # Cairo falls back that night: 24:00 becomes 23:00 again
# Cairo springs forward in the night after this listing's announcement: 00:00 becomes 01:00.
CAIRO_SPRING = date(2026, 4, 23)


def add_cairo_listing(engine: Engine, day: date, post_time: str) -> None:
    """Two hot papers on `day`, and the Los Angeles server moved to Cairo at `post_time`."""
    stamp = datetime.combine(day, datetime.min.time(), tzinfo=UTC) - timedelta(days=1)
    records = [
        record(f"{day:%y%m}.0090{n}", f"Cairo paper {n}") for n in (1, 2)
    ]  # fmt: skip
    add_papers(engine, day, records, [400, 300])
    with transaction(engine) as session:
        for item in records:  # seen before the listing (the fixture's posts are from November)
            session.add(
                SocialPost(source="x", post_id=f"early-{item.arxiv_id}", paper_id=item.arxiv_id,
                           likes=100, taken_at=stamp)
            )  # fmt: skip
        settings = session.get(GuildSettings, LA_GUILD)
        assert settings is not None
        settings.timezone, settings.post_time = "Africa/Cairo", post_time
        session.add(settings)


async def tick_through(
    scheduler: SchedulerCog, clock: Clock, start: datetime, end: datetime
) -> list[datetime]:
    """Tick every 10 minutes from `start` to `end`; the ticks at which the LA (Cairo)
    channel got a digest."""
    posted_at = []
    now = start
    while now < end:
        clock.now = now
        for report in await scheduler.tick():
            if any(t.target == f"channel:{LA_CHANNEL}" and t.sent for t in report.targets):
                posted_at.append(now)
        now += timedelta(minutes=10)
    return posted_at


async def test_the_repeated_hour_of_a_fall_back_posts_once(
    scheduler: SchedulerCog, fake: FakeDiscord, clock: Clock
) -> None:
    """23:30 happens twice in Cairo on 2026-10-29: the digest goes out at the first, only."""
    add_cairo_listing(scheduler.bot.engine, CAIRO_DAY, "23:30")
    first, second = (
        datetime(2026, 10, 29, 20, 30, tzinfo=UTC),
        datetime(2026, 10, 29, 21, 30, tzinfo=UTC),
    )
    assert first.astimezone(ZoneInfo("Africa/Cairo")).strftime("%H:%M") == "23:30"
    assert second.astimezone(ZoneInfo("Africa/Cairo")).strftime("%H:%M") == "23:30"
    start = datetime(2026, 10, 29, 19, 0, tzinfo=UTC)
    assert await tick_through(scheduler, clock, start, start + timedelta(hours=4)) == [first]
    assert len(fake.in_channel(LA_CHANNEL)) == 1
    assert len(fake.papers_in(fake.thread_of(LA_CHANNEL)["id"])) == 2


async def test_a_post_time_skipped_by_spring_forward_posts_once(
    scheduler: SchedulerCog, fake: FakeDiscord, clock: Clock
) -> None:
    """00:30 does not exist in Cairo on 2026-04-24: the digest goes out once, not never
    (at 22:30 UTC, 00:30 read with the offset before the change)."""
    add_cairo_listing(scheduler.bot.engine, CAIRO_SPRING, "00:30")
    start = datetime(2026, 4, 23, 19, 0, tzinfo=UTC)
    posted_at = await tick_through(scheduler, clock, start, start + timedelta(hours=6))
    expected = datetime(2026, 4, 23, 22, 30, tzinfo=UTC)
    assert expected.astimezone(ZoneInfo("Africa/Cairo")).strftime("%d %H:%M") == "24 01:30"
    assert posted_at == [expected] == [due_at(CAIRO_SPRING, "Africa/Cairo", "00:30")]
    assert len(fake.in_channel(LA_CHANNEL)) == 1
