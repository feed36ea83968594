"""`author:` searches: the authors' newest papers that match, title matches first, newest
first within each (SQLite: two statements that each stop at the limit)."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import Engine

from hotpapers.storage import search
from tests.storage.test_search import found, load, record

# By Wilson: d1, d3 (also "gauge") and d5 have "lattice" in the title only, d2 and d4 in the
# abstract only, d6 not at all; d7 (newest) is someone else's.
TITLES = [
    ("Lattice A", "Plain."),
    ("Spin B", "On a lattice."),
    ("Lattice C gauge", "Plain."),
    ("Spin D", "On a lattice."),
    ("Lattice E", "Plain."),
    ("Spin F", "Nothing."),
    ("Lattice G", "Plain."),
]


@pytest.fixture
def wilson(engine: Engine, tmp_path: Path) -> Engine:
    records = [
        record(f"2103.0020{n}", n, title, abstract)
        for n, (title, abstract) in enumerate(TITLES, start=1)
    ]
    for paper in records[:6]:
        paper["authors_parsed"] = [["Wilson", "Kenneth", ""]]
    load(engine, tmp_path / "wilson.jsonl", records)
    return engine


def test_title_matches_first_then_the_others_up_to_the_limit(wilson: Engine) -> None:
    assert found(wilson, "lattice author:wilson", limit=2) == ["2103.00205", "2103.00203"]
    assert found(wilson, "lattice author:wilson", limit=4) == [
        "2103.00205", "2103.00203", "2103.00201", "2103.00204",
    ]  # fmt: skip
    assert found(wilson, "lattice author:wilson") == [
        "2103.00205", "2103.00203", "2103.00201", "2103.00204", "2103.00202",
    ]  # fmt: skip


def test_exclusions_hold_for_title_and_other_matches(wilson: Engine) -> None:
    assert found(wilson, "lattice author:wilson -gauge", limit=3) == [
        "2103.00205", "2103.00201", "2103.00204",
    ]  # fmt: skip
    assert found(wilson, "lattice author:wilson -plain") == ["2103.00204", "2103.00202"]


def test_sqlite_only_the_authors_newest_papers_are_looked_at(
    wilson: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The window is the authors' newest _WINDOW papers, matching or not (SQLite)."""
    if wilson.dialect.name != "sqlite":
        pytest.skip("PostgreSQL scores all the authors' matches")
    monkeypatch.setattr(search, "_WINDOW", 3)
    assert found(wilson, "lattice author:wilson") == ["2103.00205", "2103.00204"]
