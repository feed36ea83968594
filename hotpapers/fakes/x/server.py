"""The fake X's routes: recent search, post lookup, create, users/me, a user's timeline and
oEmbed."""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import Awaitable, Callable
from datetime import timedelta
from html import escape
from typing import Any
from urllib.parse import unquote

from aiohttp import web

from hotpapers.fakes.x.model import (
    MAX_POST_WEIGHT,
    OEMBED_CACHE_AGE,
    SEARCH_WINDOW,
    STATUS_RE,
    FakeTweet,
    fake_weighted_length,
    snowflake,
)
from hotpapers.fakes.x.query import QueryError, parse_query
from hotpapers.fakes.x.state import (
    DUPLICATE_DETAIL,
    HTML_ERROR_PAGE,
    OAUTH_PARAM_RE,
    OAUTH_REQUIRED,
    XState,
    invalid_request,
    parse_time,
    problem,
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


class FakeX(XState):
    """X API v2 recent search, post lookup and oEmbed on one local port (package docstring)."""

    def make_app(self) -> web.Application:
        app = web.Application(middlewares=[self._middleware])
        app.router.add_get("/2/tweets/search/recent", self._search)
        app.router.add_get("/2/tweets", self._lookup)
        app.router.add_get("/oembed", self._oembed)
        app.router.add_post("/2/tweets", self._create)
        app.router.add_get("/2/users/me", self._me)
        app.router.add_get("/2/users/{user_id}/tweets", self._timeline)
        return app

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
            return problem(401, "Unauthorized", "Unauthorized")
        if not allowed:
            self.rate_limited += 1
            return problem(429, "Too Many Requests", "Too Many Requests")
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
                return problem(503, "Service Unavailable", "Service Unavailable")
            return await handler(request)
        if fault.kind == "malformed":
            return web.Response(
                status=200, body=b'{"data":[{"id":"1","text":"cut', content_type="application/json"
            )
        if fault.kind == "html":
            return web.Response(status=fault.status, body=HTML_ERROR_PAGE, content_type="text/html")
        return self._error_status(fault.status)

    def _authorized(self, request: web.Request) -> bool:
        """Bearer token for reads; OAuth 1.0a user context for creating posts."""
        auth = request.headers.get("Authorization", "")
        user_context = request.method == "POST" or request.path == "/2/users/me"
        if auth.startswith("OAuth ") and request.path.startswith("/2/users/"):
            user_context = True
        if user_context:
            params = dict(OAUTH_PARAM_RE.findall(auth)) if auth.startswith("OAuth ") else {}
            return all(params.get(name) for name in OAUTH_REQUIRED) and all(
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
            return problem(401, "Unauthorized", "Unauthorized")
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
            return problem(429, "Too Many Requests", "Too Many Requests")
        if status >= 500:
            return problem(status, "Service Unavailable", "Service Unavailable")
        return problem(status, "Error", f"HTTP {status}")

    async def _search(self, request: web.Request) -> web.StreamResponse:
        params = request.query
        query = params.get("query", "")
        self.queries.append(query)
        raw_max = params.get("max_results", "10")
        refused = self._refuse_search(query, raw_max)
        if refused is not None:
            return refused
        try:
            predicate = parse_query(query)
        except QueryError as exc:
            return invalid_request(
                "query", query, f"There were errors processing your request: {exc}"
            )
        now = self.clock()
        window_start = now - SEARCH_WINDOW
        try:
            start = parse_time(params["start_time"]) if "start_time" in params else None
            end = parse_time(params["end_time"]) if "end_time" in params else None
        except ValueError:
            return invalid_request("start_time", params.get("start_time", ""), "Invalid time")
        if start is not None and start < window_start - timedelta(seconds=60):
            value = params["start_time"]
            return invalid_request(
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
                return invalid_request(
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
        meta = self._page_meta(query, matched, offset, page)
        return web.json_response(self._payload(page, params, meta))

    def _refuse_search(self, query: str, raw_max: str) -> web.Response | None:
        """X's 400 for an empty or too long query or a `max_results` out of 10..100."""
        if not query:
            return invalid_request("query", "", "The `query` query parameter can not be empty")
        if len(query) > self.max_query_length:
            return invalid_request(
                "query",
                query,
                f"The `query` query parameter value [{query}] is not valid: query length "
                f"{len(query)} exceeds the limit of {self.max_query_length} characters",
            )
        if not raw_max.isdigit() or not 10 <= int(raw_max) <= 100:
            return invalid_request(
                "max_results",
                raw_max,
                f"The `max_results` query parameter value [{raw_max}] is not between 10 and 100",
            )
        return None

    def _page_meta(
        self, query: str, matched: list[FakeTweet], offset: int, page: list[FakeTweet]
    ) -> dict[str, Any]:
        """The `meta` of one page of results, with a `next_token` when more follow."""
        meta: dict[str, Any] = {"result_count": len(page)}
        if page:
            meta = {"newest_id": page[0].id, "oldest_id": page[-1].id, **meta}
        if offset + len(page) < len(matched):
            next_token = secrets.token_hex(16)
            self._pages[next_token] = (query, offset + len(page), matched)
            meta["next_token"] = next_token
        return meta

    async def _lookup(self, request: web.Request) -> web.StreamResponse:
        ids = [value for value in request.query.get("ids", "").split(",") if value]
        if not 1 <= len(ids) <= 100:
            return invalid_request(
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
            return invalid_request("body", "", "The request body is not valid JSON")
        text = body.get("text") if isinstance(body, dict) else None
        if not isinstance(text, str) or not text:
            return invalid_request("text", "", "The `text` field is required")
        if fake_weighted_length(text) > MAX_POST_WEIGHT:
            return invalid_request("text", text, "Your Tweet text is too long.")
        if any(post.text == text for post in self.created):
            return problem(403, "Forbidden", DUPLICATE_DETAIL)
        reply = body.get("reply") or {}
        reply_to = reply.get("in_reply_to_tweet_id") if isinstance(reply, dict) else None
        if reply_to is not None and str(reply_to) not in self.posts:
            return invalid_request(
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
            return invalid_request(
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
        match = STATUS_RE.search(url)
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
