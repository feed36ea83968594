"""Alembic migrations create exactly the tables the models describe, on SQLite and PostgreSQL."""

from __future__ import annotations

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Engine, inspect, text
from sqlmodel import SQLModel

import hotpapers.storage.models  # noqa: F401
from hotpapers.storage import migrate
from hotpapers.storage.db import make_engine
from hotpapers.storage.fulltext import include_object


def test_upgrade_matches_models(db_url: str) -> None:
    """After `db upgrade`, autogenerate finds nothing left to migrate."""
    migrate.upgrade(db_url)
    engine = make_engine(db_url)
    with engine.connect() as connection:
        # include_object: the full-text index (migration 0003) is not in the models.
        opts = {"compare_type": False, "include_object": include_object}
        context = MigrationContext.configure(connection, opts=opts)
        diff = compare_metadata(context, SQLModel.metadata)
    engine.dispose()
    assert diff == []


def test_upgrade_is_idempotent(db_url: str) -> None:
    """Running the upgrade twice is harmless and leaves every table in place."""
    migrate.upgrade(db_url)
    migrate.upgrade(db_url)
    engine = make_engine(db_url)
    tables = set(inspect(engine).get_table_names())
    engine.dispose()
    assert {"paper", "paper_version", "author", "announcement", "signal_snapshot"} <= tables


def _gain_day_columns(engine: Engine) -> set[str]:
    return {column["name"] for column in inspect(engine).get_columns("signal_gain_day")}


def _gain_day_indexes(engine: Engine) -> set[tuple[str, tuple[str, ...]]]:
    found = inspect(engine).get_indexes("signal_gain_day")
    return {(str(index["name"]), tuple(map(str, index["column_names"]))) for index in found}


def test_gain_day_metric_columns_upgrade_fill_and_downgrade(db_url: str) -> None:
    """0015 adds the metric columns filled from the roll-up's gains (0 when absent), and
    undoes to exactly 0014's table with its rows, on both databases."""
    migrate.upgrade(db_url, "0014")
    engine = make_engine(db_url)
    with engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO paper (id, latest_version, title, abstract, primary_category, has_pdf)"
                " VALUES ('2611.00001', 1, 'A title', 'An abstract.', 'cs.LG', true)"
            )
        )
        connection.execute(
            text(
                "INSERT INTO signal_gain_day (paper_id, source, day, gains) VALUES"
                " ('2611.00001', 'x', '2026-11-02', :x),"
                " ('2611.00001', 'discord', '2026-11-03', :discord)"
            ),
            {
                "x": '{"likes": 12.5, "retweets": -3.0, "posts": 1.0}',
                "discord": '{"reactions": 4.0}',
            },
        )
    as_of_0014 = _gain_day_columns(engine), _gain_day_indexes(engine)
    migrate.upgrade(db_url)
    expected = {("x", 12.5, -3.0, 0.0), ("discord", 0.0, 0.0, 4.0)}
    filled = "SELECT source, likes, retweets, reactions FROM signal_gain_day"
    with engine.connect() as connection:
        assert {tuple(row) for row in connection.execute(text(filled))} == expected
    assert _gain_day_columns(engine) - as_of_0014[0] == {"likes", "retweets", "reactions"}
    command.downgrade(migrate.alembic_config(db_url), "0014")
    assert (_gain_day_columns(engine), _gain_day_indexes(engine)) == as_of_0014
    with engine.connect() as connection:
        assert connection.execute(text("SELECT count(*) FROM signal_gain_day")).scalar() == 2
    migrate.upgrade(db_url)
    with engine.connect() as connection:
        assert {tuple(row) for row in connection.execute(text(filled))} == expected
    engine.dispose()
