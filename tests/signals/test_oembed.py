"""fetch_oembed against FakeX's /oembed and a misbehaving local server."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import aiohttp
import pytest
from aiohttp import web

from hotpapers.fakes.x import FakeX
from hotpapers.signals.oembed import (
    DEFAULT_CACHE_AGE,
    OEmbed,
    fetch_oembed,
    oembed_expiry,
)
from hotpapers.signals.x import post_url


@pytest.fixture
async def fake() -> AsyncIterator[FakeX]:
    async with FakeX() as server:
        yield server


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as client:
        yield client


async def test_html_is_fetched_without_script_and_with_dnt(
    fake: FakeX, session: aiohttp.ClientSession
) -> None:
    user = fake.user("ak92501", name="AK")
    post = fake.add_post(
        user, urls=["https://arxiv.org/abs/2103.06902"], text="HumanGAN: A Generative Model"
    )
    found = await fetch_oembed(session, fake.oembed_url, post_url("ak92501", post.id))
    assert isinstance(found, OEmbed)
    assert found.html.startswith('<blockquote class="twitter-tweet" data-dnt="true">')
    assert "HumanGAN: A Generative Model" in found.html
    assert f"/ak92501/status/{post.id}" in found.html
    assert "<script" not in found.html
    assert found.cache_age == 3153600000
    assert found.author_name == "AK"


async def test_unknown_post_gives_none(fake: FakeX, session: aiohttp.ClientSession) -> None:
    assert await fetch_oembed(session, fake.oembed_url, post_url("nobody", "123")) is None


async def test_unreachable_server_gives_none(session: aiohttp.ClientSession) -> None:
    fake = FakeX()
    url = await fake.start()
    await fake.close()  # nothing listens there any more
    assert await fetch_oembed(session, f"{url}/oembed", post_url("a", "1")) is None


@pytest.mark.parametrize(
    ("status", "body", "content_type"),
    [
        (200, '{"html": "<blockquote', "application/json"),
        (200, '{"author_name": "AK"}', "application/json"),
        (200, '["not", "an", "object"]', "application/json"),
        (503, "<html><body>Over capacity</body></html>", "text/html"),
        (200, "<html><body>proxy login</body></html>", "text/html"),
    ],
)
async def test_bad_answers_give_none(
    session: aiohttp.ClientSession, status: int, body: str, content_type: str
) -> None:
    async def handler(request: web.Request) -> web.Response:
        return web.Response(status=status, text=body, content_type=content_type)

    app = web.Application()
    app.router.add_get("/oembed", handler)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    try:
        base = f"http://127.0.0.1:{runner.addresses[0][1]}"
        assert await fetch_oembed(session, f"{base}/oembed", post_url("a", "1")) is None
    finally:
        await runner.cleanup()


async def test_missing_cache_age_falls_back_to_a_day(session: aiohttp.ClientSession) -> None:
    async def handler(request: web.Request) -> web.Response:
        assert request.query["omit_script"] == "true"
        assert request.query["dnt"] == "true"
        assert request.query["url"] == "https://x.com/a/status/1"
        return web.json_response({"html": "<blockquote>hi</blockquote>", "cache_age": "soon"})

    app = web.Application()
    app.router.add_get("/oembed", handler)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    try:
        base = f"http://127.0.0.1:{runner.addresses[0][1]}"
        found = await fetch_oembed(session, f"{base}/oembed", post_url("a", "1"))
    finally:
        await runner.cleanup()
    assert found == OEmbed("<blockquote>hi</blockquote>", DEFAULT_CACHE_AGE, "")


def test_expiry_is_fetch_time_plus_cache_age() -> None:
    fetched = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)
    assert oembed_expiry(fetched, 3600) == fetched + timedelta(hours=1)
    assert oembed_expiry(fetched, 3153600000) == fetched + timedelta(seconds=3153600000)
    assert oembed_expiry(fetched, -5) == fetched
