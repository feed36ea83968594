"""XSource against FakeX: the real tweepy AsyncClient over HTTP on 127.0.0.1."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import aiohttp
import pytest
from pydantic import SecretStr

from hotpapers.arxiv.ids import find_ids
from hotpapers.config import XSignalSettings
from hotpapers.fakes.x import FakeTweet, FakeX, generate_posts, url_matches
from hotpapers.signals.base import Budget, PaperRef, SignalSource, SourceResult
from hotpapers.signals.x import XSource
from hotpapers.signals.x._query import (
    MAX_QUERY_LENGTH,
    SWEEP_QUERY,
    batch_query,
    batched_queries,
    paper_term,
    query_length,
)

TOKEN = "test-bearer-token"
NOW = datetime.now(UTC)
ANNOUNCED = NOW - timedelta(hours=20)
PAPER = "2611.01234"
OTHER = "2611.04321"


@pytest.fixture
async def fake() -> AsyncIterator[FakeX]:
    async with FakeX(bearer_token=TOKEN) as server:
        yield server


def make_settings(fake: FakeX, **overrides: Any) -> XSignalSettings:
    values: dict[str, Any] = {
        "enabled": True,
        "api_url": fake.api_url,
        "oembed_url": fake.oembed_url,
        "bearer_token": SecretStr(TOKEN),
        "daily_budget_usd": 100.0,
    }
    values.update(overrides)
    return XSignalSettings(**values)


def papers(*ids: str) -> list[PaperRef]:
    return [PaperRef(arxiv_id, f"Paper {arxiv_id}", ANNOUNCED) for arxiv_id in ids]


async def measure(
    fake: FakeX,
    ids: list[str] | tuple[str, ...],
    *,
    strategy: str = "batched",
    budget: Budget | None = None,
    settings: XSignalSettings | None = None,
    **kwargs: Any,
) -> SourceResult:
    source = XSource(settings or make_settings(fake), strategy=strategy, **kwargs)  # type: ignore[arg-type]
    return await source.measure(papers(*ids), NOW, budget)


def by_paper(result: SourceResult) -> dict[str, dict[str, float]]:
    return {m.paper_id: m.metrics for m in result.measurements}


def when(hours_ago: float) -> datetime:
    return NOW - timedelta(hours=hours_ago)


# --- counting rules -------------------------------------------------------------------------


async def test_retweet_copies_never_change_metrics(fake: FakeX) -> None:
    first = fake.add_post(
        "alice", urls=[f"https://arxiv.org/abs/{PAPER}"], retweets=20, likes=100, replies=3,
        created_at=when(5),
    )  # fmt: skip
    second = fake.add_post(
        "bob", urls=[f"https://arxiv.org/pdf/{PAPER}v2"], retweets=1, likes=7, created_at=when(4)
    )
    before = await measure(fake, [PAPER])
    assert by_paper(before)[PAPER] == {
        "retweets": 21.0, "likes": 107.0, "replies": 3.0, "quotes": 0.0, "posts": 2.0,
    }  # fmt: skip
    for n in range(5):
        fake.add_retweet(first, f"fan{n}")
    fake.add_retweet(second, "carol")
    after = await measure(fake, [PAPER])
    assert by_paper(after) == by_paper(before)
    assert all(not post.is_repost for post in after.measurements[0].posts)
    assert {post.post_id for post in after.measurements[0].posts} == {first.id, second.id}


async def test_quote_posts_count_as_their_own_posts(fake: FakeX) -> None:
    original = fake.add_post(
        "alice", urls=[f"https://arxiv.org/abs/{PAPER}"], retweets=2, likes=10, created_at=when(5)
    )
    quote = fake.add_post(
        "bob",
        urls=[f"https://arxiv.org/html/{PAPER}v1"],
        quote_of=original,
        retweets=1,
        likes=5,
        quotes=0,
        created_at=when(3),
    )
    result = await measure(fake, [PAPER])
    metrics = by_paper(result)[PAPER]
    assert metrics["posts"] == 2.0
    assert metrics["likes"] == 15.0
    assert metrics["retweets"] == 3.0
    assert [post.post_id for post in result.measurements[0].posts] == [original.id, quote.id]


async def test_two_posts_by_one_account_both_count(fake: FakeX) -> None:
    """The classic count: every original post adds, two by the same account both."""
    first = fake.add_post(
        "alice", urls=[f"https://arxiv.org/abs/{PAPER}"], likes=10, created_at=when(6)
    )
    best = fake.add_post(
        "alice", urls=[f"https://arxiv.org/pdf/{PAPER}"], likes=30, retweets=4, created_at=when(2)
    )
    fake.add_post("bob", urls=[f"https://arxiv.org/abs/{PAPER}v1"], likes=1, created_at=when(1))
    result = await measure(fake, [PAPER])
    metrics = by_paper(result)[PAPER]
    assert metrics["posts"] == 3.0
    assert metrics["likes"] == 41.0
    assert metrics["retweets"] == 4.0
    assert [post.post_id for post in result.measurements[0].posts][:2] == [best.id, first.id]
    top = result.measurements[0].posts[0]
    assert top.url == f"https://x.com/alice/status/{best.id}"
    assert top.author_handle == "alice"
    assert top.created_at is not None


async def test_ignored_accounts_are_skipped_case_insensitively(fake: FakeX) -> None:
    fake.add_post(
        "ArxivBot", urls=[f"https://arxiv.org/abs/{PAPER}"], likes=500, created_at=when(3)
    )
    fake.add_post("alice", urls=[f"https://arxiv.org/abs/{PAPER}"], likes=2, created_at=when(2))
    settings = make_settings(fake, ignore_accounts=["@arxivbot"])
    metrics = by_paper(await measure(fake, [PAPER], settings=settings))[PAPER]
    assert metrics["posts"] == 1.0
    assert metrics["likes"] == 2.0


async def test_posts_linking_several_papers_count_for_each_and_others_are_ignored(
    fake: FakeX,
) -> None:
    fake.add_post(
        "alice",
        urls=[f"https://arxiv.org/abs/{PAPER}", f"https://arxiv.org/pdf/{OTHER}v3"],
        likes=9,
        created_at=when(3),
    )
    fake.add_post("bob", urls=["https://arxiv.org/abs/2611.09999"], likes=50, created_at=when(3))
    fake.add_post("carol", urls=[f"https://example.org/{PAPER}"], likes=70, created_at=when(3))
    metrics = by_paper(await measure(fake, [PAPER, OTHER, "2611.00001"]))
    assert metrics[PAPER]["likes"] == 9.0
    assert metrics[OTHER]["likes"] == 9.0
    assert metrics["2611.00001"]["posts"] == 0.0  # fully searched: a real zero


async def test_old_style_ids_are_found(fake: FakeX) -> None:
    fake.add_post(
        "alice", urls=["http://arxiv.org/abs/hep-th/9901001v2"], likes=3, created_at=when(2)
    )
    metrics = by_paper(await measure(fake, ["hep-th/9901001"]))
    assert metrics["hep-th/9901001"]["likes"] == 3.0


async def test_at_most_ten_top_posts_most_engaging_first(fake: FakeX) -> None:
    for n in range(14):
        fake.add_post(
            f"user{n}", urls=[f"https://arxiv.org/abs/{PAPER}"], likes=n, created_at=when(2)
        )
    result = await measure(fake, [PAPER])
    posts = result.measurements[0].posts
    assert len(posts) == 10
    assert [post.likes for post in posts] == list(range(13, 3, -1))
    assert result.measurements[0].metrics["posts"] == 14.0


# --- strategies and queries -------------------------------------------------------------------


def _expected(posts: list[FakeTweet], ids: set[str]) -> dict[str, set[str]]:
    """Oracle: per paper, every original post that links it."""
    found: dict[str, set[str]] = {}
    for post in posts:
        if post.is_retweet:
            continue
        for arxiv_id in {i for url in post.urls for i in find_ids(url)} & ids:
            found.setdefault(arxiv_id, set()).add(post.id)
    return found


async def test_both_strategies_find_the_same_posts(fake: FakeX) -> None:
    ids = [f"2611.{n:05d}" for n in range(80)] + ["cond-mat/0601001"]
    generated = generate_posts(
        ids, seed=7, now=NOW, since=ANNOUNCED, linked_fraction=0.5, unrelated=150
    )
    generated += generate_posts(["cond-mat/0601001"], seed=8, now=NOW, linked_fraction=1.0)
    for post in generated:
        fake.add(post)
    batched = await measure(fake, ids, strategy="batched")
    sweep = await measure(fake, ids, strategy="sweep")
    assert batched.errors == sweep.errors == []

    def post_ids(result: SourceResult) -> dict[str, set[str]]:
        return {m.paper_id: {p.post_id for p in m.posts} for m in result.measurements if m.posts}

    assert by_paper(batched) == by_paper(sweep)
    assert post_ids(batched) == post_ids(sweep)
    expected = _expected(generated, set(ids))
    assert {k: len(v) for k, v in expected.items()} == {
        k: int(v["posts"]) for k, v in by_paper(batched).items() if v["posts"]
    }
    assert len(by_paper(batched)) == len(ids)  # every paper fully searched, zeros included


async def test_queries_never_exceed_the_limit_and_are_packed(fake: FakeX) -> None:
    ids = [f"2611.{n:05d}" for n in range(200)] + [f"math.AG/06{n:05d}" for n in range(40)]
    ids += [f"1501.{n:04d}" for n in range(60)]
    result = await measure(fake, ids)
    assert result.errors == []
    assert fake.queries, "no query was sent"
    assert all(query_length(q) <= MAX_QUERY_LENGTH for q in fake.queries)
    batches = list(batched_queries(ids))
    assert [q for q, _ in batches] == fake.queries
    assert sum(len(batch) for _, batch in batches) == len(ids)
    for query, batch in batches[:-1]:  # full: the next id would not have fitted
        following = ids[ids.index(batch[-1]) + 1]
        assert query_length(batch_query([*batch, following])) > MAX_QUERY_LENGTH
        assert query == batch_query(batch)


def test_query_terms_match_every_link_form() -> None:
    for link in (
        f"https://arxiv.org/abs/{PAPER}",
        f"https://arxiv.org/abs/{PAPER}v3",
        f"http://www.arxiv.org/pdf/{PAPER}v1",
        f"https://arxiv.org/pdf/{PAPER}.pdf",
        f"https://arxiv.org/html/{PAPER}v2",
    ):
        assert url_matches(paper_term(PAPER)[5:-1], link)
        assert url_matches("arxiv.org", link)
    assert not url_matches(paper_term(PAPER)[5:-1], "https://arxiv.org/abs/2611.012345")
    assert SWEEP_QUERY == 'url:"arxiv.org" -is:retweet'


async def test_pagination_follows_next_token(fake: FakeX) -> None:
    for n in range(250):
        fake.add_post(
            f"user{n}", urls=[f"https://arxiv.org/abs/{PAPER}"], likes=1, created_at=when(3)
        )
    for strategy in ("batched", "sweep"):
        fake.requests = 0
        result = await measure(fake, [PAPER], strategy=strategy)
        assert by_paper(result)[PAPER]["posts"] == 250.0
        assert result.requests == fake.requests == 3


async def test_shared_session_is_routed_to_the_configured_api(fake: FakeX) -> None:
    fake.add_post("alice", urls=[f"https://arxiv.org/abs/{PAPER}"], likes=4, created_at=when(3))
    async with aiohttp.ClientSession() as session:
        source = XSource(make_settings(fake), session)
        result = await source.measure(papers(PAPER), NOW)
    assert result.errors == []
    assert by_paper(result)[PAPER]["likes"] == 4.0


# --- budget ---------------------------------------------------------------------------------


async def test_budget_stops_before_overspending_and_keeps_partial_results(fake: FakeX) -> None:
    for n in range(250):
        fake.add_post(
            f"user{n}", urls=[f"https://arxiv.org/abs/{PAPER}"], likes=2, created_at=when(3)
        )
    settings = make_settings(fake, daily_budget_usd=0.6, price_per_read_usd=0.005)
    budget = Budget(remaining_usd=0.6)
    result = await measure(fake, [PAPER], settings=settings, budget=budget)
    assert result.stopped == "daily X budget of $0.60 reached"
    assert fake.reads_returned == 120  # a page of 100, then the 20 the rest still paid for
    assert budget.units == fake.reads_returned
    assert budget.spent == fake.reads_returned * 5_000 and budget.remaining == 0
    assert result.budget is budget
    assert by_paper(result)[PAPER]["posts"] == 120.0  # partial, kept


async def test_budget_below_one_page_makes_no_request(fake: FakeX) -> None:
    fake.add_post("alice", urls=[f"https://arxiv.org/abs/{PAPER}"], likes=2, created_at=when(3))
    settings = make_settings(fake, daily_budget_usd=1.0)
    result = await measure(fake, [PAPER], settings=settings, budget=Budget(remaining_usd=0.04))
    assert result.stopped == "daily X budget of $1.00 reached"
    assert fake.requests == 0
    assert result.measurements == []


async def test_refused_request_gives_its_reservation_back(fake: FakeX) -> None:
    """X answered 503: no posts came back, so nothing stays reserved for that request."""
    for n in range(150):
        fake.add_post(f"user{n}", urls=[f"https://arxiv.org/abs/{PAPER}"], created_at=when(3))
    fake.fail_next(503, after=1)
    budget = Budget(remaining_usd=1.0)
    result = await measure(fake, [PAPER], budget=budget)
    assert "HTTP 503" in result.errors[0] and fake.reads_returned == 100
    assert (budget.spent, budget.units, budget.remaining) == (500_000, 100, 500_000)


async def test_request_without_an_answer_stays_spent(fake: FakeX) -> None:
    """The answer never came (timeout): X may have billed the page, so its reservation
    stays spent - the budget over-counts rather than under-counts."""
    fake.add_post("alice", urls=[f"https://arxiv.org/abs/{PAPER}"], created_at=when(3))
    fake.hold_next()
    budget = Budget(remaining_usd=1.0)
    result = await measure(fake, [PAPER], budget=budget, timeout=0.3)
    fake.release()
    assert "did not answer" in result.errors[0]
    assert (budget.spent, budget.units, budget.remaining) == (500_000, 0, 500_000)


# --- rate limits ------------------------------------------------------------------------------


async def test_429_waits_for_the_reset_then_succeeds(fake: FakeX) -> None:
    fake.add_post("alice", urls=[f"https://arxiv.org/abs/{PAPER}"], likes=4, created_at=when(3))
    fake.exhaust_rate_limit(reset_in=1.0)
    result = await measure(fake, [PAPER], rate_limit_margin=0.2)
    assert fake.rate_limited == 1
    assert result.errors == []
    assert result.stopped is None
    assert result.requests == 2
    assert by_paper(result)[PAPER]["likes"] == 4.0


async def test_spent_window_is_waited_out_before_the_next_request() -> None:
    async with FakeX(bearer_token=TOKEN, rate_limit=1, rate_window=1.0) as fake:
        for n in range(150):
            fake.add_post(
                f"user{n}", urls=[f"https://arxiv.org/abs/{PAPER}"], likes=1, created_at=when(3)
            )
        result = await measure(fake, [PAPER], rate_limit_margin=0.2)
        assert fake.rate_limited == 0  # remaining=0 was read from the headers and honoured
        assert result.requests == 2
        assert by_paper(result)[PAPER]["posts"] == 150.0


async def test_rate_limit_reset_too_far_away_stops_with_a_reason(fake: FakeX) -> None:
    fake.add_post("alice", urls=[f"https://arxiv.org/abs/{PAPER}"], likes=4, created_at=when(3))
    fake.exhaust_rate_limit(reset_in=600)
    result = await measure(fake, [PAPER], max_rate_limit_wait=30)
    assert result.stopped is not None
    assert "rate limit" in result.stopped
    assert "30 s" in result.stopped
    assert result.measurements == []


# --- failures ---------------------------------------------------------------------------------


async def test_wrong_token_gives_one_sentence_naming_the_setting(fake: FakeX) -> None:
    settings = make_settings(fake, bearer_token=SecretStr("wrong"))
    result = await measure(fake, [PAPER, OTHER], settings=settings)
    assert result.errors == [
        "X rejected the bearer token (HTTP 401): check HOTPAPERS_SIGNALS__X__BEARER_TOKEN"
    ]
    assert result.requests == 1
    assert result.measurements == []


async def test_403_names_the_setting(fake: FakeX) -> None:
    fake.fail_next(403)
    result = await measure(fake, [PAPER])
    assert len(result.errors) == 1
    assert "HTTP 403" in result.errors[0]
    assert "HOTPAPERS_SIGNALS__X__BEARER_TOKEN" in result.errors[0]


@pytest.mark.parametrize("fault", ["500", "malformed", "html"])
async def test_server_failure_is_recorded_and_gathered_posts_kept(fake: FakeX, fault: str) -> None:
    for n in range(150):
        fake.add_post(
            f"user{n}", urls=[f"https://arxiv.org/abs/{PAPER}"], likes=1, created_at=when(3)
        )
    if fault == "500":
        fake.fail_next(500, after=1)
    elif fault == "malformed":
        fake.malformed_next(after=1)
    else:
        fake.html_error_next(503, after=1)
    result = await measure(fake, [PAPER])
    assert len(result.errors) == 1
    assert result.errors[0].startswith("X ")
    expected = {"500": "HTTP 500", "malformed": "malformed JSON", "html": "non-JSON"}[fault]
    assert expected in result.errors[0]
    assert by_paper(result)[PAPER]["posts"] == 100.0  # the first page


@pytest.mark.parametrize("shared_session", [False, True])
async def test_timeout_is_recorded(fake: FakeX, shared_session: bool) -> None:
    fake.slow_next(3.0)
    async with aiohttp.ClientSession() as session:
        source = XSource(make_settings(fake), session if shared_session else None, timeout=0.3)
        result = await source.measure(papers(PAPER), NOW)
    assert len(result.errors) == 1
    assert "did not answer" in result.errors[0]


async def test_unreachable_api_is_recorded() -> None:
    fake = FakeX(bearer_token=TOKEN)
    await fake.start()
    await fake.close()  # nothing listens there any more
    result = await measure(fake, [PAPER])
    assert result.errors == []  # one sentence for the run, not an error per query
    assert result.stopped is not None and result.stopped.startswith("cannot reach X at ")
    assert result.measurements == []


async def test_rejected_query_skips_that_batch_only(fake: FakeX) -> None:
    ids = [f"2611.{n:05d}" for n in range(30)]  # two queries
    fake.add_post("alice", urls=[f"https://arxiv.org/abs/{ids[0]}"], likes=1, created_at=when(2))
    fake.add_post("bob", urls=[f"https://arxiv.org/abs/{ids[-1]}"], likes=2, created_at=when(2))
    fake.fail_next(400)
    result = await measure(fake, ids)
    assert len(result.errors) == 1
    assert "HTTP 400" in result.errors[0]
    metrics = by_paper(result)
    assert ids[0] not in metrics  # its batch failed: no false zero
    assert metrics[ids[-1]]["likes"] == 2.0


async def test_missing_token_is_a_problem_and_nothing_is_requested(fake: FakeX) -> None:
    settings = make_settings(fake, bearer_token=None)
    source: SignalSource = XSource(settings)  # satisfies the Protocol
    assert source.name == "x"
    assert source.problem() == (
        "X signals are enabled but HOTPAPERS_SIGNALS__X__BEARER_TOKEN is not set"
    )
    result = await source.measure(papers(PAPER), NOW)
    assert result.errors == [source.problem()]
    assert fake.requests == 0
    assert XSource(make_settings(fake, bearer_token=SecretStr(" "))).problem() is not None
    assert XSource(make_settings(fake)).problem() is None


# --- the fake's population ----------------------------------------------------------------------


def test_generated_posts_have_the_shapes_the_rules_need() -> None:
    ids = [f"2611.{n:05d}" for n in range(400)]
    posts = generate_posts(ids, seed=3, now=NOW, unrelated=50, repeat_rate=0.2)
    by_id = {post.id: post for post in posts}
    retweets = [post for post in posts if post.is_retweet and post.retweet_of in by_id]
    assert retweets
    for copy in retweets:
        original = by_id[copy.retweet_of or ""]
        assert (copy.retweets, copy.likes) == (original.retweets, original.likes)
    assert any(post.is_quote for post in posts)
    seen: dict[tuple[str, str], int] = {}
    for post in posts:
        if not post.is_retweet:
            for arxiv_id in {i for url in post.urls for i in find_ids(url)}:
                seen[(arxiv_id, post.author.id)] = seen.get((arxiv_id, post.author.id), 0) + 1
    assert max(seen.values()) >= 2
    links = " ".join(url for post in posts for url in post.urls)
    assert "/pdf/" in links and "/html/" in links and "v2" in links
    assert len({post.id for post in posts}) == len(posts)
