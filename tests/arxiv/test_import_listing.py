"""Imported papers get the listing date that first announced them (issue 13 §1): the snapshot
import writes the `announcement` rows collection writes for a new paper, from the first
version's date and arXiv's calendar, and never a second set for a paper that has some."""

from __future__ import annotations

import logging
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, text

from hotpapers.arxiv.calendar import first_listing_of, listing_dates, submission_window
from hotpapers.arxiv.holidays import ARXIV_HOLIDAYS
from hotpapers.arxiv.importer import import_snapshot
from hotpapers.ranking.candidates import load_candidates
from hotpapers.storage.db import transaction
from hotpapers.storage.queries import papers_for_listing
from hotpapers.storage.records import PaperRecord, VersionRecord
from hotpapers.storage.store import record_announcements, upsert_papers
from tests.arxiv.test_import import record, write_lines


def announcements(engine: Engine) -> list[tuple[Any, ...]]:
    with engine.connect() as connection:
        rows = connection.execute(
            text(
                "SELECT paper_id, listing_date, category, announce_type, version"
                " FROM announcement ORDER BY paper_id, category"
            )
        )
        return [(r[0], _day(r[1]), *r[2:]) for r in rows]


def _day(value: Any) -> date:
    return value if isinstance(value, date) else date.fromisoformat(value)


def dated(arxiv_id: str, created: str, categories: str = "cs.LG stat.ML") -> dict[str, Any]:
    line = record(arxiv_id, categories=categories)
    line["versions"] = [{"version": "v1", "created": created}]
    return line


def test_first_listing_of_every_submission_window_2020_to_2027() -> None:
    """The inverse of `submission_window`: a submission made in listing D's window is D's."""
    holidays = frozenset(ARXIV_HOLIDAYS)
    for day in listing_dates(date(2020, 1, 6), date(2027, 12, 20), holidays):
        start, end = submission_window(day, holidays)
        for moment in (start, start + (end - start) / 2, end - timedelta(seconds=1)):
            assert first_listing_of(moment, holidays) == day


def test_an_imported_paper_appears_on_its_listing_day(engine: Engine, tmp_path: Path) -> None:
    # Monday 2 March 2020, 04:00 ET: before the 14:00 cut-off, announced that evening.
    # Wednesday 22 November 2023, 15:00 ET: after the cut-off, Thanksgiving evening is skipped,
    # so Monday's listing holds it (Wednesday 14:00 to Friday 14:00).
    path = write_lines(
        tmp_path / "snap.json",
        [
            dated("2003.00001", "Mon, 2 Mar 2020 09:00:01 GMT"),
            dated("2311.00002", "Wed, 22 Nov 2023 20:00:00 GMT", categories="hep-th"),
        ],
    )
    import_snapshot(engine, path)
    assert announcements(engine) == [
        ("2003.00001", date(2020, 3, 3), "cs.LG", "new", 1),
        ("2003.00001", date(2020, 3, 3), "stat.ML", "cross", 1),
        ("2311.00002", date(2023, 11, 27), "hep-th", "new", 1),
    ]
    with transaction(engine) as session:
        listed = papers_for_listing(session, date(2020, 3, 3), ["stat.ML"])
        assert [(p.paper.arxiv_id, p.announce_type) for p in listed] == [("2003.00001", "cross")]
        thanksgiving = papers_for_listing(session, date(2023, 11, 27))
        assert [p.paper.arxiv_id for p in thanksgiving] == ["2311.00002"]
        # and it ranks on that day, as a collected paper would
        now = datetime(2020, 3, 4, tzinfo=UTC)
        ranked = load_candidates(session, date(2020, 3, 3), ["cs.LG"], now)
        assert [c.paper.arxiv_id for c in ranked] == ["2003.00001"]
        assert load_candidates(session, date(2020, 3, 2), None, now) == []


def test_bulk_and_incremental_write_the_same_announcements(engine: Engine, tmp_path: Path) -> None:
    lines = [dated(f"2003.{n:05d}", f"Mon, {n} Mar 2020 19:00:00 GMT") for n in range(1, 9)]
    path = write_lines(tmp_path / "snap.json", lines)
    assert import_snapshot(engine, path, batch_size=3, parse_in_process=True).bulk
    bulk = announcements(engine)
    assert len(bulk) == 16
    with engine.begin() as connection:
        connection.execute(text("DELETE FROM announcement"))
    assert not import_snapshot(engine, path, batch_size=3, bulk=False).bulk  # fills them again
    assert announcements(engine) == bulk


def test_never_a_second_set_for_a_paper_collection_announced(
    engine: Engine, tmp_path: Path
) -> None:
    """Collection listed 2003.00001 (as a cross-list, in cs.LG only): the import adds
    nothing to it; re-importing adds nothing at all."""
    collected = PaperRecord(
        arxiv_id="2003.00001",
        version=1,
        title="Collected",
        abstract="Abstract.",
        authors=("Jane Doe",),
        categories=("stat.ML", "cs.LG"),
        primary_category="stat.ML",
        submitted=datetime(2020, 3, 2, 9, tzinfo=UTC),
        versions=(VersionRecord(1, datetime(2020, 3, 2, 9, tzinfo=UTC)),),
    )
    with transaction(engine) as session:
        upsert_papers(session, [collected])
        record_announcements(session, date(2020, 3, 9), [collected], ["cs.LG"])
    before = announcements(engine)
    path = write_lines(
        tmp_path / "snap.json",
        [
            dated("2003.00001", "Mon, 2 Mar 2020 09:00:01 GMT", "stat.ML cs.LG"),
            dated("2003.00002", "Mon, 2 Mar 2020 09:00:01 GMT", "cs.LG"),
        ],
    )
    import_snapshot(engine, path)
    after = announcements(engine)
    assert after == [*before, ("2003.00002", date(2020, 3, 3), "cs.LG", "new", 1)]
    import_snapshot(engine, path)
    assert announcements(engine) == after


def test_old_papers_follow_the_weekday_rule_with_one_warning(
    engine: Engine,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
    capfd: pytest.CaptureFixture[str],
) -> None:
    """Papers from 1992 to 2019, years the holiday table does not cover: their listing dates
    follow the weekday rule; the import says so once, not once per paper or per year, and
    the parser process does not print the calendar's warning per year."""
    lines = [
        dated(f"hep-th/{year % 100:02d}01{n:03d}", f"Thu, 4 Jun {year} 19:00:00 GMT", "hep-th")
        for year in range(1992, 2020)
        for n in range(3)
    ]
    path = write_lines(tmp_path / "snap.json", lines)
    with caplog.at_level(logging.WARNING):
        import_snapshot(engine, path, batch_size=10, parse_in_process=True)
    rows = announcements(engine)
    assert len(rows) == len(lines)
    for paper_id, listing, *_ in rows:
        # 19:00 UTC is after 14:00 ET: in the listing after the next weekday evening.
        two_digits = int(paper_id[7:9])
        submitted = date(1900 + two_digits if two_digits > 90 else 2000 + two_digits, 6, 4)
        assert listing.weekday() < 5 and 2 <= (listing - submitted).days <= 4
    warnings = [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]
    assert len(warnings) == 1, warnings
    assert "84 imported papers" in warnings[0] and "weekday rule" in warnings[0]
    # The parser process would print the calendar's per-year warning (logging's last resort).
    assert "holidays for" not in capfd.readouterr().err
