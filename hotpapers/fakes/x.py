"""A local fake X API v2 (aiohttp.web on 127.0.0.1) speaking the JSON of the real service.

Used by the tests and the benchmarks, driven by the real tweepy `AsyncClient`. It serves

* `GET /2/tweets/search/recent` - recent search over the last 7 days: the query language
  subset the project uses (`url:"..."`, `is:retweet`, `is:quote`, `has:links`, keywords,
  `-` negation, `OR`, parentheses, implicit AND), `max_results` 10..100, `next_token`
  paging, `start_time`/`end_time`/`since_id`/`until_id`, `tweet.fields`, `expansions`
  (`author_id`) and `user.fields`; the 512-character query limit,
* `GET /2/tweets?ids=` - post lookup (unknown ids come back in `errors`),
* `GET /oembed?url=` - publish.x.com's oEmbed JSON (404 for unknown posts),
* `POST /2/tweets` - create a post (OAuth 1.0a user context: an `OAuth ...` Authorization
  header with a consumer key, token and signature; the signature itself is not verified),
  JSON `{"text": ..., "reply": {"in_reply_to_tweet_id": ...}}` -> 201 `{"data": {"id",
  "text"}}`; X's 403 for duplicate content, 400 for text over 280 weighted characters or a
  reply to an unknown post; created posts are kept in `created` (and are searchable),
* `GET /2/users/me` (user context) and `GET /2/users/:id/tweets` - the posting account and
  its posts, newest first (how a publisher finds a post whose answer it never got),

sends `x-rate-limit-limit/remaining/reset` on every API response from a per-window budget
(429 when it is spent), counts `reads_returned` (posts returned: what X bills) and injects
faults into the next API requests (`fail_next`, `malformed_next`, `html_error_next`,
`slow_next`, `hold_next`, `exhaust_rate_limit`; `hold_oembed_next` for oEmbed).

`url:` is a tokenized match, as X documents it: the term and every expanded URL are split
into runs of letters and runs of digits, and the term's tokens must appear consecutively in
one URL. So `url:"arxiv.org/abs/2103.06902"` matches `https://arxiv.org/abs/2103.06902v2`,
and `url:"2103.06902"` matches the abs, pdf and html links of that paper.
"""

from __future__ import annotations

import asyncio
import functools
import math
import random
import re
import secrets
import time
import unicodedata
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from html import escape
from typing import Any
from urllib.parse import unquote

from aiohttp import web

from hotpapers.fakes._server import LocalServer

__all__ = [
    "MAX_QUERY_LENGTH",
    "FakeTweet",
    "FakeUser",
    "FakeX",
    "generate_posts",
    "snowflake",
]

MAX_QUERY_LENGTH = 512
SEARCH_WINDOW = timedelta(days=7)
TWITTER_EPOCH_MS = 1288834974657
OEMBED_CACHE_AGE = "3153600000"
_TOKEN_RE = re.compile(r"[a-z]+|[0-9]+")
_STATUS_RE = re.compile(r"(?:twitter|x)\.com/(?P<user>\w+)/status(?:es)?/(?P<id>\d+)")
_HTML_ERROR = (
    b"<!DOCTYPE html><html><head><title>Something went wrong</title></head>"
    b"<body><h1>Something went wrong, but don't fret - it's not your fault.</h1></body></html>"
)


def snowflake(created_at: datetime, sequence: int = 0) -> str:
    """An X-style post id: milliseconds since the Twitter epoch, shifted, plus a sequence."""
    millis = int(created_at.timestamp() * 1000) - TWITTER_EPOCH_MS
    return str((millis << 22) + (sequence % (1 << 22)))


def _iso_ms(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + (
        f"{moment.microsecond // 1000:03d}Z"
    )


@functools.lru_cache(maxsize=500_000)
def _padded_tokens(text: str) -> str:
    """The text's tokens joined by spaces, with a space at each end."""
    return " " + " ".join(_TOKEN_RE.findall(text.lower())) + " "


def url_matches(term: str, url: str) -> bool:
    """The fake's `url:` semantics: the term's tokens appear consecutively in the URL's."""
    wanted = _padded_tokens(term)
    return wanted != "  " and wanted in _padded_tokens(url)


@dataclass(slots=True)
class FakeUser:
    id: str
    username: str
    name: str = ""

    def as_json(self) -> dict[str, Any]:
        return {"id": self.id, "name": self.name or self.username, "username": self.username}


@dataclass(slots=True)
class FakeTweet:
    """One post. `urls` are the expanded URLs; the text shows them as t.co links.

    A retweet (`retweet_of` set) carries the original's counts, as X reports them; a quote
    (`quote_of` set) is a post of its own with its own counts.
    """

    id: str
    author: FakeUser
    text: str
    created_at: datetime
    urls: list[str] = field(default_factory=list)
    retweets: int = 0
    likes: int = 0
    replies: int = 0
    quotes: int = 0
    bookmarks: int = 0
    impressions: int = 0
    retweet_of: str | None = None
    quote_of: str | None = None
    in_reply_to: str | None = None
    # The markup oEmbed answers for this post (a replayed published embed); None: built
    # from the post as publish.x.com would.
    oembed_html: str | None = None

    @property
    def is_retweet(self) -> bool:
        return self.retweet_of is not None

    @property
    def is_quote(self) -> bool:
        return self.quote_of is not None

    def shortened(self) -> list[tuple[str, str]]:
        """(t.co link, expanded URL) pairs, stable per post."""
        return [(f"https://t.co/{_tco(self.id, n)}", url) for n, url in enumerate(self.urls)]

    def display_text(self) -> str:
        parts = [self.text] + [short for short, _ in self.shortened()]
        return " ".join(part for part in parts if part)

    def as_json(self, fields: set[str]) -> dict[str, Any]:
        text = self.display_text()
        data: dict[str, Any] = {
            "edit_history_tweet_ids": [self.id],
            "id": self.id,
            "text": text,
        }
        if "author_id" in fields:
            data["author_id"] = self.author.id
        if "created_at" in fields:
            data["created_at"] = _iso_ms(self.created_at)
        if "public_metrics" in fields:
            data["public_metrics"] = {
                "retweet_count": self.retweets,
                "reply_count": self.replies,
                "like_count": self.likes,
                "quote_count": self.quotes,
                "bookmark_count": self.bookmarks,
                "impression_count": self.impressions,
            }
        if "referenced_tweets" in fields:
            refs = []
            if self.retweet_of:
                refs.append({"type": "retweeted", "id": self.retweet_of})
            if self.quote_of:
                refs.append({"type": "quoted", "id": self.quote_of})
            if refs:
                data["referenced_tweets"] = refs
        if "entities" in fields and self.urls:
            data["entities"] = {"urls": self._url_entities(text)}
        return data

    def _url_entities(self, text: str) -> list[dict[str, Any]]:
        entities = []
        for short, expanded in self.shortened():
            start = text.find(short)
            display = expanded.split("://", 1)[-1].removeprefix("www.")
            entities.append(
                {
                    "start": start,
                    "end": start + len(short),
                    "url": short,
                    "expanded_url": expanded,
                    "display_url": display if len(display) <= 26 else display[:25] + "…",
                }
            )
        return entities


def _tco(post_id: str, n: int) -> str:
    rng = random.Random(f"{post_id}:{n}")
    alphabet = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
    return "".join(rng.choice(alphabet) for _ in range(10))


@dataclass(slots=True)
class Fault:
    """One injected misbehaviour for the next API request."""

    kind: str  # "status", "malformed", "html", "slow", "hold", "lose"
    status: int = 500
    seconds: float = 0.0
    after: int = 0  # let this many API requests through first


# --- query language ---------------------------------------------------------------------------

Predicate = Callable[[FakeTweet], bool]


class QueryError(ValueError):
    pass


_QUERY_TOKEN_RE = re.compile(r'\(|\)|-?[a-z_]+:"[^"]*"|-?"[^"]*"|-?[^\s()]+', re.IGNORECASE)


def parse_query(text: str) -> Predicate:
    """A predicate for the supported subset of X's search language."""
    tokens = _QUERY_TOKEN_RE.findall(text)
    if not tokens:
        raise QueryError("empty query")
    predicate, rest = _parse_or(tokens)
    if rest:
        raise QueryError(f"unexpected '{rest[0]}'")
    return predicate


def _parse_or(tokens: list[str]) -> tuple[Predicate, list[str]]:
    first, rest = _parse_and(tokens)
    options = [first]
    while rest and rest[0] == "OR":
        option, rest = _parse_and(rest[1:])
        options.append(option)
    if len(options) == 1:
        return first, rest
    return (lambda tweet: any(option(tweet) for option in options)), rest


def _parse_and(tokens: list[str]) -> tuple[Predicate, list[str]]:
    parts: list[Predicate] = []
    rest = tokens
    while rest and rest[0] not in ("OR", ")"):
        atom, rest = _parse_atom(rest)
        parts.append(atom)
    if not parts:
        raise QueryError("empty group")
    if len(parts) == 1:
        return parts[0], rest
    return (lambda tweet: all(part(tweet) for part in parts)), rest


def _parse_atom(tokens: list[str]) -> tuple[Predicate, list[str]]:
    head = tokens[0]
    if head == "(":
        inner, rest = _parse_or(tokens[1:])
        if not rest or rest[0] != ")":
            raise QueryError("missing ')'")
        return inner, rest[1:]
    if head == ")":
        raise QueryError("unexpected ')'")
    return _term(head), tokens[1:]


def _term(token: str) -> Predicate:
    negate = token.startswith("-")
    body = token[1:] if negate else token
    name, colon, value = body.partition(":")
    value = value.strip('"')
    predicate: Predicate
    if colon and name.lower() == "url":
        wanted = _padded_tokens(value)
        if wanted == "  ":
            raise QueryError("empty url: operand")

        def predicate(tweet: FakeTweet) -> bool:
            return any(wanted in _padded_tokens(url) for url in tweet.urls)

    elif colon and name.lower() == "is":
        kind = value.lower()
        if kind == "retweet":
            predicate = _is_retweet
        elif kind == "quote":
            predicate = _is_quote
        else:
            raise QueryError(f"unsupported operator is:{value}")
    elif colon and name.lower() == "has" and value.lower() == "links":
        predicate = _has_links
    elif colon and name.lower() == "from":
        wanted = value.lower().lstrip("@")

        def predicate(tweet: FakeTweet) -> bool:
            return tweet.author.username.lower() == wanted

    elif colon and not body.startswith('"'):
        raise QueryError(f"unsupported operator {name}:")
    else:
        needle = body.strip('"').lower()

        def predicate(tweet: FakeTweet) -> bool:
            return needle in tweet.text.lower()

    if negate:
        positive = predicate
        return lambda tweet: not positive(tweet)
    return predicate


def _is_retweet(tweet: FakeTweet) -> bool:
    return tweet.is_retweet


def _is_quote(tweet: FakeTweet) -> bool:
    return tweet.is_quote


def _has_links(tweet: FakeTweet) -> bool:
    return bool(tweet.urls)


# --- the server -------------------------------------------------------------------------------


def _problem(status: int, title: str, detail: str, kind: str = "about:blank") -> web.Response:
    return web.json_response(
        {"title": title, "detail": detail, "type": kind, "status": status}, status=status
    )


def _invalid_request(parameter: str, value: str, message: str) -> web.Response:
    return web.json_response(
        {
            "errors": [{"parameters": {parameter: [value]}, "message": message}],
            "title": "Invalid Request",
            "detail": "One or more parameters to your request was invalid.",
            "type": "https://api.twitter.com/2/problems/invalid-request",
        },
        status=400,
    )


MAX_POST_WEIGHT = 280
DUPLICATE_DETAIL = "You are not allowed to create a Tweet with duplicate content."
_OAUTH_PARAM_RE = re.compile(r'(oauth_[a-z_]+)="([^"]*)"')
_OAUTH_REQUIRED = ("oauth_consumer_key", "oauth_token", "oauth_signature", "oauth_nonce")
_LIGHT_RANGES = ((0, 4351), (8192, 8205), (8208, 8223), (8242, 8247))
_FAKE_LINK_RE = re.compile(r"https?://\S+")


def fake_weighted_length(text: str) -> int:
    """X's count, as the fake applies it: NFC code points weighing 1 or 2, links 23."""
    text = unicodedata.normalize("NFC", _FAKE_LINK_RE.sub("x" * 23, text))
    return sum(
        1 if any(low <= ord(char) <= high for low, high in _LIGHT_RANGES) else 2 for char in text
    )


def _parse_time(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00")).astimezone(UTC)


class FakeX(LocalServer):
    """X API v2 recent search, post lookup and oEmbed on one local port (module docstring)."""

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

    # --- data -------------------------------------------------------------------------------

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

    # --- lifecycle --------------------------------------------------------------------------

    @property
    def api_url(self) -> str:
        return self.base_url

    @property
    def oembed_url(self) -> str:
        return f"{self.base_url}/oembed"

    def make_app(self) -> web.Application:
        app = web.Application(middlewares=[self._middleware])
        app.router.add_get("/2/tweets/search/recent", self._search)
        app.router.add_get("/2/tweets", self._lookup)
        app.router.add_get("/oembed", self._oembed)
        app.router.add_post("/2/tweets", self._create)
        app.router.add_get("/2/users/me", self._me)
        app.router.add_get("/2/users/{user_id}/tweets", self._timeline)
        return app

    # --- faults and rate limits -------------------------------------------------------------

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

    @web.middleware
    async def _middleware(
        self, request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
    ) -> web.StreamResponse:
        if not request.path.startswith("/2/"):
            return await handler(request)
        self.requests += 1
        allowed, headers = self._rate_headers()
        response = await self._answer(request, handler, allowed)
        response.headers.update(headers)
        response.headers.setdefault("api-version", "2.152")
        return response

    async def _answer(
        self,
        request: web.Request,
        handler: Callable[[web.Request], Awaitable[web.StreamResponse]],
        allowed: bool,
    ) -> web.StreamResponse:
        if not self._authorized(request):
            return _problem(401, "Unauthorized", "Unauthorized")
        if not allowed:
            self.rate_limited += 1
            return _problem(429, "Too Many Requests", "Too Many Requests")
        fault = self._take_fault()
        if fault is None:
            return await handler(request)
        if fault.kind == "slow":
            await asyncio.sleep(fault.seconds)
            return await handler(request)
        if fault.kind in ("hold", "lose"):
            self.held.set()
            await self._release.wait()
            if fault.kind == "lose":
                return _problem(503, "Service Unavailable", "Service Unavailable")
            return await handler(request)
        if fault.kind == "malformed":
            return web.Response(
                status=200, body=b'{"data":[{"id":"1","text":"cut', content_type="application/json"
            )
        if fault.kind == "html":
            return web.Response(status=fault.status, body=_HTML_ERROR, content_type="text/html")
        return self._error_status(fault.status)

    def _authorized(self, request: web.Request) -> bool:
        """Bearer token for reads; OAuth 1.0a user context for creating posts."""
        auth = request.headers.get("Authorization", "")
        user_context = request.method == "POST" or request.path == "/2/users/me"
        if auth.startswith("OAuth ") and request.path.startswith("/2/users/"):
            user_context = True
        if user_context:
            params = dict(_OAUTH_PARAM_RE.findall(auth)) if auth.startswith("OAuth ") else {}
            return all(params.get(name) for name in _OAUTH_REQUIRED) and all(
                expected is None or unquote(params[name]) == expected
                for name, expected in (
                    ("oauth_consumer_key", self.consumer_key),
                    ("oauth_token", self.access_token),
                )
            )
        return auth.startswith("Bearer ") and (
            self.bearer_token is None or auth == f"Bearer {self.bearer_token}"
        )

    @staticmethod
    def _error_status(status: int) -> web.Response:
        if status == 401:
            return _problem(401, "Unauthorized", "Unauthorized")
        if status == 403:
            return web.json_response(
                {
                    "client_id": "28135447",
                    "detail": (
                        "When authenticating requests to the Twitter API v2 endpoints, you must"
                        " use keys and tokens from a Twitter developer App that is attached to a"
                        " Project. You can create a project via the developer portal."
                    ),
                    "registration_url": "https://developer.twitter.com/en/docs/projects/overview",
                    "title": "Client Forbidden",
                    "required_enrollment": "Appropriate Level of API Access",
                    "reason": "client-not-enrolled",
                    "type": "https://api.twitter.com/2/problems/client-forbidden",
                },
                status=403,
            )
        if status == 429:
            return _problem(429, "Too Many Requests", "Too Many Requests")
        if status >= 500:
            return _problem(status, "Service Unavailable", "Service Unavailable")
        return _problem(status, "Error", f"HTTP {status}")

    # --- endpoints --------------------------------------------------------------------------

    async def _search(self, request: web.Request) -> web.StreamResponse:
        params = request.query
        query = params.get("query", "")
        self.queries.append(query)
        if not query:
            return _invalid_request("query", "", "The `query` query parameter can not be empty")
        if len(query) > self.max_query_length:
            return _invalid_request(
                "query",
                query,
                f"The `query` query parameter value [{query}] is not valid: query length "
                f"{len(query)} exceeds the limit of {self.max_query_length} characters",
            )
        raw_max = params.get("max_results", "10")
        if not raw_max.isdigit() or not 10 <= int(raw_max) <= 100:
            return _invalid_request(
                "max_results",
                raw_max,
                f"The `max_results` query parameter value [{raw_max}] is not between 10 and 100",
            )
        try:
            predicate = parse_query(query)
        except QueryError as exc:
            return _invalid_request(
                "query", query, f"There were errors processing your request: {exc}"
            )
        now = self.clock()
        window_start = now - SEARCH_WINDOW
        try:
            start = _parse_time(params["start_time"]) if "start_time" in params else None
            end = _parse_time(params["end_time"]) if "end_time" in params else None
        except ValueError:
            return _invalid_request("start_time", params.get("start_time", ""), "Invalid time")
        if start is not None and start < window_start - timedelta(seconds=60):
            value = params["start_time"]
            return _invalid_request(
                "start_time",
                value,
                f"Invalid 'start_time':'{value}'. 'start_time' must be on or after "
                f"{window_start.strftime('%Y-%m-%dT%H:%MZ')}",
            )
        since_id = int(params.get("since_id", "0") or 0)
        until_id = int(params["until_id"]) if params.get("until_id") else None
        token = params.get("next_token") or params.get("pagination_token")
        if token:
            saved = self._pages.get(token)
            if saved is None or saved[0] != query:
                return _invalid_request(
                    "next_token",
                    token,
                    f"The `next_token` query parameter value [{token}] is not valid",
                )
            _query, offset, matched = saved
        else:
            offset = 0
            matched = [
                post
                for post in self._newest_first()
                if post.created_at >= (start or window_start)
                and post.created_at <= (end or now)
                and int(post.id) > since_id
                and (until_id is None or int(post.id) < until_id)
                and predicate(post)
            ]
        page = matched[offset : offset + int(raw_max)]
        meta: dict[str, Any] = {"result_count": len(page)}
        if page:
            meta = {"newest_id": page[0].id, "oldest_id": page[-1].id, **meta}
        if offset + len(page) < len(matched):
            next_token = secrets.token_hex(16)
            self._pages[next_token] = (query, offset + len(page), matched)
            meta["next_token"] = next_token
        return web.json_response(self._payload(page, params, meta))

    async def _lookup(self, request: web.Request) -> web.StreamResponse:
        ids = [value for value in request.query.get("ids", "").split(",") if value]
        if not 1 <= len(ids) <= 100:
            return _invalid_request(
                "ids",
                request.query.get("ids", ""),
                "The `ids` query parameter must name 1 to 100 ids",
            )
        found = [self.posts[post_id] for post_id in ids if post_id in self.posts]
        payload = self._payload(found, request.query, None)
        missing = [post_id for post_id in ids if post_id not in self.posts]
        if missing:
            payload["errors"] = [
                {
                    "value": post_id,
                    "detail": f"Could not find tweet with ids: [{post_id}].",
                    "title": "Not Found Error",
                    "resource_type": "tweet",
                    "parameter": "ids",
                    "resource_id": post_id,
                    "type": "https://api.twitter.com/2/problems/resource-not-found",
                }
                for post_id in missing
            ]
        return web.json_response(payload)

    def _payload(
        self, posts: list[FakeTweet], params: Any, meta: dict[str, Any] | None
    ) -> dict[str, Any]:
        fields = {f for f in params.get("tweet.fields", "").split(",") if f}
        expansions = {e for e in params.get("expansions", "").split(",") if e}
        self.reads_returned += len(posts)
        payload: dict[str, Any] = {}
        if posts:
            payload["data"] = [post.as_json(fields) for post in posts]
            if "author_id" in expansions:
                users: dict[str, dict[str, Any]] = {}
                for post in posts:
                    users.setdefault(post.author.id, post.author.as_json())
                payload["includes"] = {"users": list(users.values())}
        if meta is not None:
            payload["meta"] = meta
        return payload

    async def _create(self, request: web.Request) -> web.StreamResponse:
        try:
            body = await request.json()
        except ValueError:
            return _invalid_request("body", "", "The request body is not valid JSON")
        text = body.get("text") if isinstance(body, dict) else None
        if not isinstance(text, str) or not text:
            return _invalid_request("text", "", "The `text` field is required")
        if fake_weighted_length(text) > MAX_POST_WEIGHT:
            return _invalid_request("text", text, "Your Tweet text is too long.")
        if any(post.text == text for post in self.created):
            return _problem(403, "Forbidden", DUPLICATE_DETAIL)
        reply = body.get("reply") or {}
        reply_to = reply.get("in_reply_to_tweet_id") if isinstance(reply, dict) else None
        if reply_to is not None and str(reply_to) not in self.posts:
            return _invalid_request(
                "reply.in_reply_to_tweet_id", str(reply_to), "The Tweet you are replying to "
                "has been deleted or is not visible to you."
            )  # fmt: skip
        self._sequence += 1
        moment = self.clock()
        post = FakeTweet(
            id=snowflake(moment, self._sequence), author=self.user(self.account), text=text,
            created_at=moment, in_reply_to=str(reply_to) if reply_to is not None else None,
        )  # fmt: skip
        self.add(post)
        self.created.append(post)
        return web.json_response(
            {"data": {"id": post.id, "text": text, "edit_history_tweet_ids": [post.id]}},
            status=201,
        )

    async def _me(self, request: web.Request) -> web.StreamResponse:
        return web.json_response({"data": self.user(self.account).as_json()})

    async def _timeline(self, request: web.Request) -> web.StreamResponse:
        raw_max = request.query.get("max_results", "10")
        if not raw_max.isdigit() or not 5 <= int(raw_max) <= 100:
            return _invalid_request(
                "max_results", raw_max, f"The `max_results` query parameter value [{raw_max}] "
                "is not between 5 and 100"
            )  # fmt: skip
        user_id = request.match_info["user_id"]
        posts = [post for post in self._newest_first() if post.author.id == user_id]
        page = posts[: int(raw_max)]
        meta: dict[str, Any] = {"result_count": len(page)}
        return web.json_response(self._payload(page, request.query, meta))

    async def _oembed(self, request: web.Request) -> web.StreamResponse:
        if self._hold_oembed:
            self._hold_oembed -= 1
            self.oembed_held.set()
            await self._release.wait()
        url = request.query.get("url", "")
        match = _STATUS_RE.search(url)
        post = self.posts.get(match.group("id")) if match else None
        if post is None:
            return web.Response(status=404, text="")
        omit_script = request.query.get("omit_script", "").lower() in ("1", "true", "t")
        dnt = request.query.get("dnt", "").lower() in ("1", "true", "t")
        canonical = f"https://twitter.com/{post.author.username}/status/{post.id}"
        if post.oembed_html is not None:
            html = post.oembed_html + ("\n" if omit_script else f"\n{_WIDGETS_SCRIPT}\n")
        else:
            html = _blockquote(post, canonical, omit_script=omit_script, dnt=dnt)
        return web.json_response(
            {
                "url": canonical,
                "author_name": post.author.name or post.author.username,
                "author_url": f"https://twitter.com/{post.author.username}",
                "html": html,
                "width": 550,
                "height": None,
                "type": "rich",
                "cache_age": OEMBED_CACHE_AGE,
                "provider_name": "Twitter",
                "provider_url": "https://twitter.com",
                "version": "1.0",
            }
        )


def _blockquote(post: FakeTweet, canonical: str, *, omit_script: bool, dnt: bool) -> str:
    """publish.twitter.com's markup: a blockquote with the text, links as t.co anchors."""
    body = escape(post.text)
    for short, _expanded in post.shortened():
        body += f' <a href="{short}">{short}</a>'
    when = post.created_at.strftime("%B %-d, %Y")
    author = post.author.name or post.author.username
    attrs = ' data-dnt="true"' if dnt else ""
    html = (
        f'<blockquote class="twitter-tweet"{attrs}><p lang="en" dir="ltr">{body}</p>'
        f"&mdash; {escape(author)} (@{post.author.username}) "
        f'<a href="{canonical}?ref_src=twsrc%5Etfw">{when}</a></blockquote>\n'
    )
    if not omit_script:
        html += f"{_WIDGETS_SCRIPT}\n"
    return html


_WIDGETS_SCRIPT = (
    '<script async src="https://platform.twitter.com/widgets.js" charset="utf-8"></script>'
)


# --- a realistic population -------------------------------------------------------------------


def _paper_link(arxiv_id: str, rng: random.Random) -> str:
    kind = rng.choices(("abs", "pdf", "html"), weights=(6, 3, 1))[0]
    version = f"v{rng.randint(1, 3)}" if rng.random() < 0.3 else ""
    host = "arxiv.org" if rng.random() < 0.9 else "www.arxiv.org"
    scheme = "https" if rng.random() < 0.95 else "http"
    if kind == "html":
        return f"{scheme}://{host}/html/{arxiv_id}{version or 'v1'}"
    return f"{scheme}://{host}/{kind}/{arxiv_id}{version}"


def _engagement(rng: random.Random) -> tuple[int, int, int, int]:
    likes = int(rng.paretovariate(1.2)) - 1
    likes = min(likes * rng.randint(1, 5), 50_000)
    retweets = int(likes * rng.uniform(0.05, 0.4))
    replies = int(likes * rng.uniform(0.0, 0.1))
    quotes = int(retweets * rng.uniform(0.0, 0.2))
    return retweets, likes, replies, quotes


def _unrelated_id(rng: random.Random, avoid: set[str]) -> str:
    arxiv_id = _random_id(rng)
    while arxiv_id in avoid:
        arxiv_id = _random_id(rng)
    return arxiv_id


def _random_id(rng: random.Random) -> str:
    if rng.random() < 0.05:
        return f"hep-th/{rng.randint(91, 99):02d}{rng.randint(1, 12):02d}{rng.randint(1, 999):03d}"
    year = rng.randint(15, 26)
    return f"{year:02d}{rng.randint(1, 12):02d}.{rng.randint(1, 29999):05d}"


def generate_posts(
    arxiv_ids: Sequence[str],
    seed: int = 0,
    *,
    now: datetime | None = None,
    since: datetime | None = None,
    linked_fraction: float = 0.3,
    max_links: int = 20,
    retweet_rate: float = 0.5,
    quote_rate: float = 0.1,
    repeat_rate: float = 0.05,
    unrelated: int = 0,
    authors: int = 2000,
) -> list[FakeTweet]:
    """Posts linking `arxiv_ids` the way a day on X looks, deterministic for a `seed`.

    `linked_fraction` of the papers get 1..`max_links` original posts (heavy-tailed: most get
    one or two) linking abs/pdf/html URLs, with or without a version, posted after `since`;
    each original gets retweet copies (carrying its counts) with probability `retweet_rate`,
    quote posts (which link the paper too) with `quote_rate`, and its author posts the same
    paper again with `repeat_rate`. `unrelated` more posts link other arXiv papers anywhere in
    the 7-day window.
    """
    rng = random.Random(seed)
    now = now or datetime.now(UTC)
    since = since or now - timedelta(days=1)
    window_start = now - SEARCH_WINDOW + timedelta(minutes=5)
    pool = [FakeUser(str(20_000_000 + n), f"user{n:05d}", f"User {n}") for n in range(authors)]
    posts: list[FakeTweet] = []
    sequence = 0

    def moment(start: datetime) -> datetime:
        span = max((now - start).total_seconds() - 60, 1.0)
        return start + timedelta(seconds=rng.uniform(0, span))

    def make(user: FakeUser, urls: list[str], text: str, at: datetime, **kwargs: Any) -> FakeTweet:
        nonlocal sequence
        sequence += 1
        post = FakeTweet(snowflake(at, sequence), user, text, at, urls, **kwargs)
        posts.append(post)
        return post

    for arxiv_id in arxiv_ids:
        if rng.random() >= linked_fraction:
            continue
        count = min(max_links, max(1, int(rng.paretovariate(1.3))))
        for _ in range(count):
            author = rng.choice(pool)
            retweets, likes, replies, quotes = _engagement(rng)
            at = moment(since)
            original = make(
                author,
                [_paper_link(arxiv_id, rng)],
                f"New paper {arxiv_id}: worth a read",
                at,
                retweets=retweets,
                likes=likes,
                replies=replies,
                quotes=quotes,
            )
            if rng.random() < retweet_rate:
                for _ in range(rng.randint(1, 3)):
                    copy_at = moment(at)
                    make(
                        rng.choice(pool),
                        list(original.urls),
                        f"RT @{author.username}: {original.text}",
                        copy_at,
                        retweets=retweets,
                        likes=likes,
                        replies=replies,
                        quotes=quotes,
                        retweet_of=original.id,
                    )
            if rng.random() < quote_rate:
                r2, l2, p2, q2 = _engagement(rng)
                quoter = rng.choice(pool)
                make(
                    quoter,
                    [
                        _paper_link(arxiv_id, rng),
                        f"https://twitter.com/{author.username}/status/{original.id}",
                    ],
                    "This! Great thread on the paper",
                    moment(at),
                    retweets=r2,
                    likes=l2,
                    replies=p2,
                    quotes=q2,
                    quote_of=original.id,
                )
            if rng.random() < repeat_rate:
                r3, l3, p3, q3 = _engagement(rng)
                make(
                    author,
                    [_paper_link(arxiv_id, rng)],
                    f"Reminder: {arxiv_id} is out",
                    moment(at),
                    retweets=r3,
                    likes=l3,
                    replies=p3,
                    quotes=q3,
                )
    wanted = set(arxiv_ids)
    for _ in range(unrelated):
        retweets, likes, replies, quotes = _engagement(rng)
        make(
            rng.choice(pool),
            [_paper_link(_unrelated_id(rng, wanted), rng)],
            "Older paper, still great",
            moment(window_start),
            retweets=retweets,
            likes=likes,
            replies=replies,
            quotes=quotes,
            retweet_of=None if rng.random() < 0.6 else str(rng.randint(10**17, 10**18)),
        )
    return posts
