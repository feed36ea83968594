"""Bluesky source: the real atproto SDK (httpx) against the local fake XRPC server."""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from datetime import UTC, datetime, timedelta

import aiohttp
import pytest
from pydantic import SecretStr

from hotpapers.config import BlueskySettings
from hotpapers.fakes.social import FakeBluesky, bluesky_post, generate_bluesky_posts
from hotpapers.signals._http import arxiv_link_id
from hotpapers.signals.base import PaperRef, SignalSource, SourceResult
from hotpapers.signals.bluesky import PASSWORD_ENV, BlueskySource

A, B, C = "2611.01234", "2611.05678", "2611.09999"
NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
PAPERS = [PaperRef(i, f"Paper {i}", datetime(2026, 11, 20, 1, tzinfo=UTC)) for i in (A, B, C)]
HANDLE, PASSWORD = "hotpapers.bsky.social", "abcd-efgh-ijkl-mnop"


def known_posts() -> list[dict[str, object]]:
    alice = bluesky_post(
        "alice.bsky.social",
        "Our new paper!",
        links=[f"https://arxiv.org/abs/{A}"],
        likes=10,
        reposts=2,
        replies=1,
        quotes=1,
        rkey="3lalice0000a",
    )
    return [
        alice,
        # alice again in her thread: the same author counts once per paper (her best post)
        bluesky_post(
            "alice.bsky.social",
            "2/ details",
            links=[f"https://arxiv.org/pdf/{A}v2"],
            likes=3,
            rkey="3lalice0000b",
        ),
        # a link card only, versioned pdf
        bluesky_post(
            "bob.bsky.social",
            "Reading this",
            card=f"https://arxiv.org/pdf/{A}v1",
            likes=5,
            reposts=1,
            rkey="3lbob000000a",
        ),
        # a quote post that does not link again: its own post all the same
        bluesky_post(
            "carol.bsky.social",
            "This is great",
            quote_of=alice,
            likes=4,
            replies=2,
            rkey="3lcarol0000a",
        ),
        # mentions A but links B: counts for B only
        bluesky_post(
            "dave.bsky.social",
            f"Unlike {A}, this works:",
            links=[f"https://arxiv.org/abs/{B}"],
            likes=7,
            rkey="3ldave00000a",
        ),
        # not arXiv links: never counted
        bluesky_post(
            "erin.bsky.social",
            f"Code for {A}",
            links=[f"https://github.com/e/{A}"],
            likes=50,
            rkey="3lerin00000a",
        ),
        bluesky_post(
            "frank.bsky.social",
            f"Mirror of {A}",
            links=[f"https://notarxiv.org/abs/{A}"],
            likes=60,
            rkey="3lfrank0000a",
        ),
    ]


@pytest.fixture
async def fake() -> AsyncIterator[FakeBluesky]:
    server = FakeBluesky({HANDLE: PASSWORD})
    server.add(*known_posts())
    await server.start()
    yield server
    await server.close()


def source(fake: FakeBluesky, password: str | None = PASSWORD, **kwargs: object) -> BlueskySource:
    settings = BlueskySettings(
        enabled=True,
        api_url=fake.base_url,
        handle=HANDLE,
        app_password=SecretStr(password) if password is not None else None,
    )
    options: dict[str, object] = {"rate": 1000.0, "backoff": 0.01, "timeout": 5.0}
    options.update(kwargs)
    return BlueskySource(settings, **options)  # type: ignore[arg-type]


async def test_counts_original_posts_once_per_author(fake: FakeBluesky) -> None:
    bsky: SignalSource = source(fake)
    assert bsky.problem() is None

    result = await bsky.measure(PAPERS, NOW)

    assert result.errors == [] and result.stopped is None
    by_id = {m.paper_id: m for m in result.measurements}
    assert by_id[A].metrics == {
        "likes": 19.0,  # alice 10 (her best post) + bob 5 + carol 4
        "reposts": 3.0,
        "quotes": 1.0,
        "replies": 3.0,
        "posts": 3.0,
    }
    assert by_id[B].metrics == {
        "likes": 7.0,
        "reposts": 0.0,
        "quotes": 0.0,
        "replies": 0.0,
        "posts": 1.0,
    }
    assert by_id[C].metrics["posts"] == 0.0 and by_id[C].posts == []
    posts = {p.author_handle: p for p in by_id[A].posts}
    assert set(posts) == {"alice.bsky.social", "bob.bsky.social", "carol.bsky.social"}
    alice = posts["alice.bsky.social"]
    assert alice.url == "https://bsky.app/profile/alice.bsky.social/post/3lalice0000a"
    assert alice.post_id.startswith("at://did:plc:") and alice.author_id.startswith("did:plc:")
    assert (alice.likes, alice.reposts, alice.replies, alice.quotes) == (10, 2, 1, 1)
    assert alice.source == "bluesky" and not alice.is_repost and alice.created_at is not None
    assert "Our new paper!" in alice.text

    login, *searches = fake.requests
    assert login.path == "/xrpc/com.atproto.server.createSession"
    assert [s.query["q"] for s in searches] == [A, B, C]
    assert all(s.query["domain"] == "arxiv.org" and s.query["limit"] == "100" for s in searches)
    assert all((s.authorization or "").startswith("Bearer ") for s in searches)
    assert result.requests == 4


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


async def test_generated_posts_count_one_linking_post_per_author(fake: FakeBluesky) -> None:
    ids = [f"2611.{n:05d}" for n in range(1, 9)]
    fake.posts = generate_bluesky_posts(ids, seed=5)

    result = await source(fake).measure([PaperRef(i, "t") for i in ids], NOW)

    assert result.errors == []
    for m in result.measurements:
        authors = set()
        for post in fake.posts:
            links = [f["features"][0]["uri"] for f in post["record"].get("facets", [])]
            embed = post.get("embed", {})
            links += [embed.get("external", {}).get("uri", "")]
            quoted = embed.get("record", {}).get("value", {})
            links += [f["features"][0]["uri"] for f in quoted.get("facets", [])]
            if m.paper_id in {arxiv_link_id(link) for link in links if link}:
                authors.add(post["author"]["did"])
        assert m.metrics["posts"] == len(authors) == len(m.posts)


FAULTS = [
    ("500", {"times": None}, "HTTP 500"),
    ("html", {}, "HTML page"),
    ("html", {"status": 503, "times": None}, "HTTP 503 with an HTML error page"),
    ("malformed", {}, "malformed JSON"),
    ("missing_fields", {}, "missing or mistyped fields"),
    ("wrong_types", {}, "missing or mistyped fields"),
    ("slow", {"times": None, "delay": 1.0}, "no answer within 0.3 s after 2 attempts"),
]


@pytest.mark.parametrize(("kind", "options", "reason"), FAULTS)
async def test_a_fault_is_one_error_and_the_other_papers_are_measured(
    fake: FakeBluesky, kind: str, options: dict[str, object], reason: str
) -> None:
    fake.fail(kind, match=f"q={A}", **options)  # type: ignore[arg-type]

    result = await source(fake, timeout=0.3, max_retries=1).measure(PAPERS, NOW)

    assert len(result.errors) == 1
    assert result.errors[0].startswith(f"Bluesky search for {A} failed: ")
    assert reason in result.errors[0]
    assert [m.paper_id for m in result.measurements] == [B, C]
    assert result.stopped is None


async def test_429_waits_for_retry_after_then_succeeds(fake: FakeBluesky) -> None:
    fake.fail("429", match=f"q={A}", retry_after=0.3)

    result = await source(fake).measure(PAPERS[:1], NOW)

    assert result.errors == []
    assert result.measurements[0].metrics["posts"] == 3.0
    first, second = fake.requests_to("searchPosts")
    assert first.fault == "429" and second.fault is None
    assert second.at - first.at >= 0.3


@pytest.mark.parametrize(
    ("handle", "password", "names"),
    [
        ("", None, ["signals.bluesky.handle", PASSWORD_ENV]),
        (HANDLE, None, [PASSWORD_ENV]),
        (HANDLE, "", [PASSWORD_ENV]),
        ("", PASSWORD, ["signals.bluesky.handle"]),
    ],
)
async def test_missing_credentials_are_a_problem_sentence(
    fake: FakeBluesky, handle: str, password: str | None, names: list[str]
) -> None:
    settings = BlueskySettings(
        api_url=fake.base_url,
        handle=handle,
        app_password=SecretStr(password) if password is not None else None,
    )
    bsky = BlueskySource(settings)

    problem = bsky.problem()

    assert problem is not None and problem.endswith(".") and problem.count(". ") == 0
    assert all(name in problem for name in names)
    result = await bsky.measure(PAPERS, NOW)
    assert result.measurements == [] and result.errors == [problem]
    assert fake.requests == []


async def test_a_wrong_password_is_a_clear_error_naming_the_setting(fake: FakeBluesky) -> None:
    result = await source(fake, password="wrong-password").measure(PAPERS, NOW)

    assert result.measurements == []
    assert result.errors == [
        f"Bluesky rejected the login for {HANDLE} (HTTP 401 AuthenticationRequired: "
        f"Invalid identifier or password): check {PASSWORD_ENV}."
    ]
    assert result.stopped == "Bluesky rejected the login"
    assert fake.requests_to("searchPosts") == []
    assert PASSWORD not in str(result)


async def test_a_401_on_login_is_reported_the_same_way(fake: FakeBluesky) -> None:
    fake.fail("401", match="createSession")

    result = await source(fake).measure(PAPERS, NOW)

    assert result.measurements == []
    assert result.errors[0].startswith(f"Bluesky rejected the login for {HANDLE} (HTTP 401")
    assert PASSWORD_ENV in result.errors[0]


async def test_a_login_that_keeps_failing_stops_the_run_without_raising(
    fake: FakeBluesky,
) -> None:
    fake.fail("500", match="createSession", times=None)

    result = await source(fake, max_retries=2).measure(PAPERS, NOW)

    assert result.measurements == [] and result.stopped == "Bluesky login failed"
    assert result.errors == [
        f"Bluesky login for {HANDLE} failed: HTTP 500 InternalServerError: "
        "Internal Server Error after 3 attempts."
    ]
    assert len(fake.requests_to("createSession")) == 3 == result.requests


async def test_a_rate_limited_login_waits_then_measures(fake: FakeBluesky) -> None:
    fake.fail("429", match="createSession", retry_after=0.2)

    result = await source(fake).measure(PAPERS, NOW)

    assert result.errors == [] and len(result.measurements) == 3
    first, second = fake.requests_to("createSession")
    assert second.at - first.at >= 0.2


async def test_an_expired_token_logs_in_again_and_carries_on(fake: FakeBluesky) -> None:
    def expire_before_b(query: Mapping[str, str]) -> None:
        if query.get("q") == B and not fake.expired:
            fake.expire_tokens()

    fake.before_search = expire_before_b

    result = await source(fake).measure(PAPERS, NOW)

    assert result.errors == []
    assert [m.paper_id for m in result.measurements] == [A, B, C]
    assert len(fake.requests_to("createSession")) == 2
    assert [r.query["q"] for r in fake.requests_to("searchPosts")] == [A, B, B, C]


async def test_an_expired_token_with_a_changed_password_stops_naming_the_setting(
    fake: FakeBluesky,
) -> None:
    def revoke_before_b(query: Mapping[str, str]) -> None:
        if query.get("q") == B:
            fake.accounts[HANDLE] = "a-new-password"
            fake.expire_tokens()

    fake.before_search = revoke_before_b

    result = await source(fake).measure(PAPERS, NOW)

    assert [m.paper_id for m in result.measurements] == [A]
    assert len(result.errors) == 1 and PASSWORD_ENV in result.errors[0]
    assert result.errors[0].startswith(f"Bluesky rejected the login for {HANDLE}")
    assert result.stopped == "Bluesky rejected the login"


async def test_the_fake_requires_the_session_token(fake: FakeBluesky) -> None:
    async with aiohttp.ClientSession() as session:
        url = f"{fake.base_url}/app.bsky.feed.searchPosts"
        async with session.get(url, params={"q": A}) as response:
            assert response.status == 401
            assert await response.json() == {
                "error": "AuthenticationRequired",
                "message": "Authentication Required",
            }
        login = f"{fake.base_url}/com.atproto.server.createSession"
        body = {"identifier": HANDLE, "password": PASSWORD}
        async with session.post(login, json=body) as response:
            session_data = await response.json()
        assert "didDoc" not in session_data and session_data["handle"] == HANDLE
        headers = {"Authorization": f"Bearer {session_data['accessJwt']}"}
        async with session.get(url, params={"q": A, "limit": "2"}, headers=headers) as response:
            page = await response.json()
    assert len(page["posts"]) == 2 and page["cursor"] == "2" and page["hitsTotal"] >= 3
    view = page["posts"][0]
    assert {
        "uri",
        "cid",
        "author",
        "record",
        "likeCount",
        "repostCount",
        "replyCount",
        "quoteCount",
        "indexedAt",
    } <= set(view)
    assert view["record"]["$type"] == "app.bsky.feed.post"


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
