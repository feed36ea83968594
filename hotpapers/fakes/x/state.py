"""What the fake X holds (users, posts, created posts), its rate-limit window and the faults
queued for the next requests; X's error bodies."""

from __future__ import annotations

import asyncio
import math
import re
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from aiohttp import web

from hotpapers.fakes._server import LocalServer
from hotpapers.fakes.x.model import MAX_QUERY_LENGTH, FakeTweet, FakeUser, snowflake

HTML_ERROR_PAGE = (
    b"<!DOCTYPE html><html><head><title>Something went wrong</title></head>"
    b"<body><h1>Something went wrong, but don't fret - it's not your fault.</h1></body></html>"
)


@dataclass(slots=True)
class Fault:
    """One injected misbehaviour for the next API request."""

    kind: str  # "status", "malformed", "html", "slow", "hold", "lose"
    status: int = 500
    seconds: float = 0.0
    after: int = 0  # let this many API requests through first


def problem(status: int, title: str, detail: str, kind: str = "about:blank") -> web.Response:
    return web.json_response(
        {"title": title, "detail": detail, "type": kind, "status": status}, status=status
    )


def invalid_request(parameter: str, value: str, message: str) -> web.Response:
    return web.json_response(
        {
            "errors": [{"parameters": {parameter: [value]}, "message": message}],
            "title": "Invalid Request",
            "detail": "One or more parameters to your request was invalid.",
            "type": "https://api.twitter.com/2/problems/invalid-request",
        },
        status=400,
    )


DUPLICATE_DETAIL = "You are not allowed to create a Tweet with duplicate content."


OAUTH_PARAM_RE = re.compile(r'(oauth_[a-z_]+)="([^"]*)"')


OAUTH_REQUIRED = ("oauth_consumer_key", "oauth_token", "oauth_signature", "oauth_nonce")


def parse_time(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00")).astimezone(UTC)


class XState(LocalServer):
    """The fake X's posts, users, rate-limit window and queued faults (routes: `FakeX`)."""

    def __init__(
        self,
        posts: Iterable[FakeTweet] = (),
        *,
        bearer_token: str | None = None,
        now: datetime | None = None,
        rate_limit: int = 450,
        rate_window: float = 900.0,
        max_query_length: int = MAX_QUERY_LENGTH,
        consumer_key: str | None = None,
        access_token: str | None = None,
        account: str = "hotpapers",
    ) -> None:
        self.posts: dict[str, FakeTweet] = {}
        # POST /2/tweets: the expected OAuth 1.0a keys (None = any) and the posting account.
        self.consumer_key = consumer_key
        self.access_token = access_token
        self.account = account
        self.created: list[FakeTweet] = []
        self.held = asyncio.Event()  # set while a `hold_next` request is held
        self.oembed_held = asyncio.Event()  # set while a `hold_oembed_next` request is held
        self._hold_oembed = 0
        self._release = asyncio.Event()
        self.users: dict[str, FakeUser] = {}
        self.bearer_token = bearer_token
        self.now = now
        self.rate_limit = rate_limit
        self.rate_window = rate_window
        self.max_query_length = max_query_length
        self.reads_returned = 0
        self.requests = 0
        self.rate_limited = 0  # 429 answers sent
        self.queries: list[str] = []
        self.faults: list[Fault] = []
        self._remaining = rate_limit
        self._reset_at = 0.0
        self._pages: dict[str, tuple[str, int, list[FakeTweet]]] = {}
        self._sorted: list[FakeTweet] | None = None
        self._sequence = 0
        for post in posts:
            self.add(post)

    def user(self, username: str, user_id: str | None = None, name: str = "") -> FakeUser:
        for existing in self.users.values():
            if existing.username.lower() == username.lower():
                return existing
        found = FakeUser(user_id or str(10_000_000 + len(self.users)), username, name)
        self.users[found.id] = found
        return found

    def add(self, post: FakeTweet) -> FakeTweet:
        self.users.setdefault(post.author.id, post.author)
        self.posts[post.id] = post
        self._sorted = None
        return post

    def add_post(
        self,
        author: str | FakeUser,
        *,
        urls: Sequence[str] = (),
        text: str = "",
        created_at: datetime | None = None,
        retweets: int = 0,
        likes: int = 0,
        replies: int = 0,
        quotes: int = 0,
        quote_of: FakeTweet | str | None = None,
        post_id: str | None = None,
    ) -> FakeTweet:
        """Add an original post (or a quote, with `quote_of`) by `author`."""
        user = author if isinstance(author, FakeUser) else self.user(author)
        moment = created_at or (self.clock() - timedelta(hours=1))
        self._sequence += 1
        quoted = quote_of.id if isinstance(quote_of, FakeTweet) else quote_of
        links = list(urls)
        if quoted is not None:
            quoted_post = self.posts.get(quoted)
            handle = quoted_post.author.username if quoted_post else "i"
            links.append(f"https://twitter.com/{handle}/status/{quoted}")
        post = FakeTweet(
            id=post_id or snowflake(moment, self._sequence),
            author=user,
            text=text or f"Interesting paper by @{user.username}'s colleagues",
            created_at=moment,
            urls=links,
            retweets=retweets,
            likes=likes,
            replies=replies,
            quotes=quotes,
            quote_of=quoted,
        )
        return self.add(post)

    def add_retweet(
        self, original: FakeTweet, by: str | FakeUser, *, created_at: datetime | None = None
    ) -> FakeTweet:
        """A retweet copy: the original's text, links and public counts, as X returns it."""
        user = by if isinstance(by, FakeUser) else self.user(by)
        moment = created_at or max(original.created_at, self.clock() - timedelta(minutes=30))
        self._sequence += 1
        text = f"RT @{original.author.username}: {original.text}"
        post = FakeTweet(
            id=snowflake(moment, self._sequence),
            author=user,
            text=text,
            created_at=moment,
            urls=list(original.urls),
            retweets=original.retweets,
            likes=original.likes,
            replies=original.replies,
            quotes=original.quotes,
            retweet_of=original.id,
        )
        return self.add(post)

    def clock(self) -> datetime:
        return self.now or datetime.now(UTC)

    def _newest_first(self) -> list[FakeTweet]:
        if self._sorted is None:
            self._sorted = sorted(self.posts.values(), key=lambda p: int(p.id), reverse=True)
        return self._sorted

    @property
    def api_url(self) -> str:
        return self.base_url

    @property
    def oembed_url(self) -> str:
        return f"{self.base_url}/oembed"

    def fail_next(self, status: int = 500, times: int = 1, *, after: int = 0) -> None:
        """Answer `times` API requests (after `after` good ones) with `status` and X's JSON
        error body (401, 403, 429, 5xx)."""
        self._queue(Fault("status", status=status), times, after)

    def malformed_next(self, times: int = 1, *, after: int = 0) -> None:
        """Answer 200 with a cut-off JSON body."""
        self._queue(Fault("malformed"), times, after)

    def html_error_next(self, status: int = 503, times: int = 1, *, after: int = 0) -> None:
        """Answer with an HTML error page (as a proxy or X's edge does when it is down)."""
        self._queue(Fault("html", status=status), times, after)

    def slow_next(self, seconds: float, times: int = 1, *, after: int = 0) -> None:
        """Delay the answers by `seconds`."""
        self._queue(Fault("slow", seconds=seconds), times, after)

    def hold_next(self, times: int = 1, *, after: int = 0, lose: bool = False) -> None:
        """Hold the requests (set `held`) until `release()`: a post in flight when its client
        dies. Released, it is handled as usual (X did it, the answer was lost) or, with
        `lose`, dropped unhandled (it never reached X)."""
        self._release.clear()
        self.held.clear()
        self._queue(Fault("lose" if lose else "hold"), times, after)

    def hold_oembed_next(self, times: int = 1) -> None:
        """Hold the next oEmbed requests (set `oembed_held`) until `release()`: a run whose
        process dies while it fetches embeds."""
        self._release.clear()
        self.oembed_held.clear()
        self._hold_oembed += times

    def release(self) -> None:
        self._release.set()

    def _queue(self, fault: Fault, times: int, after: int) -> None:
        for n in range(times):
            self.faults.append(
                Fault(fault.kind, fault.status, fault.seconds, after if n == 0 else 0)
            )

    def _take_fault(self) -> Fault | None:
        if not self.faults:
            return None
        if self.faults[0].after > 0:
            self.faults[0].after -= 1
            return None
        return self.faults.pop(0)

    def exhaust_rate_limit(self, reset_in: float = 1.0) -> None:
        """Spend the current window: the next request gets 429 until `reset_in` s pass."""
        self._remaining = 0
        self._reset_at = time.time() + reset_in

    def _rate_headers(self) -> tuple[bool, dict[str, str]]:
        now = time.time()
        if now >= self._reset_at:
            self._remaining = self.rate_limit
            self._reset_at = now + self.rate_window
        allowed = self._remaining > 0
        if allowed:
            self._remaining -= 1
        headers = {
            "x-rate-limit-limit": str(self.rate_limit),
            "x-rate-limit-remaining": str(self._remaining),
            "x-rate-limit-reset": str(math.ceil(self._reset_at)),
        }
        return allowed, headers
