"""The PostgreSQL writer: COPY into the tables (new papers) and into temporary staging tables
(upserts, authors); the bulk path drops and rebuilds indexes and foreign keys."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Sequence
from typing import Any

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


_PG_STAGING = (
    "CREATE TEMP TABLE IF NOT EXISTS hp_stage_paper ("
    " id text, latest_version integer, title text, abstract text, primary_category text,"
    " comment text, journal_ref text, doi text, submitted timestamptz, updated timestamptz"
    ") ON COMMIT DELETE ROWS",
    "CREATE TEMP TABLE IF NOT EXISTS hp_stage_version ("
    " paper_id text, version integer, created timestamptz) ON COMMIT DELETE ROWS",
    "CREATE TEMP TABLE IF NOT EXISTS hp_stage_author ("
    " name text, folded_name text, folded_last text, folded_surname text)"
    " ON COMMIT DELETE ROWS",
)


_PG_STAGING_TABLES = ("hp_stage_paper", "hp_stage_version", "hp_stage_author")


def pg_drop_for_bulk(cursor: Any) -> tuple[list[str], list[tuple[str, str, str]]]:
    """Drop the import tables' foreign keys and the indexes no constraint owns (primary keys
    stay: ON CONFLICT and the per-batch lookups use them); what it takes to rebuild them."""
    tables = "(SELECT to_regclass(t) FROM unnest(%s::text[]) t)"
    cursor.execute(
        "SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid) FROM pg_constraint"
        f" WHERE contype = 'f' AND conrelid IN {tables} ORDER BY 1, 2",
        (list(IMPORT_TABLES),),
    )
    constraints = [tuple(row) for row in cursor.fetchall()]
    cursor.execute(
        "SELECT indexrelid::regclass::text, pg_get_indexdef(indexrelid) FROM pg_index i"
        f" WHERE indrelid IN {tables}"
        " AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid)"
        " ORDER BY 1",
        (list(IMPORT_TABLES),),
    )
    indexes = cursor.fetchall()
    for table, name, _definition in constraints:
        cursor.execute(f'ALTER TABLE {table} DROP CONSTRAINT "{name}"')
    for name, _sql in indexes:
        cursor.execute(f"DROP INDEX {name}")
    return [sql for _name, sql in indexes], constraints


def _pg_truncate_for_freeze(cursor: Any) -> set[str]:
    """TRUNCATE the (empty) link tables no other table references, so that COPY ... FREEZE
    may load them: rows written frozen and pages marked all-visible, as VACUUM would leave
    them (index-only scans need that; else they read the table until autovacuum has run)."""
    links = ("paper_version", "paper_author", "paper_category", "announcement")
    cursor.execute(
        "SELECT DISTINCT confrelid::regclass::text FROM pg_constraint WHERE contype = 'f'"
        " AND confrelid::regclass::text = ANY(%s) AND conrelid::regclass::text <> ALL(%s)",
        (list(links), list(IMPORT_TABLES)),
    )
    referenced = {row[0] for row in cursor.fetchall()}
    frozen = {table for table in links if table not in referenced}
    if frozen:
        cursor.execute(f"TRUNCATE {', '.join(sorted(frozen))}")
    return frozen


class PostgresWriter(Writer):
    _rebuilt: tuple[list[str], list[tuple[str, str, str]]]  # indexes, foreign keys
    _frozen: frozenset[str] = frozenset()  # tables COPY may load with FREEZE (bulk path)

    def __init__(self, engine: Engine) -> None:
        super().__init__()
        self._proxy = engine.raw_connection()
        self._conn = self._proxy.driver_connection
        self._upsert_paper = upsert_sql(
            f"SELECT {', '.join(PAPER_COLUMNS)} FROM hp_stage_paper", "IS DISTINCT FROM"
        )

    def close(self) -> None:
        with contextlib.suppress(Exception):  # the error that got us here matters more
            self._conn.rollback()  # a failed bulk import: nothing of it stays
        self._proxy.close()

    def begin_bulk(self) -> bool:
        conn = self._conn
        try:
            with conn.cursor() as cursor:
                # Taken before looking, so the tables cannot fill up between look and load.
                cursor.execute(f"LOCK TABLE {', '.join(IMPORT_TABLES)} IN ACCESS EXCLUSIVE MODE")
                exists = " OR ".join(f"EXISTS (SELECT 1 FROM {t})" for t in PAPER_TABLES)
                cursor.execute(f"SELECT {exists}")
                if cursor.fetchone()[0]:
                    conn.rollback()
                    return False
                self._rebuilt = pg_drop_for_bulk(cursor)
                self._frozen = frozenset(_pg_truncate_for_freeze(cursor))
                cursor.execute("SET LOCAL synchronous_commit = off")
        except BaseException:
            conn.rollback()
            raise
        self._bulk = True
        return True

    def _rebuild(self) -> None:
        indexes, constraints = self._rebuilt
        with self._conn.cursor() as cursor:
            cursor.execute("SET LOCAL maintenance_work_mem = '256MB'")
            with timed("indexes built"):
                for sql in indexes:
                    cursor.execute(sql)
            with timed("foreign keys added and checked"):
                for table, name, definition in constraints:  # one join per foreign key
                    cursor.execute(f'ALTER TABLE {table} ADD CONSTRAINT "{name}" {definition}')
        with timed("committed"):
            self._conn.commit()
        self._bulk = False

    def finish(self) -> None:
        """Fresh statistics: right after a bulk import the planner misjudges the new rows."""
        if self._bulk:
            self._rebuild()
        with self._conn.cursor() as cursor:
            for table in ("paper", "paper_version", "author", "paper_author", "paper_category"):
                cursor.execute(f"ANALYZE {table}")
        self._conn.commit()

    def _copy(self, cursor: Any, table: str, columns: str, rows: Sequence[Sequence[Any]]) -> None:
        if not rows:
            return
        freeze = " WITH (FREEZE)" if self._bulk and table in self._frozen else ""
        with cursor.copy(f"COPY {table} ({columns}) FROM STDIN{freeze}") as copy:
            for row in rows:
                copy.write_row(row)

    def write(self, batch: Sequence[Rec]) -> tuple[int, int, int]:
        records = dedupe(batch)
        conn = self._conn
        try:
            with conn.cursor() as cursor:
                # A crash may lose the last commits (never corrupts): re-running the import
                # writes them again.
                if not self._bulk:
                    cursor.execute("SET LOCAL synchronous_commit = off")
                for statement in _PG_STAGING:
                    cursor.execute(statement)
                cursor.execute(
                    "SELECT id, latest_version FROM paper WHERE id = ANY(%s)",
                    ([r[0] for r in records],),
                )
                plan = plan_batch(records, dict(cursor.fetchall()))
                author_rows = self._write_rows(cursor, records, plan)
                if self._bulk:  # ON COMMIT DELETE ROWS does not fire until the end
                    cursor.execute(f"TRUNCATE {', '.join(_PG_STAGING_TABLES)}")
            if not self._bulk:
                conn.commit()
        except BaseException:
            conn.rollback()
            raise
        self.authors.remember([row[0] for row in author_rows])
        return len(plan.new), len(plan.current), len(plan.stale)

    def _write_rows(self, cursor: Any, records: list[Rec], plan: Plan) -> list[AuthorRow]:
        """The batch's statements, in the open transaction; the author rows inserted."""
        paper_columns = ", ".join(PAPER_COLUMNS)
        written = plan.written
        author_rows, _known = self._author_rows(written)  # foreign keys check these
        authors, categories = list_values(written)
        self._copy(cursor, "paper", paper_columns, [r[2] for r in plan.new])
        if plan.current:
            self._copy(cursor, "hp_stage_paper", paper_columns, [r[2] for r in plan.current])
            cursor.execute(self._upsert_paper)
            ids = [r[0] for r in plan.current]
            cursor.execute("DELETE FROM paper_author WHERE paper_id = ANY(%s)", (ids,))
            cursor.execute("DELETE FROM paper_category WHERE paper_id = ANY(%s)", (ids,))
        self._write_versions(cursor, version_values(records), {r[0] for r in plan.new})
        self._write_announcements(cursor, plan)
        if author_rows:
            self._copy(cursor, "hp_stage_author", AUTHOR_COLUMNS, author_rows)
            cursor.execute(
                f"INSERT INTO author ({AUTHOR_COLUMNS}) "
                f"SELECT {AUTHOR_COLUMNS} FROM hp_stage_author ON CONFLICT DO NOTHING"
            )
        self._copy(cursor, "paper_author", "paper_id, position, author_name, submitted", authors)
        self._copy(cursor, "paper_category", "paper_id, position, category, submitted", categories)
        return author_rows

    def _write_announcements(self, cursor: Any, plan: Plan) -> None:
        """A new paper's first listing; an existing one's only if it has no announcement
        (collected papers have theirs: never a second set)."""
        self._copy(cursor, "announcement", ANNOUNCEMENT_COLUMNS, announcement_values(plan.new))
        stored = plan.current + plan.stale
        if not stored:
            return
        cursor.execute(
            "SELECT DISTINCT paper_id FROM announcement WHERE paper_id = ANY(%s)",
            ([r[0] for r in stored],),
        )
        announced = {row[0] for row in cursor.fetchall()}
        rows = announcement_values([r for r in stored if r[0] not in announced])
        if rows:
            cursor.executemany(
                f"INSERT INTO announcement ({ANNOUNCEMENT_COLUMNS}) VALUES (%s, %s, %s, %s, %s)"
                " ON CONFLICT DO NOTHING",
                rows,
            )

    def _write_versions(self, cursor: Any, versions: list[Any], new_ids: set[str]) -> None:
        """New papers have no versions yet (COPY); the others' go through ON CONFLICT."""
        columns = "paper_id, version, created"
        self._copy(cursor, "paper_version", columns, [v for v in versions if v[0] in new_ids])
        old_versions = [v for v in versions if v[0] not in new_ids]
        if old_versions:
            self._copy(cursor, "hp_stage_version", columns, old_versions)
            cursor.execute(
                f"INSERT INTO paper_version ({columns}) "
                f"SELECT {columns} FROM hp_stage_version ON CONFLICT DO NOTHING"
            )
