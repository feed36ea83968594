"""Streamed bulk import of the Kaggle arXiv metadata snapshot (JSON Lines, optionally .gz).

The file is read line by line and written in batches. Lines that are not usable records are
logged with their line number and skipped. Two paths, chosen when the import starts:

* **bulk** (the first import of a new deployment: `paper`, `paper_version`, `paper_author` and
  `paper_category` are empty): the whole import is **one transaction**. Inside it, the
  secondary indexes of the five import tables (and, on PostgreSQL, the foreign keys of
  `paper_version`, `paper_author`, `paper_category`) are dropped, the rows loaded, then the
  indexes built once (sorted builds, much cheaper than per-row b-tree inserts) and the foreign
  keys added back (one set-based check of every row). SQLite: the triggers that keep an
  external-content FTS5 index of these tables current are dropped too and the index is
  rebuilt at the end, and, when no other connection has the file open, the load runs with a
  rollback journal instead of WAL (`_sqlite_leave_wal`). DDL is transactional on both
  databases, so a failure at any point leaves the database exactly as before (the tables
  empty, indexes and constraints in place); other sessions never see the tables without them.
  The import holds the write lock (SQLite) or ACCESS EXCLUSIVE locks on the five tables
  (PostgreSQL) until it commits.
* **incremental** (otherwise, or `bulk=False`): one transaction per batch; a batch that fails
  leaves the database as it was before that batch (earlier batches stay).

The rows written are the ones `store.upsert_papers` would write, by a faster path:

* every paper of a batch is looked up once (`id`, `latest_version`), which splits the batch into
  new papers (plain inserts), papers this record is current for (`version >= latest_version`:
  upsert, then the author and category lists are rewritten) and stale records (only their
  versions are added);
* the file is parsed ahead of the writer, into plain row tuples: in a child process for big
  files (parsing and writing then use two CPUs), else in a thread;
* SQLite: `executemany` on the raw DBAPI connection, a bigger page cache during the import,
  foreign-key enforcement off for the import connection with the batch's references checked
  before each commit instead (see `_SqliteWriter._check_references`);
* PostgreSQL: psycopg 3 `COPY` straight into the tables for new papers, and into temporary
  staging tables followed by `INSERT ... SELECT ... ON CONFLICT` for upserts and authors;
  `ANALYZE` at the end.

Re-importing the same file changes no row (updates only fire when a value differs).
"""

from __future__ import annotations

import contextlib
import gc
import gzip
import logging
import os
import pickle
import queue
import re
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import IO, Any

from sqlalchemy import Engine

from hotpapers import failpoints
from hotpapers.arxiv.snapshot import parse_snapshot_line
from hotpapers.db import is_postgres
from hotpapers.errors import DatabaseError
from hotpapers.names import name_keys
from hotpapers.records import PaperRecord

__all__ = ["ImportProgress", "ImportReport", "import_snapshot"]

# The tables the importer writes; the bulk path needs the first four empty.
_TABLES = ("paper", "paper_version", "author", "paper_author", "paper_category")
_PAPER_TABLES = ("paper", "paper_version", "paper_author", "paper_category")

log = logging.getLogger(__name__)

_MAX_SKIPPED_LINES = 100  # line numbers kept in the report (all are logged)
_AUTHOR_CACHE_SIZE = 300_000  # names remembered between batches (folds, known to exist)
# Files at least this big are parsed in a separate process (2 CPUs: parse and write overlap;
# a thread cannot, both halves need the GIL). Smaller ones in a thread (no process start-up).
_PROCESS_MIN_BYTES = 32 * 1024 * 1024

_PAPER_COLUMNS = (
    "id",
    "latest_version",
    "title",
    "abstract",
    "primary_category",
    "comment",
    "journal_ref",
    "doi",
    "submitted",
    "updated",
)

_AUTHOR_COLUMNS = "name, folded_name, folded_last, folded_surname"
_Keys = tuple[str, str, str]  # an author's search keys (folded_name, folded_last, folded_surname)
_AuthorRow = tuple[str, str, str, str]  # the name, then its keys


@dataclass(frozen=True, slots=True)
class ImportProgress:
    """Where the import is, after a written batch (committed, unless on the bulk path)."""

    read: int  # non-blank lines read
    imported: int  # records written (committed)
    skipped: int  # malformed lines
    batches: int
    bytes_read: int  # position in the file as stored (compressed for .gz)
    total_bytes: int
    elapsed: float  # seconds


@dataclass(frozen=True, slots=True)
class ImportReport:
    read: int
    imported: int
    skipped: int
    batches: int
    new: int  # papers that were not in the database
    updated: int  # existing papers this snapshot had a current record for
    stale: int  # records older than the stored paper (only versions added)
    elapsed: float
    skipped_lines: tuple[int, ...] = ()  # the first line numbers skipped
    bulk: bool = False  # written by the bulk path (one transaction), see the module docstring

    @property
    def papers_per_second(self) -> float:
        return self.imported / self.elapsed if self.elapsed > 0 else 0.0


def import_snapshot(
    engine: Engine,
    path: Path,
    *,
    batch_size: int = 5000,
    on_progress: Callable[[ImportProgress], None] | None = None,
    parse_in_process: bool | None = None,
    bulk: bool = True,
) -> ImportReport:
    """Import `path` (JSON Lines, `.gz` ok) into `engine`'s database; see the module docstring.

    `parse_in_process`: parse in a child process (default: for files of 32 MB and more).
    `bulk`: take the bulk path when the paper tables are empty (False: always incremental).
    Raises DatabaseError if a batch cannot be written: on the incremental path that batch is
    rolled back and the earlier ones stay committed; on the bulk path nothing is kept.
    """
    if batch_size < 1:
        raise ValueError("batch_size must be at least 1")
    started = time.monotonic()
    total_bytes = path.stat().st_size
    if parse_in_process is None:
        parse_in_process = total_bytes >= _PROCESS_MIN_BYTES
    postgres = is_postgres(engine)
    reader_type = _ProcessReader if parse_in_process else _Reader
    reader = reader_type(path, batch_size, aware=postgres)
    writer: _Writer = _PostgresWriter(engine) if postgres else _SqliteWriter(engine)
    with _no_cycle_collection():
        return _run_import(reader, writer, bulk, on_progress, started, total_bytes)


def _run_import(
    reader: _Reader,
    writer: _Writer,
    bulk: bool,
    on_progress: Callable[[ImportProgress], None] | None,
    started: float,
    total_bytes: int,
) -> ImportReport:
    imported = batches = 0
    counts = [0, 0, 0]  # new, updated, stale
    try:
        in_bulk = bulk and writer.begin_bulk()
        if in_bulk:
            log.info("import into empty tables: bulk path, one transaction")
        reader.start()
        for batch in reader.batches():
            if batch.folds:
                writer.authors.learn(batch.folds)
            if batch.records:
                try:
                    new, current, stale = writer.write(batch.records)
                except Exception as exc:
                    first = batch.records[0][0]
                    log.error("import batch %d (from %s) rolled back", batches + 1, first)
                    kept = (
                        "the whole import was rolled back, nothing was kept"
                        if in_bulk
                        else f"{imported} papers of earlier batches were kept"
                    )
                    raise DatabaseError(
                        f"import batch {batches + 1} (from paper {first}) failed and was rolled "
                        f"back; {kept}: {_first_line(exc)}"
                    ) from exc
                counts[0] += new
                counts[1] += current
                counts[2] += stale
                imported += len(batch.records)
                batches += 1
                failpoints.reach("import.after_batch")
            if on_progress is not None:
                on_progress(
                    ImportProgress(
                        read=batch.read,
                        imported=imported,
                        skipped=batch.skipped,
                        batches=batches,
                        bytes_read=batch.position,
                        total_bytes=total_bytes,
                        elapsed=time.monotonic() - started,
                    )
                )
        _finish(writer, in_bulk)
    finally:
        reader.stop()
        writer.close()
    return ImportReport(
        read=reader.read,
        imported=imported,
        skipped=reader.skipped,
        batches=batches,
        new=counts[0],
        updated=counts[1],
        stale=counts[2],
        elapsed=time.monotonic() - started,
        skipped_lines=tuple(reader.skipped_lines),
        bulk=in_bulk,
    )


@contextlib.contextmanager
def _no_cycle_collection() -> Iterator[None]:
    """The cycle collector off for the import (then back as it was). An import makes millions
    of short-lived tuples and strings, which reference counting frees, and keeps caches of
    300,000 names that each full collection would walk again: the collector costs ~18 % of
    the parser's CPU and finds nothing, the rows being acyclic."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


@contextlib.contextmanager
def _timed(what: str) -> Iterator[None]:
    started = time.monotonic()
    yield
    log.info("import: %s in %.1f s", what, time.monotonic() - started)


def _finish(writer: _Writer, in_bulk: bool) -> None:
    started = time.monotonic()
    try:
        writer.finish()
        log.info("import finished (indexes, statistics) in %.1f s", time.monotonic() - started)
    except Exception as exc:
        if not in_bulk:
            raise
        log.error("import: building indexes / constraints failed, whole import rolled back")
        raise DatabaseError(
            "the import could not be completed (indexes and constraints after the bulk load) "
            f"and was rolled back, nothing was kept: {_first_line(exc)}"
        ) from exc


# One parsed record, as the writers need it (plain tuples: cheap to pass between processes):
# (id, version, paper row, version rows, author names, submitted, categories primary first).
_Rec = tuple[
    str,
    int,
    tuple[Any, ...],
    list[tuple[Any, ...]],
    tuple[str, ...],
    "str | None",
    tuple[str, ...],
]


@dataclass(frozen=True, slots=True)
class _Batch:
    records: list[_Rec]
    read: int  # totals so far
    skipped: int
    position: int
    skips: list[tuple[int, str]]  # (line number, reason) of the lines skipped in this batch
    # Search keys of names not sent in an earlier batch (the parser process folds them).
    folds: dict[str, _Keys] | None = None


_DONE = "done"


def _stamp(moment: datetime | None, aware: bool = False) -> str | None:
    """UTC wall time as text. Without an offset (`aware` False) it is what SQLAlchemy's SQLite
    DateTime stores; PostgreSQL needs the offset (`aware`): its `timestamp with time zone`
    columns read text without one in the session's time zone, which need not be UTC."""
    if moment is None:
        return None
    text = moment.replace(tzinfo=None).isoformat(" ", "microseconds")
    return text + "+00:00" if aware else text


def _ordered_categories(record: PaperRecord) -> list[str]:
    ordered = list(dict.fromkeys(record.categories))
    primary = record.primary_category
    if primary:
        ordered = [primary, *(c for c in ordered if c != primary)]
    return ordered


def _to_rec(record: PaperRecord, aware: bool = False) -> _Rec:
    """The rows store.upsert_papers writes for `record` (see test_same_rows_as_upsert_papers);
    `aware`: times with their UTC offset (PostgreSQL, see `_stamp`)."""
    submitted = _stamp(record.submitted, aware)
    paper = (
        record.arxiv_id,
        record.version,
        record.title,
        record.abstract,
        record.primary_category or record.categories[0],
        record.comment,
        record.journal_ref,
        record.doi,
        submitted,
        _stamp(record.updated, aware) if record.updated else submitted,
    )
    versions = []
    known = False
    for version in record.versions:
        versions.append((record.arxiv_id, version.version, _stamp(version.created, aware)))
        known = known or version.version == record.version
    if not known:
        created = record.updated if record.version > 1 else record.submitted
        versions.append((record.arxiv_id, record.version, _stamp(created, aware)))
    return (
        record.arxiv_id,
        record.version,
        paper,
        versions,
        record.authors,
        submitted,
        tuple(_ordered_categories(record)),
    )


def _parse_batches(
    path: Path,
    batch_size: int,
    stopping: Callable[[], bool],
    fold_names: bool = False,
    aware: bool = False,
) -> Iterator[_Batch]:
    """The file's records in batches (a last batch with only skips if lines were skipped).

    `fold_names`: each batch carries the folded keys of the names first seen in it.
    `aware`: times with their UTC offset (see `_stamp`)."""
    read = skipped = 0
    sent: set[str] = set()

    def folds(records: list[_Rec]) -> dict[str, _Keys] | None:
        if not fold_names:
            return None
        if len(sent) > _AUTHOR_CACHE_SIZE:
            sent.clear()
        found = {}
        for record in records:
            for name in record[4]:
                if name not in sent:
                    sent.add(name)
                    found[name] = _fold_keys(name)
        return found

    with _open_lines(path) as (lines, position):
        records: list[_Rec] = []
        skips: list[tuple[int, str]] = []
        for number, line in enumerate(lines, 1):
            if not line.strip():
                continue
            read += 1
            try:
                records.append(_to_rec(parse_snapshot_line(line), aware))
            except ValueError as exc:
                skipped += 1
                skips.append((number, str(exc)))
                continue
            if len(records) >= batch_size:
                if stopping():
                    return
                yield _Batch(records, read, skipped, position(), skips, folds(records))
                records, skips = [], []
        if records or skipped:
            yield _Batch(records, read, skipped, position(), skips, folds(records))


class _Reader:
    """Reads and parses the file in a thread, a bounded queue of batches ahead of the writer."""

    def __init__(self, path: Path, batch_size: int, aware: bool = False) -> None:
        self.path = path
        self.batch_size = batch_size
        self.aware = aware  # times with their UTC offset (see `_stamp`)
        self.read = 0
        self.skipped = 0
        self.skipped_lines: list[int] = []
        self._queue: queue.Queue[object] = queue.Queue(maxsize=2)
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._run, name="snapshot-reader", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stopping.set()
        with contextlib.suppress(queue.Empty):
            while True:
                self._queue.get_nowait()
        self._thread.join()

    def _get(self) -> object:
        return self._queue.get()

    def batches(self) -> Iterator[_Batch]:
        while True:
            item = self._get()
            if isinstance(item, str) and item == _DONE:
                return
            if isinstance(item, BaseException):
                raise item
            assert isinstance(item, _Batch)
            self.read, self.skipped = item.read, item.skipped
            for number, reason in item.skips:
                if len(self.skipped_lines) < _MAX_SKIPPED_LINES:
                    self.skipped_lines.append(number)
                log.warning("%s line %d skipped: %s", self.path.name, number, reason)
            yield item

    def _put(self, item: object) -> bool:
        while not self._stopping.is_set():
            try:
                self._queue.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def _run(self) -> None:
        try:
            batches = _parse_batches(
                self.path, self.batch_size, self._stopping.is_set, aware=self.aware
            )
            for batch in batches:
                if not self._put(batch):
                    return
        except BaseException as exc:  # handed to the importing thread
            self._put(exc)
            return
        self._put(_DONE)


def _child_main() -> None:
    """The parser process: `path batch_size aware` in argv; pickled batches, then _DONE or
    the error, on stdout (anything printed goes to stderr instead)."""
    out = os.fdopen(os.dup(1), "wb", buffering=1 << 20)
    sys.stdout = sys.stderr
    gc.disable()  # see _no_cycle_collection: nothing here makes cycles, and this process ends
    path, batch_size, aware = Path(sys.argv[1]), int(sys.argv[2]), sys.argv[3] == "aware"
    try:
        _send_batches(out, path, batch_size, aware)
        out.close()
    except BrokenPipeError:  # the importing process is gone (killed): no one to tell
        os._exit(1)


def _send_batches(out: IO[bytes], path: Path, batch_size: int, aware: bool) -> None:
    try:
        for batch in _parse_batches(path, batch_size, lambda: False, True, aware):
            pickle.dump(batch, out, protocol=pickle.HIGHEST_PROTOCOL)
            out.flush()
        pickle.dump(_DONE, out)
    except BrokenPipeError:
        raise
    except Exception as exc:
        try:
            pickle.dump(exc, out)
        except Exception:  # not picklable
            pickle.dump(RuntimeError(f"{exc.__class__.__name__}: {exc}"), out)


class _ProcessReader(_Reader):
    """Parses in a child process, so parsing and writing overlap on two CPUs (in a thread they
    cannot: both halves hold the GIL). A fresh interpreter (`python -c`, not fork: nothing of
    this process is inherited, no lock another thread held; not multiprocessing: no re-import
    of `__main__`) sends pickled batches through a pipe; a thread here unpickles them into the
    bounded queue. The child logs nothing: skips come with the batches and are logged here."""

    def __init__(self, path: Path, batch_size: int, aware: bool = False) -> None:
        super().__init__(path, batch_size, aware)
        self._process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(p for p in sys.path if p)
        self._process = subprocess.Popen(
            [
                sys.executable,
                "-c",
                "from hotpapers.importer import _child_main; _child_main()",
                str(self.path),
                str(self.batch_size),
                "aware" if self.aware else "naive",
            ],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            env=env,
        )
        super().start()

    def _run(self) -> None:
        assert self._process is not None and self._process.stdout is not None
        pipe = self._process.stdout
        try:
            while not self._stopping.is_set():
                try:
                    item = pickle.load(pipe)
                except EOFError:
                    code = self._process.wait()
                    item = RuntimeError(f"snapshot parser process ended early (exit code {code})")
                if not self._put(item) or not isinstance(item, _Batch):
                    return
        except BaseException as exc:
            self._put(exc)

    def stop(self) -> None:
        self._stopping.set()
        if self._process is not None:
            if self._process.poll() is None:
                self._process.kill()
            self._process.wait()
        super().stop()
        if self._process is not None and self._process.stdout is not None:
            self._process.stdout.close()


class _open_lines:
    """Binary lines of a plain or gzip file, with the position in the file as stored."""

    def __init__(self, path: Path) -> None:
        self._raw: IO[bytes] = path.open("rb", buffering=1 << 20)
        self._stream: IO[bytes] = self._raw
        if path.suffix == ".gz":
            self._stream = gzip.GzipFile(fileobj=self._raw, mode="rb")  # type: ignore[assignment]

    def __enter__(self) -> tuple[Iterator[bytes], Callable[[], int]]:
        return iter(self._stream), self._raw.tell

    def __exit__(self, *_exc: object) -> None:
        if self._stream is not self._raw:
            self._stream.close()
        self._raw.close()


def _first_line(exc: BaseException) -> str:
    orig = getattr(exc, "orig", None) or exc
    text = str(orig).strip()
    return text.splitlines()[0] if text else exc.__class__.__name__


# --- shared batch preparation -------------------------------------------------------------


def _fold_keys(name: str) -> _Keys:
    """The search keys of `name`: names.name_keys, the rule collection uses too (its fields
    are in the order of _AUTHOR_COLUMNS after the name)."""
    return name_keys(name)


class _Authors:
    """Folded search keys per name, and names known to be stored (both bounded)."""

    def __init__(self) -> None:
        self.folds: dict[str, _Keys] = {}
        self.known: set[str] = set()

    def row(self, name: str) -> _AuthorRow:
        keys = self.folds.get(name)
        if keys is None:
            if len(self.folds) >= _AUTHOR_CACHE_SIZE:
                self.folds.clear()
            keys = self.folds[name] = _fold_keys(name)
        return name, *keys

    def learn(self, folds: dict[str, _Keys]) -> None:
        """Keys folded elsewhere (by the parser process, with _fold_keys)."""
        if len(self.folds) + len(folds) > _AUTHOR_CACHE_SIZE:
            self.folds.clear()
        self.folds.update(folds)

    def remember(self, names: Sequence[str]) -> None:
        """After a commit: these names are stored."""
        if len(self.known) + len(names) > _AUTHOR_CACHE_SIZE:
            self.known.clear()
        self.known.update(names)


@dataclass(slots=True)
class _Plan:
    """One batch split by what the database already has."""

    new: list[_Rec]
    current: list[_Rec]  # existing papers with version >= the stored one
    stale: list[_Rec]

    @property
    def written(self) -> list[_Rec]:
        """Records whose paper, authors and categories are (re)written."""
        return self.new + self.current


def _dedupe(batch: Sequence[_Rec]) -> list[_Rec]:
    """One record per paper: the highest version (the later line on a tie)."""
    by_id: dict[str, _Rec] = {}
    for record in batch:
        seen = by_id.get(record[0])
        if seen is None or record[1] >= seen[1]:
            by_id[record[0]] = record
    return list(by_id.values())


def _plan(records: list[_Rec], stored: dict[str, int]) -> _Plan:
    plan = _Plan([], [], [])
    for record in records:
        latest = stored.get(record[0])
        if latest is None:
            plan.new.append(record)
        elif record[1] >= latest:
            plan.current.append(record)
        else:
            plan.stale.append(record)
    return plan


def _version_values(records: Sequence[_Rec]) -> list[tuple[Any, ...]]:
    return [row for record in records for row in record[3]]


def _list_values(
    records: Sequence[_Rec],
) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]:
    authors = []
    categories = []
    for arxiv_id, _, _, _, names, submitted, cats in records:
        authors += [(arxiv_id, position, name, submitted) for position, name in enumerate(names)]
        categories += [
            (arxiv_id, position, category, submitted) for position, category in enumerate(cats)
        ]
    return authors, categories


def _upsert_sql(source: str, distinct: str) -> str:
    """INSERT paper rows from `source`; on conflict update what differs, if not older."""
    columns = ", ".join(_PAPER_COLUMNS)
    updates = ", ".join(f"{c} = COALESCE(excluded.{c}, paper.{c})" for c in _PAPER_COLUMNS[1:])
    differs = " OR ".join(
        f"COALESCE(excluded.{c}, paper.{c}) {distinct} paper.{c}" for c in _PAPER_COLUMNS[1:]
    )
    return (
        f"INSERT INTO paper ({columns}) {source} "
        f"ON CONFLICT (id) DO UPDATE SET {updates} "
        f"WHERE excluded.latest_version >= paper.latest_version AND ({differs})"
    )


class _Writer:
    _conn: Any  # the DBAPI connection (sqlite3 / psycopg)

    def __init__(self) -> None:
        self.authors = _Authors()
        self._bulk = False

    def begin_bulk(self) -> bool:
        """If the paper tables are empty: open the import's one transaction, drop what is
        rebuilt at the end, and return True. Otherwise change nothing and return False."""
        raise NotImplementedError

    def write(self, batch: Sequence[_Rec]) -> tuple[int, int, int]:
        """Write one batch (in one transaction, unless bulk); (new, current, stale) counts."""
        raise NotImplementedError

    def finish(self) -> None:
        """After the last batch (not called when the import fails); on the bulk path this
        rebuilds what begin_bulk dropped and commits."""

    def close(self) -> None:
        raise NotImplementedError

    def _author_rows(self, records: Sequence[_Rec]) -> tuple[list[_AuthorRow], list[str]]:
        """Rows for the names not known to be stored, and the names known (not inserted)."""
        known = self.authors.known
        names = dict.fromkeys(n for r in records for n in r[4])
        rows = [self.authors.row(name) for name in names if name not in known]
        return rows, [name for name in names if name in known]


# --- SQLite --------------------------------------------------------------------------------


class _SqliteWriter(_Writer):
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
            f"INSERT INTO paper ({', '.join(_PAPER_COLUMNS)}) "
            f"VALUES ({', '.join('?' * len(_PAPER_COLUMNS))})"
        )
        self._upsert_paper = _upsert_sql(
            f"VALUES ({', '.join('?' * len(_PAPER_COLUMNS))})", "IS NOT"
        )

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
            self._rebuilt = _sqlite_drop_for_bulk(conn)
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
        self.authors = _Authors()
        conn.execute(f"PRAGMA cache_size = -{self._CACHE_KIB // 2}")
        with _timed("indexes built"):
            for sql in indexes:
                conn.execute(sql)
        with _timed("full-text index rebuilt"):
            for fts in fts_tables:  # read every row of its content table once
                _sqlite_fts_rebuild(conn, fts)
            for sql in triggers:
                conn.execute(sql)
        with _timed("committed"):
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

    def write(self, batch: Sequence[_Rec]) -> tuple[int, int, int]:
        records = _dedupe(batch)
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

    def _write_rows(self, records: list[_Rec]) -> tuple[_Plan, list[_AuthorRow], list[str]]:
        """The batch's statements, in the open transaction; (plan, author rows, known names)."""
        conn = self._conn
        plan = _plan(records, self._stored([r[0] for r in records]))
        written = plan.written
        author_rows, known = self._author_rows(written)
        versions = _version_values(records)
        authors, categories = _list_values(written)
        conn.executemany(self._insert_paper, [r[2] for r in plan.new])
        conn.executemany(self._upsert_paper, [r[2] for r in plan.current])
        conn.executemany(
            "INSERT INTO paper_version (paper_id, version, created) VALUES (?, ?, ?) "
            "ON CONFLICT DO NOTHING",
            versions,
        )
        conn.executemany(
            f"INSERT INTO author ({_AUTHOR_COLUMNS}) VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING",
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


def _sqlite_fts_rebuild(conn: sqlite3.Connection, fts: str) -> None:
    """Rebuild an external-content FTS5 index from its content table."""
    configure = f'INSERT INTO "{fts}" ("{fts}", rank) VALUES (\'hashsize\', ?)'
    conn.execute(configure, (_FTS_REBUILD_HASHSIZE,))
    conn.execute(f'INSERT INTO "{fts}" ("{fts}") VALUES (\'rebuild\')')
    conn.execute(configure, (_FTS_DEFAULT_HASHSIZE,))


def _sqlite_empty(conn: sqlite3.Connection) -> bool:
    return not any(
        conn.execute(f"SELECT EXISTS (SELECT 1 FROM {table})").fetchone()[0]
        for table in _PAPER_TABLES
    )


_FTS_CONTENT = re.compile(r"content\s*=\s*['\"]?(\w+)", re.IGNORECASE)


def _sqlite_drop_for_bulk(conn: sqlite3.Connection) -> tuple[list[str], list[str], list[str]]:
    """Drop the import tables' secondary indexes, and the triggers that feed an external-content
    FTS5 index of them (rebuilt instead); their CREATE statements and the FTS tables."""
    marks = ", ".join("?" * len(_TABLES))
    fts_tables = [
        name
        for name, sql in conn.execute(
            "SELECT name, sql FROM sqlite_master WHERE type = 'table' AND sql LIKE '%fts5%'"
        )
        if (match := _FTS_CONTENT.search(sql)) and match.group(1) in _TABLES
    ]
    indexes: list[str] = []
    triggers: list[str] = []
    rows = conn.execute(
        "SELECT type, name, sql FROM sqlite_master WHERE type IN ('index', 'trigger') "
        f"AND tbl_name IN ({marks}) AND sql IS NOT NULL",
        _TABLES,
    ).fetchall()
    for kind, name, sql in rows:
        if kind == "trigger" and not any(fts in sql for fts in fts_tables):
            continue  # kept: the bulk path could not replay what it does
        (indexes if kind == "index" else triggers).append(sql)
        conn.execute(f'DROP {kind.upper()} "{name}"')
    return indexes, triggers, fts_tables


# --- PostgreSQL ----------------------------------------------------------------------------

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


def _pg_drop_for_bulk(cursor: Any) -> tuple[list[str], list[tuple[str, str, str]]]:
    """Drop the import tables' foreign keys and the indexes no constraint owns (primary keys
    stay: ON CONFLICT and the per-batch lookups use them); what it takes to rebuild them."""
    tables = "(SELECT to_regclass(t) FROM unnest(%s::text[]) t)"
    cursor.execute(
        "SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid) FROM pg_constraint"
        f" WHERE contype = 'f' AND conrelid IN {tables} ORDER BY 1, 2",
        (list(_TABLES),),
    )
    constraints = [tuple(row) for row in cursor.fetchall()]
    cursor.execute(
        "SELECT indexrelid::regclass::text, pg_get_indexdef(indexrelid) FROM pg_index i"
        f" WHERE indrelid IN {tables}"
        " AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid)"
        " ORDER BY 1",
        (list(_TABLES),),
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
    links = ("paper_version", "paper_author", "paper_category")
    cursor.execute(
        "SELECT DISTINCT confrelid::regclass::text FROM pg_constraint WHERE contype = 'f'"
        " AND confrelid::regclass::text = ANY(%s) AND conrelid::regclass::text <> ALL(%s)",
        (list(links), list(_TABLES)),
    )
    referenced = {row[0] for row in cursor.fetchall()}
    frozen = {table for table in links if table not in referenced}
    if frozen:
        cursor.execute(f"TRUNCATE {', '.join(sorted(frozen))}")
    return frozen


class _PostgresWriter(_Writer):
    _rebuilt: tuple[list[str], list[tuple[str, str, str]]]  # indexes, foreign keys
    _frozen: frozenset[str] = frozenset()  # tables COPY may load with FREEZE (bulk path)

    def __init__(self, engine: Engine) -> None:
        super().__init__()
        self._proxy = engine.raw_connection()
        self._conn = self._proxy.driver_connection
        self._upsert_paper = _upsert_sql(
            f"SELECT {', '.join(_PAPER_COLUMNS)} FROM hp_stage_paper", "IS DISTINCT FROM"
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
                cursor.execute(f"LOCK TABLE {', '.join(_TABLES)} IN ACCESS EXCLUSIVE MODE")
                exists = " OR ".join(f"EXISTS (SELECT 1 FROM {t})" for t in _PAPER_TABLES)
                cursor.execute(f"SELECT {exists}")
                if cursor.fetchone()[0]:
                    conn.rollback()
                    return False
                self._rebuilt = _pg_drop_for_bulk(cursor)
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
            with _timed("indexes built"):
                for sql in indexes:
                    cursor.execute(sql)
            with _timed("foreign keys added and checked"):
                for table, name, definition in constraints:  # one join per foreign key
                    cursor.execute(f'ALTER TABLE {table} ADD CONSTRAINT "{name}" {definition}')
        with _timed("committed"):
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

    def write(self, batch: Sequence[_Rec]) -> tuple[int, int, int]:
        records = _dedupe(batch)
        conn = self._conn
        paper_columns = ", ".join(_PAPER_COLUMNS)
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
                plan = _plan(records, dict(cursor.fetchall()))
                written = plan.written
                author_rows, _known = self._author_rows(written)  # foreign keys check these
                authors, categories = _list_values(written)
                new_ids = {r[0] for r in plan.new}
                versions = _version_values(records)

                self._copy(cursor, "paper", paper_columns, [r[2] for r in plan.new])
                if plan.current:
                    self._copy(
                        cursor, "hp_stage_paper", paper_columns, [r[2] for r in plan.current]
                    )
                    cursor.execute(self._upsert_paper)
                    ids = [r[0] for r in plan.current]
                    cursor.execute("DELETE FROM paper_author WHERE paper_id = ANY(%s)", (ids,))
                    cursor.execute("DELETE FROM paper_category WHERE paper_id = ANY(%s)", (ids,))
                # New papers have no versions yet; the others' go through ON CONFLICT.
                self._copy(
                    cursor,
                    "paper_version",
                    "paper_id, version, created",
                    [row for row in versions if row[0] in new_ids],
                )
                old_versions = [row for row in versions if row[0] not in new_ids]
                if old_versions:
                    self._copy(
                        cursor, "hp_stage_version", "paper_id, version, created", old_versions
                    )
                    cursor.execute(
                        "INSERT INTO paper_version (paper_id, version, created) "
                        "SELECT paper_id, version, created FROM hp_stage_version "
                        "ON CONFLICT DO NOTHING"
                    )
                if author_rows:
                    self._copy(cursor, "hp_stage_author", _AUTHOR_COLUMNS, author_rows)
                    cursor.execute(
                        f"INSERT INTO author ({_AUTHOR_COLUMNS}) "
                        f"SELECT {_AUTHOR_COLUMNS} FROM hp_stage_author ON CONFLICT DO NOTHING"
                    )
                self._copy(
                    cursor, "paper_author", "paper_id, position, author_name, submitted", authors
                )
                self._copy(
                    cursor, "paper_category", "paper_id, position, category, submitted", categories
                )
                if self._bulk:  # ON COMMIT DELETE ROWS does not fire until the end
                    cursor.execute(f"TRUNCATE {', '.join(_PG_STAGING_TABLES)}")
            if not self._bulk:
                conn.commit()
        except BaseException:
            conn.rollback()
            raise
        self.authors.remember([row[0] for row in author_rows])
        return len(plan.new), len(plan.current), len(plan.stale)
