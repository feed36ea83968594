"""The weekly digest's Discord thread end to end: the real discord.py client, the
DiscordCourier and the fake Discord, on SQLite and PostgreSQL.

The thread's payloads are a golden file (`HOTPAPERS_UPDATE_GOLDEN=1` rewrites it)."""

from __future__ import annotations

import asyncio
import json
import os
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from sqlalchemy import Engine
from sqlmodel import Session

from bot.client import HotpapersBot
from bot.courier import DiscordCourier
from bot.render import footer_content, header_content
from hotpapers.config import DigestSettings, WeeklyDigestSettings
from hotpapers.delivery import DeliveryReport, deliver
from hotpapers.delivery._week import plan_week
from hotpapers.fakes.discord import FakeDiscord
from tests.bot.discord_support import bot_settings, running_bot, running_fake
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
    async with running_bot(fake, engine, settings, clock=lambda: NOW) as client:
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
