"""The weekly digest's Discord thread end to end: the real discord.py client, the
DiscordCourier and the fake Discord, on SQLite and PostgreSQL.

The thread's payloads are a golden file (`HOTPAPERS_UPDATE_GOLDEN=1` rewrites it)."""

from __future__ import annotations

import json
import os
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import Any

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
from tests.discord_support import bot_settings, running_bot, running_fake
from tests.test_delivery_week import subscribe
from tests.trending_world import NOW, TODAY, build

GOLDEN = Path(__file__).parent / "fixtures" / "discord" / "week-thread.json"
TITLE = "Hot this week · 2026-11-21 to 2026-11-27"
WEEK = ["2611.00002", "2609.00001", "2611.00006"]  # tests/test_weekly.py's order


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
