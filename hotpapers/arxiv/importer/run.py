"""The import's loop: reader and writer started, batches written, the report (see the
package docstring)."""

from __future__ import annotations

import contextlib
import gc
import logging
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from sqlalchemy import Engine

from hotpapers.arxiv.holidays import ARXIV_HOLIDAYS
from hotpapers.arxiv.importer.postgres import PostgresWriter
from hotpapers.arxiv.importer.reader import PROCESS_MIN_BYTES, ParseOptions, ProcessReader, Reader
from hotpapers.arxiv.importer.report import ImportProgress, ImportReport
from hotpapers.arxiv.importer.rows import Rec, first_line
from hotpapers.arxiv.importer.sqlite import SqliteWriter
from hotpapers.arxiv.importer.writer import Writer
from hotpapers.errors import DatabaseError
from hotpapers.plumbing import failpoints
from hotpapers.storage.db import is_postgres

log = logging.getLogger(__name__)


def import_snapshot(
    engine: Engine,
    path: Path,
    *,
    batch_size: int = 5000,
    on_progress: Callable[[ImportProgress], None] | None = None,
    parse_in_process: bool | None = None,
    bulk: bool = True,
    holidays: Iterable[date] = ARXIV_HOLIDAYS,
) -> ImportReport:
    """Import `path` (JSON Lines, `.gz` ok) into `engine`'s database; see the package docstring.

    `parse_in_process`: parse in a child process (default: for files of 32 MB and more).
    `bulk`: take the bulk path when the paper tables are empty (False: always incremental).
    `holidays`: arXiv's calendar (`arxiv.holidays`), for the listing date of each paper.
    Raises DatabaseError if a batch cannot be written: on the incremental path that batch is
    rolled back and the earlier ones stay committed; on the bulk path nothing is kept.
    """
    if batch_size < 1:
        raise ValueError("batch_size must be at least 1")
    started = time.monotonic()
    total_bytes = path.stat().st_size
    if parse_in_process is None:
        parse_in_process = total_bytes >= PROCESS_MIN_BYTES
    postgres = is_postgres(engine)
    reader_type = ProcessReader if parse_in_process else Reader
    options = ParseOptions(aware=postgres, holidays=tuple(sorted(set(holidays))))
    reader = reader_type(path, batch_size, options)
    writer: Writer = PostgresWriter(engine) if postgres else SqliteWriter(engine)
    with _no_cycle_collection():
        return _run_import(reader, writer, bulk, on_progress, started, total_bytes)


@dataclass(slots=True)
class _Tally:
    """What the batches written so far added up to."""

    imported: int = 0
    batches: int = 0
    new: int = 0
    updated: int = 0
    stale: int = 0


def _run_import(
    reader: Reader,
    writer: Writer,
    bulk: bool,
    on_progress: Callable[[ImportProgress], None] | None,
    started: float,
    total_bytes: int,
) -> ImportReport:
    tally = _Tally()
    try:
        in_bulk = bulk and writer.begin_bulk()
        if in_bulk:
            log.info("import into empty tables: bulk path, one transaction")
        reader.start()
        for batch in reader.batches():
            if batch.folds:
                writer.authors.learn(batch.folds)
            if batch.records:
                _write_batch(writer, batch.records, tally, in_bulk)
            if on_progress is not None:
                on_progress(
                    ImportProgress(
                        read=batch.read,
                        imported=tally.imported,
                        skipped=batch.skipped,
                        batches=tally.batches,
                        bytes_read=batch.position,
                        total_bytes=total_bytes,
                        elapsed=time.monotonic() - started,
                    )
                )
        _finish(writer, in_bulk)
        _say_weekday_rule(reader.by_weekday_rule)
    finally:
        reader.stop()
        writer.close()
    return ImportReport(
        read=reader.read,
        imported=tally.imported,
        skipped=reader.skipped,
        batches=tally.batches,
        new=tally.new,
        updated=tally.updated,
        stale=tally.stale,
        elapsed=time.monotonic() - started,
        skipped_lines=tuple(reader.skipped_lines),
        bulk=in_bulk,
    )


def _write_batch(writer: Writer, records: list[Rec], tally: _Tally, in_bulk: bool) -> None:
    """Write one batch and count it; a failure becomes one DatabaseError saying what stayed."""
    try:
        new, current, stale = writer.write(records)
    except Exception as exc:
        first = records[0][0]
        log.error("import batch %d (from %s) rolled back", tally.batches + 1, first)
        kept = (
            "the whole import was rolled back, nothing was kept"
            if in_bulk
            else f"{tally.imported} papers of earlier batches were kept"
        )
        raise DatabaseError(
            f"import batch {tally.batches + 1} (from paper {first}) failed and was rolled "
            f"back; {kept}: {first_line(exc)}"
        ) from exc
    tally.new += new
    tally.updated += current
    tally.stale += stale
    tally.imported += len(records)
    tally.batches += 1
    failpoints.reach("import.after_batch")


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


def _say_weekday_rule(papers: int) -> None:
    """Once per import (the calendar itself would warn once per year, from 1991 on)."""
    if papers:
        log.warning(
            "%d imported papers were first listed in years whose arXiv holidays are not known; "
            "their listing dates follow the weekday rule",
            papers,
        )


def _finish(writer: Writer, in_bulk: bool) -> None:
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
            f"and was rolled back, nothing was kept: {first_line(exc)}"
        ) from exc
