"""full-text search with stemming, word positions and title weights (issue #13 §3)

SQLite: the FTS5 table is made again with the `porter` stemmer in front of `unicode61`.
PostgreSQL: the text search configuration `hotpapers_english` (`english`, with `unaccent` when
the extension can be created) replaces 0003's `simple` one, and the generated column keeps
word positions (0003 stripped them), so phrases and `ts_rank_cd` work; title words get weight
A, abstract words B. See hotpapers/storage/fulltext.py; the SQL is repeated here on purpose.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-06 22:30:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_SQLITE_DROP = (
    "DROP TRIGGER IF EXISTS paper_fts_insert",
    "DROP TRIGGER IF EXISTS paper_fts_delete",
    "DROP TRIGGER IF EXISTS paper_fts_update",
    "DROP TABLE IF EXISTS paper_fts",
)


def _sqlite_create(tokenize: str) -> tuple[str, ...]:
    return (
        "CREATE VIRTUAL TABLE IF NOT EXISTS paper_fts USING fts5(title, abstract,"
        f" content='paper', tokenize='{tokenize}')",
        "CREATE TRIGGER IF NOT EXISTS paper_fts_insert AFTER INSERT ON paper BEGIN"
        " INSERT INTO paper_fts (rowid, title, abstract)"
        " VALUES (new.rowid, new.title, new.abstract);"
        " END",
        "CREATE TRIGGER IF NOT EXISTS paper_fts_delete AFTER DELETE ON paper BEGIN"
        " INSERT INTO paper_fts (paper_fts, rowid, title, abstract)"
        " VALUES ('delete', old.rowid, old.title, old.abstract);"
        " END",
        "CREATE TRIGGER IF NOT EXISTS paper_fts_update AFTER UPDATE OF title, abstract ON paper"
        " BEGIN"
        " INSERT INTO paper_fts (paper_fts, rowid, title, abstract)"
        " VALUES ('delete', old.rowid, old.title, old.abstract);"
        " INSERT INTO paper_fts (rowid, title, abstract)"
        " VALUES (new.rowid, new.title, new.abstract);"
        " END",
        # Backfill: FTS5 reads every row of the content table once.
        "INSERT INTO paper_fts (paper_fts) VALUES ('rebuild')",
    )


_PG_DROP = (
    "DROP INDEX IF EXISTS ix_paper_search",
    "ALTER TABLE paper DROP COLUMN IF EXISTS search_vector",
)
_PG_UNACCENT = (
    # A plpgsql block is a savepoint: without the right to create it, carry on without it.
    "DO $$ BEGIN CREATE EXTENSION IF NOT EXISTS unaccent;"
    " EXCEPTION WHEN OTHERS THEN RAISE NOTICE 'unaccent is not available'; END $$"
)
_PG_INDEX = (
    "SET LOCAL maintenance_work_mem = '256MB'",
    "CREATE INDEX IF NOT EXISTS ix_paper_search ON paper USING gin (search_vector)",
    "ANALYZE paper",
)
_PG_UP = (
    *_PG_DROP,
    "DROP TEXT SEARCH CONFIGURATION IF EXISTS hotpapers_search",
    _PG_UNACCENT,
    "DO $$ BEGIN"
    " IF NOT EXISTS (SELECT 1 FROM pg_ts_config WHERE cfgname = 'hotpapers_english') THEN"
    "  CREATE TEXT SEARCH CONFIGURATION hotpapers_english (COPY = english);"
    "  IF EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'unaccent') THEN"
    "   ALTER TEXT SEARCH CONFIGURATION hotpapers_english"
    "    ALTER MAPPING FOR hword, hword_part, word WITH unaccent, english_stem;"
    "  END IF;"
    " END IF; END $$",
    # Backfill: adding a stored generated column rewrites the table, computing every row.
    "ALTER TABLE paper ADD COLUMN IF NOT EXISTS search_vector tsvector GENERATED ALWAYS AS"
    " (setweight(to_tsvector('hotpapers_english'::regconfig, title), 'A')"
    " || setweight(to_tsvector('hotpapers_english'::regconfig, abstract), 'B')) STORED",
    *_PG_INDEX,
)
_PG_DOWN = (  # back to 0003's objects
    *_PG_DROP,
    "DROP TEXT SEARCH CONFIGURATION IF EXISTS hotpapers_english",
    _PG_UNACCENT,
    "DO $$ BEGIN"
    " IF NOT EXISTS (SELECT 1 FROM pg_ts_config WHERE cfgname = 'hotpapers_search') THEN"
    "  CREATE TEXT SEARCH CONFIGURATION hotpapers_search (COPY = simple);"
    "  IF EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'unaccent') THEN"
    "   ALTER TEXT SEARCH CONFIGURATION hotpapers_search"
    "    ALTER MAPPING FOR hword, hword_part, word WITH unaccent, simple;"
    "  END IF;"
    " END IF; END $$",
    "ALTER TABLE paper ADD COLUMN IF NOT EXISTS search_vector tsvector GENERATED ALWAYS AS"
    " (strip(to_tsvector('hotpapers_search'::regconfig, title || ' ' || abstract))) STORED",
    *_PG_INDEX,
)


def _run(statements: Sequence[str]) -> None:
    for statement in statements:
        op.execute(statement)


def upgrade() -> None:
    dialect = op.get_context().dialect.name  # online and offline (--sql) alike
    if dialect == "sqlite":
        _run((*_SQLITE_DROP, *_sqlite_create("porter unicode61 remove_diacritics 2")))
    elif dialect == "postgresql":
        _run(_PG_UP)


def downgrade() -> None:
    dialect = op.get_context().dialect.name
    if dialect == "sqlite":
        _run((*_SQLITE_DROP, *_sqlite_create("unicode61 remove_diacritics 2")))
    elif dialect == "postgresql":
        _run(_PG_DOWN)
