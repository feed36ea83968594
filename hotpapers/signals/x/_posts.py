"""Matching: the posts of a search page that count for the papers, and each paper's
measurement (counting follows `hotpapers.ranking.scoring`; see the package docstring)."""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from datetime import datetime
from typing import Any

from hotpapers.arxiv.ids import find_ids
from hotpapers.signals.base import Measurement, PostRecord, parse_time

SOURCE = "x"
TOP_POSTS = 10


def post_url(username: str, post_id: str) -> str:
    return f"https://x.com/{username or 'i'}/status/{post_id}"


def engagement_key(post: PostRecord) -> tuple[int, int, str]:
    return (-(post.reposts + post.likes), -post.likes, post.post_id)


def post_records(
    data: list[Any], includes: Any, papers: Collection[str], seen: set[str], ignored: set[str]
) -> list[PostRecord]:
    """The original posts of a page that link `papers`, one record per paper linked.

    A post already in `seen` is skipped (and each new one added to it); so are retweets and
    the posts of `ignored` accounts (casefolded handles)."""
    users: dict[str, str] = {}
    for user in includes.get("users") or [] if isinstance(includes, dict) else []:
        if isinstance(user, dict) and "id" in user:
            users[str(user["id"])] = str(user.get("username") or "")
    records: list[PostRecord] = []
    for item in data:
        if not isinstance(item, dict) or "id" not in item:
            continue
        post_id = str(item["id"])
        if post_id in seen:
            continue
        seen.add(post_id)
        refs = item.get("referenced_tweets") or []
        if any(isinstance(ref, dict) and ref.get("type") == "retweeted" for ref in refs):
            continue  # a copy carrying the original's counts: never adds
        author_id = str(item.get("author_id") or "")
        handle = users.get(author_id, "")
        if handle and handle.casefold() in ignored:
            continue
        linked = [pid for pid in _linked_ids(item) if pid in papers]
        if not linked:
            continue
        metrics = item.get("public_metrics") or {}
        for paper_id in linked:
            records.append(
                PostRecord(
                    source=SOURCE,
                    post_id=post_id,
                    paper_id=paper_id,
                    author_id=author_id,
                    author_handle=handle,
                    text=str(item.get("text") or ""),
                    url=post_url(handle, post_id),
                    created_at=parse_time(item.get("created_at")),
                    reposts=_count(metrics, "retweet_count"),
                    likes=_count(metrics, "like_count"),
                    replies=_count(metrics, "reply_count"),
                    quotes=_count(metrics, "quote_count"),
                )
            )
    return records


def measurements(
    papers: Iterable[str],
    posts: Mapping[str, Mapping[str, PostRecord]],
    complete: Collection[str],
    now: datetime,
) -> list[Measurement]:
    """Fully searched papers (zeros included) and partially searched ones with posts."""
    found = []
    for paper_id in papers:
        kept = sorted(posts.get(paper_id, {}).values(), key=engagement_key)
        if not kept and paper_id not in complete:
            continue
        metrics = {
            "retweets": float(sum(post.reposts for post in kept)),
            "likes": float(sum(post.likes for post in kept)),
            "replies": float(sum(post.replies for post in kept)),
            "quotes": float(sum(post.quotes for post in kept)),
            "posts": float(len(kept)),
        }
        found.append(Measurement(paper_id, SOURCE, now, metrics, kept[:TOP_POSTS]))
    return found


def _linked_ids(item: dict[str, Any]) -> list[str]:
    """arXiv ids linked by a post: its expanded URLs (the text only has t.co links)."""
    urls: list[str] = []
    entities = item.get("entities") or {}
    for entity in entities.get("urls") or [] if isinstance(entities, dict) else []:
        if isinstance(entity, dict):
            urls += [str(entity.get(k) or "") for k in ("expanded_url", "unwound_url")]
    found: dict[str, None] = {}
    for text in [*urls, str(item.get("text") or "")]:
        for arxiv_id in find_ids(text):
            found.setdefault(arxiv_id, None)
    return list(found)


def _count(metrics: Any, name: str) -> int:
    value = metrics.get(name) if isinstance(metrics, dict) else None
    return value if isinstance(value, int) and value >= 0 else 0
