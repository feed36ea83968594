"""Logs: one line per event with job/service/outcome, and never a secret."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import AsyncExitStack
from datetime import timedelta
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from pydantic import SecretStr
from sqlmodel import SQLModel

from hotpapers import logs
from hotpapers.arxiv import calendar
from hotpapers.config import DatabaseSettings, DiscordSettings, PublishSettings, XPublishSettings
from hotpapers.demo.pipeline import (
    DEMO_LISTING,
    DEMO_PASSWORD,
    DEMO_TOKEN,
    demo_settings,
    start_fakes,
)
from hotpapers.demo.pipeline import demo_sources as real_sources
from hotpapers.logs import mask_url, redact, secret_values, setup_logging
from hotpapers.ops.status import job_statuses, track_job
from hotpapers.service import use_cases as jobs
from hotpapers.signals.measure import measure
from hotpapers.storage.db import make_engine

DB_PASSWORD = "Pg-s3cret-passw0rd"
DISCORD_TOKEN = "MTIz.discord-bot-token.XyZ"
WRONG_BEARER = "wrong-bearer-token-0042"
X_SECRETS = {"api_key": "x-api-key-123", "access_token_secret": "x-access-secret-456"}


@pytest.fixture
def restore_logging() -> Iterator[None]:
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    registered = set(logs._secrets)
    yield
    root.handlers[:] = handlers
    root.setLevel(level)
    logs._secrets.clear()  # the secrets registered here mean nothing to other tests
    logs._secrets.update(registered)


def test_redact_masks_url_passwords_tokens_and_registered_secrets() -> None:
    url = f"postgresql+psycopg://hot:{DB_PASSWORD}@db:5432/hotpapers"
    assert mask_url(url) == "postgresql+psycopg://hot:***@db:5432/hotpapers"
    assert redact(f"cannot reach {url}") == f"cannot reach {mask_url(url)}"
    assert redact("Authorization: Bearer abcdefgh12345678") == "Authorization: Bearer ***"
    assert redact("{'Authorization': 'Bot MTIz.abc.defghijk'}") == "{'Authorization': 'Bot ***'}"
    assert redact("the bot reconnected to the gateway") == "the bot reconnected to the gateway"
    assert redact("http://127.0.0.1:8080/feed") == "http://127.0.0.1:8080/feed"


def test_fields_are_appended_as_key_value_and_secrets_masked(
    restore_logging: None, capsys: Any
) -> None:
    setup_logging("INFO", secrets=["a-registered-secret"])
    log = logging.getLogger("hotpapers.test")

    log.info("posted the digest", extra={"job": "deliver", "service": "discord", "outcome": "ok"})
    log.warning("token a-registered-secret refused", extra={"service": "x"})
    log.info("job=collect outcome=ok duration=1.0s", extra={"job": "collect", "outcome": "ok"})

    lines = capsys.readouterr().err.splitlines()
    assert lines[0].endswith("posted the digest job=deliver service=discord outcome=ok")
    assert lines[1].endswith("token *** refused service=x")
    assert lines[2].endswith(": job=collect outcome=ok duration=1.0s")  # no repeated fields


async def test_no_secret_reaches_the_log_during_real_jobs(
    pg_url: str, tmp_path: Path, restore_logging: None, caplog: Any, capsys: Any
) -> None:
    url = pg_url.replace("://postgres@", f"://postgres:{DB_PASSWORD}@")
    assert DB_PASSWORD in url  # the server trusts loopback, so any password is accepted
    now = calendar.announced_at(DEMO_LISTING) + timedelta(hours=13)
    async with AsyncExitStack() as stack:
        fakes = await start_fakes(stack, now)
        settings = demo_settings(tmp_path, fakes).model_copy(
            update={
                "database": DatabaseSettings(url=url),
                "discord": DiscordSettings(token=SecretStr(DISCORD_TOKEN)),
                "publish": PublishSettings(
                    x=XPublishSettings(**{k: SecretStr(v) for k, v in X_SECRETS.items()})
                ),
            }
        )
        secrets = secret_values(settings)
        assert {DB_PASSWORD, DISCORD_TOKEN, DEMO_TOKEN, DEMO_PASSWORD} <= set(secrets)
        setup_logging("DEBUG", verbose=True, secrets=secrets)
        logging.getLogger().addHandler(caplog.handler)  # setup_logging replaced the handlers
        engine = make_engine(url)
        SQLModel.metadata.drop_all(engine)
        SQLModel.metadata.create_all(engine)

        await _run_jobs(settings, engine, now)

        engine.dispose()
    raw = caplog.text  # records as the code wrote them, before any masking
    printed = capsys.readouterr().err  # what the configured handler printed
    assert "job=collect outcome=ok" in printed and "job=signals outcome=ok" in printed
    assert "job=signals-wrong-token outcome=" in printed
    for secret in [*secrets, WRONG_BEARER]:
        assert secret not in raw, [line for line in raw.splitlines() if secret in line][:3]
        assert secret not in printed, secret
    assert DB_PASSWORD not in str(job_statuses(make_engine(url)))


async def _run_jobs(settings: Any, engine: Any, now: Any) -> None:
    async with track_job(engine, "collect") as run:
        run.detail = (await jobs.collect(settings, engine, now=now)).sentence()
    async with aiohttp.ClientSession() as http, track_job(engine, "signals"):
        await measure(settings, engine, real_sources(settings, http), now=now)
    # X refuses a wrong token: the failure is logged, the token is not.
    wrong = settings.signals.x.model_copy(update={"bearer_token": SecretStr(WRONG_BEARER)})
    signals = settings.signals.model_copy(update={"x": wrong})
    wrong_settings = settings.model_copy(update={"signals": signals})
    async with aiohttp.ClientSession() as http, track_job(engine, "signals-wrong-token"):
        await measure(wrong_settings, engine, real_sources(wrong_settings, http)[:1], now=now)
    # A failure whose message carries the database URL: stored and logged masked.
    with pytest.raises(RuntimeError), track_job(engine, "db-url-failure"):
        raise RuntimeError(f"cannot use {settings.database.url}")
