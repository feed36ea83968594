"""The one place arXiv politeness lives: a paced, retrying, time-bounded aiohttp client.

arXiv's terms of use for its legacy APIs (export API, RSS, OAI-PMH) ask for no more than one
request every three seconds and a single connection at a time. `ArxivClient` enforces both for
everything it sends, whichever host: one `asyncio.Lock` is held for the whole of a request
(retries included), the connector allows one connection, and consecutive request *starts* are
at least `settings.request_interval` seconds apart. Transient failures (5xx, 429, timeouts,
dropped connections, truncated bodies) are retried by the shared policy
(`hotpapers.plumbing.retry`):
at most `settings.max_retries` times, with exponential back-off and full jitter, never sooner
than a `Retry-After` header asks. `settings.run_timeout` bounds the whole lifetime of the
client, counted from its first request; a Retry-After past it stops the run at once, saying so.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from types import TracebackType
from typing import Any

import aiohttp
from multidict import CIMultiDict
from yarl import URL

from hotpapers import __version__
from hotpapers.arxiv._xml import MAX_BODY_BYTES
from hotpapers.config import ARXIV_MIN_INTERVAL, ArxivSettings, is_loopback_url
from hotpapers.errors import ArxivHTTPError, ArxivUnreachable, RunTimeExceeded
from hotpapers.plumbing.http_body import BodyTooLarge, read_capped
from hotpapers.plumbing.metrics import counted
from hotpapers.plumbing.retry import (
    BACKOFF_CAP,
    CONNECT_TIMEOUT,
    Reachability,
    backoff_delay,
    parse_retry_after,
    wait_refused,
)

__all__ = [
    "BACKOFF_CAP",
    "ArxivClient",
    "FeedResponse",
    "backoff_delay",
    "parse_retry_after",
    "user_agent",
]

log = logging.getLogger(__name__)

PROJECT_URL = "https://github.com/hotpapers/hotpapers"
MAX_REDIRECTS = 5
_REDIRECTS = frozenset({301, 302, 303, 307, 308})


def user_agent(contact: str = "") -> str:
    """`hotpapers/<version> (+<project url>; mailto:<contact>)`; no mailto without a contact."""
    details = f"+{PROJECT_URL}"
    if contact.strip():
        details += f"; mailto:{contact.strip()}"
    return f"hotpapers/{__version__} ({details})"


def _interval(settings: ArxivSettings, url: str) -> float:
    """The configured interval; never under arXiv's 3 s for a host that is not loopback
    (a redirect can leave the configured hosts)."""
    if is_loopback_url(url):
        return settings.request_interval
    return max(settings.request_interval, ARXIV_MIN_INTERVAL)


@dataclass(slots=True)
class FeedResponse:
    """An RSS answer: 200 with a body, or 304 (not modified) with an empty body."""

    status: int
    body: bytes
    etag: str | None
    last_modified: str | None


@dataclass(slots=True)
class _Answer:
    status: int
    body: bytes
    headers: Mapping[str, str]


class ArxivClient:
    """Polite access to arXiv's RSS feed, export API and OAI-PMH interface.

    Use as `async with ArxivClient(settings) as client:`. The client's own session has a
    single-connection connector, does not let aiohttp re-send a request on its own and measures
    the interval from when each request's headers were really sent (so connect time never
    shortens the gap). A session passed in is used as is and left open: the lock, the pacing
    from the start of each request, retries and the run-time bound still apply, but its
    connector and aiohttp's built-in retry are the caller's. `requests_made` counts every
    request sent, retries and redirects included.
    """

    def __init__(
        self, settings: ArxivSettings, session: aiohttp.ClientSession | None = None
    ) -> None:
        self.settings = settings
        self.user_agent = user_agent(settings.contact)
        self.requests_made = 0
        self._session = session
        self._owns_session = session is None
        self._lock = asyncio.Lock()
        self._last_start: float | None = None
        self._first_start: float | None = None
        self._reach = Reachability("arXiv", settings.unreachable_after)

    # --- lifecycle -----------------------------------------------------------------------

    async def __aenter__(self) -> ArxivClient:
        self._get_session()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Close the session if this client created it."""
        if self._owns_session and self._session is not None and not self._session.closed:
            await self._session.close()
        if self._owns_session:
            self._session = None

    def _get_session(self) -> aiohttp.ClientSession:
        if self._session is None or (self._owns_session and self._session.closed):
            trace = aiohttp.TraceConfig()
            trace.on_request_headers_sent.append(self._on_headers_sent)
            session = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(limit=1, limit_per_host=1),
                headers={"User-Agent": self.user_agent},
                trace_configs=[trace],
            )
            # aiohttp silently re-sends an idempotent request at once when a kept-alive
            # connection drops; that second start would skip the pacing, so every retry goes
            # through `_request` instead (aiohttp's own test client does the same).
            session._retry_connection = False
            self._session = session
            self._owns_session = True
        return self._session

    async def _on_headers_sent(self, session: Any, context: Any, params: Any) -> None:
        """Count the interval from when the request really left (after any connect time)."""
        if self._lock.locked():
            self._last_start = time.monotonic()

    # --- endpoints -----------------------------------------------------------------------

    async def fetch_feed(
        self,
        categories: Sequence[str],
        etag: str | None = None,
        last_modified: str | None = None,
    ) -> FeedResponse:
        """The RSS feed of `categories` (one request), conditional on a stored ETag/date."""
        url = f"{self.settings.rss_url.rstrip('/')}/{'+'.join(categories)}"
        headers: dict[str, str] = {}
        if etag:
            headers["If-None-Match"] = etag
        if last_modified:
            headers["If-Modified-Since"] = last_modified
        answer = await self._request("GET", url, headers=headers, accept=(200, 304))
        if answer.status == 304:
            return FeedResponse(
                304,
                b"",
                answer.headers.get("ETag") or etag,
                answer.headers.get("Last-Modified") or last_modified,
            )
        return FeedResponse(
            200, answer.body, answer.headers.get("ETag"), answer.headers.get("Last-Modified")
        )

    async def query(self, params: Mapping[str, str], *, post: bool = False) -> bytes:
        """One export-API call; the body of a 200, or of a 400 (the API's Atom error document)."""
        url = self.settings.api_url
        if post:
            answer = await self._request("POST", url, data=dict(params), accept=(200, 400))
        else:
            answer = await self._request("GET", url, params=dict(params), accept=(200, 400))
        return answer.body

    async def oai(self, params: Mapping[str, str]) -> bytes:
        """One OAI-PMH GET (e.g. ListRecords); OAI errors arrive inside a 200 body."""
        answer = await self._request("GET", self.settings.oai_url, params=dict(params))
        return answer.body

    # --- the polite core -------------------------------------------------------------------

    def _remaining(self) -> float:
        """Seconds left of the run-time bound (the full bound before the first request)."""
        if self._first_start is None:
            return self.settings.run_timeout
        return self._first_start + self.settings.run_timeout - time.monotonic()

    def _exceeded(self, doing: str) -> RunTimeExceeded:
        return RunTimeExceeded(
            f"arXiv collection stopped after {self.settings.run_timeout:g} s (arxiv.run_timeout) "
            f"with {self.requests_made} requests made, before {doing}; "
            "raise arxiv.run_timeout or collect fewer categories or days"
        )

    def _give_up_if_unreachable(self, next_delay: float, failure: str) -> None:
        """ArxivUnreachable when arXiv has not answered at all for `unreachable_after` s.

        The state is reset after giving up, so a long-lived client (the service's) tries
        again on its next run instead of failing at once for ever.
        """
        reason = self._reach.give_up(time.monotonic(), next_delay, failure)
        if reason:
            self._reach = Reachability(self._reach.service, self._reach.limit)
            raise ArxivUnreachable(reason)

    def _refuse_past_run_timeout(self, retry_after: float, url: str) -> None:
        """RunTimeExceeded, saying why, when Retry-After asks for more than the run has left."""
        left = self._remaining()
        if retry_after > left:
            why = (
                f"more than the {max(left, 0):.0f} s left of this run (arxiv.run_timeout "
                f"{self.settings.run_timeout:g} s), after {self.requests_made} requests to {url}"
            )
            raise RunTimeExceeded(wait_refused("arXiv", retry_after, why))

    async def _wait_until(self, moment: float, doing: str) -> None:
        """Sleep until monotonic time `moment`, or raise if that passes the run-time bound."""
        if self._first_start is not None:
            deadline = self._first_start + self.settings.run_timeout
            if moment > deadline:
                raise self._exceeded(doing)
        while (now := time.monotonic()) < moment:
            await asyncio.sleep(moment - now)

    async def _request(
        self,
        method: str,
        url: str,
        *,
        params: Mapping[str, str] | None = None,
        data: Mapping[str, str] | None = None,
        headers: Mapping[str, str] | None = None,
        accept: tuple[int, ...] = (200,),
    ) -> _Answer:
        settings = self.settings
        attempts = settings.max_retries + 1
        async with self._lock:
            not_before = 0.0
            redirects = 0
            attempt = 0
            while attempt < attempts:
                attempt += 1
                doing = f"the request to {url}"
                if self._last_start is not None:
                    not_before = max(not_before, self._last_start + _interval(settings, url))
                await self._wait_until(not_before, doing)
                started = time.monotonic()
                if self._first_start is None:
                    self._first_start = started
                remaining = self._remaining()
                if remaining <= 0:
                    raise self._exceeded(doing)
                self._last_start = started
                self.requests_made += 1
                budget = min(settings.timeout, remaining)
                retry_after: float | None = None
                try:
                    sending = self._send(method, url, params, data, headers, budget)
                    answer = await counted("arxiv", sending, failed=lambda a: a.status >= 400)
                except TimeoutError:
                    if budget < settings.timeout:
                        raise self._exceeded(f"{url} answered") from None
                    failure = f"no answer within {settings.timeout:g} s from {url}"
                    status = None
                except aiohttp.ClientPayloadError:
                    self._reach.answer()  # it answered, if badly: reachable
                    failure = f"a truncated body from {url}"
                    status = None
                except aiohttp.ClientConnectionError as exc:
                    failure = f"a connection failure ({exc.__class__.__name__}) at {url}"
                    status = None
                except aiohttp.ClientError as exc:
                    raise ArxivHTTPError(
                        f"the request to arXiv at {url} failed ({exc.__class__.__name__})"
                    ) from exc
                else:
                    self._reach.answer()
                    status = answer.status
                    if status in accept:
                        return answer
                    location = answer.headers.get("Location")
                    if status in _REDIRECTS and location and redirects < MAX_REDIRECTS:
                        # Followed here, not by aiohttp, so the next hop is paced too.
                        redirects += 1
                        attempt -= 1
                        url = str(URL(url).join(URL(location)))
                        params = None if "?" in location else params
                        if status == 303:
                            method, data = "GET", None
                        continue
                    if status != 429 and status < 500:
                        raise ArxivHTTPError(
                            f"arXiv answered HTTP {status} for {url}", status=status
                        )
                    failure = f"HTTP {status} from {url}"
                    retry_after = parse_retry_after(answer.headers.get("Retry-After"))
                if attempt == attempts and status is None:
                    self._give_up_if_unreachable(0.0, failure)
                if attempt == attempts:
                    raise ArxivHTTPError(
                        f"arXiv did not answer after {attempts} attempts: {failure}", status=status
                    )
                delay = backoff_delay(attempt, settings.request_interval)
                if status is None:
                    self._give_up_if_unreachable(delay, failure)
                if retry_after is not None:
                    self._refuse_past_run_timeout(retry_after, url)
                    delay = max(delay, retry_after)
                log.warning(
                    "arXiv request failed (%s); retry %d of %d in %.2f s (url=%s status=%s)",
                    failure,
                    attempt,
                    attempts - 1,
                    delay,
                    url,
                    status,
                )
                not_before = time.monotonic() + delay
        raise AssertionError("unreachable")  # pragma: no cover - the loop returns or raises

    async def _send(
        self,
        method: str,
        url: str,
        params: Mapping[str, str] | None,
        data: Mapping[str, str] | None,
        headers: Mapping[str, str] | None,
        budget: float,
    ) -> _Answer:
        session = self._get_session()
        request_headers = {"User-Agent": self.user_agent, **(headers or {})}
        async with session.request(
            method,
            url,
            params=params,
            data=data,
            headers=request_headers,
            timeout=aiohttp.ClientTimeout(total=budget, sock_connect=min(budget, CONNECT_TIMEOUT)),
            allow_redirects=False,
        ) as response:
            body = await _read_capped(response, url)
            return _Answer(response.status, body, CIMultiDict(response.headers))


async def _read_capped(response: aiohttp.ClientResponse, url: str) -> bytes:
    """The (decompressed) body, given up past MAX_BODY_BYTES (see hotpapers.plumbing.http_body)."""
    try:
        return await read_capped(response, MAX_BODY_BYTES)
    except BodyTooLarge:
        raise ArxivHTTPError(
            f"the answer from arXiv at {url} is over the {MAX_BODY_BYTES // 2**20} MB limit "
            "once decompressed; stopped reading it"
        ) from None
