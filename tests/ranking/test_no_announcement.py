"""A day without an arXiv announcement makes nothing on any path - no post, no Discord thread,
no X post, no invented listing - and the CLI says so in one sentence; dates no listing can
have (before arXiv began, in the future) are refused with one sentence and exit code 2."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from pydantic import SecretStr
from sqlalchemy import Engine, func, select
from sqlmodel import Session
from typer.testing import CliRunner

from hotpapers.arxiv import calendar
from hotpapers.cli.app import app, mount_subcommands
from hotpapers.config import ArxivSettings, DatabaseSettings, Settings
from hotpapers.delivery._schedule import open_listings
from hotpapers.fakes.arxiv import FakeArxiv, generate_papers
from hotpapers.fakes.x import FakeX
from hotpapers.publish.x import publish_daily
from hotpapers.service import schedule
from hotpapers.service import use_cases as jobs
from hotpapers.storage.db import transaction
from hotpapers.storage.models import Announcement, SocialPost
from hotpapers.storage.records import PaperRecord
from hotpapers.storage.store import record_announcements, upsert_papers

HOLIDAYS = Settings().arxiv.holidays
THANKSGIVING = date(2025, 11, 27)  # on arXiv's published 2025 list
NO_LISTING = date(2025, 11, 28)  # so no listing is dated the Friday after
MONDAY = date(2025, 12, 1)
CATS = ["cs.LG", "cs.CV"]
TODAY = datetime.now(UTC).date()
DEAD = "http://127.0.0.1:9"  # nothing listens there


def lines(output: str) -> list[str]:
    return [line for line in output.splitlines() if line.strip()]


@pytest.fixture
def runner(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    for key in list(os.environ):
        if key.startswith("HOTPAPERS_"):
            monkeypatch.delenv(key)
    # arXiv at a closed local port: a command that should not contact it cannot reach it.
    for name in ("API_URL", "RSS_URL", "OAI_URL"):
        monkeypatch.setenv(f"HOTPAPERS_ARXIV__{name}", f"{DEAD}/{name[:3].lower()}")
    monkeypatch.setenv("HOTPAPERS_ARXIV__REQUEST_INTERVAL", "0.01")
    monkeypatch.setenv("HOTPAPERS_ARXIV__MAX_RETRIES", "0")
    monkeypatch.chdir(tmp_path)
    mount_subcommands(app)
    return CliRunner()


# --- the CLI: dates no listing can have ---------------------------------------------------


@pytest.mark.parametrize("text", ["1900-01-01", "0001-01-01", "1991-08-13"])
@pytest.mark.parametrize("command", ["digest", "rank", "collect"])
def test_a_date_before_arxiv_exits_2_with_one_sentence(
    runner: CliRunner, tmp_path: Path, command: str, text: str
) -> None:
    """Before 14 August 1991 there is no listing: one sentence, exit 2, nothing written."""
    result = runner.invoke(app, [command, "--date", text])
    assert result.exit_code == 2, result.output
    assert lines(result.output) == [
        f"error: {text} is before arXiv's first announcement (1991-08-14)"
    ]
    assert not (tmp_path / "posts").exists()


@pytest.mark.parametrize("dates", [["1900-01-01", "1900-02-01"], ["0001-01-01", "0001-01-02"]])
def test_backfill_before_arxiv_exits_2(runner: CliRunner, dates: list[str]) -> None:
    result = runner.invoke(app, ["backfill", "--from", dates[0], "--to", dates[1]])
    assert result.exit_code == 2, result.output
    assert lines(result.output) == [
        f"error: --from {dates[0]} is before arXiv's first announcement (1991-08-14)"
    ]


def test_backfill_from_the_future_exits_2(runner: CliRunner) -> None:
    start = TODAY + timedelta(days=30)
    result = runner.invoke(app, ["backfill", "--from", str(start), "--to", str(start)])
    assert result.exit_code == 2, result.output
    [line] = lines(result.output)
    assert f"--from {start} is after the newest arXiv listing" in line


def _future_saturday() -> date:
    return TODAY + timedelta(days=(5 - TODAY.weekday()) % 7 + 7)


def test_a_future_saturday_says_there_is_no_listing(runner: CliRunner, tmp_path: Path) -> None:
    """Not "will be announced on Friday": a Saturday never has a listing."""
    saturday = _future_saturday()
    result = runner.invoke(app, ["digest", "--date", str(saturday)])
    assert result.exit_code == 2, result.output
    [line] = lines(result.output)
    assert f"arXiv has no listing dated Saturday {saturday}" in line
    assert "not announced yet" not in line and "announces it on" not in line
    assert not (tmp_path / "posts").exists()


def test_a_future_holiday_says_there_is_no_listing(runner: CliRunner) -> None:
    upcoming = [e for e in HOLIDAYS if e.weekday() < 4 and e > TODAY + timedelta(days=2)]
    if not upcoming:
        pytest.skip("no holiday evening left in the table after today")
    skipped = upcoming[0] + timedelta(days=1)
    result = runner.invoke(app, ["digest", "--date", str(skipped)])
    assert result.exit_code == 2, result.output
    [line] = lines(result.output)
    assert f"arXiv has no listing dated {skipped:%A} {skipped}" in line and "holiday" in line


def test_the_far_future_is_one_sentence(runner: CliRunner) -> None:
    result = runner.invoke(app, ["digest", "--date", "9999-12-31"])
    assert result.exit_code == 2, result.output
    assert lines(result.output) == ["error: 9999-12-31 is not a date arXiv can have announced yet"]


# --- the CLI: past days without an announcement -------------------------------------------


@pytest.mark.parametrize(
    ("day", "why"),
    [(NO_LISTING, "(an arXiv holiday)"), (date(2021, 3, 13), "(arXiv never announces")],
)
def test_digest_of_a_day_without_announcement_writes_nothing(
    runner: CliRunner, tmp_path: Path, day: date, why: str
) -> None:
    """One sentence, exit 0, and no post file."""
    result = runner.invoke(app, ["digest", "--date", str(day)])
    assert result.exit_code == 0, result.output
    [line] = lines(result.output)
    assert line.startswith(f"arXiv has no listing dated {day:%A} {day}") and why in line
    assert line.endswith("nothing to post.")
    posts = tmp_path / "posts"
    assert not posts.exists() or list(posts.iterdir()) == []


def test_rank_of_a_day_without_announcement(runner: CliRunner) -> None:
    result = runner.invoke(app, ["rank", "--date", str(NO_LISTING)])
    assert result.exit_code == 0, result.output
    [line] = lines(result.output)
    assert "no listing dated Friday 2025-11-28" in line and line.endswith("nothing to rank.")


def test_rank_json_of_a_day_without_announcement_stays_json(runner: CliRunner) -> None:
    result = runner.invoke(app, ["rank", "--json", "--date", str(NO_LISTING)])
    assert result.exit_code == 0, result.output
    assert result.stdout.strip() == "[]"
    assert "no listing dated Friday 2025-11-28" in result.stderr


def test_collect_of_a_holiday_contacts_nobody(runner: CliRunner) -> None:
    """The arXiv URLs point at a closed local port: collect must not even try them."""
    result = runner.invoke(app, ["collect", "--date", str(NO_LISTING)])
    assert result.exit_code == 0, result.output
    assert lines(result.output) == [
        "2025-11-28: arXiv made no announcement for this date; nothing changed."
    ]


def test_publish_x_of_a_holiday_posts_nothing(runner: CliRunner) -> None:
    result = runner.invoke(app, ["publish", "x", "--date", str(NO_LISTING)])
    assert result.exit_code == 0, result.output
    assert lines(result.output) == [
        "nothing to post on X for 2025-11-28: arXiv made no announcement for that date"
    ]


# --- collect: no invented listing ---------------------------------------------------------


@pytest.fixture
async def arxiv() -> AsyncIterator[FakeArxiv]:
    server = FakeArxiv(generate_papers(MONDAY, CATS, 12, seed=5), feed_date=MONDAY)
    await server.start()
    yield server
    await server.close()


async def test_collect_never_invents_the_listing_after_thanksgiving(
    arxiv: FakeArxiv, engine: Engine
) -> None:
    """Papers submitted before the holiday exist, but arXiv announced them on Monday: the
    Friday has no listing, nothing is stored under it and arXiv is not asked."""
    settings = Settings.model_construct(
        database=DatabaseSettings(url=engine.url.render_as_string(hide_password=False)),
        arxiv=ArxivSettings(
            categories=CATS, rss_url=arxiv.rss_url, api_url=arxiv.api_url,
            oai_url=arxiv.oai_url, request_interval=0.01,
        ),
    )  # fmt: skip
    now = calendar.announced_at(MONDAY) + timedelta(hours=30)
    report = await jobs.collect(settings, engine, NO_LISTING, now=now)
    assert report.status == "no-announcement"
    assert arxiv.requests == []
    with Session(engine) as session:
        stored = select(func.count()).where(Announcement.listing_date == NO_LISTING)  # type: ignore[arg-type]
        assert session.execute(stored).scalar_one() == 0


# --- the service's scheduler and the Discord schedule -------------------------------------


def test_the_scheduler_collects_monday_after_thanksgiving() -> None:
    """After Wednesday's announcement the next collect is Sunday 20:00 ET (Monday's)."""
    after = calendar.announced_at(THANKSGIVING) + timedelta(minutes=10)
    day, when = schedule.next_collect(after, HOLIDAYS)
    assert day == MONDAY
    assert when == datetime(2025, 12, 1, 1, 0, tzinfo=UTC)  # 20:00 EST on Sunday


@pytest.mark.parametrize("hour", [9, 15, 23])
def test_the_daily_post_on_the_friday_after_is_thursdays(hour: int) -> None:
    """On Friday the newest publication is still Thursday's, which went out on Thursday:
    the ledger then has nothing due, so no Markdown post and no X post is made."""
    now = datetime(2025, 11, 28, hour, tzinfo=UTC)
    assert schedule.publication_day(now, "09:00", "UTC", HOLIDAYS) == THANKSGIVING
    assert schedule.due_publication(now, "09:00", "UTC", {THANKSGIVING}, HOLIDAYS) is None


def test_no_discord_listing_is_open_the_day_after_thanksgiving() -> None:
    """The bot's scheduler delivers only open listings; on that Friday, none is new."""
    assert open_listings(datetime(2025, 11, 28, 12, tzinfo=UTC), HOLIDAYS) == []
    assert open_listings(datetime(2025, 12, 1, 12, tzinfo=UTC), HOLIDAYS) == [MONDAY]


# --- X and Discord: stored papers under a day arXiv never announced -----------------------


def _paper(arxiv_id: str) -> PaperRecord:
    return PaperRecord(
        arxiv_id=arxiv_id, version=1, title=f"Paper {arxiv_id}", abstract="We study it.",
        authors=("Ada Lovelace",), categories=("cs.LG",), primary_category="cs.LG",
        submitted=datetime(2026, 11, 25, tzinfo=UTC),
    )  # fmt: skip


def seed_invented_day(engine: Engine, day: date) -> None:
    """Papers stored under `day` with plenty of likes, as a buggy collect would leave them."""
    records = [_paper("2611.00901"), _paper("2611.00902")]
    with transaction(engine) as session:
        upsert_papers(session, records)
        record_announcements(session, day, records, CATS)
        for item in records:
            session.add(
                SocialPost(
                    source="x", post_id=f"p{item.arxiv_id}", paper_id=item.arxiv_id,
                    author_id=f"fan-{item.arxiv_id}", likes=500, reposts=0,
                    created_at=datetime(2026, 11, 28, tzinfo=UTC),
                    taken_at=datetime(2026, 11, 29, tzinfo=UTC),
                )
            )  # fmt: skip


async def test_x_posts_nothing_for_a_day_without_announcement(engine: Engine) -> None:
    """Even with ranked papers stored under the Friday after Thanksgiving, X gets nothing."""
    friday = date(2026, 11, 27)
    seed_invented_day(engine, friday)
    now = datetime(2026, 11, 30, 12, tzinfo=UTC)
    secrets: dict[str, Any] = {
        name: SecretStr("x") for name in ("api_key", "api_secret", "access_token")
    }
    async with FakeX(now=now, consumer_key="x", access_token="x") as fake:
        settings = Settings(
            arxiv={"categories": CATS},  # type: ignore[arg-type]
            publish={  # type: ignore[arg-type]
                "x": {"enabled": True, "dry_run": False, "api_url": fake.api_url,
                      "access_token_secret": SecretStr("x"), **secrets}
            },
        )  # fmt: skip
        report = await publish_daily(settings, engine, friday, now=now)
        assert report.status == "no-announcement"
        assert fake.created == [] and fake.requests == 0


async def test_discord_opens_no_thread_for_a_day_without_announcement(engine: Engine) -> None:
    """`bot deliver --date` the Friday after Thanksgiving: with papers stored under it and a
    subscribed channel, the real client against the fake Discord posts nothing."""
    from bot.runner import deliver_day
    from hotpapers.fakes.discord import FakeDiscord
    from tests.bot.discord_support import bot_settings, running_fake
    from tests.delivery.test_delivery import subscribe

    friday = date(2026, 11, 27)
    seed_invented_day(engine, friday)
    subscribe(engine, "channel:3000", "category", "cs.LG")
    async with running_fake(FakeDiscord(channels={3000: "papers"})) as fake:
        settings = bot_settings(fake)
        settings.arxiv.categories = CATS
        report = await deliver_day(
            settings, engine, friday, now=datetime(2026, 11, 30, 12, tzinfo=UTC)
        )
        assert report.targets == []
        assert len(fake.threads) == 0
        assert fake.in_channel(3000) == []


@pytest.mark.parametrize(
    ("day", "expected"),
    [
        ("2026-11-27", "arXiv has no listing dated Friday 2026-11-27"),
        ("1900-01-01", "1900-01-01 is before arXiv's first announcement (1991-08-14)"),
        ("0001-01-01", "0001-01-01 is before arXiv's first announcement (1991-08-14)"),
    ],
)
async def test_slash_hot_on_a_date_without_listing_is_one_sentence(
    engine: Engine, day: str, expected: str
) -> None:
    """`/hot date:` on a day arXiv never announced: one ephemeral sentence, no ranking."""
    from hotpapers.fakes.discord import FakeDiscord
    from tests.bot.discord_support import running_bot, running_fake

    seed_invented_day(engine, date(2026, 11, 27))
    now = datetime(2026, 11, 30, 12, tzinfo=UTC)
    async with (
        running_fake(FakeDiscord()) as fake,
        running_bot(fake, engine, clock=lambda: now),
    ):
        result = await fake.send_interaction("hot", {"date": day})
        assert result.ephemeral and expected in result.content, result.content
        assert result.embeds == []
