"""full-text search over paper titles and abstracts

SQLite: an FTS5 table with `paper` as external content, kept by triggers. PostgreSQL: a
stored generated tsvector column (config `hotpapers_search`: `simple` + `unaccent` when the
extension can be created) with a GIN index. See hotpapers/storage/fulltext.py for the choices; the
SQL is repeated here on purpose (a migration must not change when the code does).

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-24 18:10:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_SQLITE_UP = (
    "CREATE VIRTUAL TABLE IF NOT EXISTS paper_fts USING fts5(title, abstract,"
    " content='paper', tokenize='unicode61 remove_diacritics 2')",
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
    # Backfill: FTS5 reads every row of the content table once (about a minute at 1M papers).
    "INSERT INTO paper_fts (paper_fts) VALUES ('rebuild')",
)
_SQLITE_DOWN = (
    "DROP TRIGGER IF EXISTS paper_fts_insert",
    "DROP TRIGGER IF EXISTS paper_fts_delete",
    "DROP TRIGGER IF EXISTS paper_fts_update",
    "DROP TABLE IF EXISTS paper_fts",
)

_POSTGRES_UP = (
    # A plpgsql block is a savepoint: without the right to create it, carry on without it.
    "DO $$ BEGIN CREATE EXTENSION IF NOT EXISTS unaccent;"
    " EXCEPTION WHEN OTHERS THEN RAISE NOTICE 'unaccent is not available'; END $$",
    "DO $$ BEGIN"
    " IF NOT EXISTS (SELECT 1 FROM pg_ts_config WHERE cfgname = 'hotpapers_search') THEN"
    "  CREATE TEXT SEARCH CONFIGURATION hotpapers_search (COPY = simple);"
    "  IF EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'unaccent') THEN"
    "   ALTER TEXT SEARCH CONFIGURATION hotpapers_search"
    "    ALTER MAPPING FOR hword, hword_part, word WITH unaccent, simple;"
    "  END IF;"
    " END IF; END $$",
    # Backfill: adding a stored generated column rewrites the table, computing every row.
    "ALTER TABLE paper ADD COLUMN IF NOT EXISTS search_vector tsvector GENERATED ALWAYS AS"
    " (strip(to_tsvector('hotpapers_search'::regconfig, title || ' ' || abstract))) STORED",
    "SET LOCAL maintenance_work_mem = '256MB'",
    "CREATE INDEX IF NOT EXISTS ix_paper_search ON paper USING gin (search_vector)",
    "ANALYZE paper",
)
_POSTGRES_DOWN = (
    "DROP INDEX IF EXISTS ix_paper_search",
    "ALTER TABLE paper DROP COLUMN IF EXISTS search_vector",
    # The unaccent extension stays: other objects may use it, and it costs nothing.
    "DROP TEXT SEARCH CONFIGURATION IF EXISTS hotpapers_search",
)


def _run(statements: Sequence[str]) -> None:
    for statement in statements:
        op.execute(statement)


def upgrade() -> None:
    dialect = op.get_context().dialect.name  # online and offline (--sql) alike
    if dialect == "sqlite":
        _run(_SQLITE_UP)
    elif dialect == "postgresql":
        _run(_POSTGRES_UP)


def downgrade() -> None:
    dialect = op.get_context().dialect.name  # online and offline (--sql) alike
    if dialect == "sqlite":
        _run(_SQLITE_DOWN)
    elif dialect == "postgresql":
        _run(_POSTGRES_DOWN)
