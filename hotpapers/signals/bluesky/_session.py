"""The signed-in Bluesky session of one measuring run: login, pacing, bounded retries, one
re-login when the access token expires, and each failure as one short clause."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import TypeVar

import pydantic
from atproto import AsyncClient
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
from atproto_client.request import AsyncRequest
from atproto_core.exceptions import AtProtocolError

from hotpapers.config import BlueskySettings
from hotpapers.plumbing.metrics import counted
from hotpapers.plumbing.retry import backoff_delay, wait_too_long
from hotpapers.signals._http import RateLimiter
from hotpapers.signals.base import SourceResult

# The source's logger, as before the split: log lines keep their name.
log = logging.getLogger("hotpapers.signals.bluesky")

PASSWORD_ENV = "HOTPAPERS_SIGNALS__BLUESKY__APP_PASSWORD"
_TOKEN_ERRORS = frozenset({"ExpiredToken", "InvalidToken", "AuthenticationRequired"})

T = TypeVar("T")


class LoginRejected(Exception):
    """The server refused our credentials; the message is the sentence to report."""


class CallFailed(Exception):
    """A call that failed for good; the message is a short clause."""


class Session:
    """One measuring run's signed-in client: pacing, retries and re-login on token expiry.

    Every request it makes is counted in `result.requests`."""

    def __init__(
        self,
        settings: BlueskySettings,
        result: SourceResult,
        *,
        rate: float,
        timeout: float,
        max_retries: int,
        backoff: float,
        max_wait: float,
    ) -> None:
        self.settings = settings
        self.result = result
        self.timeout = timeout
        self.max_retries = max_retries
        self.backoff = backoff
        self.max_wait = max_wait
        self.limiter = RateLimiter(rate)
        self.client = AsyncClient(settings.api_url, request=AsyncRequest(timeout=timeout))
        self.relogins = 0

    async def close(self) -> None:
        await self.client.request.close()

    async def login(self) -> None:
        handle = self.settings.handle.strip().lstrip("@")
        secret = self.settings.app_password
        password = secret.get_secret_value() if secret is not None else ""
        try:
            await self.call(
                lambda: self.client.login(handle, password, fetch_bsky_profile=False),
                relogin=False,
            )
        except (UnauthorizedError, BadRequestError) as exc:
            raise LoginRejected(
                f"Bluesky rejected the login for {handle} ({_describe(exc)}): check {PASSWORD_ENV}."
            ) from None

    async def call(self, make: Callable[[], Awaitable[T]], *, relogin: bool = True) -> T:
        """`await make()` paced, with bounded retries on 429/5xx/timeouts and one re-login
        when the access token has expired. Raises CallFailed, or the SDK's auth errors
        when `relogin` is False."""
        attempt = 0
        while True:
            await self.limiter.wait()
            self.result.requests += 1
            retry_in: float | None = None
            try:
                # A total bound per call: httpx's timeout is per read, which a body trickling
                # a byte at a time never trips.
                return await counted("bluesky", asyncio.wait_for(make(), self.timeout))
            except RateLimitExceededError as exc:
                problem = f"rate limited ({_describe(exc)})"
                retry_in = exc.retry_after
                if retry_in is None and exc.reset_at is not None:
                    retry_in = max(0.0, (exc.reset_at - _utcnow()).total_seconds())
            except (UnauthorizedError, BadRequestError) as exc:
                if not relogin or not _is_token_error(exc):
                    if relogin:
                        raise CallFailed(_describe(exc)) from None
                    raise
                if self.relogins >= 2:
                    raise LoginRejected(
                        f"Bluesky kept rejecting the session for {self.settings.handle} "
                        f"({_describe(exc)}): check {PASSWORD_ENV}."
                    ) from None
                self.relogins += 1
                log.info("bluesky: session expired (%s); logging in again", _describe(exc))
                await self.login()
                continue
            except LoginRequiredError as exc:
                raise CallFailed(f"not signed in ({exc})") from None
            except (InvokeTimeoutError, TimeoutError):
                problem = f"no answer within {self.timeout:g} s"
            except NetworkError as exc:  # transport failures, 502
                problem = _describe(exc)
            except RequestException as exc:
                status = exc.response.status_code if exc.response is not None else 0
                if status < 500:
                    raise CallFailed(_describe(exc)) from None
                problem = _describe(exc)
            except (ModelError, pydantic.ValidationError) as exc:
                raise CallFailed(_model_problem(exc)) from None
            except ValueError as exc:  # the SDK's JSON decoder
                raise CallFailed(f"malformed JSON ({_short(exc)})") from None
            except AtProtocolError as exc:
                raise CallFailed(f"{exc.__class__.__name__}: {_short(exc)}") from None
            if attempt >= self.max_retries:
                tries = "attempt" if attempt == 0 else "attempts"
                raise CallFailed(f"{problem} after {attempt + 1} {tries}")
            if retry_in is None:
                retry_in = backoff_delay(attempt + 1, self.backoff)
            if retry_in > self.max_wait:
                raise CallFailed(f"{problem}; {wait_too_long(retry_in, self.max_wait)}")
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
