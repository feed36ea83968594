"""Bluesky matching: which posts count for which paper, once per author."""

from __future__ import annotations

from hotpapers.fakes.social import FakeBluesky, generate_bluesky_posts
from hotpapers.signals._http import arxiv_link_id
from hotpapers.signals.base import PaperRef, SignalSource
from tests.signals.bluesky._support import NOW, PAPERS, A, B, C, source


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
