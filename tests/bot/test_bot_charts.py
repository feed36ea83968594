"""/paper shows the attention chart: the real discord.py client against the fake Discord."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import Engine

from bot.client import HotpapersBot
from hotpapers.fakes.discord import FakeDiscord
from hotpapers.render.charts import attention_chart_png
from hotpapers.storage.db import transaction
from hotpapers.storage.models import SignalSnapshot
from hotpapers.storage.records import PaperRecord
from hotpapers.storage.store import record_announcements, upsert_papers
from tests.bot.discord_support import running_bot, running_fake

LISTING = date(2026, 11, 20)
NOW = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)
MEASURED, UNMEASURED = "2611.00001", "2611.00002"
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def _record(arxiv_id: str) -> PaperRecord:
    return PaperRecord(
        arxiv_id=arxiv_id,
        version=1,
        title=f"Paper {arxiv_id} with $math$ and under_scores",
        abstract="We study charts.",
        authors=("Ada Lovelace",),
        categories=("cs.LG",),
        primary_category="cs.LG",
        submitted=datetime(2026, 11, 19, tzinfo=UTC),
    )


@pytest.fixture
def papers(engine: Engine) -> Engine:
    """Two listed papers; only the first was measured (X and Hacker News, over a day)."""
    records = [_record(MEASURED), _record(UNMEASURED)]
    with transaction(engine) as session:
        upsert_papers(session, records)
        record_announcements(session, LISTING, records, ["cs.LG"])
        for hour in range(0, 24, 4):
            when = datetime(2026, 11, 21, tzinfo=UTC) + timedelta(hours=hour)
            x = {"likes": 20.0 * hour, "retweets": 5.0 * hour, "posts": 3.0}
            session.add(SignalSnapshot(paper_id=MEASURED, source="x", taken_at=when, metrics=x))
            hn = {"points": 7.0 * hour, "comments": 2.0}
            session.add(SignalSnapshot(paper_id=MEASURED, source="hn", taken_at=when, metrics=hn))
    return engine


@pytest.fixture
async def fake() -> AsyncIterator[FakeDiscord]:
    async with running_fake(FakeDiscord()) as running:
        yield running


@pytest.fixture
async def bot(fake: FakeDiscord, papers: Engine) -> AsyncIterator[HotpapersBot]:
    async with running_bot(fake, papers, clock=lambda: NOW) as client:
        yield client


def _uploads(fake: FakeDiscord, message: dict[str, Any]) -> list[bytes]:
    return [fake.files[attachment["id"]] for attachment in message["attachments"]]


async def test_paper_attaches_the_attention_chart(
    bot: HotpapersBot, fake: FakeDiscord, papers: Engine
) -> None:
    result = await fake.send_interaction("paper", {"id": MEASURED})

    assert not result.ephemeral
    [embed] = result.embeds
    assert embed["title"].startswith(f"Paper {MEASURED}")
    assert embed["image"]["url"] == "attachment://attention.png"
    [attachment] = result.message["attachments"]
    assert attachment["filename"] == "attention.png"
    assert attachment["content_type"] == "image/png"
    [png] = _uploads(fake, result.message)
    assert png.startswith(PNG_SIGNATURE) and attachment["size"] == len(png) < 100_000
    # The very picture the chart module draws from these snapshots.
    assert png == attention_chart_png(papers, MEASURED)


async def test_paper_without_snapshots_has_no_chart(bot: HotpapersBot, fake: FakeDiscord) -> None:
    result = await fake.send_interaction("paper", {"id": UNMEASURED})

    [embed] = result.embeds
    assert embed["title"].startswith(f"Paper {UNMEASURED}")
    assert "image" not in embed
    assert result.message["attachments"] == []
    assert fake.files == {}
