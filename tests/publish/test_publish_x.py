"""The daily X summary against FakeX: real tweepy over HTTP on 127.0.0.1, real SQLite/PostgreSQL."""

from __future__ import annotations

import asyncio
import json
import logging
import os
import re
import threading
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from pydantic import SecretStr
from sqlalchemy import Engine
from sqlmodel import Session, select
from typer.testing import CliRunner

from hotpapers.config import Settings
from hotpapers.errors import ConfigError, PublishError
from hotpapers.fakes.x import FakeX, fake_weighted_length
from hotpapers.publish.x import SPEND_SERVICE, publish_daily
from hotpapers.publish.x_text import (
    WORD_JOINER,
    SummaryItem,
    compose,
    inert,
    truncate,
    weighted_length,
)
from hotpapers.storage.db import make_engine, transaction
from hotpapers.storage.models import Publication, SocialPost, Spend
from hotpapers.storage.records import PaperRecord
from hotpapers.storage.spend import spent, to_usd
from hotpapers.storage.store import record_announcements, upsert_papers

DAY = date(2026, 11, 20)  # a Friday listing
EMPTY_DAY = date(2026, 11, 19)
NOW = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)
CATEGORIES = ["cs.LG", "cs.CV"]
BASE_URL = "https://papers.example.org/hot/"
DAY_PAGE = "https://papers.example.org/hot/2026-11-20/"
KEY, TOKEN = "consumer-key-123", "access-token-456"
SECRETS = {
    "api_key": KEY,
    "api_secret": "consumer-secret-789",
    "access_token": TOKEN,
    "access_token_secret": "token-secret-000",
}
HOSTILE_TITLE = (
    "@elonmusk @\uff20jack #AI \u202eRTL override\u202c \u05e9\u05dc\u05d5\u05dd \U0001f916"
    "\U0001f468\u200d\U0001f469\u200d\U0001f467 see evil.com or https://evil.example/x "
) + "x" * 6000
MENTION_RE = re.compile(r"[@\uff20#\uff03]\w")
BIDI_RE = re.compile("[\u202a-\u202e\u2066-\u2069]")
# (id, title, likes): the score is likes + reposts (reposts 0 here).
PAPERS = [
    ("2611.00201", "Diffusion for robots", 120),
    ("2611.00202", "Vision transformers, again", 720),
    ("2611.00203", "Scaling laws for everything", 300),
]


def record(arxiv_id: str, title: str) -> PaperRecord:
    return PaperRecord(
        arxiv_id=arxiv_id,
        version=1,
        title=title,
        abstract=f"We study {title.lower()}.",
        authors=("Ada Lovelace", "@alan_turing", "Grace Hopper", "Edsger Dijkstra"),
        categories=("cs.LG",),
        primary_category="cs.LG",
        submitted=datetime(2026, 11, 18, tzinfo=UTC),
    )


def seed(engine: Engine, papers: list[tuple[str, str, int]] = PAPERS, day: date = DAY) -> None:
    """One ranked listing: the papers, their announcement, one X post each with its likes."""
    with transaction(engine) as session:
        records = [record(arxiv_id, title) for arxiv_id, title, _ in papers]
        upsert_papers(session, records)
        record_announcements(session, day, records, CATEGORIES)
        for arxiv_id, _, likes in papers:
            session.add(
                SocialPost(
                    source="x", post_id=f"p{arxiv_id}", paper_id=arxiv_id,
                    author_id=f"fan-{arxiv_id}", author_handle="fan", text="read this",
                    url=f"https://x.com/fan/status/{arxiv_id[-3:]}", likes=likes, reposts=0,
                    created_at=datetime(2026, 11, 21, tzinfo=UTC),
                    taken_at=datetime(2026, 11, 22, tzinfo=UTC),
                )
            )  # fmt: skip


def make_settings(fake: FakeX, **x: Any) -> Settings:
    values: dict[str, Any] = {
        "enabled": True,
        "api_url": fake.api_url,
        "dry_run": False,
        "daily_budget_usd": 5.0,
        "price_per_post_usd": 0.2,
        "top": 3,
        **{name: SecretStr(value) for name, value in SECRETS.items()},
        **x,
    }
    return Settings(
        arxiv={"categories": CATEGORIES},  # type: ignore[arg-type]
        site={"base_url": BASE_URL},  # type: ignore[arg-type]
        publish={"x": values},  # type: ignore[arg-type]
    )


@pytest.fixture
async def fake() -> AsyncIterator[FakeX]:
    async with FakeX(now=NOW, consumer_key=KEY, access_token=TOKEN) as server:
        yield server


@pytest.fixture
def seeded(engine: Engine) -> Engine:
    seed(engine)
    return engine


def publication(engine: Engine, day: date = DAY) -> Publication | None:
    with Session(engine) as session:
        query = select(Publication).where(Publication.kind == "x", Publication.listing_date == day)
        return session.exec(query).first()


def spend(engine: Engine) -> tuple[float, int]:
    """The day's X post spend in US dollars, and the posts it counts."""
    with Session(engine) as session:
        micros, units = spent(session, SPEND_SERVICE, NOW.date())
    return to_usd(micros), units


def detail(row: Publication | None) -> dict[str, Any]:
    assert row is not None and row.detail is not None
    result: dict[str, Any] = json.loads(row.detail)
    return result


# --- posting once ---------------------------------------------------------------------------


async def test_posts_the_summary_once(fake: FakeX, seeded: Engine, db_url: str) -> None:
    """One post with titles, scores and the day's link; the ledger and spend record it."""
    report = await publish_daily(make_settings(fake), seeded, DAY, now=NOW)
    assert report.status == "posted"
    assert [post.text for post in fake.created] == report.texts
    assert report.post_ids == [fake.created[0].id]
    text = report.texts[0]
    assert text.count("http") == 1 and text.endswith(DAY_PAGE)
    assert text.index("Vision transformers, again (720)") < text.index("Diffusion for robots (120)")
    row = publication(seeded)
    assert row is not None and row.state == "sent" and row.external_id == fake.created[0].id
    assert detail(row)["post_ids"] == report.post_ids
    assert spend(seeded) == (0.2, 1)
    assert "posted the X summary for 2026-11-20: 1 post ($0.20)" in report.sentence()


async def test_second_call_and_restart_post_nothing(
    fake: FakeX, seeded: Engine, db_url: str
) -> None:
    """Once "sent", another call - or a new process on the same database - never calls X."""
    settings = make_settings(fake)
    await publish_daily(settings, seeded, DAY, now=NOW)
    requests = fake.requests
    again = await publish_daily(settings, seeded, DAY, now=NOW + timedelta(hours=1))
    restarted = make_engine(db_url)
    try:
        after_restart = await publish_daily(settings, restarted, DAY, now=NOW + timedelta(days=1))
    finally:
        restarted.dispose()
    assert again.status == after_restart.status == "already-posted"
    assert after_restart.previous_ids == [fake.created[0].id]
    assert fake.requests == requests and len(fake.created) == 1
    assert spend(seeded) == (0.2, 1)


async def test_thread_posts_replies_chained(fake: FakeX, seeded: Engine) -> None:
    """thread = true: the summary, then one reply per paper, each replying to the one before."""
    report = await publish_daily(make_settings(fake, thread=True), seeded, DAY, now=NOW)
    assert report.status == "posted" and len(fake.created) == 4
    assert [post.text for post in fake.created] == report.texts
    assert fake.created[0].in_reply_to is None
    for before, reply in zip(fake.created, fake.created[1:], strict=False):
        assert reply.in_reply_to == before.id
    assert fake.created[1].text.startswith("1/3 · 2026-11-20\nVision transformers, again")
    assert all("http" not in post.text for post in fake.created[1:])
    assert spend(seeded) == (0.8, 4) and report.cost_usd == pytest.approx(0.8)
    assert detail(publication(seeded))["post_ids"] == [post.id for post in fake.created]


async def _crash_mid_reply(fake: FakeX, engine: Engine, settings: Settings, *, lose: bool) -> str:
    """Run until the first reply is in flight, then kill the run; the summary's id."""
    fake.hold_next(after=1, lose=lose)  # the summary goes through, the first reply hangs
    run = asyncio.create_task(publish_daily(settings, engine, DAY, now=NOW))
    await fake.held.wait()
    run.cancel()  # the process dies with the reply in flight
    with pytest.raises(asyncio.CancelledError):
        await run
    fake.release()
    await asyncio.sleep(0)  # let the fake finish the held request
    row = publication(engine)
    assert row is not None and row.state == "claimed"
    head = fake.created[0]
    assert detail(row)["post_ids"] == [head.id] and row.external_id == head.id
    return head.id


@pytest.mark.parametrize("lose", [True, False], ids=["reply-lost", "answer-lost"])
async def test_crash_mid_thread_resumes_without_repeating_a_post(
    fake: FakeX, seeded: Engine, lose: bool
) -> None:
    """A run killed with a reply in flight leaves its claim; after the lease a later run
    resumes after the summary. If X had made the reply (only the answer was lost), X's
    duplicate refusal sends the run to the account's posts to adopt it: no post twice."""
    settings = make_settings(fake, thread=True)
    head_id = await _crash_mid_reply(fake, seeded, settings, lose=lose)
    busy = await publish_daily(settings, seeded, DAY, now=NOW + timedelta(seconds=30))
    assert busy.status == "already-posted" and "another run" in busy.sentence()
    later = NOW + timedelta(seconds=settings.cluster.task_lease_seconds + 60)
    resumed = await publish_daily(settings, seeded, DAY, now=later)
    assert resumed.status == "posted" and resumed.previous_ids == [head_id]
    texts = [post.text for post in fake.created]
    assert len(texts) == len(set(texts)) == 4
    chain = [post.in_reply_to for post in fake.created]
    assert chain == [None, *(post.id for post in fake.created[:3])]
    assert resumed.post_ids == [post.id for post in fake.created[1:]]
    assert spend(seeded) == (0.8, 4)
    row = publication(seeded)
    assert row is not None and row.state == "sent"
    assert detail(row)["post_ids"] == [post.id for post in fake.created]


async def test_resumed_run_carries_on_with_the_dead_runs_reservation(
    fake: FakeX, seeded: Engine
) -> None:
    """The budget pays for exactly one thread: the run that resumes a dead one's thread the
    same day uses what the dead run reserved, instead of being refused for lack of budget."""
    settings = make_settings(fake, thread=True, daily_budget_usd=0.8)
    await _crash_mid_reply(fake, seeded, settings, lose=True)
    assert spend(seeded) == (0.8, 1)  # one post made, three still reserved
    later = NOW + timedelta(seconds=settings.cluster.task_lease_seconds + 60)
    resumed = await publish_daily(settings, seeded, DAY, now=later)
    assert resumed.status == "posted" and len(fake.created) == 4
    assert spend(seeded) == (0.8, 4)


async def test_two_runs_at_once_post_once(fake: FakeX, seeded: Engine) -> None:
    """Two runs started together (e.g. two processes): one posts, the other sees its claim."""
    settings = make_settings(fake, thread=True)
    first, second = await asyncio.gather(
        publish_daily(settings, seeded, DAY, now=NOW),
        publish_daily(settings, seeded, DAY, now=NOW),
    )
    assert sorted([first.status, second.status]) == ["already-posted", "posted"]
    assert len(fake.created) == 4 and spend(seeded) == (0.8, 4)


# --- money ------------------------------------------------------------------------------------


async def test_over_budget_posts_nothing(fake: FakeX, seeded: Engine) -> None:
    """A thread that would cost more than the day's budget is not started."""
    settings = make_settings(fake, thread=True, daily_budget_usd=0.5)
    report = await publish_daily(settings, seeded, DAY, now=NOW)
    assert report.status == "over-budget" and report.cost_usd == pytest.approx(0.8)
    assert "would exceed the daily X budget" in report.sentence()
    assert fake.requests == 0 and publication(seeded) is None and spend(seeded) == (0.0, 0)


async def test_two_summaries_at_once_share_the_daily_budget(fake: FakeX, seeded: Engine) -> None:
    """Two days' summaries posted at once (e.g. by two processes) on a budget that pays for
    one thread of 4 posts: one is posted, the other refused before it posts anything."""
    other_day = date(2026, 11, 18)
    seed(seeded, [("2611.00301", "Another day's paper", 50)], day=other_day)
    settings = make_settings(fake, thread=True, daily_budget_usd=1.0)
    first, second = await asyncio.gather(
        publish_daily(settings, seeded, DAY, now=NOW),
        publish_daily(settings, seeded, other_day, now=NOW),
    )
    assert first.status == "posted" and second.status == "over-budget"
    assert len(fake.created) == 4 and spend(seeded) == (0.8, 4)


async def test_earlier_spend_counts_against_the_budget(fake: FakeX, seeded: Engine) -> None:
    """What the day already spent on posts counts: $0.90 spent + $0.20 > $1.00."""
    with transaction(seeded) as session:
        session.add(Spend(service=SPEND_SERVICE, day=NOW.date(), amount_micros=900_000, units=4))
    report = await publish_daily(make_settings(fake, daily_budget_usd=1.0), seeded, DAY, now=NOW)
    assert report.status == "over-budget" and fake.requests == 0
    assert spend(seeded) == (0.9, 4)


# --- dry run ----------------------------------------------------------------------------------


@pytest.mark.parametrize("thread", [False, True], ids=["single", "thread"])
async def test_dry_run_records_nothing_and_shows_what_is_posted(
    fake: FakeX, seeded: Engine, thread: bool
) -> None:
    """A dry run contacts nobody and writes nothing; the real run then posts exactly its texts."""
    settings = make_settings(fake, thread=thread, dry_run=True)
    dry = await publish_daily(settings, seeded, DAY, now=NOW)
    assert dry.status == "dry-run" and dry.texts and dry.post_ids == []
    assert fake.requests == 0 and publication(seeded) is None and spend(seeded) == (0.0, 0)
    real = await publish_daily(settings, seeded, DAY, dry_run=False, now=NOW)
    assert [post.text for post in fake.created] == dry.texts == real.texts


async def test_nothing_to_post_and_disabled(fake: FakeX, seeded: Engine) -> None:
    """An empty listing posts nothing and claims nothing; enabled = false posts nothing."""
    empty = await publish_daily(make_settings(fake), seeded, EMPTY_DAY, now=NOW)
    assert empty.status == "nothing-to-post" and publication(seeded, EMPTY_DAY) is None
    off = await publish_daily(make_settings(fake, enabled=False), seeded, DAY, now=NOW)
    assert off.status == "disabled" and "enabled = false" in off.sentence()
    assert fake.requests == 0


async def test_missing_credentials_name_the_variables(fake: FakeX, seeded: Engine) -> None:
    """Without the OAuth keys a real run stops before X, naming the environment variables."""
    settings = make_settings(fake, access_token=None, access_token_secret=SecretStr(" "))
    with pytest.raises(ConfigError) as caught:
        await publish_daily(settings, seeded, DAY, now=NOW)
    message = str(caught.value)
    assert "HOTPAPERS_PUBLISH__X__ACCESS_TOKEN," in message
    assert "HOTPAPERS_PUBLISH__X__ACCESS_TOKEN_SECRET" in message
    assert "API_KEY" not in message
    assert fake.requests == 0 and publication(seeded) is None


# --- X refuses --------------------------------------------------------------------------------


async def _refused(
    fake: FakeX, engine: Engine, settings: Settings, caplog: pytest.LogCaptureFixture
) -> tuple[str, list[str]]:
    caplog.clear()
    with (
        caplog.at_level(logging.INFO, logger="hotpapers.publish.x"),
        pytest.raises(PublishError) as caught,
    ):
        await publish_daily(settings, engine, DAY, now=NOW)
    lines = [r.getMessage() for r in caplog.records if r.name == "hotpapers.publish.x"]
    return str(caught.value), lines


async def test_bad_credentials_fail_clearly(
    fake: FakeX, seeded: Engine, caplog: pytest.LogCaptureFixture
) -> None:
    """401: one sentence naming the settings, one log line, the ledger "failed", no spend."""
    settings = make_settings(fake, api_key=SecretStr("wrong-key"))
    sentence, lines = await _refused(fake, seeded, settings, caplog)
    assert sentence.startswith("X rejected the credentials (HTTP 401)")
    assert "HOTPAPERS_PUBLISH__X__API_KEY" in sentence and "\n" not in sentence
    assert len(lines) == 1 and "HTTP 401" in lines[0]
    row = publication(seeded)
    assert row is not None and row.state == "failed" and "HTTP 401" in detail(row)["error"]
    assert detail(row)["post_ids"] == [] and fake.created == [] and spend(seeded) == (0.0, 0)


async def test_rate_limit_fails_then_a_later_run_posts(
    fake: FakeX, seeded: Engine, caplog: pytest.LogCaptureFixture
) -> None:
    """429: the sentence gives the reset time; the failed row is retried by the next run."""
    settings = make_settings(fake)
    fake.fail_next(429)
    sentence, lines = await _refused(fake, seeded, settings, caplog)
    assert re.fullmatch(
        r"X rate limit reached \(HTTP 429\); it resets at \d\d:\d\d:\d\d UTC", sentence
    )
    assert len(lines) == 1 and "HTTP 429" in lines[0] and "rate limited until" in lines[0]
    assert publication(seeded).state == "failed" and fake.created == []  # type: ignore[union-attr]
    retry = await publish_daily(settings, seeded, DAY, now=NOW + timedelta(hours=1))
    assert retry.status == "posted" and len(fake.created) == 1
    assert publication(seeded).state == "sent" and spend(seeded) == (0.2, 1)  # type: ignore[union-attr]


async def test_duplicate_content_is_refused_not_posted_twice(
    fake: FakeX, seeded: Engine, caplog: pytest.LogCaptureFixture
) -> None:
    """403 duplicate (the ledger was lost, X still has the post): a clear failure and no
    second post; the next run finds the post on the account and records it."""
    settings = make_settings(fake)
    await publish_daily(settings, seeded, DAY, now=NOW)
    with transaction(seeded) as session:  # e.g. the database restored from an older backup
        session.delete(session.exec(select(Publication)).one())
        session.delete(session.exec(select(Spend)).one())
    sentence, lines = await _refused(fake, seeded, settings, caplog)
    assert sentence.startswith("X refused the post as duplicate content (HTTP 403)")
    assert len(lines) == 1 and "duplicate" in lines[0]
    assert publication(seeded).state == "failed" and len(fake.created) == 1  # type: ignore[union-attr]
    assert spend(seeded) == (0.0, 0)
    adopted = await publish_daily(settings, seeded, DAY, now=NOW)  # finds it on the account
    assert adopted.status == "posted" and adopted.post_ids == [fake.created[0].id]
    assert len(fake.created) == 1
    row = publication(seeded)
    assert row is not None and row.state == "sent" and row.external_id == fake.created[0].id


async def test_server_error_mid_thread_keeps_what_was_posted(
    fake: FakeX, seeded: Engine, caplog: pytest.LogCaptureFixture
) -> None:
    """503 on a reply: the posted ids and their cost stay recorded; the retry finishes."""
    settings = make_settings(fake, thread=True)
    fake.fail_next(503, after=2)
    sentence, _lines = await _refused(fake, seeded, settings, caplog)
    assert "HTTP 503" in sentence
    row = publication(seeded)
    assert row is not None and row.state == "failed"
    assert detail(row)["post_ids"] == [post.id for post in fake.created] and len(fake.created) == 2
    assert spend(seeded) == (0.4, 2)
    preview = await publish_daily(settings, seeded, DAY, dry_run=True, now=NOW)
    assert preview.status == "dry-run" and len(preview.texts) == 2
    retry = await publish_daily(settings, seeded, DAY, now=NOW)
    assert retry.status == "posted" and retry.texts == preview.texts and len(fake.created) == 4
    assert fake.created[2].in_reply_to == fake.created[1].id
    assert spend(seeded) == (0.8, 4)


async def test_unreachable_x_fails_clearly(
    seeded: Engine, caplog: pytest.LogCaptureFixture
) -> None:
    """Nothing listening at api_url: one sentence, the row "failed", nothing spent."""
    async with FakeX() as gone:
        settings = make_settings(gone)
    sentence, lines = await _refused(gone, seeded, settings, caplog)
    assert sentence.startswith("X could not be reached at 127.0.0.1:")
    assert "Error" not in sentence
    assert len(lines) == 1
    assert publication(seeded).state == "failed" and spend(seeded) == (0.0, 0)  # type: ignore[union-attr]


async def test_secrets_never_reach_the_log(
    fake: FakeX, seeded: Engine, caplog: pytest.LogCaptureFixture
) -> None:
    """Even at DEBUG, no credential appears in any log record (tweepy's included)."""
    with caplog.at_level(logging.DEBUG):
        await publish_daily(make_settings(fake, thread=True), seeded, DAY, now=NOW)
    logged = "\n".join(record.getMessage() for record in caplog.records)
    assert "posted the X summary" in logged
    assert not [value for value in SECRETS.values() if value in logged]


# --- hostile titles ---------------------------------------------------------------------------


async def test_hostile_titles_fit_and_ping_nobody(fake: FakeX, engine: Engine) -> None:
    """Mentions, hashtags, links, RTL overrides, emoji and 6,000 characters: every post fits
    280 weighted characters, mentions nobody, tags nothing and links only the day's page."""
    seed(engine, [("2611.00301", HOSTILE_TITLE, 500), ("2611.00302", "中文" * 200, 400)])
    report = await publish_daily(make_settings(fake, thread=True), engine, DAY, now=NOW)
    assert report.status == "posted" and len(fake.created) == 3  # X accepted every post
    for text in report.texts:
        assert weighted_length(text) <= 280 and fake_weighted_length(text) <= 280
        assert not MENTION_RE.search(text) and not BIDI_RE.search(text)
        assert "evil.com" not in text and "https://evil" not in text
    assert re.findall(r"https?://\S+", report.texts[0]) == [DAY_PAGE]
    assert "…" in report.texts[1] and "@" + WORD_JOINER + "elonmusk" in report.texts[1]


def test_weighted_length_follows_x() -> None:
    """Latin weighs 1, CJK and emoji 2, any shortened link 23, a link X keeps counts in full."""
    assert weighted_length("abc") == 3
    assert weighted_length("中文") == 4
    assert weighted_length("\U0001f916") == 2
    assert weighted_length("see https://papers.example.org/" + "a" * 100) == 4 + 23
    assert weighted_length("http://localhost:8080/2026-11-20/") == 33


def test_inert_and_truncate() -> None:
    """inert() breaks mentions, tags and links invisibly; truncate() cuts to the budget."""
    text = inert("Hi @bob and #tag at evil.com \u202elol\n\n x")
    assert text == f"Hi @{WORD_JOINER}bob and #{WORD_JOINER}tag at evil.{WORD_JOINER}com lol x"
    assert truncate("a" * 50, 10) == "a" * 8 + "…"  # "…" (U+2026) weighs 2 on X
    assert weighted_length(truncate("中" * 50, 11)) <= 11
    assert truncate("short", 10) == "short"


def test_many_papers_leave_room_for_titles() -> None:
    """With 25 papers the summary lists the first few readably and links to the rest."""
    items = [SummaryItem(n, f"2611.{n:05d}", f"A long title about topic {n} " * 3, 1000.0 - n)
             for n in range(1, 26)]  # fmt: skip
    (head,) = compose(items, DAY, DAY_PAGE)
    assert weighted_length(head) <= 280
    assert re.search(r"\+\d+ more: " + re.escape(DAY_PAGE), head)
    assert "1. A long title about topic 1" in head


# --- command line -----------------------------------------------------------------------------


@pytest.fixture
def threaded_fake() -> Iterator[FakeX]:
    """FakeX on its own event loop thread, for the synchronous CLI runner."""
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    server = FakeX(now=NOW, consumer_key=KEY, access_token=TOKEN)
    asyncio.run_coroutine_threadsafe(server.start(), loop).result(timeout=30)
    yield server
    asyncio.run_coroutine_threadsafe(server.close(), loop).result(timeout=30)
    loop.call_soon_threadsafe(loop.stop)
    thread.join(timeout=30)
    loop.close()


@pytest.fixture
def cli(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, db_url: str, threaded_fake: FakeX
) -> tuple[CliRunner, Path, dict[str, str]]:
    for key in list(os.environ):
        if key.startswith("HOTPAPERS_"):
            monkeypatch.delenv(key)
    monkeypatch.chdir(tmp_path)
    config = tmp_path / "hotpapers.toml"
    config.write_text(
        f'[database]\nurl = "{db_url}"\n[arxiv]\ncategories = ["cs.LG", "cs.CV"]\n'
        f'[site]\nbase_url = "{BASE_URL}"\n'
        f'[publish.x]\nenabled = true\napi_url = "{threaded_fake.api_url}"\n'
    )
    env = {f"HOTPAPERS_PUBLISH__X__{name.upper()}": value for name, value in SECRETS.items()}
    return CliRunner(), config, env


def _app() -> Any:
    from hotpapers.cli.app import app, mount_subcommands

    mount_subcommands(app)
    return app


def test_cli_dry_run_prints_each_post(
    cli: tuple[CliRunner, Path, dict[str, str]], threaded_fake: FakeX, db_url: str
) -> None:
    """The default (dry_run = true) prints the posts one by one and posts nothing."""
    runner, config, env = cli
    engine = make_engine(db_url)
    seed_after_migration(runner, config, env, engine)
    result = runner.invoke(
        _app(), ["--config", str(config), "publish", "x", "--date", "2026-11-20"], env=env
    )
    assert result.exit_code == 0, result.output
    assert "--- post 1 of 1 ---" in result.output and DAY_PAGE in result.output
    assert "Vision transformers, again (720)" in result.output
    assert "dry run: would post the X summary for 2026-11-20" in result.output
    assert threaded_fake.requests == 0 and publication(engine) is None
    engine.dispose()


def test_cli_posts_and_reports(
    cli: tuple[CliRunner, Path, dict[str, str]], threaded_fake: FakeX, db_url: str
) -> None:
    """--no-dry-run posts once and prints one sentence; a second run says it is done."""
    runner, config, env = cli
    engine = make_engine(db_url)
    seed_after_migration(runner, config, env, engine)
    args = ["--config", str(config), "publish", "x", "--date", "2026-11-20", "--no-dry-run"]
    first = runner.invoke(_app(), args, env=env)
    second = runner.invoke(_app(), args, env=env)
    assert first.exit_code == 0 and second.exit_code == 0, first.output + second.output
    assert "posted the X summary for 2026-11-20: 1 post ($0.20)" in first.output
    assert "already posted" in second.output and len(threaded_fake.created) == 1
    engine.dispose()


def test_cli_refusal_is_one_line(
    cli: tuple[CliRunner, Path, dict[str, str]], threaded_fake: FakeX, db_url: str
) -> None:
    """X's 401 reaches the user as one plain sentence and exit code 1."""
    runner, config, env = cli
    engine = make_engine(db_url)
    seed_after_migration(runner, config, env, engine)
    env = {**env, "HOTPAPERS_PUBLISH__X__API_KEY": "wrong"}
    args = ["--config", str(config), "publish", "x", "--date", "2026-11-20", "--no-dry-run"]
    result = runner.invoke(_app(), args, env=env)
    assert result.exit_code == 1
    assert "error: X rejected the credentials (HTTP 401)" in result.output
    assert "Traceback" not in result.output
    engine.dispose()


def seed_after_migration(
    runner: CliRunner, config: Path, env: dict[str, str], engine: Engine
) -> None:
    """Create the schema the way a user does (`db upgrade`), then seed the listing."""
    result = runner.invoke(_app(), ["--config", str(config), "db", "upgrade"], env=env)
    assert result.exit_code == 0, result.output
    seed(engine)
