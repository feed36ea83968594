"""X (Twitter) signals: recent-search posts linking the papers, through tweepy's AsyncClient.

tweepy hard-codes `https://api.twitter.com`; an aiohttp client middleware sends those
requests to `settings.api_url` instead (`https://api.x.com` by default, a proxy, or a local
fake in tests and benchmarks) - the same path in production and in tests.

Counting follows `hotpapers.ranking.scoring`: original posts only (retweets are excluded from the
search, and any that arrive are dropped), quotes count as posts of their own, accounts in
`ignore_accounts` are skipped, and every original post counts, two by one account both
(`hotpapers.ranking.classic`).

Money: X bills every post a search returns ($0.005 a post read, [signals.x]
price_per_read_usd; reading the same post again within one UTC day may go unbilled, which
X calls a soft guarantee, so counting every post returned can only over-count). Before each
request the budget reserves a full page (`max_results` posts); the answer settles it to the
posts that came back. A request X refused with an error status returned no posts and gives
its reservation back; one whose outcome is unknown (timeout, dropped connection, unreadable
body) keeps it, as X may have billed it.
"""

from __future__ import annotations

import asyncio
import json
import logging
import math
import time
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Literal

import aiohttp
import tweepy
from tweepy.asynchronous import AsyncClient

from hotpapers.arxiv.ids import canonical_id, find_ids
from hotpapers.config import XSignalSettings
from hotpapers.plumbing.metrics import counted
from hotpapers.plumbing.uncompressed import IDENTITY, UNCOMPRESSED
from hotpapers.plumbing.x_routing import route_middleware
from hotpapers.signals._x_query import (
    MAX_QUERY_LENGTH,
    SWEEP_QUERY,
    batched_queries,
    query_length,
)
from hotpapers.signals.base import Budget, Measurement, PaperRef, PostRecord, SourceResult
from hotpapers.storage.spend import to_micros

__all__ = ["TOKEN_SETTING", "XSource", "post_url"]

log = logging.getLogger(__name__)

Strategy = Literal["batched", "sweep"]
TOKEN_SETTING = "HOTPAPERS_SIGNALS__X__BEARER_TOKEN"
TWEET_FIELDS = ["public_metrics", "created_at", "author_id", "referenced_tweets", "entities"]
SEARCH_WINDOW = timedelta(days=7)
WINDOW_SAFETY = timedelta(minutes=2)  # start_time must stay inside X's 7-day window
LOOKBACK_BEFORE_ANNOUNCEMENT = timedelta(days=1)
MIN_RESULTS, MAX_RESULTS = 10, 100
TOP_POSTS = 10
MAX_RATE_LIMIT_RETRIES = 3


def post_url(username: str, post_id: str) -> str:
    return f"https://x.com/{username or 'i'}/status/{post_id}"


def _usd(amount: float) -> str:
    return f"${amount:.2f}" if amount >= 0.01 or amount == 0 else f"${amount:g}"


class _RoutedSession:
    """A caller's session, with the routing middleware applied to tweepy's requests."""

    def __init__(self, session: aiohttp.ClientSession, middleware: Any, timeout: float) -> None:
        self._session = session
        self._middleware = middleware
        self._timeout = aiohttp.ClientTimeout(total=timeout)

    def request(self, method: str, url: Any, **kwargs: Any) -> Any:
        kwargs.setdefault("timeout", self._timeout)
        kwargs["auto_decompress"] = False
        kwargs["headers"] = {**(kwargs.get("headers") or {}), **IDENTITY}
        return self._session.request(method, url, middlewares=(self._middleware,), **kwargs)


class _Stop(Exception):
    """Ends the run: `reason` goes to SourceResult.stopped, `error` to SourceResult.errors.
    `unbilled`: X answered with an error (or was never asked), so it returned no posts."""

    def __init__(
        self, *, reason: str | None = None, error: str | None = None, unbilled: bool = False
    ) -> None:
        super().__init__(reason or error or "")
        self.reason = reason
        self.error = error
        self.unbilled = unbilled


class _SkipQuery(Exception):
    """This query failed (e.g. HTTP 400: no posts, nothing billed) but the next one may work."""

    unbilled = True

    def __init__(self, error: str) -> None:
        super().__init__(error)
        self.error = error


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


def _engagement_key(post: PostRecord) -> tuple[int, int, str]:
    return (-(post.reposts + post.likes), -post.likes, post.post_id)


class XSource:
    """The X signal source (see the module docstring).

    `strategy` picks how papers are searched: "batched" (many papers per `url:` query, the
    default: it reads only posts that link the papers) or "sweep" (every arXiv link in the
    window, filtered locally). `bench/bench_x_reads.py` measures both.
    """

    name: str = "x"
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
        self.max_rate_limit_wait = max_rate_limit_wait
        self.rate_limit_margin = rate_limit_margin
        self.timeout = timeout
        self._sleep = sleep
        self._ignored = {
            account.strip().lstrip("@").casefold() for account in settings.ignore_accounts
        }
        self._blocked_until = 0.0

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
            await self._run(run, _RoutedSession(self.session, middleware, self.timeout))
        else:
            timeout = aiohttp.ClientTimeout(total=self.timeout)
            async with aiohttp.ClientSession(
                middlewares=(middleware,), timeout=timeout, **UNCOMPRESSED
            ) as own:
                await self._run(run, own)
        result.measurements = self._measurements(run, now)
        log.info(
            "x: %d requests, %d posts read (%s), %d/%d papers fully searched, stopped=%s",
            result.requests,
            run.reads,
            _usd(budget.spent_usd),
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
                    except _SkipQuery as skip:
                        run.result.errors.append(skip.error)
        except _Stop as stop:
            if stop.reason:
                run.result.stopped = stop.reason
            if stop.error:
                run.result.errors.append(stop.error)

    async def _paginate(self, client: AsyncClient, run: _Run, query: str) -> bool:
        """Read every page of `query`; True when the last page was reached."""
        next_token: str | None = None
        while True:
            max_results = await self._reserve_page(run)
            reserved = max_results * run.price
            try:
                payload = await self._search(client, run, query, max_results, next_token)
            except (_Stop, _SkipQuery) as failure:
                await run.budget.settle(reserved, 0 if failure.unbilled else reserved, 0)
                raise
            data = payload.get("data") or []
            if not isinstance(data, list):
                data = []
            await run.budget.settle(reserved, len(data) * run.price, len(data))
            run.reads += len(data)
            self._collect(run, data, payload.get("includes") or {})
            meta = payload.get("meta") or {}
            next_token = meta.get("next_token") if isinstance(meta, dict) else None
            if not next_token:
                return True

    async def _reserve_page(self, run: _Run) -> int:
        """Reserve the largest page the budget still pays for in full and return its size;
        stop when not even MIN_RESULTS posts are left. When another process takes the money
        between the look and the reservation, ask again for less (so this ends)."""
        size = self.max_results
        while True:
            if run.price > 0:
                size = min(size, await run.budget.available() // run.price)
            if size < MIN_RESULTS:
                limit = _usd(self.settings.daily_budget_usd)
                raise _Stop(reason=f"daily X budget of {limit} reached")
            if await run.budget.reserve(size * run.price):
                return size
            size -= 1

    async def _search(
        self, client: AsyncClient, run: _Run, query: str, max_results: int, next_token: str | None
    ) -> dict[str, Any]:
        for _attempt in range(MAX_RATE_LIMIT_RETRIES + 1):
            await self._wait_for_window(self._blocked_until)
            run.result.requests += 1
            try:
                response = await counted(
                    "x",
                    client.search_recent_tweets(
                        query,
                        max_results=max_results,
                        next_token=next_token,
                        start_time=run.start_time,
                        tweet_fields=TWEET_FIELDS,
                        expansions=["author_id"],
                        user_fields=["username"],
                    ),
                )
            except tweepy.TooManyRequests as exc:
                reset = exc.reset_time if exc.reset_time is not None else time.time() + 60
                log.warning("x: HTTP 429 on recent search; rate limit resets at %s", reset)
                self._blocked_until = float(reset)
                continue
            except Exception as exc:
                raise self._failure(exc, query) from None
            self._note_rate_limit(response.headers)
            # tweepy has read the body already; text() decodes it (read() would raise now).
            try:
                body = await response.text()
            except (ValueError, aiohttp.ClientError) as exc:
                log.error("x: undecodable body from recent search: %r", exc)
                raise _Stop(
                    error="X sent a body that is not text (compressed or not UTF-8); "
                    "kept the posts gathered before"
                ) from None
            return self._parse(body, response.status, query)
        raise _Stop(
            error=f"X kept answering HTTP 429 (rate limited) after {MAX_RATE_LIMIT_RETRIES} "
            "waits for the reset; kept the posts gathered before",
            unbilled=True,
        )

    async def _wait_for_window(self, until: float) -> None:
        wait = until - time.time()
        if wait <= 0:
            return
        wait += self.rate_limit_margin
        if wait > self.max_rate_limit_wait:
            raise _Stop(
                reason=f"X rate limit reached: it resets in {math.ceil(wait)} s, more than the "
                f"{self.max_rate_limit_wait:g} s this run may wait",
                unbilled=True,
            )
        log.info("x: rate limit window spent, waiting %.1f s for the reset", wait)
        await self._sleep(wait)

    def _note_rate_limit(self, headers: Any) -> None:
        remaining = headers.get("x-rate-limit-remaining")
        reset = headers.get("x-rate-limit-reset")
        try:
            if remaining is not None and int(remaining) <= 0 and reset is not None:
                self._blocked_until = float(reset)
        except ValueError:
            log.warning("x: unreadable rate-limit headers %r/%r", remaining, reset)

    @staticmethod
    def _parse(body: str, status: int, query: str) -> dict[str, Any]:
        try:
            payload = json.loads(body)
        except ValueError as exc:
            log.error(
                "x: malformed JSON from recent search (HTTP %s, %d bytes, %s): %r",
                status,
                len(body),
                exc,
                body[:200],
            )
            raise _Stop(
                error=f"X sent malformed JSON (HTTP {status}: {exc}); "
                "kept the posts gathered before"
            ) from None
        if not isinstance(payload, dict):
            log.error("x: unexpected JSON from recent search: %r", body[:200])
            raise _Stop(error="X sent unexpected JSON (not an object); kept the posts gathered")
        for problem in payload.get("errors") or []:
            log.warning("x: partial error in recent search for %r: %s", query, problem)
        return payload

    def _failure(self, exc: Exception, query: str) -> Exception:
        """Map a failed request to a stop (or a skipped query) with one clear sentence."""
        if isinstance(exc, tweepy.Unauthorized):
            return _Stop(
                error=f"X rejected the bearer token (HTTP 401): check {TOKEN_SETTING}",
                unbilled=True,
            )
        if isinstance(exc, tweepy.Forbidden):
            detail = "; ".join(exc.api_messages) or "access denied"
            log.error("x: HTTP 403 from recent search: %s", exc)
            return _Stop(
                error=f"X refused recent search (HTTP 403: {detail[:160]}): check that "
                f"{TOKEN_SETTING} belongs to an app with access to recent search",
                unbilled=True,
            )
        if isinstance(exc, tweepy.BadRequest):
            detail = "; ".join(exc.api_messages) or str(exc)
            log.error("x: HTTP 400 for query %r (%d chars): %s", query, query_length(query), exc)
            if self.strategy == "batched":
                return _SkipQuery(f"X rejected a search query (HTTP 400: {detail[:200]})")
            return _Stop(
                error=f"X rejected the search query (HTTP 400: {detail[:200]})", unbilled=True
            )
        if isinstance(exc, tweepy.TwitterServerError | tweepy.HTTPException):
            status = exc.response.status
            log.error("x: HTTP %s from recent search: %s", status, exc)
            return _Stop(
                error=f"X answered HTTP {status} ({_reason(exc)}); kept the posts gathered before",
                unbilled=True,
            )
        if isinstance(exc, aiohttp.ContentTypeError):
            log.error("x: HTTP %s with a non-JSON body from recent search: %s", exc.status, exc)
            return _Stop(
                error=f"X answered HTTP {exc.status} with a non-JSON page; "
                "kept the posts gathered before",
                unbilled=exc.status >= 400,
            )
        if isinstance(exc, TimeoutError):
            log.error("x: recent search timed out after %s s", self.timeout)
            return _Stop(
                error=f"X did not answer within {self.timeout:g} s; kept the posts gathered before"
            )
        if isinstance(exc, aiohttp.ClientConnectorError):
            # The connection was never made: X cannot have billed this request.
            log.error("x: cannot connect for recent search: %s", exc)
            return _Stop(
                reason=f"cannot reach X at {self.settings.api_url} ({exc.__class__.__name__}); "
                "check the network connection and signals.x.api_url",
                unbilled=True,
            )
        if isinstance(exc, aiohttp.ClientError):
            log.error("x: recent search failed: %r", exc)
            return _Stop(error=f"X request failed ({exc.__class__.__name__}: {exc})")
        if isinstance(exc, ValueError):
            log.error("x: unreadable error response from recent search: %r", exc)
            return _Stop(error=f"X sent an unreadable error response ({exc})")
        log.exception("x: unexpected failure in recent search", exc_info=exc)
        return _Stop(error=f"X search failed unexpectedly ({exc.__class__.__name__}: {exc})")

    # --- posts ----------------------------------------------------------------------------------

    def _collect(self, run: _Run, data: list[Any], includes: Any) -> None:
        users: dict[str, str] = {}
        for user in includes.get("users") or [] if isinstance(includes, dict) else []:
            if isinstance(user, dict) and "id" in user:
                users[str(user["id"])] = str(user.get("username") or "")
        for item in data:
            if not isinstance(item, dict) or "id" not in item:
                continue
            post_id = str(item["id"])
            if post_id in run.seen:
                continue
            run.seen.add(post_id)
            refs = item.get("referenced_tweets") or []
            if any(isinstance(ref, dict) and ref.get("type") == "retweeted" for ref in refs):
                continue  # a copy carrying the original's counts: never adds
            author_id = str(item.get("author_id") or "")
            handle = users.get(author_id, "")
            if handle and handle.casefold() in self._ignored:
                continue
            linked = [pid for pid in _linked_ids(item) if pid in run.papers]
            if not linked:
                continue
            metrics = item.get("public_metrics") or {}
            for paper_id in linked:
                record = PostRecord(
                    source=self.name,
                    post_id=post_id,
                    paper_id=paper_id,
                    author_id=author_id,
                    author_handle=handle,
                    text=str(item.get("text") or ""),
                    url=post_url(handle, post_id),
                    created_at=_parse_time(item.get("created_at")),
                    reposts=_count(metrics, "retweet_count"),
                    likes=_count(metrics, "like_count"),
                    replies=_count(metrics, "reply_count"),
                    quotes=_count(metrics, "quote_count"),
                )
                run.posts.setdefault(paper_id, {})[post_id] = record

    def _measurements(self, run: _Run, now: datetime) -> list[Measurement]:
        """Fully searched papers (zeros included) and partially searched ones with posts."""
        measurements = []
        for paper_id in run.papers:
            kept = sorted(run.posts.get(paper_id, {}).values(), key=_engagement_key)
            if not kept and paper_id not in run.complete:
                continue
            metrics = {
                "retweets": float(sum(post.reposts for post in kept)),
                "likes": float(sum(post.likes for post in kept)),
                "replies": float(sum(post.replies for post in kept)),
                "quotes": float(sum(post.quotes for post in kept)),
                "posts": float(len(kept)),
            }
            measurements.append(Measurement(paper_id, self.name, now, metrics, kept[:TOP_POSTS]))
        return measurements


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


def _parse_time(value: Any) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        return datetime.fromisoformat(value)
    except ValueError:
        return None


def _reason(exc: tweepy.HTTPException) -> str:
    return "; ".join(exc.api_messages) or str(getattr(exc.response, "reason", "") or "error")
