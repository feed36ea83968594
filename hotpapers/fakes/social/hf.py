"""The fake Hugging Face papers API: daily papers items, the seeded generator and the routes."""

from __future__ import annotations

import json
import random
import secrets
from collections.abc import Iterable
from datetime import UTC, date, datetime, timedelta
from typing import Any

from aiohttp import web

from hotpapers.fakes.social.server import SocialFake, int_param, iso_time
from hotpapers.fakes.social.words import WORDS, made_up_title, made_up_user


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
        "publishedAt": iso_time(submitted - timedelta(days=1, hours=8)),
        "submittedOnDailyAt": iso_time(submitted),
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
        "publishedAt": iso_time(submitted),
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
            repo = f"https://github.com/{made_up_user(rng)}/{rng.choice(WORDS)}"
        items.append(
            hf_daily_item(
                arxiv_id,
                day,
                upvotes=int(rng.paretovariate(1.1) * 2),
                num_comments=rng.randrange(0, 6),
                github_repo=repo,
                github_stars=rng.randrange(0, 900) if repo and rng.random() < 0.7 else None,
                title=made_up_title(rng),
            )
        )
    return items


class FakeHF(SocialFake):
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
        limit = int_param(request, "limit", 50)
        page = int_param(request, "p", 0)
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
