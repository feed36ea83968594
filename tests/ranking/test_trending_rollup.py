"""The per-day roll-up (`signal_gain_day`) agrees with the snapshots it summarises: after
several signal runs the rows written with the snapshots equal the migration's SQL backfill
(the gains, 0013, and the metric columns, 0015), and trending's scores from the roll-up equal
those from the snapshots, on both databases."""

from __future__ import annotations

import importlib.util
import random
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from types import ModuleType

import pytest
from sqlalchemy import Engine, delete, text
from sqlmodel import Session, select

from hotpapers.config import RankingSettings
from hotpapers.ranking.scoring import parsed_weights
from hotpapers.ranking.trending import (
    MONTH,
    WEEK,
    _params,
    _rolled_up_scores,
    _scores,
    top_scoring,
    window,
)
from hotpapers.signals.base import Measurement
from hotpapers.signals.store import save_measurements
from hotpapers.storage.db import transaction
from hotpapers.storage.models import GAIN_COLUMNS, SignalGainDay
from tests.ranking.trending_world import (
    IMPORTED,
    MONTHLY,
    NOW,
    OLD,
    QUIET,
    REACTED,
    TODAY,
    WEEKLY,
    build,
)

RANKING = RankingSettings()
PAPERS = [OLD, WEEKLY, MONTHLY, QUIET, REACTED]
MIGRATION = Path(__file__).resolve().parents[2] / "hotpapers/migrations/versions"


def _migration(name: str = "signal_gain_day") -> ModuleType:
    path = next(MIGRATION.glob(f"*_{name}.py"))
    spec = importlib.util.spec_from_file_location("gain_day_migration", path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _metrics(
    rng: random.Random, source: str, level: dict[tuple[str, str], int], key: tuple[str, str]
) -> dict[str, float]:
    level[key] = max(level.get(key, 0) + rng.choice([-30, 0, 0, 5, 40, 200]), 0)
    if source == "discord":
        return {"reactions": float(level[key] // 10)}
    found: dict[str, float] = {"likes": level[key], "flag": True}  # a flag is no count
    if rng.random() < 0.7:  # a metric that is sometimes missing
        found["retweets"] = level[key] // 3
    return found


def _signal_runs(engine: Engine) -> None:
    """Six weeks of runs, 0-3 a day (the same day twice, an hour apart), one run late."""
    rng = random.Random(13)
    level: dict[tuple[str, str], int] = {}
    start = datetime(2026, 10, 20, 3, tzinfo=UTC)
    for offset in range(42):
        for run in range(rng.choice([0, 1, 1, 3])):
            when = start + timedelta(days=offset, hours=5 * run)
            batch = [
                Measurement(pid, source, when, _metrics(rng, source, level, (pid, source)))
                for pid in PAPERS
                for source in ("x", "discord")
                if rng.random() < 0.8
            ]
            with transaction(engine) as session:
                save_measurements(session, batch)
    late = datetime(2026, 11, 2, 23, 30, tzinfo=UTC)  # measured after later days were
    with transaction(engine) as session:
        save_measurements(session, [Measurement(OLD, "x", late, {"likes": 10_000})])


def _rows(engine: Engine) -> dict[tuple[str, str, date], dict[str, float]]:
    with Session(engine) as session:
        return {
            (row.paper_id, row.source, row.day): {k: float(v) for k, v in row.gains.items()}
            for row in session.exec(select(SignalGainDay))
        }


def test_the_rows_written_with_the_snapshots_equal_the_sql_backfill(engine: Engine) -> None:
    build(engine)
    _signal_runs(engine)
    written = _rows(engine)
    assert len(written) > 50
    backfill = _migration()
    sql = backfill._POSTGRES if engine.dialect.name == "postgresql" else backfill._SQLITE
    with engine.begin() as connection:
        connection.execute(delete(SignalGainDay))
        connection.execute(text(sql))
    assert _rows(engine) == written


@pytest.mark.parametrize("period", [WEEK, MONTH])
def test_scores_from_the_roll_up_equal_scores_from_the_snapshots(
    engine: Engine, period: str
) -> None:
    build(engine)
    _signal_runs(engine)
    weights = tuple(parsed_weights(RANKING.weights))
    compared = 0
    for last_day in [date(2026, 11, 1) + timedelta(days=step) for step in range(0, 30, 3)]:
        span = window(period, last_day, datetime(2026, 12, 31, tzinfo=UTC))
        for cats in (None, ["cs.CV"]):
            params = {**_params(span, cats), "threshold": 0.0, "first_day": span.first_day}
            with Session(engine) as session:
                exact = dict(session.execute(_scores(bool(cats), weights), params).all())
                rolled = dict(session.execute(_rolled_up_scores(bool(cats), weights), params).all())
            assert rolled == pytest.approx(exact), (period, last_day, cats)
            compared += len(exact)
    assert compared > 20


def _columns(engine: Engine) -> dict[tuple[str, str, date], tuple[float, ...]]:
    with Session(engine) as session:
        return {
            (row.paper_id, row.source, row.day): tuple(getattr(row, name) for name in GAIN_COLUMNS)
            for row in session.exec(select(SignalGainDay))
        }


def test_the_metric_columns_written_with_the_snapshots_equal_the_sql_backfill(
    engine: Engine,
) -> None:
    """Each metric column holds its gain (0 when the day's gains lack it), both when the
    signal runs write the row and when migration 0015 fills it from the gains."""
    build(engine)
    _signal_runs(engine)
    gains, written = _rows(engine), _columns(engine)
    assert written == {
        key: tuple(found.get(name, 0.0) for name in GAIN_COLUMNS) for key, found in gains.items()
    }
    assert all(any(row[place] for row in written.values()) for place in range(len(GAIN_COLUMNS)))
    backfill = _migration("gain_day_metric_columns")
    sql = backfill._POSTGRES if engine.dialect.name == "postgresql" else backfill._SQLITE
    spoiled = ", ".join(f"{name} = -1" for name in GAIN_COLUMNS)
    with engine.begin() as connection:
        connection.execute(text(f"UPDATE signal_gain_day SET {spoiled}"))
        connection.execute(text(sql))
    assert _columns(engine) == written


def test_scores_weighing_a_metric_without_a_column_equal_scores_from_the_snapshots(
    engine: Engine,
) -> None:
    """A weighted metric that has no column of its own (`x.posts`) is read from the gains."""
    build(engine)
    _signal_runs(engine)
    weights = tuple(parsed_weights({"x.likes": 1.0, "x.posts": 40.0, "discord.reactions": 5.0}))
    compared = 0
    for last_day in [date(2026, 11, 1) + timedelta(days=step) for step in range(0, 30, 5)]:
        span = window(MONTH, last_day, datetime(2026, 12, 31, tzinfo=UTC))
        params = {**_params(span, None), "threshold": 0.0, "first_day": span.first_day}
        with Session(engine) as session:
            exact = dict(session.execute(_scores(False, weights), params).all())
            rolled = dict(session.execute(_rolled_up_scores(False, weights), params).all())
        assert rolled == pytest.approx(exact), last_day
        compared += len(exact)
    assert compared > 10


def test_the_best_papers_leave_out_one_without_a_listing_that_gained_most(engine: Engine) -> None:
    """A paper without a listing (imported) never takes one of the best places, even when it
    gained the most: the few best are checked and the query repeated without it."""
    build(engine)
    span = window(WEEK, TODAY, NOW)
    weights = tuple(parsed_weights(RANKING.weights))
    params = {**_params(span, None), "threshold": 0.0, "first_day": span.first_day}
    with Session(engine) as session:
        unchecked = dict(session.execute(_rolled_up_scores(False, weights, False), params).all())
        assert max(unchecked, key=unchecked.__getitem__) == IMPORTED
        assert top_scoring(session, RANKING, span, None, 1) == [WEEKLY]
        assert top_scoring(session, RANKING, span, ["cs.LG"], 2) == [WEEKLY, OLD]
