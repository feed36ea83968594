"""The snapshot parser and the streamed importer, on SQLite and PostgreSQL."""

from __future__ import annotations

import gzip
import json
import logging
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, text
from sqlmodel import SQLModel

from hotpapers.arxiv.importer import ImportProgress, import_snapshot
from hotpapers.arxiv.snapshot import parse_snapshot_line
from hotpapers.errors import DatabaseError
from hotpapers.storage.db import make_engine, transaction
from hotpapers.storage.fulltext import FTS_TABLE, VECTOR_COLUMN
from hotpapers.storage.store import upsert_papers

TABLES = {
    "paper": "id",
    "paper_version": "paper_id, version",
    "author": "name",
    "paper_author": "paper_id, position",
    "paper_category": "paper_id, position",
}


def record(
    arxiv_id: str,
    *,
    title: str = "A  title\n  wrapped",
    people: list[list[str]] | None = None,
    categories: str = "cs.CV cs.LG",
    versions: int = 1,
    **extra: Any,
) -> dict[str, Any]:
    dates = [
        "Sun, 1 Dec 2019 18:22:14 GMT",
        "Mon, 2 Mar 2020 09:00:01 GMT",
        "Tue, 5 May 2020 10:00:00 GMT",
    ]
    data = {
        "id": arxiv_id,
        "submitter": "Someone",
        "authors": "ignored when authors_parsed is there",
        "title": title,
        "comments": "10 pages",
        "journal-ref": None,
        "doi": None,
        "report-no": None,
        "categories": categories,
        "license": None,
        "abstract": "  We   study\n things. 100% of_them. ",
        "versions": [{"version": f"v{n + 1}", "created": dates[n]} for n in range(versions)],
        "update_date": "2020-05-05",
        "authors_parsed": people if people is not None else [["Krähenbühl", "Philipp", ""]],
    }
    data.update(extra)
    return data


def write_lines(path: Path, lines: list[Any]) -> Path:
    texts = [line if isinstance(line, str) else json.dumps(line) for line in lines]
    path.write_text("\n".join(texts) + "\n", encoding="utf-8")
    return path


def sample() -> list[Any]:
    return [
        record("2103.06902", versions=3, doi="10.1000/x"),
        record("hep-th/9901001", categories="hep-th", people=[["Witten", "Edward", ""]]),
        record(
            "math.GT/0309136",
            categories="math.GT math.AG math.GT",
            people=[["Smith", "John", "Jr"], ["Ølsen", "Åsa", ""], ["Smith", "John", "Jr"]],
        ),
        record("0704.0001", authors_parsed=None, authors="A. One, B. Two and C. Three"),
    ]


def dump(engine: Engine) -> dict[str, list[tuple[Any, ...]]]:
    with engine.connect() as connection:
        return {
            table: [
                tuple(row)
                for row in connection.execute(text(f"SELECT * FROM {table} ORDER BY {key}"))
            ]
            for table, key in TABLES.items()
        }


def count(engine: Engine, table: str) -> int:
    with engine.connect() as connection:
        return int(connection.execute(text(f"SELECT count(*) FROM {table}")).scalar_one())


# --- parser ----------------------------------------------------------------------------------


def test_parse_line_fields() -> None:
    parsed = parse_snapshot_line(
        json.dumps(record("2103.06902", versions=2, doi="10.1/a")).encode()
    )
    assert parsed.arxiv_id == "2103.06902"
    assert parsed.title == "A title wrapped"
    assert parsed.abstract == "We study things. 100% of_them."
    assert parsed.authors == ("Philipp Krähenbühl",)
    assert parsed.categories == ("cs.CV", "cs.LG")
    assert parsed.primary_category == "cs.CV"
    assert parsed.version == 2
    assert parsed.submitted == datetime(2019, 12, 1, 18, 22, 14, tzinfo=UTC)
    assert parsed.updated == datetime(2020, 3, 2, 9, 0, 1, tzinfo=UTC)
    assert [v.version for v in parsed.versions] == [1, 2]
    assert all(v.created is not None and v.created.tzinfo is UTC for v in parsed.versions)
    assert parsed.comment == "10 pages" and parsed.doi == "10.1/a" and parsed.journal_ref is None


def test_parse_long_doi() -> None:
    several = " ".join(f"10.1000/{'x' * 60}{n}" for n in range(4))
    parsed = parse_snapshot_line(json.dumps(record("2103.06902", doi=several)))
    assert parsed.doi == several.split()[0]
    huge = "10.1/" + "y" * 300
    assert parse_snapshot_line(json.dumps(record("2103.06902", doi=huge))).doi is None


def test_parse_authors_fallback_and_suffix() -> None:
    parsed = parse_snapshot_line(
        json.dumps(record("0704.0001", authors_parsed=None, authors="A. One, B. Two and C.  Three"))
    )
    assert parsed.authors == ("A. One", "B. Two", "C. Three")
    parsed = parse_snapshot_line(json.dumps(record("0704.0001", people=[["Smith", "John", "Jr"]])))
    assert parsed.authors == ("John Smith Jr",)


@pytest.mark.parametrize(
    "line",
    [
        "{not json",
        json.dumps({"title": "no id"}),
        json.dumps(record("2103.06902", title="  ")),
        json.dumps(record("not an id")),
        json.dumps(record("٢١٠٣.٠٧٢٨٩")),  # Arabic-Indic digits: ids are ASCII
        json.dumps(dict(record("2103.06902"), versions=[{"version": "v٢", "created": None}])),
        json.dumps(record("2103.06902", categories="")),
        json.dumps(record("2103.06902", people=[["X" * 300, "Y", ""]])),  # > author.name
        "[1, 2]",
    ],
)
def test_parse_malformed(line: str) -> None:
    with pytest.raises(ValueError):
        parse_snapshot_line(line)


# --- importer --------------------------------------------------------------------------------


def test_import_sample(engine: Engine, tmp_path: Path) -> None:
    path = write_lines(tmp_path / "snap.json", sample())
    progress: list[ImportProgress] = []
    report = import_snapshot(engine, path, batch_size=2, on_progress=progress.append)
    assert (report.read, report.imported, report.skipped, report.batches) == (4, 4, 0, 2)
    assert [p.imported for p in progress] == [2, 4]
    assert progress[-1].bytes_read == path.stat().st_size == progress[-1].total_bytes
    rows = dump(engine)
    assert [r[0] for r in rows["paper"]] == [
        "0704.0001",
        "2103.06902",
        "hep-th/9901001",
        "math.GT/0309136",
    ]
    assert count(engine, "paper_version") == 3 + 1 + 1 + 1
    with engine.connect() as connection:
        authors = (
            connection.execute(
                text(
                    "SELECT author_name FROM paper_author"
                    " WHERE paper_id = 'math.GT/0309136' ORDER BY position"
                )
            )
            .scalars()
            .all()
        )
        cats = connection.execute(
            text(
                "SELECT category, submitted FROM paper_category"
                " WHERE paper_id = 'math.GT/0309136' ORDER BY position"
            )
        ).all()
        folded = connection.execute(
            text("SELECT folded_name, folded_last FROM author WHERE name = 'Philipp Krähenbühl'")
        ).one()
    assert authors == ["John Smith Jr", "Åsa Ølsen", "John Smith Jr"]
    assert [c[0] for c in cats] == ["math.GT", "math.AG"]
    assert all(c[1] is not None for c in cats)
    assert tuple(folded) == ("philipp krahenbuhl", "krahenbuhl")


def test_same_rows_as_upsert_papers(engine: Engine, tmp_path: Path) -> None:
    lines = [*sample(), record("2103.06902", versions=2, title="Older line, ignored")]
    path = write_lines(tmp_path / "snap.json", lines)
    import_snapshot(engine, path, batch_size=3)
    imported = dump(engine)

    SQLModel.metadata.drop_all(engine)
    SQLModel.metadata.create_all(engine)
    for batch in (lines[:3], lines[3:]):
        with transaction(engine) as session:
            upsert_papers(session, [parse_snapshot_line(json.dumps(line)) for line in batch])
    assert dump(engine) == imported


def test_gzip_and_malformed_lines(
    engine: Engine, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    lines = [
        record("2101.00001"),
        "{broken json",
        json.dumps({"title": "no id here", "categories": "cs.LG"}),
        "",
        record("2101.00002"),
        record("2101.00003", id="2101.0003x"),
    ]
    texts = [line if isinstance(line, str) else json.dumps(line) for line in lines]
    path = tmp_path / "snap.json.gz"
    with gzip.open(path, "wt", encoding="utf-8") as out:
        out.write("\n".join(texts) + "\n")
    with caplog.at_level(logging.WARNING, logger="hotpapers.arxiv.importer"):
        report = import_snapshot(engine, path)
    assert (report.read, report.imported, report.skipped) == (5, 2, 3)
    assert report.skipped_lines == (2, 3, 6)
    assert "line 2 skipped" in caplog.text and "line 6 skipped" in caplog.text
    assert count(engine, "paper") == 2


def test_reimport_changes_nothing(engine: Engine, tmp_path: Path) -> None:
    path = write_lines(tmp_path / "snap.json", sample())
    import_snapshot(engine, path)
    before = dump(engine)
    report = import_snapshot(engine, path, batch_size=3)
    assert (report.new, report.updated, report.stale) == (0, 4, 0)
    assert dump(engine) == before


def test_newer_version_updates(engine: Engine, tmp_path: Path) -> None:
    import_snapshot(engine, write_lines(tmp_path / "a.json", [record("2103.06902", versions=1)]))
    newer = record(
        "2103.06902",
        versions=2,
        title="New title",
        categories="cs.LG stat.ML",
        people=[["Krähenbühl", "Philipp", ""], ["Doe", "Jane", ""]],
    )
    import_snapshot(engine, write_lines(tmp_path / "b.json", [newer]))
    older = record("2103.06902", versions=1, title="Stale title", categories="hep-th")
    report = import_snapshot(engine, write_lines(tmp_path / "c.json", [older]))
    assert report.stale == 1
    with engine.connect() as connection:
        paper = connection.execute(
            text("SELECT title, latest_version, primary_category FROM paper")
        ).one()
        authors = (
            connection.execute(text("SELECT author_name FROM paper_author ORDER BY position"))
            .scalars()
            .all()
        )
        cats = (
            connection.execute(text("SELECT category FROM paper_category ORDER BY position"))
            .scalars()
            .all()
        )
    assert tuple(paper) == ("New title", 2, "cs.LG")
    assert authors == ["Philipp Krähenbühl", "Jane Doe"]
    assert cats == ["cs.LG", "stat.ML"]
    assert count(engine, "paper_version") == 2


def test_failed_batch_is_rolled_back(engine: Engine, db_url: str, tmp_path: Path) -> None:
    lines = [record(f"2101.{n:05d}") for n in range(1, 8)]
    path = write_lines(tmp_path / "snap.json", lines)
    other = make_engine(db_url)

    def break_after_first(progress: ImportProgress) -> None:
        if progress.batches == 1:  # batch 2 will fail on its last table
            with other.begin() as connection:
                connection.execute(text("DROP TABLE paper_category"))

    try:
        with pytest.raises(DatabaseError, match="batch 2"):
            import_snapshot(engine, path, batch_size=3, on_progress=break_after_first, bulk=False)
    finally:
        other.dispose()
    with engine.connect() as connection:
        ids = connection.execute(text("SELECT id FROM paper ORDER BY id")).scalars().all()
        authors = connection.execute(text("SELECT count(*) FROM paper_author")).scalar_one()
        versions = connection.execute(text("SELECT count(*) FROM paper_version")).scalar_one()
    assert ids == ["2101.00001", "2101.00002", "2101.00003"]
    assert authors == 3 and versions == 3


def test_parse_in_process_same_rows(
    engine: Engine, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """The child-process parser writes what the in-thread parser writes, and logs its skips."""
    lines = [*sample(), "{broken json", record("2103.06902", versions=2, title="Older line")]
    path = write_lines(tmp_path / "snap.json", lines)
    report = import_snapshot(engine, path, batch_size=2)
    in_thread = dump(engine)
    SQLModel.metadata.drop_all(engine)
    SQLModel.metadata.create_all(engine)
    with caplog.at_level(logging.WARNING, logger="hotpapers.arxiv.importer"):
        again = import_snapshot(engine, path, batch_size=2, parse_in_process=True)
    assert dump(engine) == in_thread
    assert (again.read, again.imported, again.skipped, again.skipped_lines) == (
        report.read,
        report.imported,
        report.skipped,
        (5,),
    )
    assert "line 5 skipped" in caplog.text


def test_dangling_author_reference_is_refused(engine: Engine, db_url: str, tmp_path: Path) -> None:
    """SQLite imports with foreign keys off and checks the batch's references itself: an author
    deleted by another connection between two batches is still refused, as with enforcement."""
    doe = [["Doe", "Jane", ""]]
    lines = [record("2101.00001", people=doe), record("2101.00002", people=doe)]
    path = write_lines(tmp_path / "snap.json", lines)
    other = make_engine(db_url)

    def delete_author(progress: ImportProgress) -> None:
        if progress.batches == 1:  # the importer now takes "Jane Doe" as stored
            with other.begin() as connection:
                connection.execute(text("DELETE FROM paper_author"))
                connection.execute(text("DELETE FROM author"))

    try:
        with pytest.raises(DatabaseError, match="batch 2"):
            import_snapshot(engine, path, batch_size=1, on_progress=delete_author, bulk=False)
    finally:
        other.dispose()
    assert count(engine, "paper") == 1 and count(engine, "paper_author") == 0
    with engine.connect() as connection:  # enforcement is back on for the pooled connection
        if engine.dialect.name == "sqlite":
            assert connection.execute(text("PRAGMA foreign_keys")).scalar_one() == 1


# --- bulk path (first import into empty tables) -----------------------------------------------


def schema(engine: Engine) -> list[tuple[Any, ...]]:
    """Indexes, triggers, tables and constraints: what the bulk path drops and rebuilds."""
    with engine.connect() as connection:
        if engine.dialect.name == "sqlite":
            query = "SELECT type, name, sql FROM sqlite_master ORDER BY type, name"
            return [tuple(row) for row in connection.execute(text(query))]
        indexes = connection.execute(
            text("SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = current_schema()")
        )
        constraints = connection.execute(
            text(
                "SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid)"
                " FROM pg_constraint WHERE connamespace = current_schema()::regnamespace"
            )
        )
        return sorted(tuple(row) for row in [*indexes, *constraints])


def bulk_lines() -> list[Any]:
    """Several batches, with a paper repeated in a later batch (newer, then older)."""
    doe = [["Doe", "Jane", ""], ["Krähenbühl", "Philipp", ""]]
    return [
        *sample(),
        *(record(f"2101.{n:05d}", people=doe, versions=1 + n % 3) for n in range(1, 8)),
        record("2103.06902", versions=3, title="Newer line", people=doe, categories="hep-th"),
        record("2101.00004", versions=1, title="Older line, ignored"),
    ]


def test_bulk_writes_the_incremental_rows(engine: Engine, tmp_path: Path) -> None:
    path = write_lines(tmp_path / "snap.json", bulk_lines())
    empty_schema = schema(engine)
    # parsed in a child process, as big files are
    bulk = import_snapshot(engine, path, batch_size=3, parse_in_process=True)
    assert bulk.bulk and (bulk.new, bulk.updated, bulk.stale) == (11, 1, 1)
    assert schema(engine) == empty_schema  # every index, trigger and constraint is back
    rows = dump(engine)

    SQLModel.metadata.drop_all(engine)
    SQLModel.metadata.create_all(engine)
    incremental = import_snapshot(engine, path, batch_size=3, bulk=False)
    assert not incremental.bulk
    assert (incremental.new, incremental.updated, incremental.stale) == (11, 1, 1)
    assert dump(engine) == rows


def test_bulk_keeps_full_text_search_current(engine: Engine, tmp_path: Path) -> None:
    lines = [record("2101.00001", title="Cosmic  strings"), record("2101.00002", title="Quarks")]
    import_snapshot(engine, write_lines(tmp_path / "snap.json", lines), batch_size=1)
    with engine.connect() as connection:
        if engine.dialect.name == "sqlite":
            query = (
                f"SELECT p.id FROM {FTS_TABLE} f JOIN paper p ON p.rowid = f.rowid"
                f" WHERE {FTS_TABLE} MATCH 'cosmic'"
            )
        else:
            query = (
                f"SELECT id FROM paper WHERE {VECTOR_COLUMN} @@"
                " to_tsquery('hotpapers_english', 'cosmic')"
            )
        found = connection.execute(text(query)).scalars().all()
    assert found == ["2101.00001"]


def test_failed_bulk_import_leaves_nothing(engine: Engine, tmp_path: Path) -> None:
    """A record the database refuses (a version number too big for its integer column) in
    the third batch: the whole bulk import is rolled back, indexes and constraints included."""
    lines = [record(f"2101.{n:05d}") for n in range(1, 6)]
    texts = [json.dumps(line) for line in lines]
    huge = [{"version": "v" + "9" * 20, "created": "Sun, 1 Dec 2019 18:22:14 GMT"}]
    texts.append(json.dumps(dict(record("2101.00009"), versions=huge)))
    path = write_lines(tmp_path / "snap.json", texts)
    empty_schema = schema(engine)
    with pytest.raises(DatabaseError, match="nothing was kept"):
        import_snapshot(engine, path, batch_size=2)
    assert schema(engine) == empty_schema
    for table in TABLES:
        assert count(engine, table) == 0, table
    # and the database takes the same import (without the bad line) afterwards
    report = import_snapshot(engine, write_lines(tmp_path / "good.json", lines), batch_size=2)
    assert report.bulk and count(engine, "paper") == 5


def test_second_import_is_incremental(engine: Engine, tmp_path: Path) -> None:
    first = import_snapshot(engine, write_lines(tmp_path / "a.json", sample()))
    assert first.bulk
    later = [record("2101.00001"), record("2103.06902", versions=3, title="Newer")]
    second = import_snapshot(engine, write_lines(tmp_path / "b.json", later))
    assert not second.bulk and (second.new, second.updated) == (1, 1)
    assert count(engine, "paper") == 5


@pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)
def test_bulk_link_tables_need_no_vacuum(engine: Engine, tmp_path: Path) -> None:
    """PostgreSQL: COPY FREEZE leaves the link tables all-visible, so the author and category
    queries get index-only scans right after the import (not only after autovacuum)."""
    import_snapshot(engine, write_lines(tmp_path / "snap.json", bulk_lines()))
    with engine.connect() as connection:
        pages = connection.execute(
            text(
                "SELECT relname, relpages, relallvisible FROM pg_class WHERE relname IN"
                " ('paper_version', 'paper_author', 'paper_category') ORDER BY relname"
            )
        ).all()
    assert [(name, visible) for name, _, visible in pages] == [
        (name, total) for name, total, _ in pages
    ]
    assert all(total > 0 for _, total, _ in pages)


# --- hostile lines and server settings ---------------------------------------------------


@pytest.mark.parametrize("bulk", [True, False], ids=["bulk", "incremental"])
@pytest.mark.parametrize("in_process", [False, True], ids=["thread", "process"])
def test_unstorable_text_skips_only_its_line(
    engine: Engine, tmp_path: Path, bulk: bool, in_process: bool
) -> None:
    """A lone surrogate (not UTF-8) or a NUL (refused by PostgreSQL) in one line skips and
    reports that line; the other papers of the same batch are imported."""
    lines = [
        record("2101.00001"),
        # json.dumps escapes both: the file holds the six characters \ud800 and \u0000.
        record("2101.00002", title="Lone \ud800 surrogate"),
        record("2101.00003", abstract="A NUL \x00 byte"),
        record("2101.00004", people=[["N\x00ul", "Ann", ""]]),
        record("2101.00005"),
    ]
    path = write_lines(tmp_path / "snap.json", lines)
    report = import_snapshot(engine, path, batch_size=10, bulk=bulk, parse_in_process=in_process)
    assert (report.read, report.imported, report.skipped) == (5, 2, 3)
    assert report.skipped_lines == (2, 3, 4)
    with engine.connect() as connection:
        ids = connection.execute(text("SELECT id FROM paper ORDER BY id")).scalars().all()
    assert ids == ["2101.00001", "2101.00005"]


@pytest.mark.parametrize("in_process", [False, True], ids=["thread", "process"])
def test_postgres_times_do_not_depend_on_the_server_time_zone(
    pg_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, in_process: bool
) -> None:
    """Under a server time zone that is not UTC (PGTZ sets the session's), the bulk load (COPY)
    and the incremental upsert (staging tables) both store the snapshot's UTC times."""
    import hotpapers.storage.models  # noqa: F401  (registers the tables)

    monkeypatch.setenv("PGTZ", "Asia/Tokyo")
    engine = make_engine(pg_url)
    SQLModel.metadata.drop_all(engine)
    SQLModel.metadata.create_all(engine)
    try:
        with engine.connect() as connection:
            assert connection.execute(text("SHOW TIME ZONE")).scalar_one() == "Asia/Tokyo"
        first = write_lines(tmp_path / "a.json", [record("2103.06902", versions=1)])
        assert import_snapshot(engine, first, parse_in_process=in_process).bulk
        newer = write_lines(tmp_path / "b.json", [record("2103.06902", versions=2)])
        assert not import_snapshot(engine, newer, parse_in_process=in_process).bulk
        with engine.connect() as connection:
            paper = connection.execute(text("SELECT submitted, updated FROM paper")).one()
            created = (
                connection.execute(text("SELECT created FROM paper_version ORDER BY version"))
                .scalars()
                .all()
            )
            listed = connection.execute(text("SELECT submitted FROM paper_author")).scalar_one()
    finally:
        SQLModel.metadata.drop_all(engine)
        engine.dispose()
    v1 = datetime(2019, 12, 1, 18, 22, 14, tzinfo=UTC)
    v2 = datetime(2020, 3, 2, 9, 0, 1, tzinfo=UTC)
    assert tuple(paper) == (v1, v2)
    assert created == [v1, v2]
    assert listed == v1


@pytest.mark.parametrize(
    "line",
    [
        json.dumps(record("2103.06902", title="Lone \ud800 surrogate")),
        json.dumps(record("2103.06902", title="Lone \udfff low surrogate")),
        json.dumps(record("2103.06902", comments="NUL \x00 in a comment")),
        json.dumps(record("2103.06902", categories="cs.LG\x00")),
        json.dumps(record("2103.06902", title="Lone \ud800 surrogate")).replace("ud800", "uD800"),
    ],
)
def test_parse_unstorable_text(line: str) -> None:
    """Text no database can store is refused by the parser, str or bytes."""
    for form in (line, line.encode()):
        with pytest.raises(ValueError, match=r"NUL|surrogate"):
            parse_snapshot_line(form)


def test_parse_escapes_that_are_fine() -> None:
    """A real pair of surrogate escapes (one emoji), Hangul (\\ud7xx) and an escaped backslash
    before u0000 are ordinary text."""
    text = json.dumps(record("2103.06902", title="Emoji 😀 and ퟼ and \\\\u0000 literally"))
    assert "\\ud83d\\ude00" in text and "\\ud7fc" in text
    assert parse_snapshot_line(text).title == "Emoji 😀 and ퟼ and \\\\u0000 literally"
