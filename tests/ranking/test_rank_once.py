"""Each paper ranks on the first listing it appears in: a replacement (v2, v3) never ranks
again as if it were new; a cross-list ranks only where the paper had not been listed before."""

from __future__ import annotations

import dataclasses
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import Engine
from sqlmodel import Session

from hotpapers.config import RankingSettings, Settings
from hotpapers.ranking.candidates import load_candidates, rank_listing
from hotpapers.service import lookup
from hotpapers.service import use_cases as jobs
from hotpapers.storage.db import transaction
from hotpapers.storage.models import SocialPost
from hotpapers.storage.records import PaperRecord
from hotpapers.storage.store import record_announcements, upsert_papers

EARLIER = date(2026, 11, 12)
DAY = date(2026, 11, 20)
NOW = datetime(2026, 11, 24, 12, tzinfo=UTC)
CATS = ["cs.LG", "cs.CV"]

FRESH = "2611.00001"  # new on DAY
REPLACED = "2611.00002"  # new on EARLIER, v2 on DAY
CROSSED_AGAIN = "2611.00003"  # new in cs.LG on EARLIER, cross-listed into cs.CV on DAY
CROSSED_IN = "2611.00004"  # first announced in math.OC (not collected), cross-listed on DAY
REPLACED_CROSS = "2611.00005"  # cs.LG paper first seen as a v2 replace-cross into cs.CV


def _record(arxiv_id: str, categories: tuple[str, ...], **changes: object) -> PaperRecord:
    record = PaperRecord(
        arxiv_id=arxiv_id,
        version=1,
        title=f"Paper {arxiv_id}",
        abstract="An abstract.",
        authors=("Ada Lovelace",),
        categories=categories,
        primary_category=categories[0],
        submitted=datetime(2026, 11, 10, tzinfo=UTC),
        announce_type="new",
    )
    return dataclasses.replace(record, **changes)  # type: ignore[arg-type]


def _post(paper_id: str, likes: int) -> SocialPost:
    return SocialPost(
        source="x",
        post_id=f"p{paper_id}",
        paper_id=paper_id,
        author_id=f"a{paper_id}",
        likes=likes,
        reposts=0,
        taken_at=NOW - timedelta(hours=1),
    )


@pytest.fixture
def days(engine: Engine) -> Engine:
    earlier = [
        _record(REPLACED, ("cs.LG",)),
        _record(CROSSED_AGAIN, ("cs.LG",)),
    ]
    today = [
        _record(FRESH, ("cs.LG", "cs.CV")),
        _record(REPLACED, ("cs.LG",), version=2, announce_type="replace"),
        _record(CROSSED_AGAIN, ("cs.LG", "cs.CV"), announce_type="cross"),
        _record(CROSSED_IN, ("math.OC", "cs.LG"), announce_type="cross"),
        _record(REPLACED_CROSS, ("math.OC", "cs.CV"), version=2, announce_type="replace"),
    ]
    with transaction(engine) as session:
        upsert_papers(session, earlier)
        record_announcements(session, EARLIER, earlier, CATS)
        upsert_papers(session, today)
        record_announcements(session, DAY, today, CATS)
        session.add_all(
            _post(p, 100 * n)
            for n, p in enumerate([FRESH, REPLACED, CROSSED_AGAIN, CROSSED_IN, REPLACED_CROSS], 1)
        )
    return engine


def _ids(engine: Engine, day: date, categories: list[str] | None = None) -> list[str]:
    settings = Settings(ranking=RankingSettings(threshold=1))
    ranked = [
        r.paper.arxiv_id for r in jobs.rank(settings, engine, day, now=NOW, categories=categories)
    ]
    with Session(engine) as session:
        fast = rank_listing(session, settings.ranking, day, NOW, categories=categories)
        loaded = load_candidates(session, day, categories, NOW)
    assert [r.paper.arxiv_id for r in fast] == ranked  # /hot agrees with the post
    assert {c.paper.arxiv_id for c in loaded} == set(ranked)
    return ranked


def test_a_replacement_ranks_on_its_first_day_only(days: Engine) -> None:
    assert _ids(days, EARLIER) == [CROSSED_AGAIN, REPLACED]
    assert REPLACED not in _ids(days, DAY)
    assert REPLACED_CROSS not in _ids(days, DAY)  # a replacement is never new, whatever we saw


def test_a_cross_list_ranks_where_the_paper_is_listed_for_the_first_time(days: Engine) -> None:
    # CROSSED_AGAIN was in the cs.LG listing on EARLIER: not again on DAY. CROSSED_IN was never
    # in a collected listing before: DAY's listing is its first, as the live feed shows it.
    assert _ids(days, DAY) == [CROSSED_IN, FRESH]
    # For cs.CV alone, DAY is the first time CROSSED_AGAIN appears in that listing.
    assert _ids(days, DAY, ["cs.CV"]) == [CROSSED_AGAIN, FRESH]


def test_a_replaced_paper_is_scored_on_the_listing_where_it_ranked(days: Engine) -> None:
    settings = Settings(ranking=RankingSettings(threshold=1))
    found = lookup.paper_score(settings, days, REPLACED, now=NOW)
    assert found is not None and found.listing_date == EARLIER
