"""Embed HTML for the post comes from oEmbed, is cached, and a failure never drops the paper."""

from __future__ import annotations

import asyncio
import signal
import sys
import textwrap
from datetime import UTC, date, datetime, timedelta

import aiohttp
from pydantic import SecretStr
from sqlalchemy import Engine, select
from sqlmodel import Session, SQLModel

from hotpapers.arxiv.calendar import announced_at
from hotpapers.config import Settings, XSignalSettings
from hotpapers.fakes.x import FakeX
from hotpapers.service import use_cases as jobs
from hotpapers.signals.embeds import refresh_embeds
from hotpapers.storage.db import transaction
from hotpapers.storage.models import SocialPost
from hotpapers.storage.records import PaperRecord
from hotpapers.storage.store import insert_ignore, record_announcements, upsert_papers

NOW = datetime(2021, 3, 16, 9, 0, tzinfo=UTC)


def seed(engine: Engine, fake: FakeX) -> tuple[str, str]:
    known = fake.add_post(
        "ak92501", urls=["https://arxiv.org/abs/2103.06902"], likes=186, retweets=729
    )
    record = PaperRecord("2103.06902", 1, "HumanGAN", "A", ("K. Sarkar",), ("cs.CV",), "cs.CV",
                         submitted=NOW - timedelta(days=4))  # fmt: skip
    rows = [
        {"source": "x", "post_id": known.id, "paper_id": "2103.06902", "url": f"https://x.com/ak92501/status/{known.id}",
         "reposts": 729, "likes": 186, "taken_at": NOW, "text": ""},
        {"source": "x", "post_id": "404404", "paper_id": "2103.06902", "url": "https://x.com/gone/status/404404",
         "reposts": 1, "likes": 1, "taken_at": NOW, "text": ""},
    ]  # fmt: skip
    with transaction(engine) as session:
        upsert_papers(session, [record])
        insert_ignore(session, SocialPost, rows)
    return known.id, "404404"


async def test_embeds_are_fetched_and_failures_left_out(engine: Engine) -> None:
    """A known post gets its blockquote and expiry; an unknown one stays without HTML."""
    fake = FakeX(now=NOW)
    await fake.start()
    try:
        known, gone = seed(engine, fake)
        settings = XSignalSettings(oembed_url=fake.oembed_url)
        async with aiohttp.ClientSession() as http:
            stored = await refresh_embeds(settings, engine, http, ["2103.06902"], NOW)
            again = await refresh_embeds(settings, engine, http, ["2103.06902"], NOW)
    finally:
        await fake.close()
    assert stored == 1
    assert again == 0  # the cached embed is still fresh; only the failed one was asked again
    with Session(engine) as session:
        posts = {p.post_id: p for p in session.execute(select(SocialPost)).scalars()}
    assert posts[known].oembed_html and "twitter-tweet" in posts[known].oembed_html
    assert posts[known].oembed_expires is not None
    assert posts[gone].oembed_html is None


# --- a run killed after the X results were saved -------------------------------------------

TOKEN = "embeds-bearer"
_DAY = date(2021, 3, 15)
_RUN_NOW = announced_at(_DAY) + timedelta(hours=10)
_SIGNALS_RUN = """
import asyncio, sys
from datetime import datetime
from hotpapers.service import use_cases as jobs
from hotpapers.config import Settings
from hotpapers.storage.db import make_engine

db_url, api_url, oembed_url, token, now = sys.argv[1:6]
x = {"enabled": True, "api_url": api_url, "oembed_url": oembed_url, "bearer_token": token,
     "daily_budget_usd": 5.0}
settings = Settings(database={"url": db_url}, signals={"x": x})
engine = make_engine(db_url)
asyncio.run(jobs.measure_signals(settings, engine, now=datetime.fromisoformat(now)))
"""


def _x_settings(db_url: str, fake: FakeX) -> Settings:
    x = {"enabled": True, "api_url": fake.api_url, "oembed_url": fake.oembed_url,
         "bearer_token": SecretStr(TOKEN), "daily_budget_usd": 5.0}  # fmt: skip
    return Settings(database={"url": db_url}, signals={"x": x})  # type: ignore[arg-type]


def _seed_papers(engine: Engine) -> None:
    records = [
        PaperRecord(f"2103.0{i:04d}", 1, f"Paper {i}", "Abstract", ("A. Author",), ("cs.LG",),
                    "cs.LG", submitted=datetime(2021, 3, 12, tzinfo=UTC))
        for i in range(3)
    ]  # fmt: skip
    with transaction(engine) as session:
        upsert_papers(session, records)
        record_announcements(session, _DAY, records, ["cs.LG"])


def _embeds(engine: Engine) -> dict[str, str | None]:
    with Session(engine) as session:
        posts = session.execute(select(SocialPost)).scalars().all()
        return {post.post_id: post.oembed_html for post in posts}


async def test_a_rerun_finishes_the_embeds_of_a_run_killed_after_saving_x_results(
    engine: Engine, db_url: str
) -> None:
    """kill -9 while the first embed is being fetched (the X results are committed by then):
    the next run, with nothing due on X any more, still fetches the missing embeds, and the
    database ends as an undisturbed run leaves it."""
    fake = FakeX(bearer_token=TOKEN, now=_RUN_NOW)
    for i, likes in enumerate((50, 7, 300)):
        fake.add_post(f"user{i}", urls=[f"https://arxiv.org/abs/2103.0{i:04d}"], likes=likes,
                      created_at=_RUN_NOW - timedelta(hours=3 + i))  # fmt: skip
    await fake.start()
    try:
        settings = _x_settings(db_url, fake)
        _seed_papers(engine)
        await jobs.measure_signals(settings, engine, now=_RUN_NOW)
        undisturbed = _embeds(engine)
        assert len(undisturbed) == 3 and all(undisturbed.values())

        SQLModel.metadata.drop_all(engine)
        SQLModel.metadata.create_all(engine)
        _seed_papers(engine)
        fake.hold_oembed_next()
        args = [db_url, fake.api_url, fake.oembed_url, TOKEN, _RUN_NOW.isoformat()]
        child = await asyncio.create_subprocess_exec(
            sys.executable, "-c", textwrap.dedent(_SIGNALS_RUN), *args
        )
        try:
            await asyncio.wait_for(fake.oembed_held.wait(), 60)
        finally:
            child.send_signal(signal.SIGKILL)
            await child.wait()
            fake.release()
        killed = _embeds(engine)
        assert set(killed) == set(undisturbed) and not any(killed.values())

        later = _RUN_NOW + timedelta(minutes=5)  # X is not due again for an hour
        reports = await jobs.measure_signals(settings, engine, now=later)
    finally:
        await fake.close()
    assert [(r.source, r.measured) for r in reports] == [("x", 0)]
    assert _embeds(engine) == undisturbed
