"""Subscriptions decide what is collected: a channel subscribed to a category that no
configured collection covers gets its papers, through `hotpapers collect` (no argument) and
the scheduler's collect job alike, up to `arxiv.max_subscribed_categories` more categories.

The real parts: the fake arXiv, the collect use-case, the database, and delivery through the
real discord.py client to the fake Discord.
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine
from sqlmodel import Session
from typer.testing import CliRunner

from bot.courier import DiscordCourier
from hotpapers.arxiv import calendar
from hotpapers.arxiv.subscribed import collected_categories
from hotpapers.cli.app import app
from hotpapers.config import ARXIV_HOLIDAYS, ArxivSettings, DatabaseSettings, Settings
from hotpapers.delivery import deliver, plan
from hotpapers.delivery import subscriptions as core
from hotpapers.errors import InputError
from hotpapers.fakes.arxiv import FakeArxiv, FakePaper
from hotpapers.fakes.discord import FakeDiscord
from hotpapers.service.jobs import ServiceJobs
from hotpapers.storage import migrate
from hotpapers.storage.db import make_engine, transaction
from hotpapers.storage.models import SocialPost
from hotpapers.storage.records import PaperRecord
from tests.bot.discord_support import bot_settings, running_bot, running_fake

# `hotpapers collect` without --date collects the newest listing by the real clock.
NOW = datetime.now(UTC)
DAY = calendar.current_listing_date(NOW, ARXIV_HOLIDAYS)
CHANNEL = "channel:3000"


def _id(serial: int) -> str:
    return f"{DAY:%y%m}.{serial:05d}"


def _paper(serial: int, title: str, categories: tuple[str, ...]) -> FakePaper:
    start, _ = calendar.submission_window(DAY, ARXIV_HOLIDAYS)
    record = PaperRecord(
        arxiv_id=_id(serial),
        version=1,
        title=title,
        abstract=f"We study {title.lower()}.",
        authors=("Ada Lovelace",),
        categories=categories,
        primary_category=categories[0],
        submitted=start + timedelta(hours=serial),
        announce_type="new",
    )
    return FakePaper(record, DAY)


def _papers() -> list[FakePaper]:
    return [
        _paper(1, "Neurons that fire together", ("q-bio.NC",)),
        _paper(2, "Learning rules of the cortex", ("cs.LG", "q-bio.NC")),  # cross-listed
        _paper(3, "Yet another optimizer", ("cs.LG",)),
        _paper(4, "Reading genomes", ("q-bio.GN",)),  # nobody asked for it
    ]


LIKES = [300, 500, 400]  # of the collected ones


@pytest.fixture(autouse=True)
def _newest_listing_when_the_test_starts(monkeypatch: pytest.MonkeyPatch) -> None:
    """NOW and DAY as the test starts, not as the module was imported: a suite running past
    arXiv's announcement time (20:00 New York) would otherwise expect yesterday's listing."""
    now = datetime.now(UTC)
    monkeypatch.setattr(sys.modules[__name__], "NOW", now)
    monkeypatch.setattr(
        sys.modules[__name__], "DAY", calendar.current_listing_date(now, ARXIV_HOLIDAYS)
    )


@pytest.fixture
async def arxiv() -> AsyncIterator[FakeArxiv]:
    server = FakeArxiv(_papers(), feed_date=DAY)
    await server.start()
    yield server
    await server.close()


@pytest.fixture
def migrated(db_url: str) -> Iterator[Engine]:
    """A database made as the CLI makes it (migrations), on SQLite and PostgreSQL."""
    migrate.upgrade(db_url)
    engine = make_engine(db_url)
    yield engine
    engine.dispose()


def arxiv_options(arxiv: FakeArxiv) -> dict[str, object]:
    return {
        "categories": ["cs.LG"],
        "rss_url": arxiv.rss_url,
        "api_url": arxiv.api_url,
        "oai_url": arxiv.oai_url,
        "request_interval": 0.01,
        "max_retries": 1,
        "backfill_source": "oai",
        "batch_size": 2,  # so that the one paper q-bio.NC adds costs one more request
        "max_subscribed_categories": 1,
    }


def collect_settings(arxiv: FakeArxiv, engine: Engine) -> Settings:
    return Settings.model_construct(
        database=DatabaseSettings(url=engine.url.render_as_string(hide_password=False)),
        arxiv=ArxivSettings(**arxiv_options(arxiv)),  # type: ignore[arg-type]
    )


def subscribe(engine: Engine, arxiv: ArxivSettings, value: str, channel: int = 3000) -> int:
    found = core.subscribe(
        engine,
        target=core.channel_target(channel),
        guild_id=2000,
        channel_id=channel,
        user_id=7,
        kind="category",
        value=value,
        arxiv=arxiv,
    )
    assert found.id is not None
    return found.id


def run_cli(arxiv: FakeArxiv, engine: Engine, monkeypatch: pytest.MonkeyPatch, *args: str) -> str:
    monkeypatch.setenv("HOTPAPERS_DATABASE__URL", engine.url.render_as_string(False))
    for key, value in arxiv_options(arxiv).items():
        text = '["cs.LG"]' if key == "categories" else str(value)
        monkeypatch.setenv(f"HOTPAPERS_ARXIV__{key.upper()}", text)
    result = CliRunner().invoke(app, list(args))
    assert result.exit_code == 0, result.output
    return result.output


def add_attention(engine: Engine) -> None:
    """Enough likes on X for every paper to be hot (ranks follow LIKES)."""
    with transaction(engine) as session:
        for fake_paper, likes in zip(_papers()[:3], LIKES, strict=True):
            paper_id = fake_paper.record.arxiv_id
            session.add(
                SocialPost(source="x", post_id=f"p-{paper_id}", paper_id=paper_id, likes=likes)
            )


@pytest.mark.parametrize("path", ["cli", "scheduler"])
async def test_a_channel_subscribed_to_an_uncollected_category_gets_its_papers(
    arxiv: FakeArxiv,
    migrated: Engine,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    path: str,
) -> None:
    settings = collect_settings(arxiv, migrated)
    subscribe(migrated, settings.arxiv, "q-bio.NC")
    monkeypatch.chdir(tmp_path)
    if path == "cli":
        output = await asyncio.to_thread(run_cli, arxiv, migrated, monkeypatch, "collect")
        assert f"{DAY}: 3 papers from the feed" in output
    else:
        jobs = ServiceJobs(settings, migrated, "test")
        try:
            assert await jobs.collect(DAY, now=NOW)
        finally:
            await jobs.aclose()
    [feed] = [r for r in arxiv.requests if r.path.startswith("/rss/")]
    assert feed.path == "/rss/cs.LG+q-bio.NC"  # one feed request for both
    add_attention(migrated)

    async with running_fake(FakeDiscord()) as discord_fake:
        async with running_bot(discord_fake, migrated, bot_settings(discord_fake)) as bot:
            with Session(migrated) as session:
                plans = plan(session, bot.settings, DAY, NOW + timedelta(hours=1))
            report = await deliver(migrated, DiscordCourier(bot), plans, DAY, NOW)
        assert [t.outcome for t in report.targets] == ["ok"]
        thread = discord_fake.thread_of(3000)
        # Its primary paper and the cs.LG paper cross-listed to it, hottest first.
        assert discord_fake.papers_in(thread["id"]) == [_id(2), _id(1)]


def test_a_category_beyond_the_maximum_is_refused_in_one_sentence(engine: Engine) -> None:
    arxiv = ArxivSettings(categories=["cs.LG"], max_subscribed_categories=1)
    subscribe(engine, arxiv, "cs.LG")  # configured: free
    subscribe(engine, arxiv, "q-bio.NC")  # the one extra allowed
    subscribe(engine, arxiv, "q-bio.NC", channel=3001)  # already collected: free
    with pytest.raises(InputError) as refused:
        subscribe(engine, arxiv, "q-bio.GN", channel=3001)
    sentence = str(refused.value)
    assert sentence == (
        "This bot already collects the most extra categories it may (1) for other "
        "subscriptions, so it cannot follow q-bio.GN; choose one it collects (cs.LG, "
        "q-bio.NC) or ask its operator to raise arxiv.max_subscribed_categories."
    )
    assert collected_categories(arxiv, engine) == ["cs.LG", "q-bio.NC"]
    assert [s.value for s in core.list_subscriptions(engine, guild_id=2000)] == [
        "cs.LG",
        "q-bio.NC",
        "q-bio.NC",
    ]
    with pytest.raises(InputError, match=r"did you mean 'q-bio\.NC'"):
        subscribe(engine, arxiv, "q-bio.NX", channel=3001)


def test_paused_subscriptions_add_nothing_to_collect(engine: Engine) -> None:
    arxiv = ArxivSettings(categories=["cs.LG"], max_subscribed_categories=1)
    first = subscribe(engine, arxiv, "q-bio.NC")
    core.pause(engine, first, "the bot lost permission")
    subscribe(engine, arxiv, "q-bio.GN")  # the paused one does not hold the only place
    assert collected_categories(arxiv, engine) == ["cs.LG", "q-bio.GN"]


async def test_status_shows_the_extra_categories_and_their_cost(
    arxiv: FakeArxiv, migrated: Engine, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.chdir(tmp_path)
    settings = collect_settings(arxiv, migrated)
    before = await asyncio.to_thread(run_cli, arxiv, migrated, monkeypatch, "status")
    assert "No subscription needs another category (up to 1 may be added)." in before
    subscribe(migrated, settings.arxiv, "q-bio.NC")
    subscribe(migrated, settings.arxiv, "q-bio.NC", channel=3001)
    pending = await asyncio.to_thread(run_cli, arxiv, migrated, monkeypatch, "status")
    assert (
        "q-bio.NC: 2 subscriptions; not collected yet, and for past days one more OAI-PMH set "
        "(q-bio)." in pending
    )
    await asyncio.to_thread(run_cli, arxiv, migrated, monkeypatch, "collect")
    after = await asyncio.to_thread(run_cli, arxiv, migrated, monkeypatch, "status")
    assert after.splitlines() == [
        "Collecting 1 configured category: cs.LG.",
        "And 1 more that subscriptions need (at most 1), each making every collection longer:",
        "  q-bio.NC: 2 subscriptions; 2 papers in its last listing (1 in no other collected "
        "category), about 1 more API request a day, and for past days one more OAI-PMH set "
        "(q-bio).",
    ]
