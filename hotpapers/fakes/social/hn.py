"""The fake Hacker News Algolia search API: stories, the seeded generator and
`/api/v1/search[_by_date]`."""

from __future__ import annotations

import random
import re
from collections.abc import Callable, Iterable
from datetime import UTC, datetime, timedelta
from typing import Any

from aiohttp import web

from hotpapers.fakes.social.server import SocialFake, int_param
from hotpapers.fakes.social.words import made_up_title, made_up_user


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
                    title=made_up_title(rng),
                    author=made_up_user(rng),
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
                    f"https://github.com/{made_up_user(rng)}/{arxiv_id}-code",
                    title="Code for " + made_up_title(rng),
                    points=rng.randrange(1, 40),
                    created_at=start + timedelta(minutes=next_id % span),
                )
            )
    return hits


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


class FakeHN(SocialFake):
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
        per_page = int_param(request, "hitsPerPage", 20)
        page = int_param(request, "page", 0)
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
