"""SQLite: the bulk import loads in rollback-journal mode when it has the database to itself,
and the database is back in WAL afterwards, whatever happened (success, failure, kill -9)."""

from __future__ import annotations

import json
import signal
import sqlite3
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from sqlalchemy import Engine
from sqlmodel import SQLModel

import hotpapers.storage.models  # noqa: F401  (registers the tables)
from hotpapers.arxiv.importer import ImportProgress, import_snapshot
from hotpapers.errors import DatabaseError
from hotpapers.storage.db import make_engine
from tests.arxiv.test_import import TABLES, count, record, schema, write_lines


@pytest.fixture
def db_file(tmp_path: Path) -> Path:
    return tmp_path / "hotpapers.db"


@pytest.fixture
def sqlite_engine(db_file: Path) -> Engine:
    engine = make_engine(f"sqlite:///{db_file}")
    SQLModel.metadata.create_all(engine)
    return engine


def journal_mode(db_file: Path) -> str:
    """As another process would find it: read from the file's header by a new connection."""
    with sqlite3.connect(db_file) as connection:
        return str(connection.execute("PRAGMA journal_mode").fetchone()[0])


def header_says_wal(db_file: Path) -> bool:
    """The file format bytes of the header (18, 19): 2 in WAL mode, 1 with a rollback journal.
    Readable while the importer holds the exclusive lock that keeps SQL readers out."""
    with db_file.open("rb") as stream:
        return stream.read(20)[18:20] == b"\x02\x02"


def papers(n: int) -> list[dict[str, object]]:
    return [record(f"2101.{i:05d}") for i in range(1, n + 1)]


def test_bulk_import_loads_without_wal_then_returns_to_it(
    sqlite_engine: Engine, db_file: Path, tmp_path: Path
) -> None:
    modes: list[str] = []

    def during(_progress: ImportProgress) -> None:
        modes.append(journal_mode(db_file))

    path = write_lines(tmp_path / "snap.json", papers(6))
    report = import_snapshot(sqlite_engine, path, batch_size=2, on_progress=during)
    assert report.bulk and count(sqlite_engine, "paper") == 6
    assert set(modes) == {"delete"}
    assert journal_mode(db_file) == "wal"


def test_another_connection_keeps_the_import_in_wal(
    sqlite_engine: Engine, db_file: Path, tmp_path: Path
) -> None:
    """A reader holding the database open (the bot, say): no switch, the reader goes on."""
    reader = sqlite3.connect(db_file)
    reader.execute("SELECT count(*) FROM paper").fetchone()
    seen: list[tuple[str, int]] = []

    def during(_progress: ImportProgress) -> None:
        seen.append((journal_mode(db_file), reader.execute("SELECT 1").fetchone()[0]))

    path = write_lines(tmp_path / "snap.json", papers(4))
    report = import_snapshot(sqlite_engine, path, batch_size=2, on_progress=during)
    assert report.bulk and count(sqlite_engine, "paper") == 4
    assert set(seen) == {("wal", 1)}
    assert reader.execute("SELECT count(*) FROM paper").fetchone()[0] == 4
    reader.close()


def test_failed_import_returns_to_wal(sqlite_engine: Engine, db_file: Path, tmp_path: Path) -> None:
    texts = [json.dumps(line) for line in papers(4)]
    # A version number too big for SQLite's INTEGER: the database refuses the record.
    huge = [{"version": "v" + "9" * 20, "created": "Sun, 1 Dec 2019 18:22:14 GMT"}]
    texts.append(json.dumps(dict(record("2101.00009"), versions=huge)))
    with pytest.raises(DatabaseError, match="nothing was kept"):
        import_snapshot(sqlite_engine, write_lines(tmp_path / "snap.json", texts), batch_size=2)
    assert journal_mode(db_file) == "wal"
    assert count(sqlite_engine, "paper") == 0


_KILLED_IMPORT = """
    import sys, time
    from pathlib import Path
    from hotpapers.storage.db import make_engine
    from hotpapers.arxiv.importer import import_snapshot

    def progress(report):
        if report.batches == 18:  # 180 MB loaded: beyond the page cache, so in the file
            print("loading", flush=True)
            time.sleep(60)

    engine = make_engine("sqlite:///" + sys.argv[1])
    import_snapshot(engine, Path(sys.argv[2]), batch_size=10, on_progress=progress)
"""


def test_killed_import_leaves_the_database_as_it_was(
    sqlite_engine: Engine, db_file: Path, tmp_path: Path
) -> None:
    """kill -9 in the middle of the bulk load: on the next open, SQLite rolls the journal back
    and make_engine puts the database back in WAL; the tables are empty and intact."""
    before = schema(sqlite_engine)
    sqlite_engine.dispose()  # the importing process must have the file to itself
    size = db_file.stat().st_size
    big = {"abstract": "words " * 170_000}  # 1 MB a paper: the import spills to the file
    path = write_lines(tmp_path / "snap.json", [dict(line, **big) for line in papers(200)])
    child = subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(_KILLED_IMPORT), str(db_file), str(path)],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert child.stdout is not None
    try:
        assert child.stdout.readline().strip() == "loading"
        assert not header_says_wal(db_file)
        assert db_file.stat().st_size > size + 50_000_000  # written to, not only cached
        assert Path(f"{db_file}-journal").exists()
    finally:
        child.send_signal(signal.SIGKILL)
        child.wait()

    engine = make_engine(f"sqlite:///{db_file}")
    with engine.connect() as connection:
        check = connection.exec_driver_sql("PRAGMA integrity_check").scalar_one()
    assert check == "ok"
    assert journal_mode(db_file) == "wal" and header_says_wal(db_file)
    assert schema(engine) == before
    for table in TABLES:
        assert count(engine, table) == 0, table
    report = import_snapshot(engine, write_lines(tmp_path / "again.json", papers(3)))
    assert report.bulk and count(engine, "paper") == 3
