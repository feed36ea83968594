"""The X source: which queries a run searches (the strategy), each query read page by
page within the read budget, and the measurements (see the package docstring)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Literal

import aiohttp
from tweepy.asynchronous import AsyncClient

from hotpapers.arxiv.ids import canonical_id
from hotpapers.config import XSignalSettings
from hotpapers.plumbing.uncompressed import UNCOMPRESSED
from hotpapers.plumbing.x_routing import route_middleware
from hotpapers.signals.base import Budget, PaperRef, PostRecord, SourceResult
from hotpapers.signals.x._budget import MAX_RESULTS, MIN_RESULTS, reserve_page, usd
from hotpapers.signals.x._posts import SOURCE, measurements, post_records
from hotpapers.signals.x._query import MAX_QUERY_LENGTH, SWEEP_QUERY, batched_queries
from hotpapers.signals.x._search import TOKEN_SETTING, RecentSearch, RoutedSession, SkipQuery, Stop
from hotpapers.storage.spend import to_micros

# The source's logger, as before the split: log lines keep their name.
log = logging.getLogger("hotpapers.signals.x")

Strategy = Literal["batched", "sweep"]
SEARCH_WINDOW = timedelta(days=7)
WINDOW_SAFETY = timedelta(minutes=2)  # start_time must stay inside X's 7-day window
LOOKBACK_BEFORE_ANNOUNCEMENT = timedelta(days=1)


@dataclass(slots=True)
class _Run:
    papers: dict[str, PaperRef]
    budget: Budget
    price: int  # micro-dollars X bills per post returned
    result: SourceResult
    start_time: datetime | None
    posts: dict[str, dict[str, PostRecord]] = field(default_factory=dict)  # paper -> post id
    complete: set[str] = field(default_factory=set)
    seen: set[str] = field(default_factory=set)
    reads: int = 0


class XSource:
    """The X signal source (see the package docstring).

    `strategy` picks how papers are searched: "batched" (many papers per `url:` query, the
    default: it reads only posts that link the papers) or "sweep" (every arXiv link in the
    window, filtered locally). `bench/bench_x_reads.py` measures both.
    """

    name: str = SOURCE
    strategy: Strategy = "batched"

    def __init__(
        self,
        settings: XSignalSettings,
        session: aiohttp.ClientSession | None = None,
        *,
        strategy: Strategy | None = None,
        max_results: int = MAX_RESULTS,
        max_query_length: int = MAX_QUERY_LENGTH,
        max_rate_limit_wait: float = 900.0,
        rate_limit_margin: float = 1.0,
        timeout: float = 30.0,
        sleep: Callable[[float], Awaitable[object]] = asyncio.sleep,
    ) -> None:
        if not MIN_RESULTS <= max_results <= MAX_RESULTS:
            raise ValueError(f"max_results must be {MIN_RESULTS}..{MAX_RESULTS}")
        self.settings = settings
        self.session = session
        if strategy is not None:
            self.strategy = strategy
        self.max_results = max_results
        self.max_query_length = max_query_length
        self.timeout = timeout
        self._ignored = {
            account.strip().lstrip("@").casefold() for account in settings.ignore_accounts
        }
        # Kept from one run to the next: it knows until when X's rate-limit window is spent.
        self._recent_search = RecentSearch(
            settings.api_url,
            timeout=timeout,
            max_rate_limit_wait=max_rate_limit_wait,
            rate_limit_margin=rate_limit_margin,
            sleep=sleep,
        )

    # --- SignalSource -----------------------------------------------------------------------

    def problem(self) -> str | None:
        token = self.settings.bearer_token
        if token is None or not token.get_secret_value().strip():
            return f"X signals are enabled but {TOKEN_SETTING} is not set"
        return None

    async def measure(
        self, papers: Sequence[PaperRef], now: datetime, budget: Budget | None = None
    ) -> SourceResult:
        """Search the posts linking `papers`; never raises for a bad response (see errors)."""
        budget = budget if budget is not None else Budget(self.settings.daily_budget_usd)
        price = to_micros(self.settings.price_per_read_usd)
        result = SourceResult(source=self.name, budget=budget)
        problem = self.problem()
        if problem is not None:
            result.errors.append(problem)
            return result
        wanted: dict[str, PaperRef] = {}
        for paper in papers:
            wanted.setdefault(canonical_id(paper.arxiv_id) or paper.arxiv_id, paper)
        if not wanted:
            return result
        run = _Run(wanted, budget, price, result, self._start_time(wanted.values(), now))
        middleware = route_middleware(self.settings.api_url)
        if self.session is not None:
            await self._run(run, RoutedSession(self.session, middleware, self.timeout))
        else:
            timeout = aiohttp.ClientTimeout(total=self.timeout)
            async with aiohttp.ClientSession(
                middlewares=(middleware,), timeout=timeout, **UNCOMPRESSED
            ) as own:
                await self._run(run, own)
        result.measurements = measurements(run.papers, run.posts, run.complete, now)
        log.info(
            "x: %d requests, %d posts read (%s), %d/%d papers fully searched, stopped=%s",
            result.requests,
            run.reads,
            usd(budget.spent_usd),
            len(run.complete),
            len(wanted),
            result.stopped,
        )
        return result

    # --- the run ------------------------------------------------------------------------------

    @staticmethod
    def _start_time(papers: Iterable[PaperRef], now: datetime) -> datetime | None:
        """No post links a paper long before its announcement: start a day before the first."""
        announced = [paper.announced for paper in papers]
        earliest_allowed = now - SEARCH_WINDOW + WINDOW_SAFETY
        if not announced or any(moment is None for moment in announced):
            return None
        start = min(m for m in announced if m is not None) - LOOKBACK_BEFORE_ANNOUNCEMENT
        if start.tzinfo is None and earliest_allowed.tzinfo is not None:
            start = start.replace(tzinfo=earliest_allowed.tzinfo)
        try:
            return start if start > earliest_allowed else None
        except TypeError:  # naive vs aware `now`: let X use its default window
            return None

    async def _run(self, run: _Run, session: Any) -> None:
        token = self.settings.bearer_token
        assert token is not None
        client = AsyncClient(
            bearer_token=token.get_secret_value(), return_type=aiohttp.ClientResponse
        )
        client.session = session
        try:
            if self.strategy == "sweep":
                if await self._paginate(client, run, SWEEP_QUERY):
                    run.complete.update(run.papers)
            else:
                for query, ids in batched_queries(run.papers, self.max_query_length):
                    try:
                        if await self._paginate(client, run, query):
                            run.complete.update(ids)
                    except SkipQuery as skip:
                        run.result.errors.append(skip.error)
        except Stop as stop:
            if stop.reason:
                run.result.stopped = stop.reason
            if stop.error:
                run.result.errors.append(stop.error)

    async def _paginate(self, client: AsyncClient, run: _Run, query: str) -> bool:
        """Read every page of `query`; True when the last page was reached."""
        next_token: str | None = None
        while True:
            max_results = await reserve_page(
                run.budget, run.price, self.max_results, self.settings.daily_budget_usd
            )
            reserved = max_results * run.price
            try:
                payload = await self._recent_search.page(
                    client,
                    run.result,
                    query,
                    max_results=max_results,
                    next_token=next_token,
                    start_time=run.start_time,
                    skip_bad_query=self.strategy == "batched",
                )
            except (Stop, SkipQuery) as failure:
                await run.budget.settle(reserved, 0 if failure.unbilled else reserved, 0)
                raise
            data = payload.get("data") or []
            if not isinstance(data, list):
                data = []
            await run.budget.settle(reserved, len(data) * run.price, len(data))
            run.reads += len(data)
            includes = payload.get("includes") or {}
            for post in post_records(data, includes, run.papers, run.seen, self._ignored):
                run.posts.setdefault(post.paper_id, {})[post.post_id] = post
            meta = payload.get("meta") or {}
            next_token = meta.get("next_token") if isinstance(meta, dict) else None
            if not next_token:
                return True
