"""Searching Bluesky: the sweep over every post linking arxiv.org since a time, and the
search for one paper's posts; both page with the cursor, within a page bound."""

from __future__ import annotations

import functools
import logging
import math
from datetime import UTC, datetime

from atproto import models
from atproto_client.models.utils import get_model_as_dict

from hotpapers.signals.base import PostRecord
from hotpapers.signals.bluesky._posts import (
    Collector,
    linked_ids,
    post_record,
    record_of,
    sort_time,
)
from hotpapers.signals.bluesky._session import CallFailed, Session

# The source's logger, as before the split: log lines keep their name.
log = logging.getLogger("hotpapers.signals.bluesky")

PAGE_LIMIT = 100


class TooBig(Exception):
    """The sweep would take more requests than searching paper by paper."""


class SweepFailed(Exception):
    """A sweep request failed for good; posts sorted at or after `reached` were all read."""

    def __init__(self, problem: str, reached: datetime | None) -> None:
        super().__init__(problem)
        self.problem = problem
        self.reached = reached


async def sweep(
    session: Session,
    start: datetime,
    found: dict[str, Collector],
    *,
    query: str,
    max_pages: int,
    auto: bool,
) -> datetime | None:
    """Every post linking arxiv.org sorted at or after `start`, filed under the papers of
    `found` it links. Returns None when the search was read to the end, else the sort time
    of the oldest post read (every post sorted after it was read). Raises TooBig (only
    when `auto`) if `hitsTotal` says per-paper searches would take fewer requests, and
    SweepFailed if a request fails for good."""
    cursor: str | None = None
    reached: datetime | None = None
    since = start.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")
    for page in range(max_pages):
        params = models.AppBskyFeedSearchPosts.Params(
            q=query,
            domain="arxiv.org",
            since=since,
            limit=PAGE_LIMIT,
            sort="latest",
            cursor=cursor,
        )
        search = functools.partial(session.client.app.bsky.feed.search_posts, params)
        try:
            response = await session.call(search)
        except CallFailed as exc:
            raise SweepFailed(str(exc), reached) from None
        total = response.hits_total
        if page == 0 and auto and total is not None:
            pages = math.ceil(total / PAGE_LIMIT)
            if pages > len(found):
                raise TooBig(
                    f"{total} arXiv posts since {since} ({pages} pages) for {len(found)} papers"
                )
        for view in response.posts:
            data = get_model_as_dict(view)
            for arxiv_id in found.keys() & linked_ids(data):
                post = record_of(data, arxiv_id)
                if post is not None:
                    found[arxiv_id].add(post)
            moment = sort_time(data)
            if moment is not None and (reached is None or moment < reached):
                reached = moment
        cursor = response.cursor
        if not cursor or not response.posts:
            return None
    return reached or start


async def posts_linking(session: Session, arxiv_id: str, *, max_pages: int) -> list[PostRecord]:
    """One post per author (their most engaged) among the original posts linking the paper."""
    collector = Collector()
    cursor: str | None = None
    for _page in range(max_pages):
        params = models.AppBskyFeedSearchPosts.Params(
            q=arxiv_id, domain="arxiv.org", limit=PAGE_LIMIT, sort="latest", cursor=cursor
        )
        search = functools.partial(session.client.app.bsky.feed.search_posts, params)
        response = await session.call(search)
        for view in response.posts:
            post = post_record(view, arxiv_id)
            if post is not None:
                collector.add(post)
        cursor = response.cursor
        if not cursor or not response.posts:
            break
    else:
        log.info("bluesky: %s has more than %d result pages", arxiv_id, max_pages)
    return collector.posts()
