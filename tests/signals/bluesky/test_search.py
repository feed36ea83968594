"""Bluesky search: cursor paging, and the sweep over every post linking arxiv.org since the
window start."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import aiohttp

from hotpapers.fakes.social import FakeBluesky, bluesky_post, generate_bluesky_posts
from hotpapers.signals.base import PaperRef, SourceResult
from tests.signals.bluesky._support import HANDLE, NOW, PAPERS, PASSWORD, A, source


async def test_pages_through_results_with_the_cursor(fake: FakeBluesky) -> None:
    fake.posts = [
        bluesky_post(
            f"user{n}.bsky.social",
            "wow",
            links=[f"https://arxiv.org/abs/{A}"],
            likes=1,
            reposts=n % 2,
            seed=n,
        )
        for n in range(230)
    ]
    result = await source(fake).measure(PAPERS[:1], NOW)

    assert result.errors == []
    assert result.measurements[0].metrics["posts"] == 230.0
    assert result.measurements[0].metrics["likes"] == 230.0
    assert result.measurements[0].metrics["reposts"] == 115.0
    cursors = [r.query.get("cursor") for r in fake.requests_to("searchPosts")]
    assert cursors == [None, "100", "200"]


# --- sweep mode: every post linking arxiv.org since the window start ---------------------------

ANNOUNCED = datetime(2026, 11, 20, 1, tzinfo=UTC)
WINDOW_START = ANNOUNCED - timedelta(days=1)


def many_papers(count: int, announced: datetime = ANNOUNCED, start: int = 1) -> list[PaperRef]:
    return [PaperRef(f"2611.{n:05d}", "t", announced) for n in range(start, start + count)]


def by_paper(result: SourceResult) -> dict[str, tuple[dict[str, float], list[str]]]:
    return {m.paper_id: (m.metrics, [p.post_id for p in m.posts]) for m in result.measurements}


def searches(fake: FakeBluesky) -> list[dict[str, str]]:
    return [r.query for r in fake.requests_to("searchPosts")]


async def test_sweep_and_per_paper_modes_give_the_same_metrics(fake: FakeBluesky) -> None:
    papers = many_papers(300)
    ids = [p.arxiv_id for p in papers]
    fake.posts = generate_bluesky_posts(
        ids, seed=21, since=WINDOW_START + timedelta(hours=1), until=NOW
    )
    # older arXiv posts about other papers: outside the window, never read by the sweep
    fake.add(
        *generate_bluesky_posts(
            ["2610.00001", "2610.00002"], seed=4, since=datetime(2026, 10, 3, tzinfo=UTC)
        )
    )

    per_paper = await source(fake, mode="per_paper").measure(papers, NOW)
    per_paper_searches = len(searches(fake))
    fake.requests.clear()
    swept = await source(fake).measure(papers, NOW)  # auto: 300 papers > the threshold

    assert per_paper.errors == [] and swept.errors == []
    assert by_paper(swept) == by_paper(per_paper)  # same posts, same order
    assert [m.paper_id for m in swept.measurements] == ids
    assert sum(m.metrics["posts"] for m in swept.measurements) > 300
    assert per_paper_searches == 300
    pages = searches(fake)
    linking = sum(1 for p in fake.posts if p["record"]["createdAt"] >= "2026-11-19T01")
    assert len(pages) == -(-linking // 100) < 20  # versus 300 one-paper searches
    assert swept.requests == len(pages) + 1  # and the login
    first = pages[0]
    assert first["q"] == "arxiv.org" and first["domain"] == "arxiv.org"
    assert first["since"] == "2026-11-19T01:00:00.000Z"
    assert first["sort"] == "latest" and first["limit"] == "100" and "cursor" not in first
    assert [q.get("cursor") for q in pages[1:]] == [str(100 * n) for n in range(1, len(pages))]


async def test_a_sweep_stopped_by_its_page_bound_searches_the_older_papers_one_by_one(
    fake: FakeBluesky,
) -> None:
    early = many_papers(150, ANNOUNCED)
    late = many_papers(150, ANNOUNCED + timedelta(days=2), start=501)
    papers = early + late
    fake.posts = [
        *generate_bluesky_posts(
            [p.arxiv_id for p in early], seed=22, since=WINDOW_START, until=NOW
        ),
        *generate_bluesky_posts(
            [p.arxiv_id for p in late], seed=23, since=WINDOW_START + timedelta(days=2), until=NOW
        ),
    ]
    expected = await source(fake, mode="per_paper").measure(papers, NOW)
    fake.requests.clear()

    # enough pages to read back past the late papers' window, not to the early papers'
    late_start = (WINDOW_START + timedelta(days=2)).strftime("%Y-%m-%dT%H:%M")
    newer = sum(1 for p in fake.posts if p["record"]["createdAt"] >= late_start)
    bound = newer // 100 + 2
    assert len(fake.posts) > bound * 100
    result = await source(fake, max_sweep_pages=bound).measure(papers, NOW)

    assert result.errors == []
    assert by_paper(result) == by_paper(expected)
    queries = searches(fake)
    assert [q["q"] for q in queries[:bound]] == ["arxiv.org"] * bound
    assert [q["q"] for q in queries[bound:]] == [p.arxiv_id for p in early]


async def test_auto_mode_searches_paper_by_paper_when_the_sweep_would_be_longer(
    fake: FakeBluesky,
) -> None:
    papers = many_papers(3)
    fake.posts = generate_bluesky_posts(
        [f"2611.{n:05d}" for n in range(1, 400)], seed=24, since=WINDOW_START, until=NOW
    )
    expected = await source(fake, mode="per_paper").measure(papers, NOW)
    fake.requests.clear()

    result = await source(fake, sweep_threshold=2).measure(papers, NOW)

    assert by_paper(result) == by_paper(expected)
    assert [q["q"] for q in searches(fake)] == ["arxiv.org", *(p.arxiv_id for p in papers)]


async def test_sweep_looks_older_papers_up_one_by_one(fake: FakeBluesky) -> None:
    old = "2604.04567"  # a replaced paper from April, listed again this week
    papers = [*many_papers(201), PaperRef(old, "old", ANNOUNCED)]
    fake.posts = [
        bluesky_post(
            "ann.bsky.social",
            "Classic",
            links=[f"https://arxiv.org/abs/{old}"],
            likes=40,
            created_at=datetime(2026, 4, 20, tzinfo=UTC),
        ),
        bluesky_post(
            "bo.bsky.social",
            "New",
            links=["https://arxiv.org/abs/2611.00001"],
            likes=2,
            created_at=ANNOUNCED,
        ),
    ]

    result = await source(fake).measure(papers, NOW)

    by_id = {m.paper_id: m.metrics for m in result.measurements}
    assert by_id[old]["likes"] == 40.0 and by_id["2611.00001"]["likes"] == 2.0
    assert [q["q"] for q in searches(fake)] == ["arxiv.org", old]


async def test_a_failed_sweep_is_one_error_and_the_run_goes_on(fake: FakeBluesky) -> None:
    old = "2604.04567"
    papers = [*many_papers(201), PaperRef(old, "old", ANNOUNCED)]
    fake.fail("500", match="q=arxiv.org", times=None)

    result = await source(fake, max_retries=1).measure(papers, NOW)

    assert len(result.errors) == 1 and result.stopped is None
    assert result.errors[0].startswith("Bluesky search for arXiv posts since 2026-11-19 01:00 UTC")
    assert "HTTP 500" in result.errors[0] and "201 papers not measured" in result.errors[0]
    assert [m.paper_id for m in result.measurements] == [old]


async def test_the_fake_filters_by_since_until_and_sorts(fake: FakeBluesky) -> None:
    times = [datetime(2026, 11, d, 12, tzinfo=UTC) for d in (18, 19, 20, 21)]
    fake.posts = [
        bluesky_post(
            f"u{n}.bsky.social", "p", links=[f"https://arxiv.org/abs/{A}"], likes=n, created_at=t
        )
        for n, t in enumerate(times)
    ]
    async with aiohttp.ClientSession() as session:
        login = f"{fake.base_url}/com.atproto.server.createSession"
        async with session.post(
            login, json={"identifier": HANDLE, "password": PASSWORD}
        ) as response:
            token = (await response.json())["accessJwt"]
        headers = {"Authorization": f"Bearer {token}"}
        url = f"{fake.base_url}/app.bsky.feed.searchPosts"

        async def likes(**params: str) -> list[int]:
            async with session.get(url, params={"q": "*", **params}, headers=headers) as response:
                assert response.status == 200
                return [p["likeCount"] for p in (await response.json())["posts"]]

        assert await likes() == [3, 2, 1, 0]
        assert await likes(since="2026-11-19T12:00:00.000Z") == [3, 2, 1]
        assert await likes(since="2026-11-19", until="2026-11-21T00:00:00Z") == [2, 1]
        assert await likes(sort="top", domain="arxiv.org") == [3, 2, 1, 0]
        async with session.get(
            url, params={"q": "*", "since": "soon"}, headers=headers
        ) as response:
            assert response.status == 400
