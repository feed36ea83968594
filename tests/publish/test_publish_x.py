"""The daily X summary against FakeX, posted exactly once: real tweepy over HTTP on 127.0.0.1,
real SQLite/PostgreSQL."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
from pydantic import SecretStr
from sqlalchemy import Engine

from hotpapers.config import Settings
from hotpapers.errors import ConfigError
from hotpapers.fakes.x import FakeX
from hotpapers.publish.x import publish_daily
from hotpapers.storage.db import make_engine
from tests.publish._x_support import (
    DAY,
    DAY_PAGE,
    EMPTY_DAY,
    NOW,
    detail,
    make_settings,
    publication,
    spend,
)

# --- posting once -----------------------------------------------------------------------------


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
