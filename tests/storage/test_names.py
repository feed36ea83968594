"""Names: folding letters that do not decompose, surnames with particles and suffixes, one rule
for collection, import, look-up and autocomplete (on SQLite and PostgreSQL)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, text
from sqlmodel import Session

from hotpapers.arxiv.importer import import_snapshot
from hotpapers.arxiv.snapshot import parse_snapshot_line
from hotpapers.plumbing.text import fold
from hotpapers.storage import migrate
from hotpapers.storage.db import make_engine, transaction
from hotpapers.storage.queries import author_names, papers_by_author
from hotpapers.storage.records import PaperRecord
from hotpapers.storage.store import upsert_papers


@pytest.mark.parametrize(
    ("written", "typed"),
    [
        ("Łukasz Kaiser", "lukasz kaiser"),
        ("Søren Hauberg", "soren hauberg"),
        ("Cæsar Æbelø", "caesar aebelo"),
        ("Işık Bayraktar", "isik bayraktar"),
        ("Bernhard Schölkopf-Straße", "bernhard scholkopf-strasse"),
        ("Đorđe Đurić", "dorde duric"),
        ("Philipp  KRÄHENBÜHL", "philipp krahenbuhl"),
    ],
)
def test_fold_letters_that_do_not_decompose(written: str, typed: str) -> None:
    assert fold(written) == fold(typed) == typed


def snapshot_line(arxiv_id: str, day: int, people: list[list[str]]) -> str:
    return json.dumps(
        {
            "id": arxiv_id,
            "authors": "",
            "title": f"Paper {arxiv_id}",
            "abstract": "An abstract.",
            "categories": "cs.LG",
            "versions": [{"version": "v1", "created": f"Mon, {day} Mar 2021 10:00:00 GMT"}],
            "authors_parsed": people,
        }
    )


# arXiv's authors_parsed: [last, first, suffix]. Imported from the snapshot...
IMPORTED = {
    "2103.00001": [["van der Maaten", "Laurens", ""]],
    "2103.00002": [["de Haas", "Tim", ""]],
    "2103.00003": [["Le Cun", "Yann", ""]],
    "2103.00004": [["Martin", "John", "Jr."]],
    "2103.00005": [["Kaiser", "Łukasz", ""]],
    "2103.00010": [["van den Oord", "", ""]],  # only a surname
}
# ...and collected (store.upsert_papers, as the arXiv API and listings write them).
COLLECTED = {
    "2103.00006": "Yann LeCun",
    "2103.00007": "Søren Hauberg",
    "2103.00008": "Van Nguyen",  # a given name, read as a particle: Nguyen still finds it
    "2103.00009": "Ada Haas",
}


@pytest.fixture
def people(engine: Engine, tmp_path: Path) -> Engine:
    path = tmp_path / "snap.json"
    lines = [snapshot_line(pid, n + 1, parsed) for n, (pid, parsed) in enumerate(IMPORTED.items())]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    import_snapshot(engine, path)
    records = [
        PaperRecord(
            arxiv_id=pid,
            version=1,
            title=f"Paper {pid}",
            abstract="An abstract.",
            authors=(name,),
            categories=("cs.LG",),
            primary_category="cs.LG",
            submitted=datetime(2021, 3, 10 + n, tzinfo=UTC),
        )
        for n, (pid, name) in enumerate(COLLECTED.items())
    ]
    with transaction(engine) as session:
        upsert_papers(session, records)
    return engine


def found(engine: Engine, typed: str) -> tuple[list[str], list[str]]:
    with Session(engine) as session:
        papers = sorted(paper.arxiv_id for paper in papers_by_author(session, typed))
        return papers, sorted(author_names(session, typed))


@pytest.mark.parametrize(
    ("typed", "papers", "names"),
    [
        ("van der Maaten", ["2103.00001"], ["Laurens van der Maaten"]),
        ("van der m", ["2103.00001"], ["Laurens van der Maaten"]),
        ("Maaten", ["2103.00001"], ["Laurens van der Maaten"]),
        ("de haas", ["2103.00002"], ["Tim de Haas"]),
        ("Haas", ["2103.00002", "2103.00009"], ["Ada Haas", "Tim de Haas"]),
        ("LeCun", ["2103.00003", "2103.00006"], ["Yann Le Cun", "Yann LeCun"]),
        ("le cun", ["2103.00003", "2103.00006"], ["Yann Le Cun", "Yann LeCun"]),
        ("Martin", ["2103.00004"], ["John Martin Jr."]),
        ("Martin Jr.", ["2103.00004"], ["John Martin Jr."]),
        ("john martin jr", ["2103.00004"], ["John Martin Jr."]),
        ("lukasz", ["2103.00005"], ["Łukasz Kaiser"]),
        ("ŁUKASZ K", ["2103.00005"], ["Łukasz Kaiser"]),
        ("soren", ["2103.00007"], ["Søren Hauberg"]),
        ("nguyen", ["2103.00008"], ["Van Nguyen"]),
        ("van nguyen", ["2103.00008"], ["Van Nguyen"]),
        ("der", [], []),  # a particle is not a surname of its own
        ("van den oord", ["2103.00010"], ["van den Oord"]),
        ("oord", ["2103.00010"], ["van den Oord"]),
    ],
)
def test_surnames_with_particles_and_suffixes_are_found(
    people: Engine, typed: str, papers: list[str], names: list[str]
) -> None:
    assert found(people, typed) == (papers, names)


def test_import_and_collection_store_the_same_keys(people: Engine) -> None:
    """One rule: the importer keeps the whole surname and writes what collection writes."""
    with people.connect() as connection:
        rows = connection.execute(
            text("SELECT name, folded_name, folded_surname, folded_last FROM author")
        ).all()
    assert sorted(tuple(row) for row in rows) == [
        ("Ada Haas", "ada haas", "haas", "haas"),
        ("John Martin Jr.", "john martin jr.", "martin", "martin"),
        ("Laurens van der Maaten", "laurens van der maaten", "vandermaaten", "maaten"),
        ("Søren Hauberg", "soren hauberg", "hauberg", "hauberg"),
        ("Tim de Haas", "tim de haas", "dehaas", "haas"),
        ("Van Nguyen", "van nguyen", "vannguyen", "nguyen"),
        ("Yann Le Cun", "yann le cun", "lecun", "cun"),
        ("Yann LeCun", "yann lecun", "lecun", "lecun"),
        ("van den Oord", "van den oord", "vandenoord", "oord"),
        ("Łukasz Kaiser", "lukasz kaiser", "kaiser", "kaiser"),
    ]


def test_a_long_transliterated_name_fits_its_keys(engine: Engine, tmp_path: Path) -> None:
    """anyascii can make a name longer (深 -> Shen); the keys are cut to their columns."""
    name = "深" * 100  # 100 characters, 400 once transliterated
    path = tmp_path / "snap.json"
    path.write_text(snapshot_line("2103.00001", 1, [[name, "", ""]]) + "\n", encoding="utf-8")
    assert import_snapshot(engine, path).imported == 1
    with Session(engine) as session:
        assert author_names(session, "shenshen") == [name]


@pytest.mark.parametrize(
    ("authors", "expected"),
    [
        ("John Martin, Jr., Jane Doe", ("John Martin Jr.", "Jane Doe")),
        ("A. One, B. Two, III and C. Three", ("A. One", "B. Two III", "C. Three")),
        (
            "Laurens van der Maaten and Geoffrey Hinton",
            ("Laurens van der Maaten", "Geoffrey Hinton"),
        ),
    ],
)
def test_importer_keeps_suffixes_with_their_name(authors: str, expected: tuple[str, ...]) -> None:
    """The `authors` string (no authors_parsed): ', Jr.' is part of the name before it."""
    line: dict[str, Any] = json.loads(snapshot_line("2103.00001", 1, []))
    line.update(authors=authors, authors_parsed=None)
    assert parse_snapshot_line(json.dumps(line)).authors == expected


def test_upgrade_folds_the_stored_authors_again(db_url: str) -> None:
    """Migration 0005 adds the surname key and recomputes every author's keys with the rule
    of names.py (rows written by the old rule: 'Ł' kept, 'Jr.' as the last name)."""
    migrate.upgrade(db_url, "0004")
    engine = make_engine(db_url)
    old = [
        ("Łukasz Kaiser", "łukasz kaiser", "kaiser"),
        ("John Martin Jr.", "john martin jr.", "jr."),
        ("Laurens van der Maaten", "laurens van der maaten", "maaten"),
    ]
    with engine.begin() as connection:
        connection.execute(
            text("INSERT INTO author (name, folded_name, folded_last) VALUES (:n, :f, :l)"),
            [{"n": n, "f": f, "l": last} for n, f, last in old],
        )
    migrate.upgrade(db_url)
    try:
        with engine.connect() as connection:
            rows = connection.execute(
                text(
                    "SELECT name, folded_name, folded_last, folded_surname FROM author"
                    " ORDER BY folded_name"
                )
            ).all()
        assert [tuple(row) for row in rows] == [
            ("John Martin Jr.", "john martin jr.", "martin", "martin"),
            ("Laurens van der Maaten", "laurens van der maaten", "maaten", "vandermaaten"),
            ("Łukasz Kaiser", "lukasz kaiser", "kaiser", "kaiser"),
        ]
        with Session(engine) as session:
            assert author_names(session, "lukasz") == ["Łukasz Kaiser"]
            assert author_names(session, "van der") == ["Laurens van der Maaten"]
    finally:
        engine.dispose()
