"""Hacker News source: the real aiohttp client against the local fake Algolia API."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import aiohttp
import pytest

from hotpapers.config import HackerNewsSettings
from hotpapers.fakes.social import FakeHN, generate_hn_stories, hn_story
from hotpapers.signals._http import arxiv_link_id, retry_after_seconds
from hotpapers.signals.base import PaperRef, SignalSource, SourceResult
from hotpapers.signals.hn import HNSource

A, B, C = "2611.01234", "2611.05678", "2611.09999"
NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
PAPERS = [PaperRef(i, f"Paper {i}", datetime(2026, 11, 20, 1, tzinfo=UTC)) for i in (A, B, C)]


@pytest.fixture
async def fake() -> AsyncIterator[FakeHN]:
    server = FakeHN(
        [
            hn_story(101, f"https://arxiv.org/abs/{A}", points=10, num_comments=5, author="ann"),
            hn_story(102, f"https://arxiv.org/pdf/{A}v2", points=3, num_comments=1),
            hn_story(103, f"http://www.arxiv.org/html/{A}v1", points=2, num_comments=0),
            # decoys Algolia's token match returns for A, none of which links A:
            hn_story(201, f"https://github.com/someone/{A}", points=50, num_comments=9),
            hn_story(202, f"https://arxiv.org/abs/{A}7", points=40, num_comments=9),
            hn_story(203, f"https://notarxiv.org/abs/{A}", points=30, num_comments=9),
            hn_story(204, None, title=f"Ask HN: thoughts on {A}?", points=20),
            hn_story(301, f"https://arxiv.org/abs/{B}", points=7, num_comments=2),
        ]
    )
    await server.start()
    yield server
    await server.close()


def source(fake: FakeHN, **kwargs: object) -> HNSource:
    options: dict[str, object] = {"rate": 1000.0, "backoff": 0.01, "timeout": 5.0}
    options.update(kwargs)
    return HNSource(HackerNewsSettings(enabled=True, api_url=fake.base_url), **options)  # type: ignore[arg-type]


async def test_sums_points_and_comments_over_stories_that_link_the_paper(fake: FakeHN) -> None:
    hn: SignalSource = source(fake)  # satisfies the Protocol (checked by mypy)
    assert hn.problem() is None

    result = await hn.measure(PAPERS, NOW)

    assert result.errors == []
    assert result.requests == 3
    by_id = {m.paper_id: m for m in result.measurements}
    assert by_id[A].metrics == {"points": 15.0, "comments": 6.0, "stories": 3.0}
    assert by_id[B].metrics == {"points": 7.0, "comments": 2.0, "stories": 1.0}
    assert by_id[C].metrics == {"points": 0.0, "comments": 0.0, "stories": 0.0}
    assert all(m.source == "hn" and m.taken_at == NOW for m in result.measurements)
    posts = {p.post_id: p for p in by_id[A].posts}
    assert set(posts) == {"101", "102", "103"}
    assert posts["101"].url == "https://news.ycombinator.com/item?id=101"
    assert (posts["101"].likes, posts["101"].replies, posts["101"].author_handle) == (10, 5, "ann")
    assert posts["101"].paper_id == A and posts["101"].created_at is not None
    first = fake.requests[0].query
    assert first["query"] == A
    assert first["restrictSearchableAttributes"] == "url"
    assert first["tags"] == "story"
    assert first["hitsPerPage"] == "50"


async def test_pages_through_all_results(fake: FakeHN) -> None:
    fake.hits = [
        hn_story(1000 + n, f"https://arxiv.org/abs/{A}v{n % 3 + 1}", points=2, num_comments=1)
        for n in range(120)
    ]
    result = await source(fake).measure(PAPERS[:1], NOW)

    assert result.errors == []
    assert result.measurements[0].metrics == {"points": 240.0, "comments": 120.0, "stories": 120.0}
    assert [r.query["page"] for r in fake.requests] == ["0", "1", "2"]


async def test_generated_stories_are_counted_only_when_they_link_the_paper(fake: FakeHN) -> None:
    ids = [f"2611.{n:05d}" for n in range(1, 9)]
    fake.hits = generate_hn_stories(ids, seed=7)
    result = await source(fake).measure([PaperRef(i, "t") for i in ids], NOW)

    assert result.errors == []
    for m in result.measurements:
        expected = [h for h in fake.hits if h["url"] and arxiv_link_id(h["url"]) == m.paper_id]
        assert m.metrics["stories"] == len(expected)
        assert m.metrics["points"] == sum(h["points"] for h in expected)
        assert m.metrics["comments"] == sum(h["num_comments"] for h in expected)


FAULTS = [
    ("500", {"times": None}, "HTTP 500"),
    ("html", {}, "HTML page instead of JSON"),
    ("html", {"status": 503, "times": None}, "HTML error page"),
    ("malformed", {}, "malformed JSON"),
    ("missing_fields", {}, "objectID is missing"),
    ("wrong_types", {}, "expected an integer"),
    ("slow", {"times": None, "delay": 1.0}, "no answer within"),
    ("401", {}, "HTTP 401"),
]


@pytest.mark.parametrize(("kind", "options", "reason"), FAULTS)
async def test_a_fault_is_one_error_and_the_other_papers_are_measured(
    fake: FakeHN, kind: str, options: dict[str, object], reason: str
) -> None:
    fake.fail(kind, match=f"query={A}", **options)  # type: ignore[arg-type]

    result = await source(fake, timeout=0.3, max_retries=1).measure(PAPERS, NOW)

    assert len(result.errors) == 1
    error = result.errors[0]
    assert error.startswith(f"Hacker News lookup for {A} failed: ")
    assert reason in error
    assert {m.paper_id for m in result.measurements} == {B, C}
    assert result.measurements[0].metrics["points"] == 7.0


async def test_429_waits_for_retry_after_then_succeeds(fake: FakeHN) -> None:
    fake.fail("429", match=f"query={A}", retry_after=0.3)

    result = await source(fake).measure(PAPERS[:1], NOW)

    assert result.errors == []
    assert result.measurements[0].metrics["points"] == 15.0
    first, second = fake.requests
    assert first.fault == "429" and second.fault is None
    assert second.at - first.at >= 0.3  # the client waited as told, not its own 0.01 s back-off
    assert result.requests == 2


async def test_429_asking_for_too_long_a_wait_is_an_error_not_a_stall(fake: FakeHN) -> None:
    fake.fail("429", match=f"query={A}", retry_after=3600)

    result = await source(fake).measure(PAPERS, NOW)

    assert len(result.errors) == 1
    assert "HTTP 429" in result.errors[0]
    assert "asked to wait 1 hour, more than the 2 minutes allowed" in result.errors[0]
    assert {m.paper_id for m in result.measurements} == {B, C}


async def test_a_given_session_is_used_and_left_open(fake: FakeHN) -> None:
    async with aiohttp.ClientSession() as session:
        hn = HNSource(HackerNewsSettings(api_url=fake.base_url), session, rate=1000.0)
        result = await hn.measure(PAPERS[:1], NOW)
        assert not session.closed
    assert result.measurements[0].metrics["stories"] == 3.0


async def test_unreachable_server_is_an_error(fake: FakeHN) -> None:
    url = fake.base_url
    await fake.close()
    hn = HNSource(HackerNewsSettings(api_url=url), rate=1000.0, backoff=0.01, max_retries=1)

    result = await hn.measure(PAPERS[:2], NOW)

    assert len(result.errors) == 2 and result.measurements == []
    assert "connection failed" in result.errors[0]


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://arxiv.org/abs/2611.01234", "2611.01234"),
        ("https://arxiv.org/abs/2611.01234v3", "2611.01234"),
        ("http://www.arxiv.org/pdf/2611.01234v2.pdf", "2611.01234"),
        ("https://arxiv.org/html/2611.01234v1/#S3", "2611.01234"),
        ("https://export.arxiv.org/abs/hep-th/9901001v2", "hep-th/9901001"),
        ("https://arxiv.org/abs/2611.012345", None),
        ("https://notarxiv.org/abs/2611.01234", None),
        ("https://web.archive.org/web/2026/https://arxiv.org/abs/2611.01234", None),
        ("https://github.com/x/2611.01234", None),
        ("https://arxiv.org/list/cs.LG/new", None),
        ("not a url", None),
    ],
)
def test_arxiv_link_id(url: str, expected: str | None) -> None:
    assert arxiv_link_id(url) == expected


def test_retry_after_header_forms() -> None:
    now = datetime(2026, 11, 23, 12, 0, 0, tzinfo=UTC)
    assert retry_after_seconds("7") == 7.0
    assert retry_after_seconds("Mon, 23 Nov 2026 12:00:30 GMT", now) == 30.0
    assert retry_after_seconds("soon") is None
    assert retry_after_seconds(None) is None
    assert retry_after_seconds("-5") == 0.0


# --- sweep mode: one search_by_date over every arXiv story in the window -----------------------

ANNOUNCED = datetime(2026, 11, 20, 1, tzinfo=UTC)
WINDOW_START = ANNOUNCED - timedelta(days=1)


def many_papers(count: int, start: int = 1) -> list[PaperRef]:
    return [PaperRef(f"2611.{n:05d}", "t", ANNOUNCED) for n in range(start, start + count)]


def by_paper(result: SourceResult) -> dict[str, tuple[dict[str, float], set[str]]]:
    return {m.paper_id: (m.metrics, {p.post_id for p in m.posts}) for m in result.measurements}


def sweep_requests(fake: FakeHN) -> list[dict[str, str]]:
    return [r.query for r in fake.requests_to("search_by_date")]


async def test_sweep_and_per_paper_modes_give_the_same_metrics(fake: FakeHN) -> None:
    papers = many_papers(300)
    ids = [p.arxiv_id for p in papers]
    fake.hits = generate_hn_stories(
        ids, seed=11, since=WINDOW_START + timedelta(hours=1), until=NOW
    )
    # stories before the window link other (older) papers: the sweep never asks for them
    fake.add(
        *generate_hn_stories(
            ["2610.00001", "2610.00002"], seed=3, since=datetime(2026, 10, 5, tzinfo=UTC)
        )
    )

    per_paper = await source(fake, mode="per_paper").measure(papers, NOW)
    per_paper_requests = len(fake.requests)
    fake.requests.clear()
    swept = await source(fake).measure(papers, NOW)  # auto: 300 papers > the threshold

    assert per_paper.errors == [] and swept.errors == []
    assert by_paper(swept) == by_paper(per_paper)
    assert [m.paper_id for m in swept.measurements] == ids  # in the order asked
    assert sum(m.metrics["stories"] for m in swept.measurements) > 200
    assert per_paper_requests == 300
    assert swept.requests == len(fake.requests) == 1  # ~400 stories fit one page of 1,000
    (query,) = sweep_requests(fake)
    assert query["query"] == "arxiv.org"
    assert query["restrictSearchableAttributes"] == "url" and query["tags"] == "story"
    assert query["numericFilters"] == f"created_at_i>={int(WINDOW_START.timestamp())}"
    assert query["hitsPerPage"] == "1000"


async def test_sweep_splits_the_time_window_above_1000_hits(fake: FakeHN) -> None:
    papers = many_papers(1500)
    ids = [p.arxiv_id for p in papers]
    fake.hits = generate_hn_stories(
        ids, seed=12, since=WINDOW_START + timedelta(hours=1), until=NOW
    )
    arxiv_stories = [h for h in fake.hits if h["url"] and "arxiv.org" in h["url"]]
    assert len(arxiv_stories) > 2 * 1000

    result = await source(fake).measure(papers, NOW)

    assert result.errors == []
    expected = {i: [0.0, 0.0, 0.0] for i in ids}
    for hit in fake.hits:
        linked = arxiv_link_id(hit["url"] or "")
        if linked in expected:
            expected[linked][0] += hit["points"]
            expected[linked][1] += hit["num_comments"]
            expected[linked][2] += 1
    got = {
        m.paper_id: [m.metrics[k] for k in ("points", "comments", "stories")]
        for m in result.measurements
    }
    assert got == expected
    queries = sweep_requests(fake)
    ranges = [q["numericFilters"] for q in queries if "created_at_i<" in q["numericFilters"]]
    assert ranges, "the window was never split"
    assert len(queries) == result.requests <= 15  # versus 1,500 one-paper searches
    assert all(q["hitsPerPage"] == "1000" for q in queries)


async def test_sweep_pages_when_a_range_fits_but_pages_are_small(fake: FakeHN) -> None:
    papers = many_papers(250)
    fake.hits = generate_hn_stories(
        [p.arxiv_id for p in papers], seed=13, since=WINDOW_START, until=NOW
    )

    result = await source(fake, sweep_hits_per_page=100).measure(papers, NOW)

    assert result.errors == []
    pages = [q["page"] for q in sweep_requests(fake)]
    assert pages == [str(n) for n in range(len(pages))] and len(pages) > 1
    total = sum(m.metrics["stories"] for m in result.measurements)
    assert total == len([h for h in fake.hits if "arxiv.org" in (h["url"] or "")])


async def test_sweep_looks_older_papers_up_one_by_one(fake: FakeHN) -> None:
    old = "2603.04567"  # a replaced paper from March, listed again this week
    papers = [*many_papers(201), PaperRef(old, "old", ANNOUNCED)]
    fake.hits = [
        hn_story(
            9001,
            f"https://arxiv.org/abs/{old}",
            points=300,
            created_at=datetime(2026, 3, 20, tzinfo=UTC),
        ),
        hn_story(9002, "https://arxiv.org/abs/2611.00001", points=5, created_at=ANNOUNCED),
    ]

    result = await source(fake).measure(papers, NOW)

    by_id = {m.paper_id: m.metrics for m in result.measurements}
    assert by_id[old]["points"] == 300.0  # a sweep of this week alone would miss it
    assert by_id["2611.00001"]["points"] == 5.0
    assert [r.query["query"] for r in fake.requests] == ["arxiv.org", old]


async def test_a_failed_sweep_is_one_error(fake: FakeHN) -> None:
    papers = many_papers(201)
    fake.fail("500", match="search_by_date", times=None)

    result = await source(fake, max_retries=1).measure(papers, NOW)

    assert result.measurements == []
    assert len(result.errors) == 1 and "Hacker News sweep of arXiv stories" in result.errors[0]
    assert "HTTP 500" in result.errors[0] and result.requests == 2


async def test_the_fake_caps_a_query_at_1000_hits_and_filters_by_time(fake: FakeHN) -> None:
    base = int(WINDOW_START.timestamp())
    fake.hits = [
        hn_story(
            n,
            f"https://arxiv.org/abs/2611.{n:05d}",
            created_at=datetime.fromtimestamp(base + n, UTC),
        )
        for n in range(1, 1501)
    ]
    async with aiohttp.ClientSession() as session:
        url = f"{fake.base_url}/search_by_date"
        params = {"query": "arxiv.org", "restrictSearchableAttributes": "url", "tags": "story"}
        async with session.get(url, params={**params, "hitsPerPage": "1000"}) as response:
            first = await response.json()
        async with session.get(
            url, params={**params, "hitsPerPage": "1000", "page": "1"}
        ) as response:
            second = await response.json()
        window = {"numericFilters": f"created_at_i>={base + 101},created_at_i<{base + 201}"}
        async with session.get(url, params={**params, **window}) as response:
            ranged = await response.json()
        async with session.get(
            url, params={**params, "numericFilters": "created_at_i~1"}
        ) as response:
            assert response.status == 400
    assert (first["nbHits"], first["nbPages"], len(first["hits"])) == (1500, 1, 1000)
    assert first["hits"][0]["objectID"] == "1500"  # newest first
    assert second["hits"] == []
    assert ranged["nbHits"] == 100 and ranged["hits"][0]["objectID"] == "200"
