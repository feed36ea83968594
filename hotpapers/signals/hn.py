"""Hacker News through the Algolia search API: stories whose URL links a paper.

One `GET {api_url}/search?query=<id>&restrictSearchableAttributes=url&tags=story` per paper
(paged, bounded). Algolia matches URL *tokens*, so hits are re-checked: only a story whose
`url` is an arxiv.org abs/pdf/html link to the paper (any version) counts. Metrics are summed
over those stories: points, comments and the number of stories. No key is needed; the API
allows 10,000 requests per hour per IP, so requests are paced below that (2.5/s).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import aiohttp

from hotpapers.config import HackerNewsSettings
from hotpapers.signals._http import (
    FetchError,
    JsonClient,
    arxiv_link_id,
    need_dict,
    need_int,
    need_list,
    need_str,
)
from hotpapers.signals.base import Budget, Measurement, PaperRef, PostRecord, SourceResult

log = logging.getLogger(__name__)

HN_ITEM_URL = "https://news.ycombinator.com/item?id={}"
HITS_PER_PAGE = 50
MAX_PAGES = 4
REQUESTS_PER_SECOND = 2.5  # documented limit: 10,000 per hour per IP (≈ 2.78/s)


class HNSource:
    """Hacker News stories linking each paper, via hn.algolia.com."""

    name = "hn"

    def __init__(
        self,
        settings: HackerNewsSettings,
        session: aiohttp.ClientSession | None = None,
        *,
        rate: float = REQUESTS_PER_SECOND,
        timeout: float = 30.0,
        max_retries: int = 3,
        backoff: float = 2.0,
        max_pages: int = MAX_PAGES,
    ) -> None:
        self.settings = settings
        self.session = session
        self.rate = rate
        self.timeout = timeout
        self.max_retries = max_retries
        self.backoff = backoff
        self.max_pages = max_pages

    def problem(self) -> str | None:
        return None

    async def measure(
        self, papers: Sequence[PaperRef], now: datetime, budget: Budget | None = None
    ) -> SourceResult:
        result = SourceResult(self.name)
        client = JsonClient(
            self.session,
            timeout=self.timeout,
            max_retries=self.max_retries,
            backoff=self.backoff,
            rate=self.rate,
        )
        try:
            async with client as http:
                for paper in papers:
                    try:
                        stories = await self._stories(http, paper.arxiv_id)
                    except FetchError as exc:
                        result.errors.append(
                            f"Hacker News lookup for {paper.arxiv_id} failed: {exc}."
                        )
                        continue
                    result.measurements.append(_measurement(paper.arxiv_id, stories, now))
        finally:
            result.requests = client.requests
        return result

    async def _stories(self, http: JsonClient, arxiv_id: str) -> list[PostRecord]:
        """Every story whose URL links `arxiv_id`, over at most `max_pages` result pages."""
        url = self.settings.api_url.rstrip("/") + "/search"
        found: dict[str, PostRecord] = {}
        page = 0
        while True:
            params: dict[str, str | int] = {
                "query": arxiv_id,
                "restrictSearchableAttributes": "url",
                "tags": "story",
                "hitsPerPage": HITS_PER_PAGE,
                "page": page,
            }
            body = need_dict(await http.get(url, params), "the response")
            hits = need_list(body.get("hits"), "hits")
            for index, raw in enumerate(hits):
                story = _story(raw, arxiv_id, f"hits[{index}]")
                if story is not None:
                    found.setdefault(story.post_id, story)
            pages = need_int(body, "nbPages", "the response", default=page + 1)
            page += 1
            if page >= pages or not hits:
                break
            if page >= self.max_pages:
                log.info("hn: %s has more than %d result pages; stopped", arxiv_id, page)
                break
        return list(found.values())


def _story(raw: Any, arxiv_id: str, what: str) -> PostRecord | None:
    """The story `raw` as a PostRecord if its URL links `arxiv_id`, else None."""
    hit = need_dict(raw, what)
    link = hit.get("url")
    if not isinstance(link, str) or arxiv_link_id(link) != arxiv_id:
        return None  # Ask HN, a different paper, a mirror site: not a link to this paper
    object_id = need_str(hit, "objectID", what)
    created = hit.get("created_at_i")
    created_at = (
        datetime.fromtimestamp(created, UTC)
        if isinstance(created, int) and not isinstance(created, bool)
        else None
    )
    author = hit.get("author")
    title = hit.get("title")
    return PostRecord(
        source="hn",
        post_id=object_id,
        paper_id=arxiv_id,
        author_id=author if isinstance(author, str) else "",
        author_handle=author if isinstance(author, str) else "",
        text=title if isinstance(title, str) else "",
        url=HN_ITEM_URL.format(object_id),
        created_at=created_at,
        likes=need_int(hit, "points", what, default=0),
        replies=need_int(hit, "num_comments", what, default=0),
    )


def _measurement(arxiv_id: str, stories: list[PostRecord], now: datetime) -> Measurement:
    metrics = {
        "points": float(sum(s.likes for s in stories)),
        "comments": float(sum(s.replies for s in stories)),
        "stories": float(len(stories)),
    }
    return Measurement(arxiv_id, "hn", now, metrics, stories)
