"""Bluesky through the `atproto` SDK: original posts that link a paper, and their counts.

Search needs a signed-in session (Bluesky answers 403 to anonymous `searchPosts` since
2025-01), so the source logs in with `signals.bluesky.handle` and an app password
(`HOTPAPERS_SIGNALS__BLUESKY__APP_PASSWORD`) at `signals.bluesky.api_url` (the PDS, e.g.
https://bsky.social/xrpc).

Query choice: one `app.bsky.feed.searchPosts` per paper with `q=<id>` and
`domain=arxiv.org` (limit 100, `sort=latest`, cursor paging, bounded). The `url` filter
matches a single URL, so covering the abs/pdf/html links and their versioned forms would
take several queries per paper (and `q` is required anyway); the id plus the domain finds all
of those in one. Search is fuzzy either way, so each hit is verified: a post counts only if
one of its links (facet links, link card, or the post it quotes) is an arxiv.org link to
the paper.

Counting: search returns posts, never reposts (a repost is a separate record), and a quote
post is its own post. Each author counts once per paper (their most engaged post), so a
self-thread does not multiply a paper's score. Metrics: likes, reposts, quotes, replies
summed over those posts, and `posts` = the number of distinct authors.
"""

from __future__ import annotations

import asyncio
import functools
import logging
from collections.abc import Awaitable, Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, TypeVar

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
from hotpapers.signals._http import RateLimiter, arxiv_link_id
from hotpapers.signals.base import Budget, Measurement, PaperRef, PostRecord, SourceResult

log = logging.getLogger(__name__)

PASSWORD_ENV = "HOTPAPERS_SIGNALS__BLUESKY__APP_PASSWORD"
HANDLE_KEY = "signals.bluesky.handle"
POST_URL = "https://bsky.app/profile/{}/post/{}"
PAGE_LIMIT = 100
MAX_PAGES = 5
REQUESTS_PER_SECOND = 4.0
_TOKEN_ERRORS = frozenset({"ExpiredToken", "InvalidToken", "AuthenticationRequired"})

T = TypeVar("T")


class _LoginRejected(Exception):
    """The server refused our credentials; the message is the sentence to report."""


class _CallFailed(Exception):
    """A call that failed for good; the message is a short clause."""


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
    ) -> None:
        self.settings = settings
        self.rate = rate
        self.timeout = timeout
        self.max_retries = max_retries
        self.backoff = backoff
        self.max_wait = max_wait
        self.max_pages = max_pages

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
        try:
            await run.login()
            for index, paper in enumerate(papers):
                try:
                    posts = await run.posts_linking(paper.arxiv_id)
                except _CallFailed as exc:
                    result.errors.append(f"Bluesky search for {paper.arxiv_id} failed: {exc}.")
                    continue
                result.measurements.append(
                    Measurement(paper.arxiv_id, self.name, now, _Counts(posts).metrics(), posts)
                )
                log.debug("bluesky: %d/%d %s", index + 1, len(papers), paper.arxiv_id)
        except _LoginRejected as exc:
            result.errors.append(str(exc))
            result.stopped = "Bluesky rejected the login"
        except _CallFailed as exc:
            result.errors.append(f"Bluesky login for {self.settings.handle} failed: {exc}.")
            result.stopped = "Bluesky login failed"
        finally:
            await run.close()
        return result


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

    async def posts_linking(self, arxiv_id: str) -> list[PostRecord]:
        """One post per author (their most engaged) among the original posts linking the paper."""
        by_author: dict[str, PostRecord] = {}
        seen: set[str] = set()
        cursor: str | None = None
        for _page in range(self.source.max_pages):
            params = models.AppBskyFeedSearchPosts.Params(
                q=arxiv_id, domain="arxiv.org", limit=PAGE_LIMIT, sort="latest", cursor=cursor
            )
            search = functools.partial(self.client.app.bsky.feed.search_posts, params)
            response = await self._call(search)
            for view in response.posts:
                post = _post_record(view, arxiv_id)
                if post is None or post.post_id in seen:
                    continue
                seen.add(post.post_id)
                best = by_author.get(post.author_id)
                if best is None or _engagement(post) > _engagement(best):
                    by_author[post.author_id] = post
            cursor = response.cursor
            if not cursor or not response.posts:
                break
        else:
            log.info("bluesky: %s has more than %d result pages", arxiv_id, self.source.max_pages)
        return sorted(by_author.values(), key=_engagement, reverse=True)

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
                return await make()
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
            except InvokeTimeoutError:
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
                retry_in = self.source.backoff * 2**attempt
            if retry_in > self.source.max_wait:
                raise _CallFailed(f"{problem}; asked to wait {retry_in:.0f} s, more than allowed")
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


def _post_record(view: Any, arxiv_id: str) -> PostRecord | None:
    """The post as a PostRecord if it links `arxiv_id` (itself or via the post it quotes)."""
    data = get_model_as_dict(view)
    record = data.get("record")
    if not isinstance(record, dict) or record.get("$type", "app.bsky.feed.post") != (
        "app.bsky.feed.post"
    ):
        return None
    links = {arxiv_link_id(uri) for uri in _uris([record, data.get("embed")])}
    if arxiv_id not in links:
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
