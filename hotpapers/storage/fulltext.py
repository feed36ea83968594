"""The full-text index over paper titles and abstracts, for databases made without Alembic.

Migrations 0009 (which replaced 0003's) and 0014 create the same objects on migrated databases
(they keep their own copy of the SQL, as migrations must not change when this module does;
tests/storage/test_search.py checks that both give the same schema). Here they are attached to the
`paper_category` table's CREATE and DROP (made after `paper`), so `SQLModel.metadata.create_all`
(tests, benchmarks) gives a searchable database too. `hotpapers.storage.models` calls
`attach_to(category_table)`: this module knows no models, so the two import in one direction only.

* SQLite: an FTS5 table over the title, the abstract and the categories, with external content
  (the view `paper_fts_content` of `paper` and `paper_category`: the text is not stored
  twice), tokenizer `porter unicode61 remove_diacritics 2` (case- and accent-insensitive
  words, English stemming: "transformers" finds "transformer"), kept in sync by triggers on
  both tables, so every writer (ORM, the importer's `executemany`) keeps it current; the
  importer's bulk path drops the triggers and rebuilds instead. The categories column makes
  `category:` an intersection inside FTS5 (`... AND {categories} : "<token>"`, see
  `category_token`) instead of a check of every match. It is keyed by `paper`'s implicit
  rowid: after a `VACUUM` that renumbers rowids, run
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

# A paper's categories as index tokens, one per category: its bytes in hex, then U+E000. The
# private-use character is a token character to unicode61 but never part of a word the search
# parser keeps, and the porter stemmer leaves a token ending in it alone: so a category is one
# exact token that no searched word can match. Cross-lists count like the primary category.
_TOKEN = "hex({row}.category) || char(57344)"
_TOKENS_OF = (
    f"(SELECT group_concat({_TOKEN.format(row='c')}, ' ')"
    " FROM paper_category c WHERE c.paper_id = {paper})"
)
# The tokens the index holds for paper `p` while a trigger on paper_category runs: the rows
# there now, but not the one just written and with the one just removed.
_TOKENS_BEFORE = (
    "(SELECT group_concat(token, ' ') FROM ("
    f"SELECT {_TOKEN.format(row='c')} AS token FROM paper_category c"
    " WHERE c.paper_id = p.id AND c.rowid IS NOT {written}{removed}))"
)
_REMOVED = f" UNION ALL SELECT {_TOKEN.format(row='old')} WHERE old.paper_id = p.id"


def _reindex(event: str, written: str, removed: bool, papers: str) -> str:
    """A trigger on paper_category: the papers of the changed row indexed again. `written`:
    the rowid of the row written (NULL for none); `removed`: whether there is an `old` row."""
    before = _TOKENS_BEFORE.format(written=written, removed=_REMOVED if removed else "")
    return (
        f"CREATE TRIGGER IF NOT EXISTS paper_category_fts_{event.split()[0].lower()}"
        f" AFTER {event} ON paper_category BEGIN"
        " INSERT INTO paper_fts (paper_fts, rowid, title, abstract, categories)"
        f" SELECT 'delete', p.rowid, p.title, p.abstract, {before}"
        f" FROM paper p WHERE p.id IN ({papers});"
        " INSERT INTO paper_fts (rowid, title, abstract, categories)"
        " SELECT paper_rowid, title, abstract, categories FROM paper_fts_content"
        f" WHERE paper_rowid IN (SELECT rowid FROM paper WHERE id IN ({papers}));"
        " END"
    )


SQLITE_CREATE = (
    # FTS5's external content: what it indexes, by `paper`'s rowid.
    "CREATE VIEW IF NOT EXISTS paper_fts_content AS SELECT p.rowid AS paper_rowid,"
    f" p.title, p.abstract, {_TOKENS_OF.format(paper='p.id')} AS categories FROM paper p",
    "CREATE VIRTUAL TABLE IF NOT EXISTS paper_fts USING fts5(title, abstract, categories,"
    " content='paper_fts_content', content_rowid='paper_rowid',"
    " tokenize='porter unicode61 remove_diacritics 2')",
    "CREATE TRIGGER IF NOT EXISTS paper_fts_insert AFTER INSERT ON paper BEGIN"
    " INSERT INTO paper_fts (rowid, title, abstract, categories) VALUES"
    f" (new.rowid, new.title, new.abstract, {_TOKENS_OF.format(paper='new.id')});"
    " END",
    "CREATE TRIGGER IF NOT EXISTS paper_fts_delete AFTER DELETE ON paper BEGIN"
    " INSERT INTO paper_fts (paper_fts, rowid, title, abstract, categories) VALUES"
    f" ('delete', old.rowid, old.title, old.abstract, {_TOKENS_OF.format(paper='old.id')});"
    " END",
    "CREATE TRIGGER IF NOT EXISTS paper_fts_update AFTER UPDATE OF title, abstract ON paper BEGIN"
    " INSERT INTO paper_fts (paper_fts, rowid, title, abstract, categories) VALUES"
    f" ('delete', old.rowid, old.title, old.abstract, {_TOKENS_OF.format(paper='old.id')});"
    " INSERT INTO paper_fts (rowid, title, abstract, categories) VALUES"
    f" (new.rowid, new.title, new.abstract, {_TOKENS_OF.format(paper='new.id')});"
    " END",
    _reindex("INSERT", "new.rowid", False, "new.paper_id"),
    _reindex("DELETE", "NULL", True, "old.paper_id"),
    _reindex("UPDATE OF paper_id, category", "new.rowid", True, "old.paper_id, new.paper_id"),
)
SQLITE_DROP = (
    "DROP TRIGGER IF EXISTS paper_category_fts_insert",
    "DROP TRIGGER IF EXISTS paper_category_fts_delete",
    "DROP TRIGGER IF EXISTS paper_category_fts_update",
    "DROP TRIGGER IF EXISTS paper_fts_insert",
    "DROP TRIGGER IF EXISTS paper_fts_delete",
    "DROP TRIGGER IF EXISTS paper_fts_update",
    "DROP TABLE IF EXISTS paper_fts",
    "DROP VIEW IF EXISTS paper_fts_content",
)


def category_token(category: str) -> str:
    """The index token of `category` (as `_TOKEN` makes it), for a `{categories}` filter."""
    return category.encode().hex().upper() + "\ue000"


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


def attach_to(category_table: Table) -> None:
    """Create the full-text objects with the paper_category table (made after `paper`, dropped
    before it), and drop them before it."""
    event.listen(category_table, "after_create", _create)
    event.listen(category_table, "before_drop", _drop)
