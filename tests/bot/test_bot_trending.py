"""/trending through the real discord.py client logged into the fake Discord."""

from __future__ import annotations

import json
import os
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import Engine

from bot.client import HotpapersBot
from hotpapers.fakes.discord import FakeDiscord
from tests.bot.discord_support import running_bot, running_fake
from tests.ranking.trending_world import NOW, OLD, REACTED, WEEKLY, build

GOLDEN = Path(__file__).parents[1] / "fixtures" / "trending" / "discord-week.json"


@pytest.fixture
async def fake() -> AsyncIterator[FakeDiscord]:
    async with running_fake(FakeDiscord()) as running:
        yield running


@pytest.fixture
async def bot(fake: FakeDiscord, engine: Engine) -> AsyncIterator[HotpapersBot]:
    build(engine)
    async with running_bot(fake, engine, clock=lambda: NOW) as client:
        yield client


async def test_the_week_by_default_each_paper_once_with_its_listing_date(
    bot: HotpapersBot, fake: FakeDiscord
) -> None:
    result = await fake.send_interaction("trending", {})
    assert result.deferred and not result.ephemeral
    [embed] = result.embeds
    assert embed["title"] == "Trending this week (2026-11-21 to 2026-11-27)"
    names = [field["name"] for field in embed["fields"]]
    assert names == [f"#1 · Paper {WEEKLY}", f"#2 · Paper {OLD}", f"#3 · Paper {REACTED}"]
    first = embed["fields"][0]["value"]
    assert first.startswith("Listed 2026-11-24 · Ada Lovelace\nGained **340** (x: 300 retweets")
    assert embed["fields"][1]["value"].startswith("Listed 2026-09-01")
    if os.environ.get("HOTPAPERS_UPDATE_GOLDEN"):
        GOLDEN.parent.mkdir(parents=True, exist_ok=True)
        GOLDEN.write_text(json.dumps(result.embeds, indent=2, ensure_ascii=False) + "\n")
    assert result.embeds == json.loads(GOLDEN.read_text())


async def test_month_and_category(bot: HotpapersBot, fake: FakeDiscord) -> None:
    result = await fake.send_interaction("trending", {"period": "month", "category": "cs.CV"})
    [embed] = result.embeds
    assert embed["title"] == "Trending this month in cs.CV (2026-10-29 to 2026-11-27)"
    assert [field["name"] for field in embed["fields"]] == [f"#1 · Paper {WEEKLY}"]


async def test_category_autocomplete(bot: HotpapersBot, fake: FakeDiscord) -> None:
    result = await fake.send_interaction("trending", {"category": "robot"}, focused="category")
    assert result.callback_type == 8
    assert "cs.RO" in [choice["value"] for choice in result.choices]


async def test_an_empty_window_is_one_helpful_sentence(
    bot: HotpapersBot, fake: FakeDiscord
) -> None:
    result = await fake.send_interaction("trending", {"category": "math.AG"})
    assert result.content == (
        "No paper in math.AG gained attention between 2026-11-21 and 2026-11-27;"
        " try another category, or none."
    )
    assert result.embeds == []


async def test_a_wrong_category_is_one_sentence(bot: HotpapersBot, fake: FakeDiscord) -> None:
    result = await fake.send_interaction("trending", {"category": "cs.LGG"})
    assert result.ephemeral
    assert "did you mean `cs.LG`" in result.content
