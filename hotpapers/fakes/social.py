"""Local fakes (aiohttp.web on 127.0.0.1) of the social APIs, in their real wire shapes.

* `FakeHN` - Hacker News Algolia: `GET /api/v1/search` (by points) and
  `/api/v1/search_by_date` (newest first) with `query`, `tags`, `restrictSearchableAttributes`,
  `numericFilters` (`created_at_i`, `points`, `num_comments` with `<`, `<=`, `=`, `>`, `>=`;
  comma = AND), `hitsPerPage` (1..1000), `page`, in the real envelope (hits, nbHits, page,
  nbPages, hitsPerPage, processingTimeMS, query, params). Like hn.algolia.com it serves at most
  the first 1,000 hits of a query (`nbHits` is the true count, `nbPages` stops at 1,000 hits).
* `FakeHF` - Hugging Face: `GET /api/daily_papers?date=&p=&limit=` and `/api/papers/{id}`.
* `FakeBluesky` - XRPC: `POST com.atproto.server.createSession` / `refreshSession` (no
  `didDoc`, so the atproto SDK keeps using our base URL) and `GET app.bsky.feed.searchPosts`
  (`q`, `domain`, `url`, `author`, `since` / `until` on the post's sort time (the earlier of
  `createdAt` and `indexedAt`), `sort` latest|top, `limit`, `cursor`), which needs the bearer
  token.

Every fake records its requests (`requests`), serves whatever data it holds (see the
`hn_story`, `hf_daily_item`, `bluesky_post` builders and the seeded `generate_*` functions)
and injects faults with `fail(kind, ...)`: "429" (with Retry-After), "500", "html" (an HTML
page), "malformed" (broken JSON), "missing_fields", "wrong_types", "slow" and "401". A fault
applies to the next `times` requests whose path and query contain `match`.
"""

from __future__ import annotations

import asyncio
import base64
import json
import random
import re
import secrets
import time
import zlib
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

from aiohttp import web

from hotpapers.fakes._server import LocalServer

__all__ = [
    "FAULT_KINDS",
    "FakeBluesky",
    "FakeHF",
    "FakeHN",
    "Fault",
    "LoggedRequest",
    "bluesky_post",
    "generate_bluesky_posts",
    "generate_hf_daily",
    "generate_hn_stories",
    "hf_daily_item",
    "hn_story",
]

FAULT_KINDS = (
    "429",
    "500",
    "html",
    "malformed",
    "missing_fields",
    "wrong_types",
    "slow",
    "401",
)
_HTML_PAGE = (
    "<!DOCTYPE html>\n<html><head><title>502 Bad Gateway</title></head>"
    "<body><h1>Bad Gateway</h1><p>The upstream server is temporarily unavailable.</p>"
    "</body></html>"
)
_WORDS = tuple(
    [
        "scaling",
        "laws",
        "attention",
        "diffusion",
        "transformers",
        "retrieval",
        "agents",
        "alignment",
        "sparse",
        "mixture",
        "experts",
        "tokenizer",
        "reasoning",
        "benchmark",
        "robust",
        "vision",
        "language",
        "graph",
        "kernel",
        "optimizer",
        "distillation",
        "quantization",
        "long",
        "context",
        "memory",
    ]
)
_FIRST = tuple(
    [
        "ada",
        "alan",
        "grace",
        "edsger",
        "barbara",
        "donald",
        "frances",
        "john",
        "katherine",
        "leslie",
    ]
)
_LAST = tuple(
    ["lovelace", "turing", "hopper", "dijkstra", "liskov", "knuth", "allen", "mccarthy", "johnson"]
)


@dataclass(slots=True)
class Fault:
    """A failure the fake serves instead of (or before, for "slow") the real answer."""

    kind: str
    times: int | None = 1  # None: every matching request
    match: str | None = None  # substring of the decoded "path?query"
    retry_after: float = 1.0  # seconds, for "429"
    delay: float = 2.0  # seconds, for "slow"
    status: int | None = None  # override the status code (e.g. an HTML page with 503)
    used: int = 0


_FAULT = web.RequestKey("fault", Fault)


@dataclass(slots=True)
class LoggedRequest:
    method: str
    path: str
    query: dict[str, str]
    authorization: str | None
    at: float = field(default_factory=time.monotonic)
    fault: str | None = None


class _FakeServer(LocalServer):
    """aiohttp.web app on 127.0.0.1 with a request log and fault injection."""

    def __init__(self) -> None:
        self.requests: list[LoggedRequest] = []
        self.faults: list[Fault] = []

    def make_app(self) -> web.Application:
        app = web.Application(middlewares=[self._middleware])
        self.routes(app)
        return app

    def routes(self, app: web.Application) -> None:
        raise NotImplementedError

    # --- faults ----------------------------------------------------------------------
    def fail(
        self,
        kind: str,
        *,
        times: int | None = 1,
        match: str | None = None,
        retry_after: float = 1.0,
        delay: float = 2.0,
        status: int | None = None,
    ) -> Fault:
        """Serve fault `kind` for the next `times` requests matching `match`."""
        if kind not in FAULT_KINDS:
            raise ValueError(f"unknown fault kind {kind!r}; expected one of {FAULT_KINDS}")
        fault = Fault(kind, times, match, retry_after, delay, status)
        self.faults.append(fault)
        return fault

    def requests_to(self, path_part: str) -> list[LoggedRequest]:
        return [r for r in self.requests if path_part in r.path]

    def _take_fault(self, target: str) -> Fault | None:
        for fault in self.faults:
            if fault.times is not None and fault.used >= fault.times:
                continue
            if fault.match is not None and fault.match not in target:
                continue
            fault.used += 1
            return fault
        return None

    @web.middleware
    async def _middleware(
        self, request: web.Request, handler: Callable[[web.Request], Any]
    ) -> web.StreamResponse:
        query = dict(request.query)
        target = request.path + "?" + "&".join(f"{k}={v}" for k, v in query.items())
        entry = LoggedRequest(
            request.method, request.path, query, request.headers.get("Authorization")
        )
        self.requests.append(entry)
        fault = self._take_fault(target)
        if fault is not None:
            entry.fault = fault.kind
            request[_FAULT] = fault
            if fault.kind == "slow":
                await asyncio.sleep(fault.delay)
            elif fault.kind not in ("missing_fields", "wrong_types"):
                return self.fault_response(fault)
        response: web.StreamResponse = await handler(request)
        return response

    def fault_response(self, fault: Fault) -> web.StreamResponse:
        if fault.kind == "429":
            return web.json_response(
                {"message": "Too Many Requests"},
                status=fault.status or 429,
                headers={"Retry-After": f"{fault.retry_after:g}"},
            )
        if fault.kind == "500":
            return web.json_response(
                {"message": "Internal Server Error"}, status=fault.status or 500
            )
        if fault.kind == "html":
            return web.Response(
                text=_HTML_PAGE, status=fault.status or 200, content_type="text/html"
            )
        if fault.kind == "malformed":
            return web.Response(
                body=b'{"hits": [{"title": "Attention',
                status=fault.status or 200,
                content_type="application/json",
            )
        return web.json_response({"message": "Unauthorized"}, status=fault.status or 401)

    @staticmethod
    def damage_kind(request: web.Request) -> str | None:
        fault = request.get(_FAULT)
        return fault.kind if fault is not None else None


def _int_param(request: web.Request, name: str, default: int) -> int:
    try:
        return int(request.query.get(name, default))
    except ValueError:
        raise web.HTTPBadRequest(
            text=json.dumps({"message": f"invalid {name}"}), content_type="application/json"
        ) from None


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")


# ===================================================================================
# Hacker News (Algolia)
# ===================================================================================


def hn_story(
    object_id: int | str,
    url: str | None,
    *,
    title: str = "A paper",
    author: str = "someone",
    points: int = 1,
    num_comments: int = 0,
    created_at: datetime | None = None,
) -> dict[str, Any]:
    """One Algolia story hit in the real shape."""
    created = created_at or datetime(2026, 11, 20, 15, 0, tzinfo=UTC)
    oid = str(object_id)
    return {
        "_tags": ["story", f"author_{author}", f"story_{oid}"],
        "author": author,
        "children": [],
        "created_at": created.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "created_at_i": int(created.timestamp()),
        "num_comments": num_comments,
        "objectID": oid,
        "points": points,
        "story_id": int(oid) if oid.isdigit() else oid,
        "title": title,
        "updated_at": created.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "url": url,
    }


def generate_hn_stories(
    arxiv_ids: Iterable[str],
    seed: int = 0,
    *,
    since: datetime | None = None,
    until: datetime | None = None,
) -> list[dict[str, Any]]:
    """Realistic stories for `arxiv_ids`: abs/pdf/html links (some versioned), plus decoys
    that Algolia's token match returns but that do not link the paper. Stories are created
    between `since` and `until` (default: the 72 hours from 2026-11-20 00:00 UTC)."""
    rng = random.Random(seed)
    start = since or datetime(2026, 11, 20, tzinfo=UTC)
    span = max(1, int(((until - start) if until else timedelta(hours=72)).total_seconds() // 60))
    hits: list[dict[str, Any]] = []
    next_id = 46_000_000 + rng.randrange(100_000)
    for arxiv_id in arxiv_ids:
        for _ in range(rng.choice([0, 1, 1, 2, 3])):
            kind = rng.choice(["abs", "abs", "pdf", "html"])
            version = rng.choice(["", "", "v1", "v2"])
            url = {
                "abs": f"https://arxiv.org/abs/{arxiv_id}{version}",
                "pdf": f"https://arxiv.org/pdf/{arxiv_id}{version}",
                "html": f"https://arxiv.org/html/{arxiv_id}{version or 'v1'}",
            }[kind]
            next_id += rng.randrange(1, 5000)
            hits.append(
                hn_story(
                    next_id,
                    url,
                    title=_title(rng),
                    author=_user(rng),
                    points=int(rng.paretovariate(1.2) * 3),
                    num_comments=rng.randrange(0, 80),
                    created_at=start + timedelta(minutes=rng.randrange(span)),
                )
            )
        if rng.random() < 0.5:  # a decoy: the id in a non-arXiv URL
            next_id += rng.randrange(1, 5000)
            hits.append(
                hn_story(
                    next_id,
                    f"https://github.com/{_user(rng)}/{arxiv_id}-code",
                    title="Code for " + _title(rng),
                    points=rng.randrange(1, 40),
                    created_at=start + timedelta(minutes=next_id % span),
                )
            )
    return hits


def _title(rng: random.Random) -> str:
    return " ".join(rng.sample(_WORDS, 4)).capitalize()


def _user(rng: random.Random) -> str:
    return rng.choice(_FIRST) + rng.choice(_LAST)[:3] + str(rng.randrange(100))


_TOKEN = re.compile(r"[A-Za-z0-9]+")
_NUMERIC_FILTER = re.compile(r"\s*(created_at_i|points|num_comments)\s*(<=|>=|<|>|=)\s*(-?\d+)\s*")
_COMPARE: dict[str, Callable[[int, int], bool]] = {
    "<": lambda a, b: a < b,
    "<=": lambda a, b: a <= b,
    "=": lambda a, b: a == b,
    ">": lambda a, b: a > b,
    ">=": lambda a, b: a >= b,
}
ALGOLIA_MAX_HITS = 1000  # hn.algolia.com serves the first 1,000 hits of a query


def _numeric_filters(text: str) -> list[tuple[str, Callable[[int, int], bool], int]] | None:
    """`created_at_i>=1,points>10` as (field, comparison, value) triples; None if invalid."""
    found = []
    for part in filter(None, text.split(",")):
        match = _NUMERIC_FILTER.fullmatch(part)
        if match is None:
            return None
        found.append((match.group(1), _COMPARE[match.group(2)], int(match.group(3))))
    return found


def _tokens(text: str) -> list[str]:
    return [t.lower() for t in _TOKEN.findall(text)]


class FakeHN(_FakeServer):
    """hn.algolia.com/api/v1 with a list of story hits."""

    prefix = "/api/v1"

    def __init__(self, hits: Iterable[dict[str, Any]] = ()) -> None:
        super().__init__()
        self.hits: list[dict[str, Any]] = list(hits)

    def add(self, *hits: dict[str, Any]) -> None:
        self.hits.extend(hits)

    def routes(self, app: web.Application) -> None:
        app.router.add_get("/api/v1/search", self._search)
        app.router.add_get("/api/v1/search_by_date", self._search_by_date)

    def _matches(self, hit: dict[str, Any], words: list[str], attrs: list[str], tags: str) -> bool:
        for tag in filter(None, tags.split(",")):
            if tag not in hit.get("_tags", []):
                return False
        haystack = [t for a in attrs for t in _tokens(str(hit.get(a) or ""))]
        # Algolia-like: every query word must match a token; the last one as a prefix.
        for index, word in enumerate(words):
            last = index == len(words) - 1
            if not any(t == word or (last and t.startswith(word)) for t in haystack):
                return False
        return True

    async def _search(self, request: web.Request) -> web.Response:
        return self._answer(request, by_date=False)

    async def _search_by_date(self, request: web.Request) -> web.Response:
        return self._answer(request, by_date=True)

    def _answer(self, request: web.Request, *, by_date: bool) -> web.Response:
        query = request.query.get("query", "")
        restrict = request.query.get("restrictSearchableAttributes", "")
        attrs = restrict.split(",") if restrict else ["title", "url", "author", "story_text"]
        per_page = _int_param(request, "hitsPerPage", 20)
        page = _int_param(request, "page", 0)
        if not 0 < per_page <= 1000 or page < 0:
            return web.json_response({"message": "invalid hitsPerPage or page"}, status=400)
        numeric = _numeric_filters(request.query.get("numericFilters", ""))
        if numeric is None:
            message = f"invalid numericFilters: {request.query.get('numericFilters')}"
            return web.json_response({"message": message, "status": 400}, status=400)
        words, tags = _tokens(query), request.query.get("tags", "")
        found = [
            h
            for h in self.hits
            if all(compare(h.get(name) or 0, value) for name, compare, value in numeric)
            and self._matches(h, words, attrs, tags)
        ]
        key = "created_at_i" if by_date else "points"
        found.sort(key=lambda h: h.get(key) or 0, reverse=True)
        reachable = min(len(found), ALGOLIA_MAX_HITS)
        pages = (reachable + per_page - 1) // per_page
        start = page * per_page
        hits = [dict(h) for h in found[start : min(start + per_page, reachable)]]
        damage = self.damage_kind(request)
        if damage == "missing_fields":
            for hit in hits:
                hit.pop("objectID", None)
        elif damage == "wrong_types":
            for hit in hits:
                hit["points"] = f"{hit.get('points')} points"
        body = {
            "hits": hits,
            "nbHits": len(found),
            "page": page,
            "nbPages": pages,
            "hitsPerPage": per_page,
            "exhaustiveNbHits": True,
            "exhaustiveTypo": True,
            "query": query,
            "params": request.query_string,
            "processingTimeMS": 1,
        }
        if damage == "missing_fields" and not hits:
            body.pop("hits")
        return web.json_response(body)


# ===================================================================================
# Hugging Face daily papers
# ===================================================================================


def hf_daily_item(
    arxiv_id: str,
    day: date,
    *,
    upvotes: int = 1,
    num_comments: int = 0,
    github_repo: str | None = None,
    github_stars: int | None = None,
    title: str = "A paper",
) -> dict[str, Any]:
    """One `daily_papers` item in the real shape (see huggingface_hub `PaperInfo`)."""
    submitted = datetime.combine(day, datetime.min.time(), UTC) + timedelta(hours=3, minutes=7)
    paper: dict[str, Any] = {
        "id": arxiv_id,
        "authors": [
            {"_id": secrets.token_hex(12), "name": "Ada Lovelace", "hidden": False},
            {"_id": secrets.token_hex(12), "name": "Alan Turing", "hidden": False},
        ],
        "publishedAt": _iso(submitted - timedelta(days=1, hours=8)),
        "submittedOnDailyAt": _iso(submitted),
        "title": title,
        "summary": f"We study {title.lower()}.",
        "upvotes": upvotes,
        "discussionId": secrets.token_hex(12),
        "ai_summary": "One-sentence summary.",
        "ai_keywords": title.lower().split()[:3],
    }
    if github_repo is not None:
        paper["githubRepo"] = github_repo
    if github_stars is not None:
        paper["githubStars"] = github_stars
    return {
        "paper": paper,
        "publishedAt": _iso(submitted),
        "title": title,
        "summary": paper["summary"],
        "thumbnail": f"https://cdn-thumbnails.huggingface.co/social-thumbnails/papers/{arxiv_id}.png",
        "numComments": num_comments,
        "submittedBy": {
            "_id": secrets.token_hex(12),
            "fullname": "Someone",
            "name": "someone",
            "type": "user",
        },
        "isAuthorParticipating": False,
    }


def generate_hf_daily(arxiv_ids: Iterable[str], day: date, seed: int = 0) -> list[dict[str, Any]]:
    """Daily-papers items for `day`: each id featured with realistic upvotes/comments/repos."""
    rng = random.Random(seed)
    items = []
    for arxiv_id in arxiv_ids:
        repo = None
        if rng.random() < 0.6:
            repo = f"https://github.com/{_user(rng)}/{rng.choice(_WORDS)}"
        items.append(
            hf_daily_item(
                arxiv_id,
                day,
                upvotes=int(rng.paretovariate(1.1) * 2),
                num_comments=rng.randrange(0, 6),
                github_repo=repo,
                github_stars=rng.randrange(0, 900) if repo and rng.random() < 0.7 else None,
                title=_title(rng),
            )
        )
    return items


class FakeHF(_FakeServer):
    """huggingface.co/api: daily papers by date, and single papers."""

    prefix = "/api"

    def __init__(self) -> None:
        super().__init__()
        self.daily: dict[date, list[dict[str, Any]]] = {}
        self.papers: dict[str, dict[str, Any]] = {}

    def add_daily(self, day: date, *items: dict[str, Any]) -> None:
        """Feature `items` on `day`; each paper is also served by `/api/papers/{id}`."""
        self.daily.setdefault(day, []).extend(items)
        for item in items:
            paper = dict(item["paper"])
            paper.setdefault("githubStars", None)
            self.papers.setdefault(paper["id"], paper)

    def routes(self, app: web.Application) -> None:
        app.router.add_get("/api/daily_papers", self._daily)
        app.router.add_get("/api/papers/{arxiv_id:.+}", self._paper)

    async def _daily(self, request: web.Request) -> web.Response:
        raw_date = request.query.get("date")
        try:
            day = date.fromisoformat(raw_date) if raw_date else datetime.now(UTC).date()
        except ValueError:
            return web.json_response({"error": f"Invalid date: {raw_date}"}, status=400)
        limit = _int_param(request, "limit", 50)
        page = _int_param(request, "p", 0)
        if not 0 < limit <= 100 or page < 0:
            return web.json_response({"error": "limit must be between 1 and 100"}, status=400)
        items = [json.loads(json.dumps(i)) for i in self.daily.get(day, [])]
        items = items[page * limit : (page + 1) * limit]
        damage = self.damage_kind(request)
        for item in items:
            if damage == "missing_fields":
                item["paper"].pop("upvotes", None)
            elif damage == "wrong_types":
                item["paper"]["upvotes"] = str(item["paper"].get("upvotes"))
        return web.json_response(items)

    async def _paper(self, request: web.Request) -> web.Response:
        paper = self.papers.get(request.match_info["arxiv_id"])
        if paper is None:
            return web.json_response({"error": "Paper not found"}, status=404)
        body = dict(paper)
        damage = self.damage_kind(request)
        if damage == "wrong_types":
            body["githubStars"] = "many"
        elif damage == "missing_fields":
            body.pop("id", None)
        return web.json_response(body)


# ===================================================================================
# Bluesky (XRPC)
# ===================================================================================


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
    record: dict[str, Any] = {
        "$type": "app.bsky.feed.post",
        "text": body,
        "createdAt": _iso(created),
        "langs": ["en"],
    }
    if facets:
        record["facets"] = facets
    view: dict[str, Any] = {
        "$type": "app.bsky.feed.defs#postView",
        "uri": f"at://{did}/app.bsky.feed.post/{rkey}",
        "cid": "bafyrei" + "".join(rng.choice(_TID_CHARS) for _ in range(52)),
        "author": {
            "did": did,
            "handle": handle,
            "displayName": handle.split(".")[0].title(),
            "avatar": f"https://cdn.bsky.app/img/avatar/plain/{did}/bafkrei@jpeg",
            "labels": [],
            "createdAt": "2023-05-01T12:00:00.000Z",
        },
        "record": record,
        "replyCount": replies,
        "repostCount": reposts,
        "likeCount": likes,
        "quoteCount": quotes,
        "bookmarkCount": 0,
        "indexedAt": _iso(created + timedelta(seconds=1)),
        "labels": [],
    }
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
    return view


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
            handle = f"{_user(rng)}.bsky.social"
            link = rng.choice(
                [f"https://arxiv.org/abs/{arxiv_id}", f"https://arxiv.org/pdf/{arxiv_id}v1"]
            )
            card = link if rng.random() < 0.5 else None
            post = bluesky_post(
                handle,
                "New paper: " + _title(rng),
                links=[link],
                card=card,
                likes=int(rng.paretovariate(1.2) * 2),
                reposts=rng.randrange(0, 10),
                replies=rng.randrange(0, 5),
                quotes=rng.randrange(0, 3),
                created_at=start + timedelta(minutes=rng.randrange(span)),
                seed=rng.randrange(1 << 30),
            )
            posts.append(post)
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
                        f"{_user(rng)}.bsky.social",
                        "Worth a read",
                        quote_of=post,
                        likes=rng.randrange(0, 20),
                        seed=rng.randrange(1 << 30),
                        created_at=start + timedelta(minutes=rng.randrange(span)),
                    )
                )
        if len(ids) > 1 and rng.random() < 0.5:  # decoy: mentions this id, links another
            other = ids[(n + 1) % len(ids)]
            posts.append(
                bluesky_post(
                    f"{_user(rng)}.bsky.social",
                    f"Unlike {arxiv_id}, this one works:",
                    links=[f"https://arxiv.org/abs/{other}"],
                    likes=rng.randrange(0, 30),
                    seed=rng.randrange(1 << 30),
                    created_at=start + timedelta(minutes=(n * 7919) % span),
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


class FakeBluesky(_FakeServer):
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
        limit = _int_param(request, "limit", 25)
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
