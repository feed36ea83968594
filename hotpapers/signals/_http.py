"""Small shared plumbing for the JSON-over-HTTP social sources (Hacker News, Hugging Face).

* `JsonClient.get` - one aiohttp GET that returns parsed JSON, with a per-request timeout,
  bounded retries with exponential back-off on 429 / 5xx / timeouts / connection errors
  (honouring `Retry-After` up to `max_wait`: the shared policy of `hotpapers.plumbing.retry`), and a
  `FetchError` whose message is one readable clause for HTML-instead-of-JSON, malformed JSON
  and HTTP errors.
* `RateLimiter` - spaces request starts to at most `rate` per second.
* `need_*` - type checks for decoded JSON that raise `FetchError` naming the field.
* `arxiv_link_id` - the paper a URL really links (arxiv.org host, abs/pdf/html/format path).
* `sweep_plan` - for sources that can search "every arXiv link since T" instead of one search
  per paper: the window start, and which papers such a sweep covers exactly.
"""

from __future__ import annotations

import asyncio
import json
import re
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from types import TracebackType
from typing import Any
from urllib.parse import urlsplit

import aiohttp

from hotpapers.arxiv.ids import canonical_id
from hotpapers.plumbing.http_body import BodyTooLarge, read_capped
from hotpapers.plumbing.metrics import counted
from hotpapers.plumbing.retry import (
    CONNECT_TIMEOUT,
    Reachability,
    Unreachable,
    backoff_delay,
    parse_retry_after,
    wait_too_long,
)
from hotpapers.signals.base import PaperRef

RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
# Far above any real answer (an Algolia page of 1,000 hits is ~2 MB); a gzip bomb stops here.
MAX_JSON_BYTES = 20 * 2**20
_SNIPPET = 80


class FetchError(Exception):
    """A request that gave no usable JSON; `str()` is a short clause fit for a sentence."""


class RateLimiter:
    """At most `rate` request starts per second (the first one goes at once)."""

    def __init__(self, rate: float | None) -> None:
        self.interval = 1.0 / rate if rate and rate > 0 else 0.0
        self._next = 0.0
        self._lock = asyncio.Lock()

    async def wait(self) -> None:
        if not self.interval:
            return
        async with self._lock:
            now = time.monotonic()
            delay = self._next - now
            self._next = max(now, self._next) + self.interval
        if delay > 0:
            await asyncio.sleep(delay)


def retry_after_seconds(value: str | None, now: datetime | None = None) -> float | None:
    """Seconds from a `Retry-After` header (delta-seconds or HTTP-date); None if unusable."""
    return parse_retry_after(value, now=now)


class JsonClient:
    """GETs JSON with retries; use as `async with JsonClient(...) as http:`.

    A session passed in is used and left open; otherwise one is created and closed on exit.
    `requests` counts every HTTP attempt (retries included).
    """

    def __init__(
        self,
        session: aiohttp.ClientSession | None = None,
        *,
        timeout: float = 30.0,
        max_retries: int = 3,
        backoff: float = 1.0,
        max_wait: float = 120.0,
        rate: float | None = None,
        headers: Mapping[str, str] | None = None,
        service: str = "http",  # the metrics label: hn, hf
        reachability: Reachability | None = None,
    ) -> None:
        self.service = service
        self.reachability = reachability or Reachability(service)
        self._session = session
        self._own_session = session is None
        self.timeout = timeout
        self.max_retries = max_retries
        self.backoff = backoff
        self.max_wait = max_wait
        self.limiter = RateLimiter(rate)
        self.headers = dict(headers or {})
        self.requests = 0

    async def __aenter__(self) -> JsonClient:
        if self._session is None:
            self._session = aiohttp.ClientSession()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._own_session and self._session is not None:
            await self._session.close()
            self._session = None

    async def get(self, url: str, params: Mapping[str, str | int] | None = None) -> Any:
        """The decoded JSON body of `GET url?params`, or FetchError after bounded retries."""
        if self._session is None:
            raise RuntimeError("JsonClient used outside 'async with'")
        attempt = 0
        while True:
            if self.reachability.reason:
                raise Unreachable(self.reachability.reason)
            await self.limiter.wait()
            self.requests += 1
            retry_in: float | None
            answered = False
            try:
                fetching = self._fetch(url, params)
                status, headers, body = await counted(
                    self.service, fetching, failed=lambda r: r[0] >= 400
                )
            except TimeoutError:
                problem = f"no answer within {self.timeout:g} s"
                retry_in = None
            except aiohttp.ClientError as exc:
                problem = f"connection failed ({exc.__class__.__name__}: {exc})"
                retry_in = None
            else:
                answered = True
                self.reachability.answer()
                if status < 400:
                    return _decode(status, headers, body)
                problem = _http_problem(status, headers, body)
                if status not in RETRY_STATUSES:
                    raise FetchError(problem)
                retry_in = retry_after_seconds(headers.get("Retry-After"))
            if attempt >= self.max_retries:
                if not answered and self.reachability.give_up(time.monotonic(), 0.0, problem):
                    raise Unreachable(self.reachability.reason or problem)
                tries = "attempt" if attempt == 0 else "attempts"
                raise FetchError(f"{problem} after {attempt + 1} {tries}")
            if retry_in is None:
                retry_in = backoff_delay(attempt + 1, self.backoff)
            if not answered:
                reason = self.reachability.give_up(time.monotonic(), retry_in, problem)
                if reason:
                    raise Unreachable(reason)
            if retry_in > self.max_wait:
                raise FetchError(f"{problem}; {wait_too_long(retry_in, self.max_wait)}")
            attempt += 1
            await asyncio.sleep(retry_in)

    async def _fetch(
        self, url: str, params: Mapping[str, str | int] | None
    ) -> tuple[int, Mapping[str, str], bytes]:
        assert self._session is not None
        timeout = aiohttp.ClientTimeout(
            total=self.timeout, sock_connect=min(self.timeout, CONNECT_TIMEOUT)
        )
        query = {k: str(v) for k, v in (params or {}).items()}
        async with self._session.get(
            url, params=query, headers=self.headers, timeout=timeout
        ) as response:
            try:
                body = await read_capped(response, MAX_JSON_BYTES)
            except BodyTooLarge as exc:
                raise FetchError(f"an answer {exc}; stopped reading it") from None
            return response.status, response.headers, body


def _looks_like_html(headers: Mapping[str, str], body: bytes) -> bool:
    content_type = headers.get("Content-Type", "").lower()
    start = body.lstrip()[:15].lower()
    return "html" in content_type or start.startswith((b"<!doctype", b"<html"))


def _snippet(body: bytes) -> str:
    text = " ".join(body.decode("utf-8", "replace").split())
    return text[:_SNIPPET] + ("…" if len(text) > _SNIPPET else "")


def _http_problem(status: int, headers: Mapping[str, str], body: bytes) -> str:
    if _looks_like_html(headers, body):
        return f"HTTP {status} with an HTML error page"
    detail = _snippet(body)
    return f"HTTP {status}" + (f" ({detail})" if detail else "")


def _decode(status: int, headers: Mapping[str, str], body: bytes) -> Any:
    if _looks_like_html(headers, body):
        return _raise(f"an HTML page instead of JSON (HTTP {status}: {_snippet(body)!r})")
    try:
        return json.loads(body)
    except (UnicodeDecodeError, ValueError) as exc:
        return _raise(f"malformed JSON (HTTP {status}, {exc}; body starts {_snippet(body)!r})")


def _raise(message: str) -> Any:
    raise FetchError(message)


def _type_name(value: Any) -> str:
    return "null" if value is None else type(value).__name__


def need_dict(value: Any, what: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise FetchError(f"{what} is {_type_name(value)}, expected an object")
    return value


def need_list(value: Any, what: str) -> list[Any]:
    if not isinstance(value, list):
        raise FetchError(f"{what} is {_type_name(value)}, expected a list")
    return value


def need_int(obj: Mapping[str, Any], key: str, what: str, default: int | None = None) -> int:
    """`obj[key]` as an int; a missing or null value gives `default` if one is given."""
    value = obj.get(key)
    if value is None and default is not None:
        return default
    if isinstance(value, bool) or not isinstance(value, int | float) or value != int(value):
        shown = "missing" if key not in obj else f"{_type_name(value)} {value!r}"
        raise FetchError(f"{what}.{key} is {shown}, expected an integer")
    return int(value)


def need_str(obj: Mapping[str, Any], key: str, what: str) -> str:
    value = obj.get(key)
    if not isinstance(value, str) or not value:
        shown = "missing" if key not in obj else f"{_type_name(value)} {value!r}"
        raise FetchError(f"{what}.{key} is {shown}, expected a string")
    return value


def arxiv_link_id(url: str) -> str | None:
    """The canonical id of the paper `url` links on arxiv.org (abs, pdf, html; any version).

    Unlike `canonical_id` on free text this checks the host, so `https://notarxiv.org/abs/…`
    or a web-archive copy are not links to the paper.
    """
    try:
        parts = urlsplit(url.strip())
    except ValueError:
        return None
    host = (parts.hostname or "").lower()
    if parts.scheme not in ("http", "https") or not (
        host == "arxiv.org" or host.endswith(".arxiv.org")
    ):
        return None
    path = parts.path
    if path.endswith(".pdf"):
        path = path[: -len(".pdf")]
    segments = [s for s in path.split("/") if s]
    if len(segments) < 2 or segments[0].lower() not in ("abs", "pdf", "html", "format"):
        return None
    found = canonical_id(segments[1])
    if found is None and len(segments) > 2:  # old-style ids have a slash: hep-th/9901001
        found = canonical_id(f"{segments[1]}/{segments[2]}")
    return found


LOOKBACK_BEFORE_ANNOUNCEMENT = timedelta(days=1)
_NEW_STYLE_ID = re.compile(r"(\d{2})(\d{2})\.\d{4,5}")


@dataclass(frozen=True, slots=True)
class SweepPlan:
    """How a sweep ("every arXiv link posted since `start`") measures a batch of papers.

    `swept` papers can only have been linked after `start`, so filtering the sweep's results
    gives exactly what a per-paper search would. `single` papers must still be searched one
    by one: no announcement time, or an id from well before their announcement (a replaced
    or re-listed older paper, which may have been linked long before the window).
    """

    start: datetime
    swept: list[PaperRef]
    single: list[PaperRef]


def _month_index(year: int, month: int) -> int:
    return year * 12 + month - 1


def id_month_index(arxiv_id: str) -> int | None:
    """`year * 12 + month - 1` of the month a new-style id (YYMM.NNNNN) was assigned in."""
    match = _NEW_STYLE_ID.fullmatch(arxiv_id)
    if match is None:
        return None
    month = int(match.group(2))
    return _month_index(2000 + int(match.group(1)), month) if 1 <= month <= 12 else None


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def sweep_plan(
    papers: Sequence[PaperRef], lookback: timedelta = LOOKBACK_BEFORE_ANNOUNCEMENT
) -> SweepPlan | None:
    """The sweep for `papers`: it starts `lookback` before the earliest announcement among
    the papers it covers. A paper is covered when it has an announcement time and its id was
    assigned in the month of (announcement - lookback) or the month before (a new paper is
    announced within days of its submission). None when no paper can be swept."""
    swept: list[PaperRef] = []
    single: list[PaperRef] = []
    for paper in papers:
        if paper.announced is None:
            single.append(paper)
            continue
        earliest = _aware(paper.announced) - lookback
        assigned = id_month_index(paper.arxiv_id)
        if assigned is None or assigned < _month_index(earliest.year, earliest.month) - 1:
            single.append(paper)
        else:
            swept.append(paper)
    if not swept:
        return None
    start = min(_aware(p.announced) for p in swept if p.announced is not None) - lookback
    return SweepPlan(start, swept, single)
