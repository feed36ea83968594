"""TL;DRs from an OpenAI-compatible endpoint (issue 13 section 5), against FakeOpenAI over real
aiohttp, on real SQLite and PostgreSQL: made once per paper version, within the daily cap,
and any failure of the endpoint leaves the papers without one and the log with the detail."""

from __future__ import annotations

import logging
import math
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime
from typing import Any

import pytest
from pydantic import SecretStr
from sqlalchemy import Engine
from sqlmodel import Session, select

from hotpapers.config import Settings
from hotpapers.fakes.openai import FakeOpenAI
from hotpapers.storage.db import transaction
from hotpapers.storage.models import Spend, Tldr
from hotpapers.storage.records import PaperRecord
from hotpapers.storage.store import upsert_papers
from hotpapers.tldr.client import SPEND_SERVICE
from hotpapers.tldr.job import summarise_day
from hotpapers.tldr.store import engine_tldrs
from tests.x_listing import seed_x_listing

DAY = date(2026, 11, 20)  # a Friday listing
NOW = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)
CATEGORIES = ["cs.LG", "cs.CV"]
KEY = "sk-test-0123456789abcdef"
# (id, title, likes): ranked by likes; all over the threshold (50).
PAPERS = [
    ("2611.00201", "Diffusion for robots", 120),
    ("2611.00202", "Vision transformers, again", 720),
    ("2611.00203", "Scaling laws for everything", 300),
]
RANKED_IDS = ["2611.00202", "2611.00203", "2611.00201"]


def record(arxiv_id: str, title: str, version: int = 1) -> PaperRecord:
    return PaperRecord(
        arxiv_id=arxiv_id,
        version=version,
        title=title,
        abstract=f"We study {title.lower()} and find that it works. It scales, too.",
        authors=("Ada Lovelace", "Alan Turing"),
        categories=("cs.LG",),
        primary_category="cs.LG",
        submitted=datetime(2026, 11, 18, tzinfo=UTC),
    )


def seed(engine: Engine) -> None:
    """One ranked listing: the papers, their announcement, one X post each with its likes."""
    seed_x_listing(engine, DAY, CATEGORIES, [(record(i, t), likes) for i, t, likes in PAPERS])


def make_settings(fake: FakeOpenAI | None, **tldr: Any) -> Settings:
    values: dict[str, Any] = {
        "enabled": True,
        "base_url": fake.base_url if fake else "http://127.0.0.1:9/v1",
        "model": "fake-mini",
        "api_key": SecretStr(KEY),
        "max_retries": 0,
        "request_timeout": 5.0,
        **tldr,
    }
    return Settings(
        arxiv={"categories": CATEGORIES},  # type: ignore[arg-type]
        tldr=values,  # type: ignore[arg-type]
    )


@pytest.fixture
async def fake() -> AsyncIterator[FakeOpenAI]:
    async with FakeOpenAI(api_key=KEY) as server:
        yield server


@pytest.fixture
def seeded(engine: Engine) -> Engine:
    seed(engine)
    return engine


def ledger(engine: Engine) -> tuple[int, int]:
    """The day's TL;DR (micro-dollars, requests) in the spend ledger."""
    with Session(engine) as session:
        row = session.get(Spend, (SPEND_SERVICE, NOW.date()))
        return (row.amount_micros, row.units) if row else (0, 0)


# --- making them, once ------------------------------------------------------------------------


async def test_the_top_papers_get_one_sentence_each_once(fake: FakeOpenAI, seeded: Engine) -> None:
    """Each top paper is asked for once, in rank order; a second run asks nothing."""
    settings = make_settings(fake)
    report = await summarise_day(settings, seeded, DAY, now=NOW)
    assert (report.made, report.cached, report.failed, report.requests) == (3, 0, 0, 3)
    asked = [r.user_text.splitlines()[0] for r in fake.requests]
    assert asked == [f"Title: {t}" for t in ("Vision transformers, again",
                     "Scaling laws for everything", "Diffusion for robots")]  # fmt: skip
    assert all(r.authorization == f"Bearer {KEY}" for r in fake.requests)
    assert fake.requests[0].body["model"] == "fake-mini"
    tldrs = engine_tldrs(seeded, RANKED_IDS)
    assert tldrs["2611.00202"] == (
        "The paper “Vision transformers, again” shows a simple idea that works better than "
        "expected."
    )
    again = await summarise_day(settings, seeded, DAY, now=NOW)
    assert (again.made, again.cached, again.requests) == (0, 3, 0)
    assert len(fake.requests) == 3
    assert "3 already made" in again.sentence()


async def test_only_the_configured_top_is_asked(fake: FakeOpenAI, seeded: Engine) -> None:
    report = await summarise_day(make_settings(fake, top=2), seeded, DAY, now=NOW)
    assert report.made == 2
    assert sorted(engine_tldrs(seeded, RANKED_IDS)) == RANKED_IDS[:2]


async def test_a_new_version_gets_its_own_and_the_old_one_is_not_shown(
    fake: FakeOpenAI, seeded: Engine
) -> None:
    """The cache is per version: v2's new abstract is summarised again, v1's is not shown."""
    settings = make_settings(fake, top=1)
    await summarise_day(settings, seeded, DAY, now=NOW)
    with transaction(seeded) as session:
        upsert_papers(session, [record("2611.00202", "Vision transformers, revised", version=2)])
    assert engine_tldrs(seeded, ["2611.00202"]) == {}
    report = await summarise_day(settings, seeded, DAY, now=NOW)
    assert report.made == 1 and len(fake.requests) == 2
    assert "revised" in engine_tldrs(seeded, ["2611.00202"])["2611.00202"]
    with Session(seeded) as session:
        versions = sorted(t.version for t in session.exec(select(Tldr)))
    assert versions == [1, 2]


async def test_off_by_default_asks_nothing(fake: FakeOpenAI, seeded: Engine) -> None:
    settings = Settings(arxiv={"categories": CATEGORIES})  # type: ignore[arg-type]
    assert settings.tldr.enabled is False
    report = await summarise_day(settings, seeded, DAY, now=NOW)
    assert report.status == "off" and fake.requests == []


async def test_on_without_a_key_asks_nothing_and_says_so(fake: FakeOpenAI, seeded: Engine) -> None:
    report = await summarise_day(make_settings(fake, api_key=None), seeded, DAY, now=NOW)
    assert report.status == "no-key" and fake.requests == []
    assert "HOTPAPERS_TLDR__API_KEY" in report.sentence()


# --- the daily cap ----------------------------------------------------------------------------


async def test_the_requests_cap_stops_asking(fake: FakeOpenAI, seeded: Engine) -> None:
    """Two requests a day: the third paper is not asked, today, by this run or the next."""
    settings = make_settings(fake, max_requests_per_day=2)
    report = await summarise_day(settings, seeded, DAY, now=NOW)
    assert (report.made, report.failed, report.requests) == (2, 1, 2)
    assert "cap" in report.stopped
    assert len(fake.requests) == 2 and ledger(seeded)[1] == 2
    again = await summarise_day(settings, seeded, DAY, now=NOW)
    assert again.made == 0 and len(fake.requests) == 2
    assert sorted(engine_tldrs(seeded, RANKED_IDS)) == RANKED_IDS[:2]


async def test_the_ledger_holds_what_the_answers_cost(fake: FakeOpenAI, seeded: Engine) -> None:
    """Reservations are settled to the tokens each answer's `usage` reports."""
    settings = make_settings(fake)
    await summarise_day(settings, seeded, DAY, now=NOW)
    config = settings.tldr
    expected = sum(
        math.ceil(
            (r.usage["prompt_tokens"] * config.price_per_1k_prompt_tokens_usd
             + r.usage["completion_tokens"] * config.price_per_1k_completion_tokens_usd)
            / 1000 * 1_000_000
        )
        for r in fake.requests
    )  # fmt: skip
    assert ledger(seeded) == (expected, 3)


async def test_a_spend_cap_below_one_request_asks_nothing(fake: FakeOpenAI, seeded: Engine) -> None:
    report = await summarise_day(
        make_settings(fake, max_spend_usd_per_day=0.000001), seeded, DAY, now=NOW
    )
    assert report.made == 0 and fake.requests == []
    assert "cap" in report.stopped and ledger(seeded) == (0, 0)


# --- an endpoint that fails -------------------------------------------------------------------

# What the log says for each fault of the fake (the papers just have no TL;DR).
FAULT_DETAIL = {
    "timeout": "no answer within 0.5 s",
    "429": "HTTP 429 (Rate limit reached for requests)",
    "500": "HTTP 500",
    "not_json": "the answer is not JSON",
    "no_choices": "no choices[0].message.content",
    "empty_content": "the answer is empty",
    "long_answer": "the answer is 5,000 characters long",
}


@pytest.mark.parametrize("kind", sorted(FAULT_DETAIL))
async def test_a_failing_endpoint_leaves_the_papers_without_one_and_logs_why(
    kind: str, fake: FakeOpenAI, seeded: Engine, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    fake.fail(kind, times=None, retry_after=0, delay=3.0)
    settings = make_settings(fake, request_timeout=0.5)
    report = await summarise_day(settings, seeded, DAY, now=NOW)
    assert (report.made, report.failed) == (0, 3)
    assert engine_tldrs(seeded, RANKED_IDS) == {}
    assert FAULT_DETAIL[kind] in caplog.text
    for paper_id in RANKED_IDS:
        assert f"no TL;DR for {paper_id}" in caplog.text
    assert KEY not in caplog.text
    assert "3 without one (see the log)" in report.sentence()


async def test_a_429_is_asked_again_after_its_retry_after(fake: FakeOpenAI, seeded: Engine) -> None:
    """The refused attempt costs nothing but counts as a request."""
    fake.fail("429", times=1, retry_after=0)
    report = await summarise_day(make_settings(fake, max_retries=2), seeded, DAY, now=NOW)
    assert report.made == 3 and len(fake.requests) == 4
    assert ledger(seeded)[1] == 4


async def test_a_retry_after_too_long_stops_asking_for_the_day(
    fake: FakeOpenAI, seeded: Engine, caplog: pytest.LogCaptureFixture
) -> None:
    fake.fail("429", times=None, retry_after=3600)
    settings = make_settings(fake, max_retries=3, max_wait_seconds=60)
    report = await summarise_day(settings, seeded, DAY, now=NOW)
    assert report.made == 0 and len(fake.requests) == 1
    assert "asked to wait" in report.stopped and "stopped asking" in caplog.text


async def test_a_refused_key_stops_asking_and_never_reaches_the_log(
    seeded: Engine, caplog: pytest.LogCaptureFixture
) -> None:
    """The fake echoes the key it was given in its 401; the log still never shows it."""
    caplog.set_level(logging.DEBUG)
    async with FakeOpenAI(api_key="sk-the-right-one") as other:
        report = await summarise_day(make_settings(other), seeded, DAY, now=NOW)
        assert KEY in other.requests[0].authorization  # type: ignore[operator]
        assert len(other.requests) == 1
    assert report.made == 0 and "refused the key" in report.stopped
    assert "Incorrect API key provided: ********" in caplog.text
    assert KEY not in caplog.text and KEY not in report.sentence()


async def test_an_endpoint_out_of_reach_leaves_the_papers_without_one(
    seeded: Engine, caplog: pytest.LogCaptureFixture
) -> None:
    report = await summarise_day(make_settings(None), seeded, DAY, now=NOW)
    assert report.made == 0 and report.failed == 3
    assert "connection failed" in caplog.text and ledger(seeded) == (0, 0)
