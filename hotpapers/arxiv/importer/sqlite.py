"""The SQLite writer: executemany on the raw connection; the bulk path drops and rebuilds
indexes and the FTS5 triggers in one transaction."""

from __future__ import annotations

import logging
import re
import sqlite3
from collections.abc import Sequence

from sqlalchemy import Engine

from hotpapers.arxiv.importer.rows import (
    ANNOUNCEMENT_COLUMNS,
    AUTHOR_COLUMNS,
    IMPORT_TABLES,
    PAPER_COLUMNS,
    PAPER_TABLES,
    AuthorRow,
    Rec,
    timed,
)
from hotpapers.arxiv.importer.writer import (
    Authors,
    Plan,
    Writer,
    announcement_values,
    dedupe,
    list_values,
    plan_batch,
    upsert_sql,
    version_values,
)

log = logging.getLogger(__name__)


class SqliteWriter(Writer):
    """Writes with foreign-key enforcement off for this connection (about 15 % faster); instead,
    before each commit, `_check_references` proves what enforcement would have: see there."""

    _rebuilt: tuple[list[str], list[str], list[str]]  # indexes, triggers, FTS5 tables
    _left_wal = False  # the bulk import runs in rollback-journal mode, see _sqlite_leave_wal

    _LOOKUP_CHUNK = 500
    _CACHE_KIB = 128 * 1024  # page cache during the import (default is 2 MiB)

    def __init__(self, engine: Engine) -> None:
        super().__init__()
        self._proxy = engine.raw_connection()
        self._conn = self._proxy.driver_connection
        cursor = self._conn.cursor()
        self._old_cache = cursor.execute("PRAGMA cache_size").fetchone()[0]
        self._old_temp = cursor.execute("PRAGMA temp_store").fetchone()[0]
        self._old_fks = cursor.execute("PRAGMA foreign_keys").fetchone()[0]
        cursor.execute(f"PRAGMA cache_size = -{self._CACHE_KIB}")
        cursor.execute("PRAGMA temp_store = MEMORY")
        cursor.execute("PRAGMA foreign_keys = OFF")
        cursor.close()
        self._insert_paper = (
            f"INSERT INTO paper ({', '.join(PAPER_COLUMNS)}) "
            f"VALUES ({', '.join('?' * len(PAPER_COLUMNS))})"
        )
        self._upsert_paper = upsert_sql(f"VALUES ({', '.join('?' * len(PAPER_COLUMNS))})", "IS NOT")

    def begin_bulk(self) -> bool:
        conn = self._conn
        # Index builds sort: in temp files, not in memory (a sort of 5.5M entries would not fit
        # the RSS budget). No sorter threads: each takes its own cache_size of memory (at 1M
        # papers 528 MB instead of 272 MB peak RSS) for no gain on 2 CPUs.
        conn.execute("PRAGMA temp_store = FILE")
        self._left_wal = _sqlite_empty(conn) and _sqlite_leave_wal(conn)
        if self._left_wal:
            log.info("import: rollback journal for the bulk load, WAL again afterwards")
        conn.execute("BEGIN IMMEDIATE")
        try:
            if not _sqlite_empty(conn):
                conn.execute("ROLLBACK")
                conn.execute("PRAGMA temp_store = MEMORY")
                self._return_to_wal()
                return False
            self._rebuilt = sqlite_drop_for_bulk(conn)
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        self._bulk = True
        return True

    def finish(self) -> None:
        if not self._bulk:
            return
        conn = self._conn
        indexes, triggers, fts_tables = self._rebuilt
        # The sorts of the index builds use up to cache_size more: halve both (peak RSS), and
        # drop the name caches, not needed any more.
        self.authors = Authors()
        conn.execute(f"PRAGMA cache_size = -{self._CACHE_KIB // 2}")
        with timed("indexes built"):
            for sql in indexes:
                conn.execute(sql)
        with timed("full-text index rebuilt"):
            for fts in fts_tables:  # read every row of its content table once
                sqlite_fts_rebuild(conn, fts)
            for sql in triggers:
                conn.execute(sql)
        with timed("committed"):
            conn.execute("COMMIT")
        self._bulk = False
        self._return_to_wal()

    def _return_to_wal(self) -> None:
        if self._left_wal:
            self._conn.execute("PRAGMA journal_mode = WAL")
            self._left_wal = False

    def close(self) -> None:
        try:
            conn = self._conn
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            self._return_to_wal()
            conn.execute(f"PRAGMA foreign_keys = {int(self._old_fks)}")
            conn.execute(f"PRAGMA cache_size = {int(self._old_cache)}")
            conn.execute(f"PRAGMA temp_store = {int(self._old_temp)}")
        finally:
            self._proxy.close()

    def _stored(self, ids: list[str]) -> dict[str, int]:
        stored: dict[str, int] = {}
        for start in range(0, len(ids), self._LOOKUP_CHUNK):
            chunk = ids[start : start + self._LOOKUP_CHUNK]
            marks = ",".join("?" * len(chunk))
            query = f"SELECT id, latest_version FROM paper WHERE id IN ({marks})"
            stored.update(self._conn.execute(query, chunk).fetchall())
        return stored

    def _check_references(self, known: list[str]) -> None:
        """What foreign-key enforcement would refuse, checked for this batch's rows.

        Every row written references a paper of this batch and (paper_author) an author name.
        The papers were read or inserted in this transaction (a failed insert raises), and so
        were the names inserted with ON CONFLICT DO NOTHING; the write lock (BEGIN IMMEDIATE)
        keeps them. Only the names taken as stored from earlier batches (`known`) could have
        been deleted since by another connection: they are looked up here. (`PRAGMA
        foreign_key_check` would prove the same by scanning whole tables, every batch.)
        """
        for start in range(0, len(known), self._LOOKUP_CHUNK):
            chunk = known[start : start + self._LOOKUP_CHUNK]
            marks = ",".join("?" * len(chunk))
            query = f"SELECT count(*) FROM author WHERE name IN ({marks})"
            if self._conn.execute(query, chunk).fetchone()[0] != len(chunk):
                self.authors.known.clear()
                raise sqlite3.IntegrityError("FOREIGN KEY constraint failed (paper_author)")

    def write(self, batch: Sequence[Rec]) -> tuple[int, int, int]:
        records = dedupe(batch)
        conn = self._conn
        if self._bulk:
            # One transaction with the write lock since before the tables were found empty:
            # every name taken as stored was inserted or read in it, nothing to re-check.
            plan, author_rows, _known = self._write_rows(records)
        else:
            try:
                conn.execute("BEGIN IMMEDIATE")
                plan, author_rows, known = self._write_rows(records)
                self._check_references(known)
                conn.execute("COMMIT")
            except BaseException:
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
                raise
        self.authors.remember([row[0] for row in author_rows])
        return len(plan.new), len(plan.current), len(plan.stale)

    def _write_announcements(self, plan: Plan) -> None:
        """A new paper's first listing; an existing one's only if it has no announcement
        (collected papers have theirs: never a second set)."""
        insert = f"INSERT INTO announcement ({ANNOUNCEMENT_COLUMNS}) VALUES (?, ?, ?, ?, ?)"
        self._conn.executemany(insert, announcement_values(plan.new))
        stored = plan.current + plan.stale
        if stored:
            announced = self._announced([r[0] for r in stored])
            unannounced = [r for r in stored if r[0] not in announced]
            self._conn.executemany(
                insert + " ON CONFLICT DO NOTHING", announcement_values(unannounced)
            )

    def _announced(self, ids: list[str]) -> set[str]:
        found: set[str] = set()
        for start in range(0, len(ids), self._LOOKUP_CHUNK):
            chunk = ids[start : start + self._LOOKUP_CHUNK]
            marks = ",".join("?" * len(chunk))
            query = f"SELECT DISTINCT paper_id FROM announcement WHERE paper_id IN ({marks})"
            found.update(row[0] for row in self._conn.execute(query, chunk))
        return found

    def _write_rows(self, records: list[Rec]) -> tuple[Plan, list[AuthorRow], list[str]]:
        """The batch's statements, in the open transaction; (plan, author rows, known names)."""
        conn = self._conn
        plan = plan_batch(records, self._stored([r[0] for r in records]))
        written = plan.written
        author_rows, known = self._author_rows(written)
        versions = version_values(records)
        authors, categories = list_values(written)
        conn.executemany(self._insert_paper, [r[2] for r in plan.new])
        conn.executemany(self._upsert_paper, [r[2] for r in plan.current])
        self._write_announcements(plan)
        conn.executemany(
            "INSERT INTO paper_version (paper_id, version, created) VALUES (?, ?, ?) "
            "ON CONFLICT DO NOTHING",
            versions,
        )
        conn.executemany(
            f"INSERT INTO author ({AUTHOR_COLUMNS}) VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING",
            author_rows,
        )
        if plan.current:
            ids = [(r[0],) for r in plan.current]
            conn.executemany("DELETE FROM paper_author WHERE paper_id = ?", ids)
            conn.executemany("DELETE FROM paper_category WHERE paper_id = ?", ids)
        conn.executemany(
            "INSERT INTO paper_author (paper_id, position, author_name, submitted) "
            "VALUES (?, ?, ?, ?)",
            authors,
        )
        conn.executemany(
            "INSERT INTO paper_category (paper_id, position, category, submitted) "
            "VALUES (?, ?, ?, ?)",
            categories,
        )
        return plan, author_rows, known


def _sqlite_leave_wal(conn: sqlite3.Connection) -> bool:
    """Switch a WAL database to a rollback journal for the bulk import, if no other connection
    has it open (SQLite refuses the switch otherwise: then the import stays in WAL). True if
    switched; the writer switches back after the import, committed or not.

    Why: in WAL mode every page of the import is written twice, to the WAL and then by the
    checkpoint into the database (at 1M papers: 3.5 GB, ~15 s of COMMIT). A rollback journal
    keeps only the original content of pages that existed before the transaction: the tables
    being empty, nearly all pages are new and written once. A crash or a failure still rolls
    the whole import back (from the journal, on the next open)."""
    if conn.execute("PRAGMA journal_mode").fetchone()[0] != "wal":
        return False
    timeout = conn.execute("PRAGMA busy_timeout").fetchone()[0]
    conn.execute("PRAGMA busy_timeout = 0")  # another connection: do not wait, stay in WAL
    try:
        mode = conn.execute("PRAGMA journal_mode = DELETE").fetchone()[0]
    except sqlite3.OperationalError as exc:
        log.info("import stays in WAL mode (%s)", exc)
        return False
    finally:
        conn.execute(f"PRAGMA busy_timeout = {int(timeout)}")
    return bool(mode == "delete")


# FTS5 gathers tokens in memory and writes a segment when they exceed `hashsize` (1 MB by
# default); the rebuild at 1M papers writes and merges fewer segments with more: 22.1 s with
# 1 MB, 17.3 s with 16 MB (+17 MB RSS), 16.3 s with 64 MB (+72 MB). Set for the rebuild only.
_FTS_REBUILD_HASHSIZE = 16 * 1024 * 1024
_FTS_DEFAULT_HASHSIZE = 1024 * 1024


def sqlite_fts_rebuild(conn: sqlite3.Connection, fts: str) -> None:
    """Rebuild an external-content FTS5 index from its content table."""
    configure = f'INSERT INTO "{fts}" ("{fts}", rank) VALUES (\'hashsize\', ?)'
    conn.execute(configure, (_FTS_REBUILD_HASHSIZE,))
    conn.execute(f'INSERT INTO "{fts}" ("{fts}") VALUES (\'rebuild\')')
    conn.execute(configure, (_FTS_DEFAULT_HASHSIZE,))


def _sqlite_empty(conn: sqlite3.Connection) -> bool:
    return not any(
        conn.execute(f"SELECT EXISTS (SELECT 1 FROM {table})").fetchone()[0]
        for table in PAPER_TABLES
    )


_FTS_CONTENT = re.compile(r"content\s*=\s*['\"]?(\w+)", re.IGNORECASE)


def sqlite_drop_for_bulk(conn: sqlite3.Connection) -> tuple[list[str], list[str], list[str]]:
    """Drop the import tables' secondary indexes, and the triggers that feed an external-content
    FTS5 index of them (rebuilt instead); their CREATE statements and the FTS tables."""
    marks = ", ".join("?" * len(IMPORT_TABLES))
    # An FTS5 table's content is an import table, or a view of them (paper_fts_content).
    views = {
        name
        for name, sql in conn.execute("SELECT name, sql FROM sqlite_master WHERE type = 'view'")
        if any(re.search(rf"\b{table}\b", sql) for table in IMPORT_TABLES)
    }
    fts_tables = [
        name
        for name, sql in conn.execute(
            "SELECT name, sql FROM sqlite_master WHERE type = 'table' AND sql LIKE '%fts5%'"
        )
        if (match := _FTS_CONTENT.search(sql)) and match.group(1) in {*IMPORT_TABLES, *views}
    ]
    indexes: list[str] = []
    triggers: list[str] = []
    rows = conn.execute(
        "SELECT type, name, sql FROM sqlite_master WHERE type IN ('index', 'trigger') "
        f"AND tbl_name IN ({marks}) AND sql IS NOT NULL",
        IMPORT_TABLES,
    ).fetchall()
    for kind, name, sql in rows:
        if kind == "trigger" and not any(fts in sql for fts in fts_tables):
            continue  # kept: the bulk path could not replay what it does
        (indexes if kind == "index" else triggers).append(sql)
        conn.execute(f'DROP {kind.upper()} "{name}"')
    return indexes, triggers, fts_tables
