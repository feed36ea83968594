"""Embed HTML for the post comes from oEmbed, is cached, and a failure never drops the paper."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import aiohttp
from sqlalchemy import Engine, select
from sqlmodel import Session

from hotpapers.config import XSignalSettings
from hotpapers.db import transaction
from hotpapers.fakes.x import FakeX
from hotpapers.models import SocialPost
from hotpapers.records import PaperRecord
from hotpapers.signals.embeds import refresh_embeds
from hotpapers.store import insert_ignore, upsert_papers

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
