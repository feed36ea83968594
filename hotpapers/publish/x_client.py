"""The X calls the daily summary makes, through tweepy's AsyncClient (OAuth 1.0a user context).

tweepy hard-codes api.twitter.com; the routing middleware of `hotpapers.plumbing.x_routing`
sends its requests to `[publish.x] api_url` (X itself, a proxy, or the local fake in tests).
Every refusal becomes a PublishError with one sentence and one log line on "hotpapers.publish.x".
"""

from __future__ import annotations

import html
import logging
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime

import aiohttp
import tweepy
from tweepy.asynchronous import AsyncClient

from hotpapers.config import XPublishSettings
from hotpapers.errors import PublishError
from hotpapers.plumbing.metrics import POSTS_DELIVERED, count_request
from hotpapers.plumbing.uncompressed import UNCOMPRESSED
from hotpapers.plumbing.x_routing import route_middleware

__all__ = ["CREDENTIAL_SETTINGS", "DuplicateContent", "create_post", "find_own_post", "x_client"]

log = logging.getLogger("hotpapers.publish.x")
# At DEBUG, tweepy logs each request's headers and oauthlib the OAuth parameters being
# signed: the consumer key and access token would reach the log. Keep both at INFO.
for _chatty in ("tweepy.asynchronous.client", "oauthlib"):
    logging.getLogger(_chatty).setLevel(logging.INFO)

TIMELINE_LOOKBACK = 20  # own recent posts searched for one whose answer was lost
CREDENTIAL_SETTINGS = {
    "api_key": "HOTPAPERS_PUBLISH__X__API_KEY",
    "api_secret": "HOTPAPERS_PUBLISH__X__API_SECRET",
    "access_token": "HOTPAPERS_PUBLISH__X__ACCESS_TOKEN",
    "access_token_secret": "HOTPAPERS_PUBLISH__X__ACCESS_TOKEN_SECRET",
}
_LINK_RE = re.compile(r"https?://\S+")
_ERRORS = (tweepy.TweepyException, aiohttp.ClientError, TimeoutError, ValueError)


class DuplicateContent(PublishError):
    """X refused a post because the account already posted the same text."""


def missing_credentials(config: XPublishSettings) -> list[str]:
    """The environment variables of the OAuth credentials that are not set."""
    missing = []
    for name, variable in CREDENTIAL_SETTINGS.items():
        secret = getattr(config, name)
        if secret is None or not secret.get_secret_value().strip():
            missing.append(variable)
    return missing


def _secret(config: XPublishSettings, name: str) -> str:
    value = getattr(config, name)
    return value.get_secret_value() if value is not None else ""


@asynccontextmanager
async def x_client(config: XPublishSettings) -> AsyncIterator[AsyncClient]:
    """A user-context client whose requests go to `config.api_url`."""
    client = AsyncClient(
        consumer_key=_secret(config, "api_key"),
        consumer_secret=_secret(config, "api_secret"),
        access_token=_secret(config, "access_token"),
        access_token_secret=_secret(config, "access_token_secret"),
        return_type=dict,
    )
    timeout = aiohttp.ClientTimeout(total=config.request_timeout)
    middleware = route_middleware(config.api_url)
    async with aiohttp.ClientSession(
        middlewares=(middleware,), timeout=timeout, **UNCOMPRESSED
    ) as session:
        client.session = session
        yield client


async def create_post(client: AsyncClient, text: str, reply_to: str | None) -> str:
    """One POST /2/tweets; the new post's id, or PublishError with one sentence."""
    try:
        payload = await client.create_tweet(text=text, in_reply_to_tweet_id=reply_to)
    except _ERRORS as exc:
        count_request("x", failed=True)
        raise refusal(exc) from None
    count_request("x")
    data = payload.get("data") if isinstance(payload, dict) else None
    post_id = data.get("id") if isinstance(data, dict) else None
    if not post_id:
        log.error("x: POST /2/tweets answered without a post id: %r", payload)
        raise PublishError("X accepted the post but sent no post id; check the account")
    POSTS_DELIVERED.labels("x").inc()
    return str(post_id)


def _comparable(text: str) -> str:
    """X hands text back with links as t.co links and &, <, > escaped."""
    return _LINK_RE.sub("<link>", html.unescape(text)).strip()


async def find_own_post(client: AsyncClient, text: str) -> str | None:
    """The id of the account's recent post with this text (links aside), if there is one."""
    try:
        me = await client.get_me(user_auth=True)
        count_request("x")
        user_id = me["data"]["id"]
        timeline = await client.get_users_tweets(
            user_id, max_results=TIMELINE_LOOKBACK, user_auth=True
        )
        count_request("x")
    except (*_ERRORS, KeyError, TypeError) as exc:
        count_request("x", failed=True)
        log.error("x: could not read the account's posts to find a lost post: %r", exc)
        return None
    wanted = _comparable(text)
    for post in timeline.get("data") or []:
        if isinstance(post, dict) and _comparable(str(post.get("text", ""))) == wanted:
            return str(post["id"])
    return None


def refusal(exc: Exception) -> PublishError:
    """Log one clear line for a failed post and return the sentence for the user."""
    credentials = ", ".join(CREDENTIAL_SETTINGS.values())
    if isinstance(exc, tweepy.Unauthorized):
        log.error("x: HTTP 401 on POST /2/tweets: X rejected the credentials (%s)", credentials)
        return PublishError(f"X rejected the credentials (HTTP 401): check {credentials}")
    if isinstance(exc, tweepy.Forbidden):
        detail = "; ".join(exc.api_messages) or "forbidden"
        if "duplicate" in detail.lower():
            log.error("x: HTTP 403 on POST /2/tweets: duplicate content: %s", detail)
            return DuplicateContent(
                "X refused the post as duplicate content (HTTP 403): "
                "this text was already posted on the account"
            )
        log.error("x: HTTP 403 on POST /2/tweets: %s", detail)
        return PublishError(
            f"X refused the post (HTTP 403: {detail[:160]}): check that the app may write posts"
        )
    if isinstance(exc, tweepy.TooManyRequests):
        reset = exc.reset_time
        when = datetime.fromtimestamp(reset, UTC).strftime("%H:%M:%S UTC") if reset else "unknown"
        log.error("x: HTTP 429 on POST /2/tweets: rate limited until %s", when)
        return PublishError(f"X rate limit reached (HTTP 429); it resets at {when}")
    if isinstance(exc, tweepy.HTTPException):
        status = exc.response.status
        detail = "; ".join(exc.api_messages) or str(exc)
        log.error("x: HTTP %s on POST /2/tweets: %s", status, detail)
        return PublishError(f"X refused the post (HTTP {status}: {detail[:160]})")
    log.error("x: POST /2/tweets failed: %r", exc)
    return PublishError(_unusable_answer(exc))


def _unusable_answer(exc: Exception) -> str:
    """What went wrong, in words: no answer, or an answer that is not X's JSON (the class
    name and the raw detail stay in the log)."""
    if isinstance(exc, TimeoutError):
        return "X did not answer in time (publish.x.request_timeout); the post was not confirmed"
    if isinstance(exc, aiohttp.ContentTypeError):
        kind = (exc.headers.get("Content-Type") if exc.headers else None) or "untyped"
        return (
            f"X answered HTTP {exc.status} with a {kind} body instead of JSON; "
            "the post was not confirmed"
        )
    if isinstance(exc, ValueError):
        return "X sent an answer that is not valid JSON; the post was not confirmed"
    if isinstance(exc, aiohttp.ClientConnectorError):
        return f"X could not be reached at {exc.host}:{exc.port}; nothing was posted"
    return "X could not be reached or broke off the answer; the post was not confirmed"
