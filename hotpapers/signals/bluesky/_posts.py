"""Matching: which papers a Bluesky post view links, the post as a PostRecord, and the counts.

Search is fuzzy, so a post counts only if one of its links (facet links, link card, or the
post it quotes) is an arxiv.org link to the paper. Each author counts once per paper (their
most engaged post), so a self-thread does not multiply a paper's score.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from atproto_client.models.utils import get_model_as_dict

from hotpapers.signals._http import arxiv_link_id
from hotpapers.signals.base import PostRecord, parse_time

POST_URL = "https://bsky.app/profile/{}/post/{}"


class Collector:
    """The posts linking one paper: one per author (their most engaged), in search order."""

    __slots__ = ("by_author", "seen")

    def __init__(self) -> None:
        self.by_author: dict[str, PostRecord] = {}
        self.seen: set[str] = set()

    def add(self, post: PostRecord) -> None:
        if post.post_id in self.seen:
            return
        self.seen.add(post.post_id)
        best = self.by_author.get(post.author_id)
        if best is None or _engagement(post) > _engagement(best):
            self.by_author[post.author_id] = post

    def posts(self) -> list[PostRecord]:
        return sorted(self.by_author.values(), key=_engagement, reverse=True)


@dataclass(slots=True)
class Counts:
    posts: list[PostRecord]

    def metrics(self) -> dict[str, float]:
        return {
            "likes": float(sum(p.likes for p in self.posts)),
            "reposts": float(sum(p.reposts for p in self.posts)),
            "quotes": float(sum(p.quotes for p in self.posts)),
            "replies": float(sum(p.replies for p in self.posts)),
            "posts": float(len(self.posts)),
        }


def _engagement(post: PostRecord) -> int:
    return post.likes + post.reposts + post.quotes + post.replies


def _uris(value: Any) -> Iterator[str]:
    """Every string under a `uri` key anywhere in a record or embed view (facets, link
    cards, quoted records)."""
    if isinstance(value, dict):
        for key, item in value.items():
            if key == "uri" and isinstance(item, str):
                yield item
            else:
                yield from _uris(item)
    elif isinstance(value, list):
        for item in value:
            yield from _uris(item)


def linked_ids(data: dict[str, Any]) -> set[str | None]:
    """The papers a post view links (itself or via the post it quotes); may hold None."""
    return {arxiv_link_id(uri) for uri in _uris([data.get("record"), data.get("embed")])}


def sort_time(data: dict[str, Any]) -> datetime | None:
    """The time search sorts and filters a post by: the earlier of createdAt and indexedAt."""
    record = data.get("record")
    created = parse_time(record.get("createdAt")) if isinstance(record, dict) else None
    times = [t for t in (created, parse_time(data.get("indexedAt"))) if t is not None]
    times = [t if t.tzinfo else t.replace(tzinfo=UTC) for t in times]
    return min(times) if times else None


def post_record(view: Any, arxiv_id: str) -> PostRecord | None:
    """The post as a PostRecord if it links `arxiv_id` (itself or via the post it quotes)."""
    data = get_model_as_dict(view)
    if arxiv_id not in linked_ids(data):
        return None
    return record_of(data, arxiv_id)


def record_of(data: dict[str, Any], arxiv_id: str) -> PostRecord | None:
    """The post view `data` (known to link `arxiv_id`) as a PostRecord; None if it is not a
    post record."""
    record = data.get("record")
    if not isinstance(record, dict) or record.get("$type", "app.bsky.feed.post") != (
        "app.bsky.feed.post"
    ):
        return None
    uri = str(data.get("uri", ""))
    author = data.get("author") or {}
    did = str(author.get("did", ""))
    handle = str(author.get("handle", "")) or did
    rkey = uri.rsplit("/", 1)[-1]
    text = record.get("text")
    return PostRecord(
        source="bluesky",
        post_id=uri,
        paper_id=arxiv_id,
        author_id=did,
        author_handle=handle,
        text=text if isinstance(text, str) else "",
        url=POST_URL.format(handle, rkey),
        created_at=parse_time(record.get("createdAt")),
        reposts=_count(data.get("repostCount")),
        likes=_count(data.get("likeCount")),
        replies=_count(data.get("replyCount")),
        quotes=_count(data.get("quoteCount")),
    )


def _count(value: Any) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else 0
