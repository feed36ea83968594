"""The fake Bluesky XRPC API: sessions (JWTs), posts, the seeded generator and
`app.bsky.feed.searchPosts`."""

from __future__ import annotations

import base64
import json
import random
import secrets
import time
import zlib
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

from aiohttp import web

from hotpapers.fakes.social.server import Fault, SocialFake, int_param, iso_time
from hotpapers.fakes.social.words import made_up_title, made_up_user


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _jwt(payload: Mapping[str, Any]) -> str:
    header = {"typ": "at+jwt", "alg": "ES256K"}
    return ".".join(
        [
            _b64(json.dumps(header).encode()),
            _b64(json.dumps(payload).encode()),
            _b64(secrets.token_bytes(32)),
        ]
    )


_TID_CHARS = "234567abcdefghijklmnopqrstuvwxyz"


def _tid(rng: random.Random) -> str:
    return "3l" + "".join(rng.choice(_TID_CHARS) for _ in range(11))


def _did(handle: str) -> str:
    digest = base64.b32encode(handle.encode()).decode().lower().rstrip("=")
    return "did:plc:" + (digest + "a" * 24)[:24]


def bluesky_post(
    handle: str,
    text: str,
    *,
    links: Sequence[str] = (),
    card: str | None = None,
    quote_of: dict[str, Any] | None = None,
    likes: int = 0,
    reposts: int = 0,
    replies: int = 0,
    quotes: int = 0,
    created_at: datetime | None = None,
    rkey: str | None = None,
    seed: int | None = None,
) -> dict[str, Any]:
    """One `app.bsky.feed.defs#postView`: link facets for `links` (appended to the text),
    an external link card for `card`, and an `app.bsky.embed.record` quote of `quote_of`."""
    rng = random.Random(seed if seed is not None else zlib.crc32(f"{handle}\n{text}".encode()))
    did = _did(handle)
    rkey = rkey or _tid(rng)
    created = created_at or datetime(2026, 11, 20, 14, 0, tzinfo=UTC)
    body, facets = _with_link_facets(text, links)
    record: dict[str, Any] = {
        "$type": "app.bsky.feed.post",
        "text": body,
        "createdAt": iso_time(created),
        "langs": ["en"],
    }
    if facets:
        record["facets"] = facets
    view: dict[str, Any] = {
        "$type": "app.bsky.feed.defs#postView",
        "uri": f"at://{did}/app.bsky.feed.post/{rkey}",
        "cid": "bafyrei" + "".join(rng.choice(_TID_CHARS) for _ in range(52)),
        "author": _author_view(did, handle),
        "record": record,
        "replyCount": replies,
        "repostCount": reposts,
        "likeCount": likes,
        "quoteCount": quotes,
        "bookmarkCount": 0,
        "indexedAt": iso_time(created + timedelta(seconds=1)),
        "labels": [],
    }
    _embed(record, view, card, quote_of)
    return view


def _with_link_facets(text: str, links: Sequence[str]) -> tuple[str, list[dict[str, Any]]]:
    """`text` with the links appended (shortened as the app shows them) and their facets
    (byte ranges into the UTF-8 text)."""
    facets = []
    body = text
    for link in links:
        shown = link.split("://", 1)[-1]
        shown = shown if len(shown) <= 30 else shown[:27] + "..."
        start = len(body.encode()) + (1 if body else 0)
        body = f"{body} {shown}" if body else shown
        facets.append(
            {
                "$type": "app.bsky.richtext.facet",
                "index": {"byteStart": start, "byteEnd": start + len(shown.encode())},
                "features": [{"$type": "app.bsky.richtext.facet#link", "uri": link}],
            }
        )
    return body, facets


def _author_view(did: str, handle: str) -> dict[str, Any]:
    return {
        "did": did,
        "handle": handle,
        "displayName": handle.split(".")[0].title(),
        "avatar": f"https://cdn.bsky.app/img/avatar/plain/{did}/bafkrei@jpeg",
        "labels": [],
        "createdAt": "2023-05-01T12:00:00.000Z",
    }


def _embed(
    record: dict[str, Any],
    view: dict[str, Any],
    card: str | None,
    quote_of: dict[str, Any] | None,
) -> None:
    """Attach a link card and/or a quoted post to the record and its view (a quote wins)."""
    if card is not None:
        external = {"uri": card, "title": "arXiv paper", "description": "Abstract page."}
        record["embed"] = {"$type": "app.bsky.embed.external", "external": external}
        view["embed"] = {"$type": "app.bsky.embed.external#view", "external": external}
    if quote_of is not None:
        ref = {"uri": quote_of["uri"], "cid": quote_of["cid"]}
        record["embed"] = {"$type": "app.bsky.embed.record", "record": ref}
        view["embed"] = {
            "$type": "app.bsky.embed.record#view",
            "record": {
                "$type": "app.bsky.embed.record#viewRecord",
                **ref,
                "author": quote_of["author"],
                "value": quote_of["record"],
                "labels": [],
                "indexedAt": quote_of["indexedAt"],
                "embeds": [quote_of["embed"]] if "embed" in quote_of else [],
            },
        }


def generate_bluesky_posts(
    arxiv_ids: Iterable[str],
    seed: int = 0,
    *,
    since: datetime | None = None,
    until: datetime | None = None,
) -> list[dict[str, Any]]:
    """Posts about `arxiv_ids`: abs/pdf links as facets and link cards, self-threads, quote
    posts, and decoys that mention an id while linking another paper or another site. Posts
    are created between `since` and `until` (default: 4,000 minutes from 2026-11-20 01:00
    UTC)."""
    rng = random.Random(seed)
    ids = list(arxiv_ids)
    posts: list[dict[str, Any]] = []
    start = since or datetime(2026, 11, 20, 1, 0, tzinfo=UTC)
    span = 4000 if until is None else max(1, int((until - start).total_seconds() // 60))
    for n, arxiv_id in enumerate(ids):
        for _ in range(rng.choice([0, 1, 2, 3, 4])):
            posts += _posts_about(rng, arxiv_id, start, span)
        if len(ids) > 1 and rng.random() < 0.5:  # decoy: mentions this id, links another
            other = ids[(n + 1) % len(ids)]
            posts.append(
                bluesky_post(
                    f"{made_up_user(rng)}.bsky.social",
                    f"Unlike {arxiv_id}, this one works:",
                    links=[f"https://arxiv.org/abs/{other}"],
                    likes=rng.randrange(0, 30),
                    seed=rng.randrange(1 << 30),
                    created_at=start + timedelta(minutes=(n * 7919) % span),
                )
            )
    return posts


def _posts_about(
    rng: random.Random, arxiv_id: str, start: datetime, span: int
) -> list[dict[str, Any]]:
    """One post linking the paper, and maybe a self-thread reply and a quote of it."""
    handle = f"{made_up_user(rng)}.bsky.social"
    link = rng.choice([f"https://arxiv.org/abs/{arxiv_id}", f"https://arxiv.org/pdf/{arxiv_id}v1"])
    card = link if rng.random() < 0.5 else None
    post = bluesky_post(
        handle,
        "New paper: " + made_up_title(rng),
        links=[link],
        card=card,
        likes=int(rng.paretovariate(1.2) * 2),
        reposts=rng.randrange(0, 10),
        replies=rng.randrange(0, 5),
        quotes=rng.randrange(0, 3),
        created_at=start + timedelta(minutes=rng.randrange(span)),
        seed=rng.randrange(1 << 30),
    )
    posts = [post]
    if rng.random() < 0.3:  # the same author again, in a self-thread
        posts.append(
            bluesky_post(
                handle,
                "Thread 2/2:",
                links=[f"https://arxiv.org/abs/{arxiv_id}"],
                likes=rng.randrange(0, 5),
                seed=rng.randrange(1 << 30),
                created_at=start + timedelta(minutes=rng.randrange(span)),
            )
        )
    if rng.random() < 0.3:  # someone quotes it without linking again
        posts.append(
            bluesky_post(
                f"{made_up_user(rng)}.bsky.social",
                "Worth a read",
                quote_of=post,
                likes=rng.randrange(0, 20),
                seed=rng.randrange(1 << 30),
                created_at=start + timedelta(minutes=rng.randrange(span)),
            )
        )
    return posts


def _post_links(view: Mapping[str, Any]) -> list[str]:
    """Links the search index knows for a post: facets, link card, and the quoted post's."""
    found: list[str] = []

    def walk(value: Any) -> None:
        if isinstance(value, dict):
            for key, item in value.items():
                if key == "uri" and isinstance(item, str) and item.startswith("http"):
                    found.append(item)
                else:
                    walk(item)
        elif isinstance(value, list):
            for item in value:
                walk(item)

    walk([view.get("record"), view.get("embed")])
    return found


def _normal_url(url: str) -> str:
    return url.split("://", 1)[-1].removeprefix("www.").rstrip("/").lower()


class FakeBluesky(SocialFake):
    """A PDS + AppView subset: sessions and post search, with bearer-token checks."""

    prefix = "/xrpc"

    def __init__(self, accounts: Mapping[str, str] | None = None) -> None:
        super().__init__()
        self.accounts: dict[str, str] = dict(accounts or {})  # handle -> app password
        self.posts: list[dict[str, Any]] = []
        self.access: dict[str, str] = {}  # access token -> did
        self.refresh: dict[str, str] = {}  # refresh token -> handle
        self.expired: set[str] = set()
        self.token_lifetime = timedelta(hours=2)
        # called with the query of every searchPosts request before it is answered (tests use
        # it to expire tokens or change the password in the middle of a run)
        self.before_search: Callable[[Mapping[str, str]], None] | None = None
        self._results: dict[Any, tuple[list[dict[str, Any]], list[dict[str, Any]]]] = {}
        self._infos: dict[int, tuple[dict[str, Any], _PostInfo]] = {}

    def add(self, *posts: dict[str, Any]) -> None:
        self.posts.extend(posts)

    def expire_tokens(self) -> None:
        """Every access token issued so far answers ExpiredToken from now on."""
        self.expired |= set(self.access)

    def routes(self, app: web.Application) -> None:
        app.router.add_post("/xrpc/com.atproto.server.createSession", self._create_session)
        app.router.add_post("/xrpc/com.atproto.server.refreshSession", self._refresh_session)
        app.router.add_get("/xrpc/app.bsky.feed.searchPosts", self._search_posts)

    def fault_response(self, fault: Fault) -> web.StreamResponse:
        errors = {
            "429": (429, "RateLimitExceeded", "Rate Limit Exceeded"),
            "500": (500, "InternalServerError", "Internal Server Error"),
            "401": (401, "AuthenticationRequired", "Invalid identifier or password"),
        }
        if fault.kind not in errors:
            return super().fault_response(fault)
        status, error, message = errors[fault.kind]
        headers = {}
        if fault.kind == "429":
            reset = int(time.time() + fault.retry_after)
            headers = {
                "Retry-After": f"{fault.retry_after:g}",
                "RateLimit-Limit": "3000",
                "RateLimit-Remaining": "0",
                "RateLimit-Reset": str(reset),
                "RateLimit-Policy": "3000;w=300",
            }
        return _xrpc_error(fault.status or status, error, message, headers)

    def _issue(self, handle: str) -> dict[str, Any]:
        did = _did(handle)
        now = int(time.time())
        exp = now + int(self.token_lifetime.total_seconds())
        access = _jwt(
            {
                "scope": "com.atproto.appPass",
                "sub": did,
                "iat": now,
                "exp": exp,
                "aud": "did:web:127.0.0.1",
                "jti": secrets.token_hex(8),
            }
        )
        refresh = _jwt(
            {
                "scope": "com.atproto.refresh",
                "sub": did,
                "iat": now,
                "exp": now + 90 * 86400,
                "jti": secrets.token_hex(8),
            }
        )
        self.access[access] = did
        self.refresh[refresh] = handle
        # No didDoc: the SDK would switch its base URL to the PDS named there.
        return {
            "accessJwt": access,
            "refreshJwt": refresh,
            "handle": handle,
            "did": did,
            "email": f"{handle.split('.')[0]}@example.org",
            "emailConfirmed": True,
            "active": True,
        }

    async def _create_session(self, request: web.Request) -> web.Response:
        try:
            body = await request.json()
        except ValueError:
            return _xrpc_error(400, "InvalidRequest", "Request body must be JSON")
        identifier = str(body.get("identifier", "")).lower().lstrip("@")
        password = body.get("password")
        handle = next((h for h in self.accounts if h.lower() == identifier), None)
        if handle is None or self.accounts[handle] != password:
            return _xrpc_error(401, "AuthenticationRequired", "Invalid identifier or password")
        return web.json_response(self._issue(handle))

    async def _refresh_session(self, request: web.Request) -> web.Response:
        token = _bearer(request)
        handle = self.refresh.pop(token or "", None)
        if handle is None:
            return _xrpc_error(400, "ExpiredToken", "Token has been revoked")
        return web.json_response(self._issue(handle))

    async def _search_posts(self, request: web.Request) -> web.Response:
        if self.before_search is not None:
            self.before_search(request.query)
        token = _bearer(request)
        if token is None or token not in self.access:
            return _xrpc_error(401, "AuthenticationRequired", "Authentication Required")
        if token in self.expired:
            return _xrpc_error(400, "ExpiredToken", "Token has expired")
        q = request.query.get("q")
        if not q:
            return _xrpc_error(400, "InvalidRequest", 'Error: Params must have the property "q"')
        limit = int_param(request, "limit", 25)
        if not 1 <= limit <= 100:
            return _xrpc_error(400, "InvalidRequest", "Error: limit must be between 1 and 100")
        try:
            offset = int(request.query.get("cursor") or 0)
            since = _when(request.query.get("since"))
            until = _when(request.query.get("until"))
        except ValueError as exc:
            return _xrpc_error(400, "InvalidRequest", f"Invalid cursor, since or until: {exc}")
        sort = request.query.get("sort", "latest")
        if sort not in ("latest", "top"):
            return _xrpc_error(400, "InvalidRequest", "Error: sort must be one of latest, top")
        found = self._found(request, since, until, sort)
        page = [json.loads(json.dumps(p)) for p in found[offset : offset + limit]]
        damage = self.damage_kind(request)
        for post in page:
            if damage == "missing_fields":
                post.pop("author", None)
            elif damage == "wrong_types":
                post["likeCount"] = "lots"
        body: dict[str, Any] = {"posts": page, "hitsTotal": len(found)}
        if offset + limit < len(found):
            body["cursor"] = str(offset + limit)
        return web.json_response(body)

    def _found(
        self, request: web.Request, since: datetime | None, until: datetime | None, sort: str
    ) -> list[dict[str, Any]]:
        """The matching posts in result order, cached per query so paging stays cheap (the
        cache follows `posts` being replaced or growing, not posts edited in place)."""
        params = tuple(sorted((k, v) for k, v in request.query.items() if k not in _PAGING))
        key = (id(self.posts), len(self.posts), params)
        cached = self._results.get(key)
        if cached is not None and cached[0] is self.posts:
            return cached[1]
        found = []
        for post in self.posts:
            info = self._info(post)
            if since is not None and info.sort_at < since:
                continue
            if until is not None and info.sort_at >= until:
                continue
            if self._matches(post, request, info):
                found.append(post)
        if sort == "top":
            found.sort(key=lambda p: (p.get("likeCount") or 0, p["indexedAt"]), reverse=True)
        else:
            found.sort(key=lambda p: (self._info(p).sort_at, p["indexedAt"]), reverse=True)
        if len(self._results) > 64:
            self._results.clear()
        self._results[key] = (self.posts, found)
        return found

    def _info(self, post: dict[str, Any]) -> _PostInfo:
        cached = self._infos.get(id(post))
        if cached is not None and cached[0] is post:
            return cached[1]
        links = _post_links(post)
        text = str(post["record"].get("text", "")).lower()
        created = _when(post["record"].get("createdAt")) or _when(post["indexedAt"])
        indexed = _when(post["indexedAt"]) or created
        assert created is not None and indexed is not None
        info = _PostInfo(
            links=links,
            haystack=" ".join([text, *links]).lower(),
            hosts=[(urlsplit(link).hostname or "").lower() for link in links],
            urls={_normal_url(link) for link in links},
            sort_at=min(created, indexed),
        )
        self._infos[id(post)] = (post, info)
        return info

    def _matches(self, post: dict[str, Any], request: web.Request, info: _PostInfo) -> bool:
        words = [w.lower() for w in request.query.get("q", "").split() if w != "*"]
        if not all(w in info.haystack for w in words):
            return False
        domain = request.query.get("domain", "").lower().removeprefix("www.")
        if domain and not any(h == domain or h.endswith("." + domain) for h in info.hosts):
            return False
        url = request.query.get("url")
        if url and _normal_url(url) not in info.urls:
            return False
        author = request.query.get("author", "").lower()
        return not author or author in (post["author"]["handle"], post["author"]["did"])


_PAGING = frozenset({"cursor", "limit"})


@dataclass(frozen=True, slots=True)
class _PostInfo:
    """What search needs of a post, worked out once."""

    links: list[str]
    haystack: str
    hosts: list[str]
    urls: set[str]
    sort_at: datetime


def _when(value: str | None) -> datetime | None:
    """An ISO datetime or date (`since` / `until`), as an aware datetime; ValueError if bad."""
    if not value:
        return None
    moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _bearer(request: web.Request) -> str | None:
    value = request.headers.get("Authorization", "")
    return value[len("Bearer ") :] if value.startswith("Bearer ") else None


def _xrpc_error(
    status: int, error: str, message: str, headers: Mapping[str, str] | None = None
) -> web.Response:
    return web.json_response(
        {"error": error, "message": message}, status=status, headers=dict(headers or {})
    )
