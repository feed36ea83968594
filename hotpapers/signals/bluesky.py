"""Bluesky through the `atproto` SDK: original posts that link a paper, and their counts.

Search needs a signed-in session (Bluesky answers 403 to anonymous `searchPosts` since
2025-01), so the source logs in with `signals.bluesky.handle` and an app password
(`HOTPAPERS_SIGNALS__BLUESKY__APP_PASSWORD`) at `signals.bluesky.api_url` (the PDS, e.g.
https://bsky.social/xrpc).

Query choice, by the size of the batch (`mode="auto"`):

* per paper (up to `sweep_threshold` papers): one `app.bsky.feed.searchPosts` per paper with
  `q=<id>` and `domain=arxiv.org` (limit 100, `sort=latest`, cursor paging, bounded). The
  `url` filter matches a single URL, so covering the abs/pdf/html links and their versioned
  forms would take several queries per paper (and `q` is required anyway); the id plus the
  domain finds all of those in one.
* sweep (more papers): every post linking arxiv.org since the window start (the earliest
  announcement minus a day) - `q=arxiv.org`, `domain=arxiv.org`, `since=<start>`,
  `sort=latest`, limit 100, cursor paging bounded by `max_sweep_pages`. If the first page's
  `hitsTotal` says the sweep would take more requests than the per-paper lookups, the source
  looks the papers up one by one instead. If the page bound is reached, the papers announced
  after the oldest post reached are complete; the rest are looked up one by one. Papers a
  sweep cannot cover exactly (no announcement time, or an id from long before the
  announcement, e.g. a replaced older paper) are always looked up one by one.

Search is fuzzy either way, so each hit is verified: a post counts only if one of its links
(facet links, link card, or the post it quotes) is an arxiv.org link to the paper.

Counting: search returns posts, never reposts (a repost is a separate record), and a quote
post is its own post. Each author counts once per paper (their most engaged post), so a
self-thread does not multiply a paper's score. Metrics: likes, reposts, quotes, replies
summed over those posts, and `posts` = the number of distinct authors.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import math
from collections.abc import Awaitable, Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal, TypeVar

import pydantic
from atproto import AsyncClient, models
from atproto_client.exceptions import (
    BadRequestError,
    InvokeTimeoutError,
    LoginRequiredError,
    ModelError,
    NetworkError,
    RateLimitExceededError,
    RequestErrorBase,
    RequestException,
    UnauthorizedError,
)
from atproto_client.models.common import XrpcError
from atproto_client.models.utils import get_model_as_dict
from atproto_client.request import AsyncRequest
from atproto_core.exceptions import AtProtocolError

from hotpapers.config import BlueskySettings
from hotpapers.plumbing.metrics import counted
from hotpapers.plumbing.retry import backoff_delay, wait_too_long
from hotpapers.signals._http import (
    LOOKBACK_BEFORE_ANNOUNCEMENT,
    RateLimiter,
    SweepPlan,
    arxiv_link_id,
    sweep_plan,
)
from hotpapers.signals.base import Budget, Measurement, PaperRef, PostRecord, SourceResult

log = logging.getLogger(__name__)

PASSWORD_ENV = "HOTPAPERS_SIGNALS__BLUESKY__APP_PASSWORD"
HANDLE_KEY = "signals.bluesky.handle"
POST_URL = "https://bsky.app/profile/{}/post/{}"
PAGE_LIMIT = 100
MAX_PAGES = 5
REQUESTS_PER_SECOND = 4.0
SWEEP_THRESHOLD = 200  # more papers than this: sweep every arXiv link in the window
SWEEP_QUERY = "arxiv.org"
MAX_SWEEP_PAGES = 300  # 30,000 posts
Mode = Literal["auto", "per_paper", "sweep"]
_TOKEN_ERRORS = frozenset({"ExpiredToken", "InvalidToken", "AuthenticationRequired"})

T = TypeVar("T")


class _LoginRejected(Exception):
    """The server refused our credentials; the message is the sentence to report."""


class _CallFailed(Exception):
    """A call that failed for good; the message is a short clause."""


class _Collector:
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
class _Counts:
    posts: list[PostRecord]

    def metrics(self) -> dict[str, float]:
        return {
            "likes": float(sum(p.likes for p in self.posts)),
            "reposts": float(sum(p.reposts for p in self.posts)),
            "quotes": float(sum(p.quotes for p in self.posts)),
            "replies": float(sum(p.replies for p in self.posts)),
            "posts": float(len(self.posts)),
        }


class BlueskySource:
    """Bluesky posts linking each paper (needs a handle and an app password)."""

    name = "bluesky"

    def __init__(
        self,
        settings: BlueskySettings,
        *,
        rate: float = REQUESTS_PER_SECOND,
        timeout: float = 30.0,
        max_retries: int = 3,
        backoff: float = 2.0,
        max_wait: float = 120.0,
        max_pages: int = MAX_PAGES,
        mode: Mode = "auto",
        sweep_threshold: int = SWEEP_THRESHOLD,
        max_sweep_pages: int = MAX_SWEEP_PAGES,
        sweep_query: str = SWEEP_QUERY,
    ) -> None:
        self.settings = settings
        self.rate = rate
        self.timeout = timeout
        self.max_retries = max_retries
        self.backoff = backoff
        self.max_wait = max_wait
        self.max_pages = max_pages
        self.mode = mode
        self.sweep_threshold = sweep_threshold
        self.max_sweep_pages = max_sweep_pages
        self.sweep_query = sweep_query

    def plan(self, papers: Sequence[PaperRef]) -> SweepPlan | None:
        """The sweep for `papers`, or None to look every paper up on its own."""
        if self.mode == "per_paper" or (
            self.mode == "auto" and len(papers) <= self.sweep_threshold
        ):
            return None
        return sweep_plan(papers)

    def problem(self) -> str | None:
        handle = self.settings.handle.strip()
        password = self.settings.app_password
        missing_password = password is None or not password.get_secret_value()
        if not handle and missing_password:
            return (
                f"Bluesky needs an account: set {HANDLE_KEY} and {PASSWORD_ENV} "
                "(an app password from bsky.app, Settings, App passwords)."
            )
        if not handle:
            return f"Bluesky needs the account's handle: set {HANDLE_KEY}."
        if missing_password:
            return f"Bluesky needs an app password for {handle}: set {PASSWORD_ENV}."
        return None

    async def measure(
        self, papers: Sequence[PaperRef], now: datetime, budget: Budget | None = None
    ) -> SourceResult:
        result = SourceResult(self.name)
        problem = self.problem()
        if problem:
            result.errors.append(problem)
            result.stopped = problem
            return result
        run = _Run(self, result)
        measured: dict[str, Measurement] = {}
        try:
            await run.login()
            plan = self.plan(papers)
            single = list(papers)
            if plan is not None:
                single = await self._measure_swept(run, plan, now, measured)
            for index, paper in enumerate(single):
                try:
                    posts = await run.posts_linking(paper.arxiv_id)
                except _CallFailed as exc:
                    result.errors.append(f"Bluesky search for {paper.arxiv_id} failed: {exc}.")
                    continue
                measured[paper.arxiv_id] = Measurement(
                    paper.arxiv_id, self.name, now, _Counts(posts).metrics(), posts
                )
                log.debug("bluesky: %d/%d %s", index + 1, len(single), paper.arxiv_id)
        except _LoginRejected as exc:
            result.errors.append(str(exc))
            result.stopped = "Bluesky rejected the login"
        except _CallFailed as exc:
            result.errors.append(f"Bluesky login for {self.settings.handle} failed: {exc}.")
            result.stopped = "Bluesky login failed"
        finally:
            await run.close()
        result.measurements = [measured[p.arxiv_id] for p in papers if p.arxiv_id in measured]
        return result

    async def _measure_swept(
        self, run: _Run, plan: SweepPlan, now: datetime, measured: dict[str, Measurement]
    ) -> list[PaperRef]:
        """Measure `plan.swept` with one sweep; returns the papers to look up one by one."""
        found = {p.arxiv_id: _Collector() for p in plan.swept}
        try:
            reached = await run.sweep(plan.start, found, auto=self.mode == "auto")
        except _TooBig as big:
            log.info("bluesky: %s; searching paper by paper", big)
            return [*plan.swept, *plan.single]
        except _SweepFailed as failed:
            complete = [p for p in plan.swept if _covered(p, failed.reached)]
            missing = len(plan.swept) - len(complete)
            run.result.errors.append(
                f"Bluesky search for arXiv posts since {plan.start:%Y-%m-%d %H:%M} UTC failed: "
                f"{failed.problem}; {missing} papers not measured."
            )
            _store(found, complete, now, measured)
            return plan.single
        if reached is None:
            _store(found, plan.swept, now, measured)
            return plan.single
        complete = [p for p in plan.swept if _covered(p, reached)]
        rest = [p for p in plan.swept if not _covered(p, reached)]
        log.info(
            "bluesky: the sweep stopped after %d pages at posts from %s; %d papers announced "
            "before that are searched one by one",
            self.max_sweep_pages,
            reached.isoformat(),
            len(rest),
        )
        _store(found, complete, now, measured)
        return [*rest, *plan.single]


class _TooBig(Exception):
    """The sweep would take more requests than searching paper by paper."""


class _SweepFailed(Exception):
    """A sweep request failed for good; posts sorted at or after `reached` were all read."""

    def __init__(self, problem: str, reached: datetime | None) -> None:
        super().__init__(problem)
        self.problem = problem
        self.reached = reached


def _covered(paper: PaperRef, reached: datetime | None) -> bool:
    """Whether every post linking `paper` sorts after `reached` (so a sweep that read back
    to `reached` saw them all)."""
    if reached is None or paper.announced is None:
        return False
    announced = paper.announced if paper.announced.tzinfo else paper.announced.replace(tzinfo=UTC)
    return announced - LOOKBACK_BEFORE_ANNOUNCEMENT > reached


def _store(
    found: dict[str, _Collector],
    papers: Sequence[PaperRef],
    now: datetime,
    measured: dict[str, Measurement],
) -> None:
    for paper in papers:
        posts = found[paper.arxiv_id].posts()
        measured[paper.arxiv_id] = Measurement(
            paper.arxiv_id, "bluesky", now, _Counts(posts).metrics(), posts
        )


class _Run:
    """One measuring run: a signed-in client, pacing, retries and re-login on token expiry."""

    def __init__(self, source: BlueskySource, result: SourceResult) -> None:
        self.source = source
        self.settings = source.settings
        self.result = result
        self.limiter = RateLimiter(source.rate)
        self.client = AsyncClient(
            self.settings.api_url, request=AsyncRequest(timeout=source.timeout)
        )
        self.relogins = 0

    async def close(self) -> None:
        await self.client.request.close()

    async def login(self) -> None:
        handle = self.settings.handle.strip().lstrip("@")
        secret = self.settings.app_password
        password = secret.get_secret_value() if secret is not None else ""
        try:
            await self._call(
                lambda: self.client.login(handle, password, fetch_bsky_profile=False),
                relogin=False,
            )
        except (UnauthorizedError, BadRequestError) as exc:
            raise _LoginRejected(
                f"Bluesky rejected the login for {handle} ({_describe(exc)}): check {PASSWORD_ENV}."
            ) from None

    async def sweep(
        self, start: datetime, found: dict[str, _Collector], *, auto: bool
    ) -> datetime | None:
        """Every post linking arxiv.org sorted at or after `start`, filed under the papers of
        `found` it links. Returns None when the search was read to the end, else the sort time
        of the oldest post read (every post sorted after it was read). Raises _TooBig (only
        when `auto`) if `hitsTotal` says per-paper searches would take fewer requests, and
        _SweepFailed if a request fails for good."""
        source = self.source
        cursor: str | None = None
        reached: datetime | None = None
        since = start.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")
        for page in range(source.max_sweep_pages):
            params = models.AppBskyFeedSearchPosts.Params(
                q=source.sweep_query,
                domain="arxiv.org",
                since=since,
                limit=PAGE_LIMIT,
                sort="latest",
                cursor=cursor,
            )
            search = functools.partial(self.client.app.bsky.feed.search_posts, params)
            try:
                response = await self._call(search)
            except _CallFailed as exc:
                raise _SweepFailed(str(exc), reached) from None
            total = response.hits_total
            if page == 0 and auto and total is not None:
                pages = math.ceil(total / PAGE_LIMIT)
                if pages > len(found):
                    raise _TooBig(
                        f"{total} arXiv posts since {since} ({pages} pages) for {len(found)} papers"
                    )
            for view in response.posts:
                data = get_model_as_dict(view)
                for arxiv_id in found.keys() & _linked_ids(data):
                    post = _record(data, arxiv_id)
                    if post is not None:
                        found[arxiv_id].add(post)
                moment = _sort_time(data)
                if moment is not None and (reached is None or moment < reached):
                    reached = moment
            cursor = response.cursor
            if not cursor or not response.posts:
                return None
        return reached or start

    async def posts_linking(self, arxiv_id: str) -> list[PostRecord]:
        """One post per author (their most engaged) among the original posts linking the paper."""
        collector = _Collector()
        cursor: str | None = None
        for _page in range(self.source.max_pages):
            params = models.AppBskyFeedSearchPosts.Params(
                q=arxiv_id, domain="arxiv.org", limit=PAGE_LIMIT, sort="latest", cursor=cursor
            )
            search = functools.partial(self.client.app.bsky.feed.search_posts, params)
            response = await self._call(search)
            for view in response.posts:
                post = _post_record(view, arxiv_id)
                if post is not None:
                    collector.add(post)
            cursor = response.cursor
            if not cursor or not response.posts:
                break
        else:
            log.info("bluesky: %s has more than %d result pages", arxiv_id, self.source.max_pages)
        return collector.posts()

    async def _call(self, make: Callable[[], Awaitable[T]], *, relogin: bool = True) -> T:
        """`await make()` paced, with bounded retries on 429/5xx/timeouts and one re-login
        when the access token has expired. Raises _CallFailed, or the SDK's auth errors
        when `relogin` is False."""
        attempt = 0
        while True:
            await self.limiter.wait()
            self.result.requests += 1
            retry_in: float | None = None
            try:
                # A total bound per call: httpx's timeout is per read, which a body trickling
                # a byte at a time never trips.
                return await counted("bluesky", asyncio.wait_for(make(), self.source.timeout))
            except RateLimitExceededError as exc:
                problem = f"rate limited ({_describe(exc)})"
                retry_in = exc.retry_after
                if retry_in is None and exc.reset_at is not None:
                    retry_in = max(0.0, (exc.reset_at - _utcnow()).total_seconds())
            except (UnauthorizedError, BadRequestError) as exc:
                if not relogin or not _is_token_error(exc):
                    if relogin:
                        raise _CallFailed(_describe(exc)) from None
                    raise
                if self.relogins >= 2:
                    raise _LoginRejected(
                        f"Bluesky kept rejecting the session for {self.settings.handle} "
                        f"({_describe(exc)}): check {PASSWORD_ENV}."
                    ) from None
                self.relogins += 1
                log.info("bluesky: session expired (%s); logging in again", _describe(exc))
                await self.login()
                continue
            except LoginRequiredError as exc:
                raise _CallFailed(f"not signed in ({exc})") from None
            except (InvokeTimeoutError, TimeoutError):
                problem = f"no answer within {self.source.timeout:g} s"
            except NetworkError as exc:  # transport failures, 502
                problem = _describe(exc)
            except RequestException as exc:
                status = exc.response.status_code if exc.response is not None else 0
                if status < 500:
                    raise _CallFailed(_describe(exc)) from None
                problem = _describe(exc)
            except (ModelError, pydantic.ValidationError) as exc:
                raise _CallFailed(_model_problem(exc)) from None
            except ValueError as exc:  # the SDK's JSON decoder
                raise _CallFailed(f"malformed JSON ({_short(exc)})") from None
            except AtProtocolError as exc:
                raise _CallFailed(f"{exc.__class__.__name__}: {_short(exc)}") from None
            if attempt >= self.source.max_retries:
                tries = "attempt" if attempt == 0 else "attempts"
                raise _CallFailed(f"{problem} after {attempt + 1} {tries}")
            if retry_in is None:
                retry_in = backoff_delay(attempt + 1, self.source.backoff)
            if retry_in > self.source.max_wait:
                raise _CallFailed(f"{problem}; {wait_too_long(retry_in, self.source.max_wait)}")
            attempt += 1
            await asyncio.sleep(retry_in)


def _utcnow() -> datetime:
    return datetime.now(UTC)


def _short(what: object, limit: int = 160) -> str:
    text = " ".join(str(what).split())
    return text[:limit] + ("…" if len(text) > limit else "")


def _describe(exc: RequestErrorBase) -> str:
    """`401 AuthenticationRequired: Invalid identifier or password`, `HTTP 503 (HTML page)`…"""
    response = exc.response
    if response is None:
        cause = exc.__cause__
        name = exc.__class__.__name__
        return f"{name}: {_short(cause)}" if cause and str(cause) else name
    content = response.content
    if isinstance(content, XrpcError):
        detail = f"{content.error}: {content.message}" if content.message else content.error
    elif isinstance(content, bytes | str):
        raw = content.decode("utf-8", "replace") if isinstance(content, bytes) else content
        lowered = raw.lstrip()[:15].lower()
        html = lowered.startswith(("<!doctype", "<html"))
        detail = "with an HTML error page" if html else raw
    else:
        detail = repr(content)
    return _short(f"HTTP {response.status_code} {detail}".strip())


def _model_problem(exc: Exception) -> str:
    """A response the SDK could not turn into its model: which field, or that it was not JSON."""
    cause = exc if isinstance(exc, pydantic.ValidationError) else exc.__cause__
    if isinstance(cause, pydantic.ValidationError):
        errors = cause.errors()
        first = errors[0]
        where = ".".join(str(part) for part in first["loc"])
        more = f" and {len(errors) - 1} more" if len(errors) > 1 else ""
        return f"missing or mistyped fields in the response ({where}: {first['msg']}{more})"
    return f"not a JSON response, e.g. an HTML page ({_short(exc)})"


def _is_token_error(exc: RequestErrorBase) -> bool:
    content = exc.response.content if exc.response is not None else None
    return isinstance(content, XrpcError) and content.error in _TOKEN_ERRORS


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


def _linked_ids(data: dict[str, Any]) -> set[str | None]:
    """The papers a post view links (itself or via the post it quotes); may hold None."""
    return {arxiv_link_id(uri) for uri in _uris([data.get("record"), data.get("embed")])}


def _sort_time(data: dict[str, Any]) -> datetime | None:
    """The time search sorts and filters a post by: the earlier of createdAt and indexedAt."""
    record = data.get("record")
    created = _parse_time(record.get("createdAt")) if isinstance(record, dict) else None
    times = [t for t in (created, _parse_time(data.get("indexedAt"))) if t is not None]
    times = [t if t.tzinfo else t.replace(tzinfo=UTC) for t in times]
    return min(times) if times else None


def _post_record(view: Any, arxiv_id: str) -> PostRecord | None:
    """The post as a PostRecord if it links `arxiv_id` (itself or via the post it quotes)."""
    data = get_model_as_dict(view)
    if arxiv_id not in _linked_ids(data):
        return None
    return _record(data, arxiv_id)


def _record(data: dict[str, Any], arxiv_id: str) -> PostRecord | None:
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
        created_at=_parse_time(record.get("createdAt")),
        reposts=_count(data.get("repostCount")),
        likes=_count(data.get("likeCount")),
        replies=_count(data.get("replyCount")),
        quotes=_count(data.get("quoteCount")),
    )


def _count(value: Any) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else 0


def _parse_time(value: Any) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
