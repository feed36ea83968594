"""The real ArxivClient against the real FakeArxiv on 127.0.0.1: politeness, retries, bounds."""

from __future__ import annotations

import asyncio
import itertools
import logging
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime
from typing import Any

import aiohttp
import pytest
from lxml import etree

from hotpapers import __version__
from hotpapers.arxiv.client import (
    ArxivClient,
    backoff_delay,
    parse_retry_after,
    user_agent,
)
from hotpapers.config import ArxivSettings
from hotpapers.errors import ArxivHTTPError, RunTimeExceeded
from hotpapers.fakes.arxiv import FakeArxiv, generate_papers

LISTING = date(2026, 11, 23)
CATS = ["cs.LG", "cs.CV", "stat.ML"]
INTERVAL = 0.05
# Server-side arrival times jitter by the cost of opening a connection on loopback; the
# client spaces request *starts*, so allow this much slack when measuring at the server.
SLACK = 0.01
ATOM = "{http://www.w3.org/2005/Atom}"


@pytest.fixture
async def fake() -> AsyncIterator[FakeArxiv]:
    server = FakeArxiv(generate_papers(LISTING, CATS, 40, seed=3), feed_date=LISTING)
    await server.start()
    try:
        yield server
    finally:
        await server.close()


def settings_for(fake: FakeArxiv, **overrides: Any) -> ArxivSettings:
    values: dict[str, Any] = {
        "rss_url": fake.rss_url,
        "api_url": fake.api_url,
        "oai_url": fake.oai_url,
        "request_interval": INTERVAL,
        "contact": "ops@example.org",
        "timeout": 5.0,
        "max_retries": 3,
        "run_timeout": 60.0,
    }
    values.update(overrides)
    return ArxivSettings(**values)


def gaps(fake: FakeArxiv) -> list[float]:
    times = [request.time for request in fake.requests]
    return [later - earlier for earlier, later in itertools.pairwise(times)]


def ids_of(fake: FakeArxiv, n: int) -> list[str]:
    return [paper.record.arxiv_id for paper in fake.papers[:n]]


def entry_count(body: bytes) -> int:
    return len(etree.fromstring(body).findall(f"{ATOM}entry"))


# --- pacing and the single connection ----------------------------------------------------------


async def test_consecutive_request_starts_are_at_least_the_interval_apart(fake: FakeArxiv) -> None:
    interval = 0.1
    async with ArxivClient(settings_for(fake, request_interval=interval)) as client:
        await client.fetch_feed(CATS)
        await client.query({"id_list": ids_of(fake, 1)[0]})
        params = {"verb": "ListRecords", "metadataPrefix": "arXivRaw", "from": "2026-11-22"}
        await client.oai(params)
        await client.query({"search_query": "cat:cs.LG", "max_results": "5"})
        assert client.requests_made == 4
    assert [r.path for r in fake.requests][:3] == ["/rss/cs.LG+cs.CV+stat.ML", "/api/query", "/oai"]
    assert len(gaps(fake)) == 3
    assert all(gap >= interval - SLACK for gap in gaps(fake)), gaps(fake)


async def test_concurrent_callers_share_one_request_at_a_time(fake: FakeArxiv) -> None:
    fake.slow_next(0.05, times=4)
    async with ArxivClient(settings_for(fake)) as client:
        bodies = await asyncio.gather(
            *(client.query({"id_list": arxiv_id}) for arxiv_id in ids_of(fake, 4))
        )
        session = client._get_session()
        assert session.connector is not None and session.connector.limit == 1
    assert [entry_count(body) for body in bodies] == [1, 1, 1, 1]
    assert fake.max_in_flight == 1
    assert all(gap >= INTERVAL - SLACK for gap in gaps(fake)), gaps(fake)


async def test_user_agent_names_the_project_and_the_contact(fake: FakeArxiv) -> None:
    async with ArxivClient(settings_for(fake)) as client:
        await client.fetch_feed(["cs.LG"])
    sent = fake.requests[0].headers["User-Agent"]
    assert sent == (
        f"hotpapers/{__version__} (+https://github.com/hotpapers/hotpapers; mailto:ops@example.org)"
    )
    assert user_agent("") == f"hotpapers/{__version__} (+https://github.com/hotpapers/hotpapers)"


async def test_a_session_passed_in_is_used_and_left_open(fake: FakeArxiv) -> None:
    async with aiohttp.ClientSession() as session:
        async with ArxivClient(settings_for(fake), session=session) as client:
            await client.query({"id_list": ids_of(fake, 1)[0]})
        assert not session.closed
    assert fake.requests[0].headers["User-Agent"].startswith("hotpapers/")


# --- retries -----------------------------------------------------------------------------------


async def test_503_twice_then_success(fake: FakeArxiv, caplog: pytest.LogCaptureFixture) -> None:
    fake.fail_next(status=503, times=2)
    caplog.set_level(logging.WARNING, logger="hotpapers.arxiv.client")
    async with ArxivClient(settings_for(fake)) as client:
        body = await client.query({"id_list": ids_of(fake, 1)[0]})
        assert client.requests_made == 3
    assert entry_count(body) == 1
    assert len(fake.requests) == 3
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 2
    assert all("HTTP 503" in w and fake.api_url in w for w in warnings)
    assert "retry 1 of 3" in warnings[0] and "retry 2 of 3" in warnings[1]
    assert all(gap >= INTERVAL - SLACK for gap in gaps(fake)), gaps(fake)


async def test_retries_exhausted_is_one_plain_sentence(fake: FakeArxiv) -> None:
    fake.fail_next(status=503, times=3)
    async with ArxivClient(settings_for(fake, max_retries=2)) as client:
        with pytest.raises(ArxivHTTPError) as caught:
            await client.query({"id_list": ids_of(fake, 1)[0]})
    assert (
        str(caught.value) == f"arXiv did not answer after 3 attempts: HTTP 503 from {fake.api_url}"
    )
    assert caught.value.status == 503
    assert len(fake.requests) == 3


async def test_429_retry_after_is_honoured(fake: FakeArxiv) -> None:
    fake.fail_next(status=429, retry_after=1)
    async with ArxivClient(settings_for(fake)) as client:
        body = await client.fetch_feed(["cs.LG"])
    assert body.status == 200
    assert len(fake.requests) == 2
    assert gaps(fake)[0] >= 1.0 - SLACK


def test_retry_after_accepts_seconds_and_http_dates() -> None:
    now = datetime(2026, 11, 24, 12, 0, 0, tzinfo=UTC)
    assert parse_retry_after("7", now=now) == 7.0
    assert parse_retry_after("Tue, 24 Nov 2026 12:00:30 GMT", now=now) == 30.0
    assert parse_retry_after("Tue, 24 Nov 2026 11:00:00 GMT", now=now) == 0.0
    assert parse_retry_after("soon", now=now) is None
    assert parse_retry_after(None) is None


def test_backoff_is_full_jitter_under_a_cap() -> None:
    for attempt in range(1, 12):
        ceiling = min(300.0, 3.0 * 2 ** (attempt - 1))
        delays = [backoff_delay(attempt, 3.0) for _ in range(50)]
        assert all(0 <= d <= ceiling for d in delays)
    assert max(backoff_delay(30, 3.0) for _ in range(50)) <= 300.0


async def test_truncated_body_is_retried(fake: FakeArxiv, caplog: pytest.LogCaptureFixture) -> None:
    fake.truncate_next()
    caplog.set_level(logging.WARNING, logger="hotpapers.arxiv.client")
    async with ArxivClient(settings_for(fake)) as client:
        body = await client.query({"id_list": ",".join(ids_of(fake, 3))})
    assert entry_count(body) == 3
    assert len(fake.requests) == 2
    assert any("truncated" in r.getMessage() for r in caplog.records)


async def test_dropped_connection_is_retried_through_the_pacing(fake: FakeArxiv) -> None:
    fake.disconnect_next()
    async with ArxivClient(settings_for(fake)) as client:
        body = await client.query({"id_list": ids_of(fake, 1)[0]})
    assert entry_count(body) == 1
    assert len(fake.requests) == 2
    assert gaps(fake)[0] >= INTERVAL - SLACK


async def test_connection_refused_is_retried_then_one_sentence() -> None:
    closed = FakeArxiv()
    base = await closed.start()
    await closed.close()
    settings = ArxivSettings(
        rss_url=f"{base}/rss",
        api_url=f"{base}/api/query",
        oai_url=f"{base}/oai",
        request_interval=INTERVAL,
        max_retries=1,
    )
    async with ArxivClient(settings) as client:
        with pytest.raises(ArxivHTTPError, match=r"^arXiv did not answer after 2 attempts: a conn"):
            await client.oai({"verb": "ListRecords", "metadataPrefix": "arXivRaw"})
        assert client.requests_made == 2


async def test_timeout_is_retried_then_gives_up(fake: FakeArxiv) -> None:
    fake.slow_next(0.6, times=3)
    async with ArxivClient(settings_for(fake, timeout=0.2, max_retries=2)) as client:
        with pytest.raises(ArxivHTTPError) as caught:
            await client.query({"id_list": ids_of(fake, 1)[0]})
    assert str(caught.value).startswith("arXiv did not answer after 3 attempts: no answer within")
    assert len(fake.requests) == 3


async def test_one_timeout_then_success(fake: FakeArxiv) -> None:
    fake.slow_next(0.6)
    async with ArxivClient(settings_for(fake, timeout=0.2)) as client:
        body = await client.query({"id_list": ids_of(fake, 1)[0]})
    assert entry_count(body) == 1
    assert len(fake.requests) == 2


async def test_redirects_are_followed_through_the_pacing(fake: FakeArxiv) -> None:
    fake.redirect_next(times=2)
    async with ArxivClient(settings_for(fake, max_retries=0)) as client:
        body = await client.query({"id_list": ids_of(fake, 1)[0]})
        assert client.requests_made == 3
    assert entry_count(body) == 1
    assert [r.params["id_list"] for r in fake.requests] == ids_of(fake, 1) * 3
    assert all(gap >= INTERVAL - SLACK for gap in gaps(fake)), gaps(fake)


# --- statuses ------------------------------------------------------------------------------------


async def test_400_returns_the_api_error_document(fake: FakeArxiv) -> None:
    async with ArxivClient(settings_for(fake)) as client:
        body = await client.query({"id_list": "abc"})
    root = etree.fromstring(body)
    entry = root.find(f"{ATOM}entry")
    assert entry is not None
    assert entry.findtext(f"{ATOM}title") == "Error"
    assert entry.findtext(f"{ATOM}summary") == "incorrect id format for abc"
    assert len(fake.requests) == 1


async def test_404_raises_without_retrying(fake: FakeArxiv) -> None:
    settings = settings_for(fake, api_url=fake.base_url + "/api/nowhere")
    async with ArxivClient(settings) as client:
        with pytest.raises(ArxivHTTPError) as caught:
            await client.query({"id_list": "2101.00001"})
    assert caught.value.status == 404
    assert "HTTP 404" in str(caught.value)
    assert client.requests_made == 1


async def test_other_4xx_on_the_feed_raises(fake: FakeArxiv) -> None:
    fake.fail_next(status=403)
    async with ArxivClient(settings_for(fake)) as client:
        with pytest.raises(ArxivHTTPError) as caught:
            await client.fetch_feed(["cs.LG"])
    assert caught.value.status == 403
    assert len(fake.requests) == 1


async def test_etag_gives_304_until_the_feed_changes(fake: FakeArxiv) -> None:
    async with ArxivClient(settings_for(fake)) as client:
        first = await client.fetch_feed(CATS)
        assert first.status == 200 and first.body.startswith(b"<?xml")
        assert first.etag and first.last_modified
        again = await client.fetch_feed(CATS, etag=first.etag, last_modified=first.last_modified)
        assert (again.status, again.body, again.etag) == (304, b"", first.etag)
        fake.feed_date = date(2026, 11, 24)
        changed = await client.fetch_feed(CATS, etag=first.etag)
        assert changed.status == 200 and changed.etag != first.etag
    assert fake.requests[1].headers["If-None-Match"] == first.etag
    assert fake.requests[1].headers["If-Modified-Since"] == first.last_modified


async def test_post_carries_a_long_id_list(fake: FakeArxiv) -> None:
    ids = ids_of(fake, 30)
    async with ArxivClient(settings_for(fake)) as client:
        body = await client.query({"id_list": ",".join(ids), "max_results": "30"}, post=True)
    assert entry_count(body) == 30
    recorded = fake.requests[0]
    assert recorded.method == "POST"
    assert recorded.params["id_list"].split(",") == ids


# --- the run-time bound ------------------------------------------------------------------------


async def test_run_timeout_stops_before_a_wait_that_would_pass_it(fake: FakeArxiv) -> None:
    fake.fail_next(status=503, times=5, retry_after=2)
    async with ArxivClient(settings_for(fake, run_timeout=1.0)) as client:
        with pytest.raises(RunTimeExceeded) as caught:
            await client.query({"id_list": ids_of(fake, 1)[0]})
    assert "arxiv.run_timeout" in str(caught.value)
    assert len(fake.requests) == 1


async def test_run_timeout_counts_from_the_first_request(fake: FakeArxiv) -> None:
    async with ArxivClient(settings_for(fake, request_interval=0.3, run_timeout=0.5)) as client:
        await client.fetch_feed(["cs.LG"])
        await client.fetch_feed(["cs.CV"])
        with pytest.raises(RunTimeExceeded, match=r"stopped after 0.5 s \(arxiv.run_timeout\)"):
            await client.fetch_feed(["stat.ML"])
    assert len(fake.requests) == 2


async def test_run_timeout_cuts_a_slow_answer_short(fake: FakeArxiv) -> None:
    fake.slow_next(2.0)
    async with ArxivClient(settings_for(fake, run_timeout=0.3, timeout=10.0)) as client:
        with pytest.raises(RunTimeExceeded):
            await client.query({"id_list": ids_of(fake, 1)[0]})


# --- hostile bodies ----------------------------------------------------------------------------

BOMB = 256 * 1024 * 1024  # decompressed; about 250 kB on the wire
RSS_GROWTH_LIMIT = 120 * 1024 * 1024


def _reset_peak_rss() -> None:
    """Start this process's peak-RSS count (VmHWM) afresh: earlier tests' peaks do not hide
    this one's (Linux: writing 5 to clear_refs resets the high-water mark)."""
    with open("/proc/self/clear_refs", "w") as refs:
        refs.write("5")


def _peak_rss() -> int:
    """This process's peak resident set size since the last reset, in bytes."""
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    raise AssertionError("no VmHWM in /proc/self/status")


async def test_gzip_bomb_is_stopped_at_the_cap_without_reading_it_whole(fake: FakeArxiv) -> None:
    """A small gzip body expanding to 256 MB: the client reads the decompressed stream only up
    to the 50 MB cap, then stops with one sentence, and does not retry it. The peak memory
    grows by far less than the bomb (reading it whole would add at least 256 MB)."""
    fake.gzip_bomb_next(BOMB, path="/api")
    # The bomb's compressed body is made (and cached) before measuring: only the client counts.
    from hotpapers.fakes.arxiv.query import gzip_zeros

    assert len(gzip_zeros(BOMB)) < 1024 * 1024
    _reset_peak_rss()
    before = _peak_rss()
    async with ArxivClient(settings_for(fake)) as client:
        with pytest.raises(ArxivHTTPError) as caught:
            await client.query({"id_list": ids_of(fake, 1)[0]})
    grown = _peak_rss() - before
    assert grown < RSS_GROWTH_LIMIT, f"peak RSS grew by {grown / 2**20:.0f} MiB"
    assert str(caught.value) == (
        f"the answer from arXiv at {fake.api_url} is over the 50 MB limit once decompressed; "
        "stopped reading it"
    )
    assert len(fake.requests) == 1


async def test_retry_after_past_the_run_timeout_says_so(fake: FakeArxiv) -> None:
    """A Retry-After of one day ends the run at once with the wait arXiv asked for, not a
    sentence about a timeout that was never reached; nothing is re-requested."""
    fake.fail_next(status=503, retry_after=86400, times=3)
    async with ArxivClient(settings_for(fake, run_timeout=6.0)) as client:
        with pytest.raises(RunTimeExceeded) as caught:
            await client.query({"id_list": ids_of(fake, 1)[0]})
    message = str(caught.value)
    assert message.startswith("arXiv asked to wait 24 hours before trying again, more than the ")
    assert "arxiv.run_timeout 6 s" in message and fake.api_url in message
    assert message.endswith("; stopped")
    assert len(fake.requests) == 1
