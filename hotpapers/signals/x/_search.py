"""One recent-search request: inside X's rate-limit window, through the routed session, its
body parsed, and every failure turned into a stop (or a skipped query) with one sentence."""

from __future__ import annotations

import json
import logging
import math
import time
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any

import aiohttp
import tweepy
from tweepy.asynchronous import AsyncClient

from hotpapers.plumbing.metrics import counted
from hotpapers.plumbing.uncompressed import IDENTITY
from hotpapers.signals.base import SourceResult
from hotpapers.signals.x._query import query_length

# The source's logger, as before the split: log lines keep their name.
log = logging.getLogger("hotpapers.signals.x")

TOKEN_SETTING = "HOTPAPERS_SIGNALS__X__BEARER_TOKEN"
TWEET_FIELDS = ["public_metrics", "created_at", "author_id", "referenced_tweets", "entities"]
MAX_RATE_LIMIT_RETRIES = 3


class RoutedSession:
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


class Stop(Exception):
    """Ends the run: `reason` goes to SourceResult.stopped, `error` to SourceResult.errors.
    `unbilled`: X answered with an error (or was never asked), so it returned no posts."""

    def __init__(
        self, *, reason: str | None = None, error: str | None = None, unbilled: bool = False
    ) -> None:
        super().__init__(reason or error or "")
        self.reason = reason
        self.error = error
        self.unbilled = unbilled


class SkipQuery(Exception):
    """This query failed (e.g. HTTP 400: no posts, nothing billed) but the next one may work."""

    unbilled = True

    def __init__(self, error: str) -> None:
        super().__init__(error)
        self.error = error


class RecentSearch:
    """Recent-search requests of one source. It remembers, from one run to the next, until
    when X's rate-limit window is spent, and waits for its reset up to `max_rate_limit_wait`."""

    def __init__(
        self,
        api_url: str,
        *,
        timeout: float,
        max_rate_limit_wait: float,
        rate_limit_margin: float,
        sleep: Callable[[float], Awaitable[object]],
    ) -> None:
        self.api_url = api_url
        self.timeout = timeout
        self.max_rate_limit_wait = max_rate_limit_wait
        self.rate_limit_margin = rate_limit_margin
        self._sleep = sleep
        self._blocked_until = 0.0

    async def page(
        self,
        client: AsyncClient,
        result: SourceResult,
        query: str,
        *,
        max_results: int,
        next_token: str | None,
        start_time: datetime | None,
        skip_bad_query: bool,
    ) -> dict[str, Any]:
        """One page of `query` as parsed JSON, each request counted in `result.requests`.
        Raises Stop, or SkipQuery for a query X rejects when `skip_bad_query`."""
        for _attempt in range(MAX_RATE_LIMIT_RETRIES + 1):
            await self._wait_for_window(self._blocked_until)
            result.requests += 1
            try:
                response = await counted(
                    "x",
                    client.search_recent_tweets(
                        query,
                        max_results=max_results,
                        next_token=next_token,
                        start_time=start_time,
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
                raise self._failure(exc, query, skip_bad_query) from None
            self._note_rate_limit(response.headers)
            # tweepy has read the body already; text() decodes it (read() would raise now).
            try:
                body = await response.text()
            except (ValueError, aiohttp.ClientError) as exc:
                log.error("x: undecodable body from recent search: %r", exc)
                raise Stop(
                    error="X sent a body that is not text (compressed or not UTF-8); "
                    "kept the posts gathered before"
                ) from None
            return _parse(body, response.status, query)
        raise Stop(
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
            raise Stop(
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

    def _failure(self, exc: Exception, query: str, skip_bad_query: bool) -> Exception:
        """Map a failed request to a stop (or a skipped query) with one clear sentence."""
        if isinstance(exc, tweepy.Unauthorized):
            return Stop(
                error=f"X rejected the bearer token (HTTP 401): check {TOKEN_SETTING}",
                unbilled=True,
            )
        if isinstance(exc, tweepy.Forbidden):
            detail = "; ".join(exc.api_messages) or "access denied"
            log.error("x: HTTP 403 from recent search: %s", exc)
            return Stop(
                error=f"X refused recent search (HTTP 403: {detail[:160]}): check that "
                f"{TOKEN_SETTING} belongs to an app with access to recent search",
                unbilled=True,
            )
        if isinstance(exc, tweepy.BadRequest):
            detail = "; ".join(exc.api_messages) or str(exc)
            log.error("x: HTTP 400 for query %r (%d chars): %s", query, query_length(query), exc)
            if skip_bad_query:
                return SkipQuery(f"X rejected a search query (HTTP 400: {detail[:200]})")
            return Stop(
                error=f"X rejected the search query (HTTP 400: {detail[:200]})", unbilled=True
            )
        if isinstance(exc, tweepy.TwitterServerError | tweepy.HTTPException):
            status = exc.response.status
            log.error("x: HTTP %s from recent search: %s", status, exc)
            return Stop(
                error=f"X answered HTTP {status} ({_reason(exc)}); kept the posts gathered before",
                unbilled=True,
            )
        if isinstance(exc, aiohttp.ContentTypeError):
            log.error("x: HTTP %s with a non-JSON body from recent search: %s", exc.status, exc)
            return Stop(
                error=f"X answered HTTP {exc.status} with a non-JSON page; "
                "kept the posts gathered before",
                unbilled=exc.status >= 400,
            )
        if isinstance(exc, TimeoutError):
            log.error("x: recent search timed out after %s s", self.timeout)
            return Stop(
                error=f"X did not answer within {self.timeout:g} s; kept the posts gathered before"
            )
        if isinstance(exc, aiohttp.ClientConnectorError):
            # The connection was never made: X cannot have billed this request.
            log.error("x: cannot connect for recent search: %s", exc)
            return Stop(
                reason=f"cannot reach X at {self.api_url} ({exc.__class__.__name__}); "
                "check the network connection and signals.x.api_url",
                unbilled=True,
            )
        if isinstance(exc, aiohttp.ClientError):
            log.error("x: recent search failed: %r", exc)
            return Stop(error=f"X request failed ({exc.__class__.__name__}: {exc})")
        if isinstance(exc, ValueError):
            log.error("x: unreadable error response from recent search: %r", exc)
            return Stop(error=f"X sent an unreadable error response ({exc})")
        log.exception("x: unexpected failure in recent search", exc_info=exc)
        return Stop(error=f"X search failed unexpectedly ({exc.__class__.__name__}: {exc})")


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
        raise Stop(
            error=f"X sent malformed JSON (HTTP {status}: {exc}); kept the posts gathered before"
        ) from None
    if not isinstance(payload, dict):
        log.error("x: unexpected JSON from recent search: %r", body[:200])
        raise Stop(error="X sent unexpected JSON (not an object); kept the posts gathered")
    for problem in payload.get("errors") or []:
        log.warning("x: partial error in recent search for %r: %s", query, problem)
    return payload


def _reason(exc: tweepy.HTTPException) -> str:
    return "; ".join(exc.api_messages) or str(getattr(exc.response, "reason", "") or "error")
