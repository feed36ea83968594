"""The X client when X refuses: one sentence per failure, one log line, the ledger and the
spend left right, and no secret in the log."""

from __future__ import annotations

import logging
import re
from datetime import timedelta

import pytest
from pydantic import SecretStr
from sqlalchemy import Engine
from sqlmodel import select

from hotpapers.config import Settings
from hotpapers.errors import PublishError
from hotpapers.fakes.x import FakeX
from hotpapers.publish.x import publish_daily
from hotpapers.storage.db import transaction
from hotpapers.storage.models import Publication, Spend
from tests.publish._x_support import DAY, NOW, SECRETS, detail, make_settings, publication, spend


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
