"""The weekly digest's Discord thread end to end: the real discord.py client, the
DiscordCourier and the fake Discord, on SQLite and PostgreSQL.

The thread's payloads are a golden file (`HOTPAPERS_UPDATE_GOLDEN=1` rewrites it)."""

from __future__ import annotations

import asyncio
import json
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from sqlalchemy import Engine
from sqlmodel import Session, select

from bot.client import HotpapersBot
from bot.courier import DiscordCourier
from bot.render import footer_content, header_content
from hotpapers.config import DigestSettings, Settings, WeeklyDigestSettings
from hotpapers.delivery import DeliveryReport, deliver
from hotpapers.delivery._week import plan_week
from hotpapers.fakes.discord import FakeDiscord
from tests.bot.discord_support import bot_settings, running_bot, running_fake
from tests.bot.render_discord_thread import thread_html
from tests.delivery.test_delivery_week import subscribe
from tests.ranking.trending_world import NOW, TODAY, build

GOLDEN = Path(__file__).parents[1] / "fixtures" / "discord" / "week-thread.json"
TITLE = "Hot this week · 2026-11-21 to 2026-11-27"
WEEK = ["2611.00002", "2609.00001", "2611.00006"]  # tests/service/test_weekly.py's order


@pytest.fixture
async def fake() -> AsyncIterator[FakeDiscord]:
    async with running_fake(FakeDiscord(channels={3000: "papers", 3001: "other"})) as running:
        yield running


@pytest.fixture
async def bot(fake: FakeDiscord, engine: Engine) -> AsyncIterator[HotpapersBot]:
    build(engine)
    weekly = DigestSettings(weekly=WeeklyDigestSettings(enabled=True))
    settings = bot_settings(fake).model_copy(update={"digest": weekly})
    # No scheduler: on the world's holiday Friday it would post the week's thread by itself.
    async with running_bot(
        fake, engine, settings, clock=lambda: NOW, schedule_deliveries=False
    ) as client:
        yield client


async def run(bot: HotpapersBot, hours: int = 0) -> DeliveryReport:
    now = NOW + timedelta(hours=hours)
    with Session(bot.engine) as session:
        plans = plan_week(session, bot.settings, TODAY, now)
    return await deliver(bot.engine, DiscordCourier(bot), plans, TODAY, now)


def _shown(message: dict[str, Any]) -> dict[str, Any]:
    keys = ("content", "embeds", "components", "allowed_mentions")
    return {key: message.get(key) for key in keys}


async def test_each_channel_gets_one_week_thread_and_a_rerun_posts_nothing(
    bot: HotpapersBot, fake: FakeDiscord
) -> None:
    subscribe(bot.engine, "channel:3000", "cs.LG")
    subscribe(bot.engine, "channel:3001", "math.AG")
    report = await run(bot)
    assert [(t.target, t.outcome, t.sent) for t in report.targets] == [
        ("channel:3000", "ok", 3),
        ("channel:3001", "ok", 3),
    ]
    for channel in (3000, 3001):
        [header] = fake.in_channel(channel)
        assert header["content"] == header_content(TITLE)
        thread = fake.thread_of(channel)
        assert thread["name"] == TITLE
        assert fake.papers_in(thread["id"]) == WEEK
        assert fake.in_channel(thread["id"])[-1]["content"] == footer_content(TITLE)
    assert fake.rejected == []
    thread = fake.thread_of(3000)
    shown = [_shown(header)] + [_shown(m) for m in fake.in_channel(thread["id"])]
    if os.environ.get("HOTPAPERS_UPDATE_GOLDEN"):
        GOLDEN.write_text(json.dumps(shown, indent=2, ensure_ascii=False) + "\n", "utf-8")
    assert shown == json.loads(GOLDEN.read_text("utf-8"))
    before = len(fake.requests)
    again = await run(bot, hours=2)  # a re-run after the completed delivery
    assert [t.sent for t in again.targets] == [0, 0]
    assert not [r for r in fake.requests[before:] if r[0] == "POST"]
    assert len(fake.threads) == 2 and fake.papers_in(thread["id"]) == WEEK


async def test_each_paper_of_the_week_shows_the_day_it_was_listed(
    bot: HotpapersBot, fake: FakeDiscord
) -> None:
    """A week's thread mixes papers of several listings: each says which one it came from,
    as /trending, the week's post and the site's week page do."""
    from hotpapers.ranking.week import week_of

    subscribe(bot.engine, "channel:3000", "cs.LG")
    await run(bot)
    _, found = week_of(bot.settings, bot.engine, TODAY, NOW)
    expected = {item.ranked.paper.arxiv_id: f"{item.listed:%Y-%m-%d}" for item in found}
    shown = {}
    for message in fake.in_channel(fake.thread_of(3000)["id"])[:-1]:
        [embed] = message["embeds"]
        fields = {field["name"]: field["value"] for field in embed["fields"]}
        shown[embed["footer"]["text"].split(" · ")[0].removeprefix("arXiv:")] = fields.get("Listed")
    assert shown == expected and len(set(expected.values())) > 1  # several listings


async def test_the_scheduler_queues_and_posts_the_week_on_its_weekday_once(
    fake: FakeDiscord, engine: Engine
) -> None:
    """At the Friday post time the leader queues the week's thread beside the day's digest
    (task key "channel:N/week") and the drainer posts it; later ticks post nothing."""
    from bot.scheduler import SchedulerCog
    from hotpapers.storage.db import transaction
    from hotpapers.storage.store import record_announcements, upsert_papers
    from tests.bot.test_bot_scheduler import Clock, _running, done_tasks
    from tests.ranking.trending_world import record

    build(engine)
    with transaction(engine) as session:  # Friday's listing, nothing hot in it yet
        upsert_papers(session, [record("2611.00009")])
        record_announcements(session, TODAY, [record("2611.00009")], ["cs.LG"])
    subscribe(engine, "channel:3000", "cs.LG", guild="2000")
    clock = Clock(NOW.replace(hour=9))
    weekly = DigestSettings(weekly=WeeklyDigestSettings(enabled=True))
    settings = bot_settings(fake)
    # the world's Friday follows Thanksgiving, an arXiv holiday: a plain Friday here
    no_holidays = settings.arxiv.model_copy(update={"holidays": []})
    settings = settings.model_copy(update={"digest": weekly, "arxiv": no_holidays})
    async with aiohttp.ClientSession() as session:
        client = HotpapersBot(
            settings, engine, session, clock=clock, guild_ready_timeout=0.05,
            schedule_deliveries=False,
        )  # fmt: skip
        task = await _running(client, fake)
        try:
            await client.campaign()
            await asyncio.wait_for(client.leader.wait_until_leader(), 10)
            cog = SchedulerCog(client, autostart=False)
            await client.add_cog(cog)
            reports = await cog.tick()
            assert done_tasks(engine, TODAY) == {"channel:3000", "channel:3000/week"}
            [week] = [thread for thread in fake.threads if thread["name"] == TITLE]
            assert fake.papers_in(week["id"]) == WEEK  # the day's digest has its own thread
            sent, threads = sum(report.sent for report in reports), len(fake.threads)
            clock.now += timedelta(minutes=5)
            assert sum(report.sent for report in await cog.tick()) == 0
            assert len(fake.threads) == threads and fake.papers_in(week["id"]) == WEEK
            assert sent >= len(WEEK)
        finally:
            await client.close()
            await asyncio.wait_for(task, 10)


# --- `hotpapers bot deliver` and arXiv holidays (issue #13 gaps 1 and 2) ----------------------

FRIDAY_PAPER = "2611.00009"


def add_friday(engine: Engine, likes: float = 400) -> None:
    """Friday's own listing: one paper, hot (over the threshold) for the day's digest."""
    from hotpapers.signals.base import Measurement
    from hotpapers.signals.store import save_measurements
    from hotpapers.storage.db import transaction
    from hotpapers.storage.store import record_announcements, upsert_papers
    from tests.ranking.trending_world import record, x

    with transaction(engine) as session:
        upsert_papers(session, [record(FRIDAY_PAPER)])
        record_announcements(session, TODAY, [record(FRIDAY_PAPER)], ["cs.LG"])
        # measured before NOW: every run below ranks the day and the week alike
        measured = NOW - timedelta(hours=1)
        save_measurements(session, [Measurement(FRIDAY_PAPER, "x", measured, x(likes))])


def without_holidays(settings: Settings) -> Settings:
    """The world's Friday follows Thanksgiving (no listing): here a plain Friday."""
    return settings.model_copy(update={"arxiv": settings.arxiv.model_copy(update={"holidays": []})})


async def test_deliver_posts_the_week_beside_the_days_digest_once(
    bot: HotpapersBot, fake: FakeDiscord
) -> None:
    """On the weekly digest's day `deliver_day` (the CLI's deliver) posts the day's digest and
    the week's thread, as the scheduler does; a re-run posts nothing."""
    from bot.runner import deliver_day

    add_friday(bot.engine)
    subscribe(bot.engine, "channel:3000", "cs.LG")
    settings = without_holidays(bot.settings)
    report = await deliver_day(settings, bot.engine, TODAY, now=NOW)
    assert [(t.target, t.outcome) for t in report.targets] == [
        ("channel:3000", "ok"),
        ("channel:3000/week", "ok"),
    ]
    [week] = [thread for thread in fake.threads if thread["name"] == TITLE]
    [day] = [thread for thread in fake.threads if thread["name"] != TITLE]
    assert day["name"].startswith("Hot Papers 2026-11-27")
    assert fake.papers_in(day["id"])[0] == FRIDAY_PAPER
    assert fake.papers_in(week["id"]) == [FRIDAY_PAPER, *WEEK]  # it trends this week too
    assert report.targets[1].sent == len(WEEK) + 1
    before = len(fake.requests)
    again = await deliver_day(settings, bot.engine, TODAY, now=NOW + timedelta(hours=1))
    assert [t.sent for t in again.targets] == [0, 0]
    assert not [r for r in fake.requests[before:] if r[0] == "POST"]


async def test_deliver_on_a_holiday_weekday_posts_the_week_only(
    bot: HotpapersBot, fake: FakeDiscord
) -> None:
    """Friday after Thanksgiving has no listing: the week's thread still goes out (by date
    or by default on that day), once; there is no day's digest to post."""
    from bot.runner import deliver_day

    subscribe(bot.engine, "channel:3000", "cs.LG")
    by_default = await deliver_day(bot.settings, bot.engine, None, now=NOW)
    assert by_default.listing_date == TODAY
    assert [(t.target, t.outcome, t.sent) for t in by_default.targets] == [
        ("channel:3000/week", "ok", 3)
    ]
    [week] = fake.threads
    assert week["name"] == TITLE and fake.papers_in(week["id"]) == WEEK
    by_date = await deliver_day(bot.settings, bot.engine, TODAY, now=NOW + timedelta(hours=1))
    assert [(t.target, t.sent) for t in by_date.targets] == [("channel:3000/week", 0)]
    assert len(fake.threads) == 1


async def test_cli_deliver_says_what_went_to_the_week_thread(
    fake: FakeDiscord, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`hotpapers bot deliver --date` of a holiday weekly day: one line per week thread."""
    from typer.testing import CliRunner

    from bot.cli import app
    from hotpapers.storage import migrate
    from hotpapers.storage.db import make_engine

    url = f"sqlite:///{tmp_path / 'cli.db'}"
    migrate.upgrade(url)
    engine = make_engine(url)
    build(engine)
    subscribe(engine, "channel:3000", "cs.LG")
    engine.dispose()
    monkeypatch.chdir(tmp_path)
    for name in ("HOTPAPERS_CONFIG", "HOTPAPERS_SECRETS_FILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HOTPAPERS_DISCORD__TOKEN", "fake-token")
    monkeypatch.setenv("HOTPAPERS_DISCORD__API_URL", fake.api_url)
    monkeypatch.setenv("HOTPAPERS_DISCORD__GATEWAY_URL", fake.gateway_url)
    monkeypatch.setenv("HOTPAPERS_DATABASE__URL", url)
    monkeypatch.setenv("HOTPAPERS_DIGEST__WEEKLY__ENABLED", "true")
    runner = CliRunner()
    args = ["deliver", "--date", TODAY.isoformat()]
    result = await asyncio.to_thread(runner.invoke, app, args)
    assert result.exit_code == 0, result.output
    (tmp_path / "deliver.txt").write_text(result.output, "utf-8")
    assert "2026-11-27 channel:3000/week: ok, 3 sent, 0 recovered, 0 edited\n" in result.output
    assert "no listing" not in result.output
    again = await asyncio.to_thread(runner.invoke, app, args)
    assert "2026-11-27 channel:3000/week: ok, 0 sent, 0 recovered, 0 edited\n" in again.output
    assert len(fake.threads) == 1


@asynccontextmanager
async def scheduling_leader(
    fake: FakeDiscord, engine: Engine, settings: Settings, clock: Any
) -> AsyncIterator[Any]:
    """A bot logged in to the fake, elected leader, with its scheduler cog (ticked by hand)."""
    from bot.scheduler import SchedulerCog
    from tests.bot.test_bot_scheduler import _running

    async with aiohttp.ClientSession() as session:
        client = HotpapersBot(
            settings, engine, session, clock=clock, guild_ready_timeout=0.05,
            schedule_deliveries=False,
        )  # fmt: skip
        task = await _running(client, fake)
        try:
            await client.campaign()
            await asyncio.wait_for(client.leader.wait_until_leader(), 10)
            cog = SchedulerCog(client, autostart=False)
            await client.add_cog(cog)
            yield cog
        finally:
            await client.close()
            await asyncio.wait_for(task, 10)


@pytest.mark.parametrize(
    ("weekday", "day", "title"),
    [
        ("friday", TODAY, TITLE),  # the Friday after Thanksgiving
        ("saturday", TODAY + timedelta(days=1), "Hot this week · 2026-11-22 to 2026-11-28"),
    ],
)
async def test_the_scheduler_posts_the_week_on_a_weekday_without_a_listing_once(
    fake: FakeDiscord, engine: Engine, tmp_path: Path, weekday: str, day: date, title: str
) -> None:
    """A weekly day without a listing (a holiday, a weekend): at the channel's post time that
    day the leader queues the week's thread alone (no day's digest) and it goes out once."""
    from tests.bot.test_bot_scheduler import Clock, done_tasks

    build(engine)
    subscribe(engine, "channel:3000", "cs.LG", guild="2000")  # defaults: 09:00 UTC
    post_time = datetime.combine(day, time(9), tzinfo=UTC)
    clock = Clock(post_time - timedelta(minutes=1))
    weekly = DigestSettings(weekly=WeeklyDigestSettings(enabled=True, weekday=weekday))
    settings = bot_settings(fake).model_copy(update={"digest": weekly})
    async with scheduling_leader(fake, engine, settings, clock) as cog:
        await cog.tick()
        assert fake.threads == [] and done_tasks(engine, day) == set()  # not yet 09:00
        clock.now = post_time
        await cog.tick()
        assert done_tasks(engine, day) == {"channel:3000/week"}
        [week] = fake.threads
        assert week["name"] == title and fake.papers_in(week["id"]) == WEEK
        for later in (timedelta(minutes=5), timedelta(hours=20)):
            clock.now = post_time + later
            assert sum(report.sent for report in await cog.tick()) == 0
        assert len(fake.threads) == 1 and fake.papers_in(week["id"]) == WEEK
        shown = [fake.in_channel(3000)[0], *fake.in_channel(week["id"])]
        sample = tmp_path / f"{weekday}-week-thread.html"
        sample.write_text(thread_html(shown, title), encoding="utf-8")


async def test_a_week_thread_alone_never_supersedes_the_digest_before_it(
    fake: FakeDiscord, engine: Engine
) -> None:
    """Thursday's digest still owed to a channel posting at 03:30 UTC (it missed Thursday's
    03:30) is queued at Friday 03:45 beside Friday's week thread: a day without a listing has
    no digest to replace Thursday's."""
    from hotpapers.storage.db import transaction
    from hotpapers.storage.models import DeliveryTask, GuildSettings
    from tests.bot.test_bot_scheduler import Clock

    subscribe(engine, "channel:3000", "cs.LG", guild="2000")
    with transaction(engine) as session:
        session.add(GuildSettings(guild_id="2000", timezone="UTC", post_time="03:30"))
    clock = Clock(datetime(2026, 11, 27, 3, 45, tzinfo=UTC))
    weekly = DigestSettings(weekly=WeeklyDigestSettings(enabled=True))
    settings = bot_settings(fake).model_copy(update={"digest": weekly})
    async with scheduling_leader(fake, engine, settings, clock) as cog:
        assert await cog.schedule() == 2
    with Session(engine) as db:
        queued = {(row.listing_date, row.target) for row in db.exec(select(DeliveryTask))}
    assert queued == {(date(2026, 11, 26), "channel:3000"), (TODAY, "channel:3000/week")}
