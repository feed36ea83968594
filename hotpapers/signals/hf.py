"""Hugging Face Daily Papers: upvotes, comments and GitHub stars of featured papers.

The daily list is fetched once per date (`GET {api_url}/daily_papers?date=D&limit=100&p=N`,
paged) for the listing date of each paper's announcement and the day after (a paper is
often submitted to Daily Papers the morning after arXiv announces it). Items are matched on
`paper.id` (the arXiv id). A paper that is not on any of those lists gets no measurement at
all: absence from Daily Papers is not a zero score. When a featured paper has a `githubRepo`
but no `githubStars`, `GET {api_url}/papers/{id}` fills the stars in. Metrics are numeric
only; the one PostRecord per paper links the HF paper page and carries the title and the
`githubRepo` URL in its text.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

import aiohttp

from hotpapers.arxiv.ids import canonical_id
from hotpapers.config import HuggingFaceSettings
from hotpapers.plumbing.retry import UNREACHABLE_AFTER, Reachability
from hotpapers.signals._http import FetchError, JsonClient, need_dict, need_int, need_list
from hotpapers.signals.base import (
    Budget,
    Measurement,
    PaperRef,
    PostRecord,
    SourceResult,
    parse_time,
)

HF_PAPER_URL = "https://huggingface.co/papers/{}"
PAGE_LIMIT = 100
MAX_PAGES = 5
EXTRA_DAYS = 1  # also look at the day after the listing date
REQUESTS_PER_SECOND = 1.0  # unauthenticated HF API: ~500 requests per 5 minutes


@dataclass(slots=True)
class _Entry:
    upvotes: int
    comments: int
    stars: int | None
    repo: str
    title: str
    submitted: datetime | None


class HFSource:
    """Hugging Face Daily Papers (no credentials needed)."""

    name = "hf"

    def __init__(
        self,
        settings: HuggingFaceSettings,
        session: aiohttp.ClientSession | None = None,
        *,
        rate: float = REQUESTS_PER_SECOND,
        timeout: float = 30.0,
        max_retries: int = 3,
        unreachable_after: float = UNREACHABLE_AFTER,
        backoff: float = 2.0,
        max_pages: int = MAX_PAGES,
        extra_days: int = EXTRA_DAYS,
    ) -> None:
        self.settings = settings
        self.session = session
        self.rate = rate
        self.timeout = timeout
        self.max_retries = max_retries
        self.unreachable_after = unreachable_after
        self.backoff = backoff
        self.max_pages = max_pages
        self.extra_days = extra_days

    def problem(self) -> str | None:
        return None

    def dates_for(self, paper: PaperRef, now: datetime) -> list[date]:
        """The Daily Papers dates to look `paper` up on (never after `now`)."""
        start = _utc_date(paper.announced or now)
        today = _utc_date(now)
        days = [start + timedelta(days=n) for n in range(self.extra_days + 1)]
        return [d for d in days if d <= today] or [today]

    async def measure(
        self, papers: Sequence[PaperRef], now: datetime, budget: Budget | None = None
    ) -> SourceResult:
        result = SourceResult(self.name)
        wanted = {p.arxiv_id for p in papers}
        dates = sorted({d for p in papers for d in self.dates_for(p, now)})
        found: dict[str, _Entry] = {}
        client = JsonClient(
            self.session,
            timeout=self.timeout,
            max_retries=self.max_retries,
            backoff=self.backoff,
            rate=self.rate,
            service=self.name,
            reachability=Reachability(
                f"Hugging Face at {self.settings.api_url}", self.unreachable_after
            ),
        )
        try:
            async with client as http:
                for day in dates:
                    try:
                        await self._daily(http, day, wanted, found, result.errors)
                    except FetchError as exc:
                        result.errors.append(
                            f"Hugging Face daily papers for {day.isoformat()} failed: {exc}."
                        )
                for arxiv_id, entry in found.items():
                    if entry.stars is None and entry.repo:
                        entry.stars = await self._stars(http, arxiv_id, result.errors)
        finally:
            result.requests = client.requests
        for paper in papers:
            featured = found.get(paper.arxiv_id)
            if featured is not None:
                result.measurements.append(_measurement(paper.arxiv_id, featured, now))
        return result

    async def _daily(
        self,
        http: JsonClient,
        day: date,
        wanted: set[str],
        found: dict[str, _Entry],
        errors: list[str],
    ) -> None:
        url = self.settings.api_url.rstrip("/") + "/daily_papers"
        for page in range(self.max_pages):
            params: dict[str, str | int] = {
                "date": day.isoformat(),
                "limit": PAGE_LIMIT,
                "p": page,
            }
            items = need_list(await http.get(url, params), "the response")
            unreadable = 0
            for index, item in enumerate(items):
                what = f"item {index} of {day.isoformat()} page {page}"
                arxiv_id = _item_id(item)
                if arxiv_id is None:
                    unreadable += 1
                if arxiv_id is None or arxiv_id not in wanted or arxiv_id in found:
                    continue
                try:
                    found[arxiv_id] = _entry(item, what)
                except FetchError as exc:
                    errors.append(
                        f"Hugging Face returned a malformed daily-papers entry for {arxiv_id}: "
                        f"{exc}."
                    )
            if unreadable:
                errors.append(
                    f"Hugging Face daily papers for {day.isoformat()} page {page} had "
                    f"{unreadable} entries without a readable paper.id (skipped)."
                )
            if len(items) < PAGE_LIMIT:
                return

    async def _stars(self, http: JsonClient, arxiv_id: str, errors: list[str]) -> int | None:
        url = f"{self.settings.api_url.rstrip('/')}/papers/{arxiv_id}"
        try:
            body = need_dict(await http.get(url), "the response")
            return need_int(body, "githubStars", "the paper", default=0)
        except FetchError as exc:
            errors.append(f"Hugging Face paper page for {arxiv_id} failed: {exc}.")
            return None


def _utc_date(moment: datetime) -> date:
    return moment.astimezone(UTC).date() if moment.tzinfo else moment.date()


def _item_id(item: Any) -> str | None:
    paper = item.get("paper") if isinstance(item, dict) else None
    raw = paper.get("id") if isinstance(paper, dict) else None
    return canonical_id(raw) if isinstance(raw, str) else None


def _entry(item: dict[str, Any], what: str) -> _Entry:
    paper = need_dict(item.get("paper"), f"{what}.paper")
    repo = paper.get("githubRepo")
    stars = paper.get("githubStars")
    title = item.get("title") or paper.get("title")
    return _Entry(
        upvotes=need_int(paper, "upvotes", "paper"),
        comments=need_int(item, "numComments", "item", default=0),
        stars=need_int(paper, "githubStars", "paper") if stars is not None else None,
        repo=repo if isinstance(repo, str) else "",
        title=title if isinstance(title, str) else "",
        submitted=parse_time(paper.get("submittedOnDailyAt") or item.get("publishedAt")),
    )


def _measurement(arxiv_id: str, entry: _Entry, now: datetime) -> Measurement:
    metrics = {
        "upvotes": float(entry.upvotes),
        "comments": float(entry.comments),
        "github_stars": float(entry.stars or 0),
    }
    post = PostRecord(
        source="hf",
        post_id=arxiv_id,
        paper_id=arxiv_id,
        author_id="",
        text=f"{entry.title}\n{entry.repo}".strip(),
        url=HF_PAPER_URL.format(arxiv_id),
        created_at=entry.submitted,
        likes=entry.upvotes,
        replies=entry.comments,
    )
    return Measurement(arxiv_id, "hf", now, metrics, [post])
