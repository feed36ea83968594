"""What the X summary tests share: the listing, the settings for FakeX, and readers of the
ledger and the spend."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from typing import Any

from pydantic import SecretStr
from sqlalchemy import Engine
from sqlmodel import Session, select

from hotpapers.config import Settings
from hotpapers.fakes.x import FakeX
from hotpapers.publish.x import SPEND_SERVICE
from hotpapers.storage.models import Publication
from hotpapers.storage.records import PaperRecord
from hotpapers.storage.spend import spent, to_usd
from tests.x_listing import seed_x_listing

DAY = date(2026, 11, 20)  # a Friday listing
EMPTY_DAY = date(2026, 11, 19)
NOW = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)
CATEGORIES = ["cs.LG", "cs.CV"]
BASE_URL = "https://papers.example.org/hot/"
DAY_PAGE = "https://papers.example.org/hot/2026-11-20/"
KEY, TOKEN = "consumer-key-123", "access-token-456"
SECRETS = {
    "api_key": KEY,
    "api_secret": "consumer-secret-789",
    "access_token": TOKEN,
    "access_token_secret": "token-secret-000",
}
# (id, title, likes): the score is likes + reposts (reposts 0 here).
PAPERS = [
    ("2611.00201", "Diffusion for robots", 120),
    ("2611.00202", "Vision transformers, again", 720),
    ("2611.00203", "Scaling laws for everything", 300),
]


def record(arxiv_id: str, title: str) -> PaperRecord:
    return PaperRecord(
        arxiv_id=arxiv_id,
        version=1,
        title=title,
        abstract=f"We study {title.lower()}.",
        authors=("Ada Lovelace", "@alan_turing", "Grace Hopper", "Edsger Dijkstra"),
        categories=("cs.LG",),
        primary_category="cs.LG",
        submitted=datetime(2026, 11, 18, tzinfo=UTC),
    )


def seed(engine: Engine, papers: list[tuple[str, str, int]] = PAPERS, day: date = DAY) -> None:
    """One ranked listing: the papers, their announcement, one X post each with its likes."""
    seed_x_listing(engine, day, CATEGORIES, [(record(i, t), likes) for i, t, likes in papers])


def make_settings(fake: FakeX, **x: Any) -> Settings:
    values: dict[str, Any] = {
        "enabled": True,
        "api_url": fake.api_url,
        "dry_run": False,
        "daily_budget_usd": 5.0,
        "price_per_post_usd": 0.2,
        "top": 3,
        **{name: SecretStr(value) for name, value in SECRETS.items()},
        **x,
    }
    return Settings(
        arxiv={"categories": CATEGORIES},  # type: ignore[arg-type]
        site={"base_url": BASE_URL},  # type: ignore[arg-type]
        publish={"x": values},  # type: ignore[arg-type]
    )


def publication(engine: Engine, day: date = DAY) -> Publication | None:
    with Session(engine) as session:
        query = select(Publication).where(Publication.kind == "x", Publication.listing_date == day)
        return session.exec(query).first()


def spend(engine: Engine) -> tuple[float, int]:
    """The day's X post spend in US dollars, and the posts it counts."""
    with Session(engine) as session:
        micros, units = spent(session, SPEND_SERVICE, NOW.date())
    return to_usd(micros), units


def detail(row: Publication | None) -> dict[str, Any]:
    assert row is not None and row.detail is not None
    result: dict[str, Any] = json.loads(row.detail)
    return result
