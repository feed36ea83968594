"""Hacker News through the Algolia search API: stories whose URL links a paper.

Two ways to look papers up, chosen by the size of the batch (`mode="auto"`):

* per paper (up to `sweep_threshold` papers) - one
  `GET {api_url}/search?query=<id>&restrictSearchableAttributes=url&tags=story` per paper
  (paged, bounded);
* sweep (more papers) - every story with an arxiv.org URL since the window start (the earliest
  announcement minus a day): `GET {api_url}/search_by_date?query=arxiv.org&
  restrictSearchableAttributes=url&tags=story&numericFilters=created_at_i>=<start>` with up to
  1,000 hits per page. Algolia serves at most 1,000 hits of one query, so when `nbHits` is
  larger the time range is halved (`created_at_i>=a,created_at_i<b`) until each part fits.
  Papers the sweep cannot cover exactly (no announcement time, or an id from long before the
  announcement, e.g. a replaced older paper) are still looked up one by one.

Algolia matches URL *tokens*, so hits are re-checked in both: only a story whose `url` is an
arxiv.org abs/pdf/html link to the paper (any version) counts. Metrics are summed over those
stories: points, comments and the number of stories. No key is needed; the API allows 10,000
requests per hour per IP, so requests are paced below that (2.5/s). A sweep of a week of
papers takes a handful of requests where the per-paper lookup takes one per paper.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any, Literal

import aiohttp

from hotpapers.config import HackerNewsSettings
from hotpapers.plumbing.retry import UNREACHABLE_AFTER, Reachability
from hotpapers.signals._http import (
    FetchError,
    JsonClient,
    SweepPlan,
    arxiv_link_id,
    need_dict,
    need_int,
    need_list,
    need_str,
    sweep_plan,
)
from hotpapers.signals.base import Budget, Measurement, PaperRef, PostRecord, SourceResult

log = logging.getLogger(__name__)

HN_ITEM_URL = "https://news.ycombinator.com/item?id={}"
HITS_PER_PAGE = 50
MAX_PAGES = 4
REQUESTS_PER_SECOND = 2.5  # documented limit: 10,000 per hour per IP (≈ 2.78/s)
SWEEP_THRESHOLD = 200  # more papers than this: one sweep instead of one search per paper
SWEEP_QUERY = "arxiv.org"
SWEEP_HITS_PER_PAGE = 1000  # Algolia's maximum hitsPerPage
ALGOLIA_MAX_HITS = 1000  # Algolia's paginationLimitedTo on hn.algolia.com

Mode = Literal["auto", "per_paper", "sweep"]


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
        unreachable_after: float = UNREACHABLE_AFTER,
        backoff: float = 2.0,
        max_pages: int = MAX_PAGES,
        mode: Mode = "auto",
        sweep_threshold: int = SWEEP_THRESHOLD,
        sweep_hits_per_page: int = SWEEP_HITS_PER_PAGE,
    ) -> None:
        if not 0 < sweep_hits_per_page <= SWEEP_HITS_PER_PAGE:
            raise ValueError(f"sweep_hits_per_page must be 1..{SWEEP_HITS_PER_PAGE}")
        self.settings = settings
        self.session = session
        self.rate = rate
        self.timeout = timeout
        self.max_retries = max_retries
        self.unreachable_after = unreachable_after
        self.backoff = backoff
        self.max_pages = max_pages
        self.mode = mode
        self.sweep_threshold = sweep_threshold
        self.sweep_hits_per_page = sweep_hits_per_page

    def problem(self) -> str | None:
        return None

    def plan(self, papers: Sequence[PaperRef]) -> SweepPlan | None:
        """The sweep for `papers`, or None to look every paper up on its own."""
        if self.mode == "per_paper" or (
            self.mode == "auto" and len(papers) <= self.sweep_threshold
        ):
            return None
        return sweep_plan(papers)

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
            service=self.name,
            reachability=Reachability(
                f"Hacker News at {self.settings.api_url}", self.unreachable_after
            ),
        )
        plan = self.plan(papers)
        measured: dict[str, Measurement] = {}
        try:
            async with client as http:
                if plan is not None:
                    await self._measure_swept(http, plan, now, result, measured)
                for paper in papers if plan is None else plan.single:
                    try:
                        stories = await self._stories(http, paper.arxiv_id)
                    except FetchError as exc:
                        result.errors.append(
                            f"Hacker News lookup for {paper.arxiv_id} failed: {exc}."
                        )
                        continue
                    measured[paper.arxiv_id] = _measurement(paper.arxiv_id, stories, now)
        finally:
            result.requests = client.requests
        result.measurements = [measured[p.arxiv_id] for p in papers if p.arxiv_id in measured]
        return result

    async def _measure_swept(
        self,
        http: JsonClient,
        plan: SweepPlan,
        now: datetime,
        result: SourceResult,
        measured: dict[str, Measurement],
    ) -> None:
        found: dict[str, dict[str, PostRecord]] = {p.arxiv_id: {} for p in plan.swept}
        broken: dict[str, str] = {}
        try:
            await self._sweep(http, int(plan.start.timestamp()), found, broken, result.errors)
        except FetchError as exc:
            result.errors.append(
                f"Hacker News sweep of arXiv stories since {plan.start:%Y-%m-%d %H:%M} UTC "
                f"failed: {exc}."
            )
            return
        for arxiv_id, stories in found.items():
            if arxiv_id in broken:
                result.errors.append(
                    f"Hacker News lookup for {arxiv_id} failed: {broken[arxiv_id]}."
                )
            else:
                measured[arxiv_id] = _measurement(arxiv_id, list(stories.values()), now)
        log.info(
            "hn: swept %d papers since %s in %d requests; %d looked up one by one",
            len(plan.swept),
            plan.start.isoformat(),
            http.requests,
            len(plan.single),
        )

    async def _sweep(
        self,
        http: JsonClient,
        start: int,
        found: dict[str, dict[str, PostRecord]],
        broken: dict[str, str],
        errors: list[str],
    ) -> None:
        """Every story linking arxiv.org created at or after `start`, into `found` (by paper,
        then story id). A time range with more hits than Algolia serves is split in halves."""
        ranges: list[tuple[int, int | None]] = [(start, None)]
        while ranges:
            low, high = ranges.pop()
            newest = await self._sweep_range(http, low, high, found, broken, errors)
            if newest is None:
                continue
            top = high if high is not None else newest + 1
            middle = (low + top) // 2
            ranges += [(middle, top), (low, middle)]  # the older half is fetched first

    async def _sweep_range(
        self,
        http: JsonClient,
        low: int,
        high: int | None,
        found: dict[str, dict[str, PostRecord]],
        broken: dict[str, str],
        errors: list[str],
    ) -> int | None:
        """The stories with `low <= created_at_i < high`, all pages. Returns None when done,
        or the newest hit's time when the range has more hits than Algolia serves and must
        be split."""
        url = self.settings.api_url.rstrip("/") + "/search_by_date"
        filters = f"created_at_i>={low}" + (f",created_at_i<{high}" if high is not None else "")
        page = 0
        while True:
            params: dict[str, str | int] = {
                "query": SWEEP_QUERY,
                "restrictSearchableAttributes": "url",
                "tags": "story",
                "numericFilters": filters,
                "hitsPerPage": self.sweep_hits_per_page,
                "page": page,
            }
            body = need_dict(await http.get(url, params), "the response")
            hits = need_list(body.get("hits"), "hits")
            total = need_int(body, "nbHits", "the response", default=len(hits))
            top = high if high is not None else _newest(hits) + 1
            if total > ALGOLIA_MAX_HITS and page == 0 and hits and top - low > 1:
                return _newest(hits)
            if total > ALGOLIA_MAX_HITS and page == 0:
                errors.append(
                    f"Hacker News has {total} arXiv stories created at {low} (Unix time), "
                    f"more than the {ALGOLIA_MAX_HITS} Algolia serves; the rest were skipped."
                )
            for index, raw in enumerate(hits):
                _file_story(raw, f"hits[{index}] of page {page}", found, broken)
            pages = need_int(body, "nbPages", "the response", default=page + 1)
            page += 1
            if page >= pages or not hits:
                return None

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


def _newest(hits: list[Any]) -> int:
    times = [h.get("created_at_i") for h in hits if isinstance(h, dict)]
    return max((t for t in times if isinstance(t, int) and not isinstance(t, bool)), default=0)


def _file_story(
    raw: Any, what: str, found: dict[str, dict[str, PostRecord]], broken: dict[str, str]
) -> None:
    """File a sweep hit under the wanted paper its URL links (if any); an unreadable hit
    marks that paper as failed, as the per-paper lookup would have."""
    hit = need_dict(raw, what)
    link = hit.get("url")
    arxiv_id = arxiv_link_id(link) if isinstance(link, str) else None
    if arxiv_id is None or arxiv_id not in found:
        return
    try:
        story = _story(hit, arxiv_id, what)
    except FetchError as exc:
        broken.setdefault(arxiv_id, str(exc))
        return
    if story is not None:
        found[arxiv_id].setdefault(story.post_id, story)


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
