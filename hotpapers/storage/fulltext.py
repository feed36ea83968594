"""The full-text index over paper titles and abstracts, for databases made without Alembic.

Migration 0009 (which replaced 0003's) creates the same objects on migrated databases (it
keeps its own copy of the SQL, as migrations must not change when this module does;
tests/storage/test_search.py checks that both give the same schema). Here they are attached to the
`paper` table's CREATE and DROP, so `SQLModel.metadata.create_all` (tests, benchmarks) gives
a searchable database too. `hotpapers.storage.models` calls `attach_to(paper_table)`: this module
knows no models, so the two import in one direction only.

* SQLite: an FTS5 table with external content (`paper` itself: the text is not stored twice),
  tokenizer `porter unicode61 remove_diacritics 2` (case- and accent-insensitive words,
  English stemming: "transformers" finds "transformer"), kept in sync by triggers, so every
  writer (ORM, the importer's `executemany`) keeps it current. It is keyed by `paper`'s
  implicit rowid: after a `VACUUM` that renumbers rowids, run
  `INSERT INTO paper_fts(paper_fts) VALUES ('rebuild')`.
* PostgreSQL: a stored generated `tsvector` column (computed by the server for ORM inserts,
  upserts and COPY alike) with a GIN index. The text search configuration `hotpapers_english`
  is `english` (Snowball stemming, English stop words dropped) with `unaccent` in front when
  the extension can be created; without it, accents matter on PostgreSQL. Word positions are
  kept (phrase search, `ts_rank_cd`), and title words carry weight A, abstract words B.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Table, event

FTS_TABLE = "paper_fts"  # SQLite
VECTOR_COLUMN = "search_vector"  # PostgreSQL
VECTOR_INDEX = "ix_paper_search"
TS_CONFIG = "hotpapers_english"

SQLITE_CREATE = (
    "CREATE VIRTUAL TABLE IF NOT EXISTS paper_fts USING fts5(title, abstract,"
    " content='paper', tokenize='porter unicode61 remove_diacritics 2')",
    "CREATE TRIGGER IF NOT EXISTS paper_fts_insert AFTER INSERT ON paper BEGIN"
    " INSERT INTO paper_fts (rowid, title, abstract) VALUES (new.rowid, new.title, new.abstract);"
    " END",
    "CREATE TRIGGER IF NOT EXISTS paper_fts_delete AFTER DELETE ON paper BEGIN"
    " INSERT INTO paper_fts (paper_fts, rowid, title, abstract)"
    " VALUES ('delete', old.rowid, old.title, old.abstract);"
    " END",
    "CREATE TRIGGER IF NOT EXISTS paper_fts_update AFTER UPDATE OF title, abstract ON paper BEGIN"
    " INSERT INTO paper_fts (paper_fts, rowid, title, abstract)"
    " VALUES ('delete', old.rowid, old.title, old.abstract);"
    " INSERT INTO paper_fts (rowid, title, abstract) VALUES (new.rowid, new.title, new.abstract);"
    " END",
)
SQLITE_DROP = (
    "DROP TRIGGER IF EXISTS paper_fts_insert",
    "DROP TRIGGER IF EXISTS paper_fts_delete",
    "DROP TRIGGER IF EXISTS paper_fts_update",
    "DROP TABLE IF EXISTS paper_fts",
)

POSTGRES_CREATE = (
    # A plpgsql block is a savepoint: without the right to create it, carry on without it.
    "DO $$ BEGIN CREATE EXTENSION IF NOT EXISTS unaccent;"
    " EXCEPTION WHEN OTHERS THEN RAISE NOTICE 'unaccent is not available'; END $$",
    "DO $$ BEGIN"
    " IF NOT EXISTS (SELECT 1 FROM pg_ts_config WHERE cfgname = 'hotpapers_english') THEN"
    "  CREATE TEXT SEARCH CONFIGURATION hotpapers_english (COPY = english);"
    "  IF EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'unaccent') THEN"
    "   ALTER TEXT SEARCH CONFIGURATION hotpapers_english"
    "    ALTER MAPPING FOR hword, hword_part, word WITH unaccent, english_stem;"
    "  END IF;"
    " END IF; END $$",
    "ALTER TABLE paper ADD COLUMN IF NOT EXISTS search_vector tsvector GENERATED ALWAYS AS"
    " (setweight(to_tsvector('hotpapers_english'::regconfig, title), 'A')"
    " || setweight(to_tsvector('hotpapers_english'::regconfig, abstract), 'B')) STORED",
    "CREATE INDEX IF NOT EXISTS ix_paper_search ON paper USING gin (search_vector)",
)


# What the models do not describe: SQLite's FTS5 table and its shadow tables (paper_fts_data,
# ...), PostgreSQL's generated column and its index.
_UNMODELLED = {"table": (FTS_TABLE,), "column": (VECTOR_COLUMN,), "index": (VECTOR_INDEX,)}


def include_object(
    object: Any, name: str | None, type_: str, reflected: bool, compare_to: Any
) -> bool:
    """Alembic `include_object` hook: autogenerate leaves the full-text objects alone."""
    if reflected and compare_to is None and name:
        prefixes = _UNMODELLED.get(type_, ())
        return not any(name == p or name.startswith(p + "_") for p in prefixes)
    return True


def _create(target: Any, connection: Any, **_: Any) -> None:
    statements = SQLITE_CREATE if connection.dialect.name == "sqlite" else POSTGRES_CREATE
    for statement in statements:
        connection.exec_driver_sql(statement)


def _drop(target: Any, connection: Any, **_: Any) -> None:
    # PostgreSQL: the column and its index go with the table.
    if connection.dialect.name == "sqlite":
        for statement in SQLITE_DROP:
            connection.exec_driver_sql(statement)


def attach_to(paper_table: Table) -> None:
    """Create the full-text objects with the paper table, and drop them before it."""
    event.listen(paper_table, "after_create", _create)
    event.listen(paper_table, "before_drop", _drop)
