"""Trending over a week and a month: attention gained in the window, the daily ranking's
weights and breakdown, each paper once with its listing date (hotpapers/ranking/trending.py)."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import Engine
from sqlmodel import Session

from hotpapers.config import RankingSettings
from hotpapers.errors import InputError
from hotpapers.ranking.trending import (
    MONTH,
    WEEK,
    gained,
    parse_period,
    trending_papers,
    window,
)
from tests.ranking.trending_world import (
    MONTHLY,
    NOW,
    OLD,
    REACTED,
    TODAY,
    WEEKLY,
    build,
)

RANKING = RankingSettings()  # x.retweets 1, x.likes 1, discord.reactions 5; threshold 50


def _trending(engine: Engine, period: str, **options: object) -> list[tuple[str, float, date]]:
    with Session(engine) as session:
        found = trending_papers(
            session,
            RANKING,
            window(period, TODAY, NOW),
            top=10,
            **options,  # type: ignore[arg-type]
        )
    return [(t.ranked.paper.arxiv_id, t.ranked.score, t.listed) for t in found]


def test_gain_is_latest_minus_latest_before_never_negative() -> None:
    assert gained({"likes": 620, "retweets": 3}, {"likes": 500}) == {"likes": 120, "retweets": 3}
    assert gained({"likes": 5}, None) == {"likes": 5}
    assert gained({"likes": 350}, {"likes": 400}) == {"likes": 0}
    assert gained({"likes": 1, "note": "text", "flag": True}, {}) == {"likes": 1}


def test_the_week_ranks_what_was_gained_in_it_each_paper_once_with_its_listing_date(
    engine: Engine,
) -> None:
    build(engine)
    assert _trending(engine, WEEK) == [
        (WEEKLY, 340.0, date(2026, 11, 24)),
        (OLD, 120.0, date(2026, 9, 1)),  # an old paper discussed again: its date says so
        (REACTED, 100.0, date(2026, 11, 25)),  # 20 reactions × 5
    ]


def test_the_month_adds_what_was_gained_earlier_in_it(engine: Engine) -> None:
    build(engine)
    assert _trending(engine, MONTH) == [
        (MONTHLY, 900.0, date(2026, 11, 3)),
        (WEEKLY, 340.0, date(2026, 11, 24)),
        (OLD, 120.0, date(2026, 9, 1)),
        (REACTED, 100.0, date(2026, 11, 25)),
    ]


def test_breakdown_has_the_daily_rankings_shape_with_the_gains(engine: Engine) -> None:
    build(engine)
    with Session(engine) as session:
        found = trending_papers(session, RANKING, window(WEEK, TODAY, NOW), top=1)
    item = found[0].ranked
    assert item.rank == 1
    assert item.paper.title == f"Paper {WEEKLY}"
    assert item.paper.categories == ("cs.CV", "cs.LG")
    assert item.signals == {
        "x": {"retweets": 300.0, "likes": 40.0, "replies": 0.0, "quotes": 0.0, "posts": 1.0}
    }
    assert item.score == 340.0  # first measured in the window: everything was gained in it


def test_category_takes_primary_and_cross_lists(engine: Engine) -> None:
    build(engine)
    assert [row[0] for row in _trending(engine, WEEK, categories=["cs.CV"])] == [WEEKLY]
    assert [row[0] for row in _trending(engine, WEEK, categories=["cs.LG"])] == [
        WEEKLY,
        OLD,
        REACTED,
    ]
    assert _trending(engine, WEEK, categories=["math.AG"]) == []


def test_a_window_without_measurements_is_empty(engine: Engine) -> None:
    build(engine)
    with Session(engine) as session:
        span = window(WEEK, date(2026, 8, 1), NOW)
        assert trending_papers(session, RANKING, span, top=10) == []


def test_a_period_is_week_or_month() -> None:
    assert parse_period(None) == WEEK
    assert parse_period(" Month ") == MONTH
    with pytest.raises(InputError, match="'week' or 'month', not 'year'"):
        parse_period("year")


def test_the_weights_and_threshold_are_the_rankings(engine: Engine) -> None:
    build(engine)
    likes_only = RankingSettings(weights={"x.likes": 1.0}, threshold=30)
    with Session(engine) as session:
        found = trending_papers(session, likes_only, window(WEEK, TODAY, NOW), top=10)
    # WEEKLY's 300 retweets and REACTED's reactions weigh nothing now; 40 likes pass 30.
    assert [(t.ranked.paper.arxiv_id, t.ranked.score) for t in found] == [
        (OLD, 120.0),
        (WEEKLY, 40.0),
    ]
