"""Seeded made-up X posts about papers (links in every form, retweets, quotes, unrelated posts)."""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from hotpapers.fakes.x.model import SEARCH_WINDOW, FakeTweet, FakeUser, snowflake


def _paper_link(arxiv_id: str, rng: random.Random) -> str:
    kind = rng.choices(("abs", "pdf", "html"), weights=(6, 3, 1))[0]
    version = f"v{rng.randint(1, 3)}" if rng.random() < 0.3 else ""
    host = "arxiv.org" if rng.random() < 0.9 else "www.arxiv.org"
    scheme = "https" if rng.random() < 0.95 else "http"
    if kind == "html":
        return f"{scheme}://{host}/html/{arxiv_id}{version or 'v1'}"
    return f"{scheme}://{host}/{kind}/{arxiv_id}{version}"


def _engagement(rng: random.Random) -> tuple[int, int, int, int]:
    likes = int(rng.paretovariate(1.2)) - 1
    likes = min(likes * rng.randint(1, 5), 50_000)
    retweets = int(likes * rng.uniform(0.05, 0.4))
    replies = int(likes * rng.uniform(0.0, 0.1))
    quotes = int(retweets * rng.uniform(0.0, 0.2))
    return retweets, likes, replies, quotes


def _unrelated_id(rng: random.Random, avoid: set[str]) -> str:
    arxiv_id = _random_id(rng)
    while arxiv_id in avoid:
        arxiv_id = _random_id(rng)
    return arxiv_id


def _random_id(rng: random.Random) -> str:
    if rng.random() < 0.05:
        return f"hep-th/{rng.randint(91, 99):02d}{rng.randint(1, 12):02d}{rng.randint(1, 999):03d}"
    year = rng.randint(15, 26)
    return f"{year:02d}{rng.randint(1, 12):02d}.{rng.randint(1, 29999):05d}"


def generate_posts(
    arxiv_ids: Sequence[str],
    seed: int = 0,
    *,
    now: datetime | None = None,
    since: datetime | None = None,
    linked_fraction: float = 0.3,
    max_links: int = 20,
    retweet_rate: float = 0.5,
    quote_rate: float = 0.1,
    repeat_rate: float = 0.05,
    unrelated: int = 0,
    authors: int = 2000,
) -> list[FakeTweet]:
    """Posts linking `arxiv_ids` the way a day on X looks, deterministic for a `seed`.

    `linked_fraction` of the papers get 1..`max_links` original posts (heavy-tailed: most get
    one or two) linking abs/pdf/html URLs, with or without a version, posted after `since`;
    each original gets retweet copies (carrying its counts) with probability `retweet_rate`,
    quote posts (which link the paper too) with `quote_rate`, and its author posts the same
    paper again with `repeat_rate`. `unrelated` more posts link other arXiv papers anywhere in
    the 7-day window.
    """
    rng = random.Random(seed)
    now = now or datetime.now(UTC)
    since = since or now - timedelta(days=1)
    window_start = now - SEARCH_WINDOW + timedelta(minutes=5)
    pool = [FakeUser(str(20_000_000 + n), f"user{n:05d}", f"User {n}") for n in range(authors)]
    day = _Timeline(rng, now, pool)
    for arxiv_id in arxiv_ids:
        if rng.random() >= linked_fraction:
            continue
        count = min(max_links, max(1, int(rng.paretovariate(1.3))))
        for _ in range(count):
            original = _original(day, arxiv_id, since)
            if rng.random() < retweet_rate:
                _retweets(day, original)
            if rng.random() < quote_rate:
                _quote(day, arxiv_id, original)
            if rng.random() < repeat_rate:
                _repeat(day, arxiv_id, original)
    wanted = set(arxiv_ids)
    for _ in range(unrelated):
        counts = _counts(rng)
        day.make(
            rng.choice(pool),
            [_paper_link(_unrelated_id(rng, wanted), rng)],
            "Older paper, still great",
            day.moment(window_start),
            **counts,
            retweet_of=None if rng.random() < 0.6 else str(rng.randint(10**17, 10**18)),
        )
    return day.posts


@dataclass
class _Timeline:
    """The posts made so far, and the seeded randomness every next one draws from (the order
    of the draws is what makes a seed reproduce the same day)."""

    rng: random.Random
    now: datetime
    pool: list[FakeUser]
    posts: list[FakeTweet] = field(default_factory=list)
    sequence: int = 0

    def moment(self, start: datetime) -> datetime:
        span = max((self.now - start).total_seconds() - 60, 1.0)
        return start + timedelta(seconds=self.rng.uniform(0, span))

    def make(
        self, user: FakeUser, urls: list[str], text: str, at: datetime, **kwargs: Any
    ) -> FakeTweet:
        self.sequence += 1
        post = FakeTweet(snowflake(at, self.sequence), user, text, at, urls, **kwargs)
        self.posts.append(post)
        return post


def _counts(rng: random.Random) -> dict[str, int]:
    retweets, likes, replies, quotes = _engagement(rng)
    return {"retweets": retweets, "likes": likes, "replies": replies, "quotes": quotes}


def _original(day: _Timeline, arxiv_id: str, since: datetime) -> FakeTweet:
    author = day.rng.choice(day.pool)
    counts = _counts(day.rng)
    at = day.moment(since)
    text = f"New paper {arxiv_id}: worth a read"
    return day.make(author, [_paper_link(arxiv_id, day.rng)], text, at, **counts)


def _retweets(day: _Timeline, original: FakeTweet) -> None:
    """1..3 retweet copies of `original`, carrying its counts."""
    counts = {
        "retweets": original.retweets,
        "likes": original.likes,
        "replies": original.replies,
        "quotes": original.quotes,
    }
    for _ in range(day.rng.randint(1, 3)):
        copy_at = day.moment(original.created_at)
        day.make(
            day.rng.choice(day.pool),
            list(original.urls),
            f"RT @{original.author.username}: {original.text}",
            copy_at,
            **counts,
            retweet_of=original.id,
        )


def _quote(day: _Timeline, arxiv_id: str, original: FakeTweet) -> None:
    counts = _counts(day.rng)
    quoter = day.rng.choice(day.pool)
    urls = [
        _paper_link(arxiv_id, day.rng),
        f"https://twitter.com/{original.author.username}/status/{original.id}",
    ]
    at = day.moment(original.created_at)
    day.make(quoter, urls, "This! Great thread on the paper", at, **counts, quote_of=original.id)


def _repeat(day: _Timeline, arxiv_id: str, original: FakeTweet) -> None:
    """The author of `original` posts the same paper again."""
    counts = _counts(day.rng)
    urls = [_paper_link(arxiv_id, day.rng)]
    at = day.moment(original.created_at)
    day.make(original.author, urls, f"Reminder: {arxiv_id} is out", at, **counts)
