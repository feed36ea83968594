"""The baseline of bench_import.py: a plain loader of the same rows into the same schema.

One process, one thread, one transaction, no pipeline: each line parsed with the project's
own parser into the same row tuples (`hotpapers.arxiv.importer.rows.to_rec`, listing dates
included), author names folded once each (an unbounded set), then plain `executemany`
(SQLite) or `COPY` straight into the tables (PostgreSQL) every 5,000 records. Around the load,
the same schema work as the importer's bulk path (its helpers, so that part is identical):
secondary indexes, foreign keys and full-text triggers dropped before and rebuilt after.
What it leaves out is what the importer pays for being safe on a non-empty database and
for using a second CPU: the parser process and its pipe, the per-batch look-up of stored
papers, the split into new / current / stale, the staging tables and ON CONFLICT.

Only for an empty database (it refuses otherwise); a benchmark peer, not a product path.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from sqlalchemy import Engine

from hotpapers.arxiv.holidays import ARXIV_HOLIDAYS
from hotpapers.arxiv.importer.listing import FirstListings
from hotpapers.arxiv.importer.postgres import pg_drop_for_bulk
from hotpapers.arxiv.importer.rows import (
    ANNOUNCEMENT_COLUMNS,
    AUTHOR_COLUMNS,
    PAPER_COLUMNS,
    Rec,
    to_rec,
)
from hotpapers.arxiv.importer.sqlite import sqlite_drop_for_bulk, sqlite_fts_rebuild
from hotpapers.arxiv.snapshot import parse_snapshot_line
from hotpapers.storage.db import is_postgres
from hotpapers.storage.names import name_keys

BATCH = 5000
_TABLES = ("paper", "paper_version", "author", "paper_author", "paper_category", "announcement")
_VERSION = "paper_id, version, created"
_AUTHOR_LINK = "paper_id, position, author_name, submitted"
_CATEGORY_LINK = "paper_id, position, category, submitted"


def _records(path: Path, aware: bool, announce: bool) -> Iterator[list[Rec]]:
    listings = FirstListings(ARXIV_HOLIDAYS) if announce else None
    batch: list[Rec] = []
    with path.open("rb") as lines:
        for line in lines:
            if not line.strip():
                continue
            try:
                batch.append(to_rec(parse_snapshot_line(line), aware, listings))
            except ValueError:
                continue
            if len(batch) >= BATCH:
                yield batch
                batch = []
    if batch:
        yield batch


def _rows(batch: list[Rec], seen: set[str]) -> dict[str, list[tuple[Any, ...]]]:
    """Each table's rows for one batch (authors not seen before only)."""
    rows: dict[str, list[tuple[Any, ...]]] = {table: [] for table in _TABLES}
    for arxiv_id, _, paper, versions, names, submitted, categories, listing in batch:
        rows["paper"].append(paper)
        rows["paper_version"] += versions
        for position, name in enumerate(names):
            rows["paper_author"].append((arxiv_id, position, name, submitted))
            if name not in seen:
                seen.add(name)
                rows["author"].append((name, *name_keys(name)))
        for position, category in enumerate(categories):
            rows["paper_category"].append((arxiv_id, position, category, submitted))
            if listing is not None:
                kind = "cross" if position else "new"
                rows["announcement"].append((listing, category, arxiv_id, kind, 1))
    return rows


_COLUMNS = {
    "paper": ", ".join(PAPER_COLUMNS),
    "paper_version": _VERSION,
    "author": AUTHOR_COLUMNS,
    "paper_author": _AUTHOR_LINK,
    "paper_category": _CATEGORY_LINK,
    "announcement": ANNOUNCEMENT_COLUMNS,
}


def load(engine: Engine, path: Path, announce: bool = True) -> int:
    """Load `path` into `engine`'s empty tables; the number of papers. `announce` False: no
    first listings (no `announcement` rows), to measure what they cost."""
    raw = engine.raw_connection()
    try:
        conn: Any = raw.driver_connection
        if is_postgres(engine):
            return _load_postgres(conn, path, announce)
        return _load_sqlite(conn, path, announce)
    finally:
        raw.close()


def _marks(columns: str) -> str:
    return ", ".join("?" * (columns.count(",") + 1))


def _load_sqlite(conn: sqlite3.Connection, path: Path, announce: bool) -> int:
    conn.execute("PRAGMA cache_size = -131072")  # the importer's 128 MiB
    conn.execute("PRAGMA foreign_keys = OFF")
    conn.execute("PRAGMA journal_mode = DELETE")
    conn.execute("BEGIN IMMEDIATE")
    indexes, triggers, fts_tables = sqlite_drop_for_bulk(conn)
    inserts = {
        table: f"INSERT INTO {table} ({columns}) VALUES ({_marks(columns)})"
        for table, columns in _COLUMNS.items()
    }
    seen: set[str] = set()
    papers = 0
    for batch in _records(path, False, announce):
        for table, rows in _rows(batch, seen).items():
            conn.executemany(inserts[table], rows)
        papers += len(batch)
    conn.execute("PRAGMA cache_size = -65536")
    for sql in indexes:
        conn.execute(sql)
    for fts in fts_tables:
        sqlite_fts_rebuild(conn, fts)
    for sql in triggers:
        conn.execute(sql)
    conn.execute("COMMIT")
    conn.execute("PRAGMA journal_mode = WAL")
    return papers


def _load_postgres(conn: Any, path: Path, announce: bool) -> int:
    seen: set[str] = set()
    papers = 0
    with conn.cursor() as cursor:
        cursor.execute("SET LOCAL synchronous_commit = off")
        indexes, constraints = pg_drop_for_bulk(cursor)
        for batch in _records(path, True, announce):
            for table, rows in _rows(batch, seen).items():
                with cursor.copy(f"COPY {table} ({_COLUMNS[table]}) FROM STDIN") as copy:
                    for row in rows:
                        copy.write_row(row)
            papers += len(batch)
        cursor.execute("SET LOCAL maintenance_work_mem = '256MB'")
        for sql in indexes:
            cursor.execute(sql)
        for table, name, definition in constraints:
            cursor.execute(f'ALTER TABLE {table} ADD CONSTRAINT "{name}" {definition}')
    conn.commit()
    with conn.cursor() as cursor:
        for table in _TABLES:
            cursor.execute(f"ANALYZE {table}")
    conn.commit()
    return papers
