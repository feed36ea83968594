"""Read-side queries, on SQLite and PostgreSQL, over data written by the importer."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, text
from sqlmodel import Session

from hotpapers.arxiv.importer import import_snapshot
from hotpapers.errors import InputError
from hotpapers.storage import queries
from hotpapers.storage.models import Announcement
from hotpapers.storage.queries import (
    author_names,
    get_paper,
    latest_in_category,
    papers_by_author,
    papers_for_listing,
)
from hotpapers.storage.search import search_papers


def line(
    arxiv_id: str,
    day: int,
    people: list[list[str]],
    categories: str,
    title: str = "A title",
    abstract: str = "An abstract.",
    versions: int = 1,
) -> str:
    stamps = [f"Mon, {day} Mar 2021 10:00:00 GMT", f"Tue, {day} Apr 2021 10:00:00 GMT"]
    return json.dumps(
        {
            "id": arxiv_id,
            "authors": "",
            "title": title,
            "abstract": abstract,
            "categories": categories,
            "versions": [{"version": f"v{n + 1}", "created": stamps[n]} for n in range(versions)],
            "authors_parsed": people,
        }
    )


KRAH = ["Krähenbühl", "Philipp", ""]
DOE = ["Doe", "Jane", ""]


@pytest.fixture
def loaded(engine: Engine, tmp_path: Path) -> Engine:
    lines = [
        line("2103.00001", 1, [KRAH, DOE], "cs.CV cs.LG", title="Objects as points", versions=2),
        line("2103.00002", 5, [DOE], "cs.LG", title="100% sure: a_b test", abstract="x_y and 50%"),
        line("2103.00003", 3, [["Krahn", "Otto", ""]], "cs.CV", title="Plain title"),
        line("hep-th/9901001", 2, [["Witten", "Edward", ""]], "hep-th", title="Old style"),
        line("2103.00004", 4, [["Smith", "Kraig", ""]], "math.GT cs.CV", title="1000 sure ab test"),
    ]
    path = tmp_path / "snap.json"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    import_snapshot(engine, path)
    return engine


def ids(items: list[Any]) -> list[str]:
    return [item.arxiv_id for item in items]


def test_get_paper(loaded: Engine) -> None:
    with Session(loaded) as session:
        paper = get_paper(session, "2103.00001v1")
        old = get_paper(session, "arXiv:hep-th/9901001")
        assert get_paper(session, "2103.99999") is None
    assert paper is not None and old is not None
    assert paper.authors == ("Philipp Krähenbühl", "Jane Doe")
    assert paper.categories == ("cs.CV", "cs.LG")
    assert paper.latest_version == 2
    assert [v.version for v in paper.versions] == [1, 2]
    assert paper.submitted == datetime(2021, 3, 1, 10, tzinfo=UTC)
    assert paper.updated == datetime(2021, 4, 1, 10, tzinfo=UTC)
    assert paper.versions[1].created == datetime(2021, 4, 1, 10, tzinfo=UTC)
    assert old.arxiv_id == "hep-th/9901001" and old.title == "Old style"


@pytest.mark.parametrize("query", ["krah", "KRÄH", "Krähenbühl", "philipp k", "  Philipp   KRA "])
def test_papers_by_author_folds(loaded: Engine, query: str) -> None:
    with Session(loaded) as session:
        found = papers_by_author(session, query)
    short = query.strip().lower() in ("krah", "kräh")  # "Otto Krahn" starts with "krah" too
    assert ids(found) == (["2103.00003", "2103.00001"] if short else ["2103.00001"])  # newest first
    assert found[-1].authors == ("Philipp Krähenbühl", "Jane Doe")


def test_papers_by_author_limits(loaded: Engine) -> None:
    with Session(loaded) as session:
        assert ids(papers_by_author(session, "doe", limit=1)) == ["2103.00002"]
        assert papers_by_author(session, "") == []
        assert papers_by_author(session, "%") == []
        assert ids(papers_by_author(session, "kraig s")) == ["2103.00004"]
        assert papers_by_author(session, "smith k") == []  # full name is "kraig smith"
        assert ids(papers_by_author(session, "kraig")) == ["2103.00004"]


def test_papers_by_ids_in_the_order_asked_with_authors_in_order(loaded: Engine) -> None:
    """Unknown ids are skipped, repeated ones listed once, each paper's authors in order, a
    paper without authors has none (the summaries and their authors come in one statement)."""
    from hotpapers.storage.records import PaperRecord
    from hotpapers.storage.store import upsert_papers

    bare = PaperRecord(
        arxiv_id="2103.00009",
        version=1,
        title="No authors",
        abstract="An abstract.",
        authors=(),
        categories=("cs.LG",),
        primary_category="cs.LG",
        submitted=datetime(2021, 3, 9, 10, tzinfo=UTC),
    )
    with Session(loaded) as session:
        upsert_papers(session, [bare])
        session.commit()
        found = queries.papers_by_ids(
            session, ["2103.00009", "2103.99999", "2103.00001", "2103.00009", "2103.00002"]
        )
    assert ids(found) == ["2103.00009", "2103.00001", "2103.00002"]
    assert [paper.authors for paper in found] == [
        (),
        ("Philipp Krähenbühl", "Jane Doe"),
        ("Jane Doe",),
    ]
    assert found[1].title == "Objects as points" and found[1].primary_category == "cs.CV"
    assert found[1].submitted == datetime(2021, 3, 1, 10, tzinfo=UTC)
    assert found[1].updated == datetime(2021, 4, 1, 10, tzinfo=UTC)
    assert found[1].latest_version == 2


def test_get_paper_of_a_paper_without_authors(loaded: Engine) -> None:
    """Authors, categories and versions come in one statement; an empty part stays empty."""
    with Session(loaded) as session:
        session.execute(text("DELETE FROM paper_author WHERE paper_id = '2103.00002'"))
        paper = get_paper(session, "2103.00002")
    assert paper is not None and paper.authors == ()
    assert paper.categories == ("cs.LG",) and [v.version for v in paper.versions] == [1]


def test_author_names(loaded: Engine) -> None:
    with Session(loaded) as session:
        assert author_names(session, "kra") == ["Kraig Smith", "Philipp Krähenbühl", "Otto Krahn"]
        assert author_names(session, "kra", limit=1) == ["Kraig Smith"]
        assert author_names(session, "_") == []


def test_latest_in_category(loaded: Engine) -> None:
    with Session(loaded) as session:
        assert ids(latest_in_category(session, "cs.CV")) == [
            "2103.00004",
            "2103.00003",
            "2103.00001",
        ]
        assert ids(latest_in_category(session, "cs.CV", limit=2)) == ["2103.00004", "2103.00003"]
        assert ids(latest_in_category(session, "hep-th")) == ["hep-th/9901001"]
        assert latest_in_category(session, "q-bio.NC") == []


def test_search_papers_wildcards_are_not_syntax(loaded: Engine) -> None:
    """Words, not substrings: `%` and `_` separate words (more in tests/storage/test_search.py)."""
    with Session(loaded) as session:
        assert ids(search_papers(session, "100%")) == ["2103.00002"]  # not "1000"
        assert ids(search_papers(session, "x_y 50%")) == ["2103.00002"]  # "50"
        assert sorted(ids(search_papers(session, "SURE test"))) == ["2103.00002", "2103.00004"]
        for nothing in ("a_b", "%%", "   "):  # one-letter words are dropped
            with pytest.raises(InputError, match="Please give some words to look for"):
                search_papers(session, nothing)


def test_papers_for_listing(loaded: Engine) -> None:
    day = date(2021, 3, 8)
    rows = [
        ("2103.00001", "cs.CV", "new"),
        ("2103.00001", "cs.LG", "cross"),
        ("2103.00004", "cs.CV", "cross"),
        ("2103.00002", "cs.LG", "replace"),
    ]
    with Session(loaded) as session:
        # The import dated each paper's first listing; this test lists its own rows instead.
        session.execute(text("DELETE FROM announcement"))
        for paper_id, category, kind in rows:
            session.add(
                Announcement(
                    listing_date=day, category=category, paper_id=paper_id, announce_type=kind
                )
            )
        session.add(
            Announcement(
                listing_date=date(2021, 3, 9),
                category="cs.CV",
                paper_id="2103.00003",
                announce_type="new",
            )
        )
        session.commit()
        listing = papers_for_listing(session, day)
        assert [(e.paper.arxiv_id, e.categories, e.announce_type) for e in listing] == [
            ("2103.00001", ("cs.CV", "cs.LG"), "new"),
            ("2103.00004", ("cs.CV",), "cross"),
            ("2103.00002", ("cs.LG",), "replace"),
        ]
        cv = papers_for_listing(session, day, categories=["cs.CV"], primary_only=True)
        assert [e.paper.arxiv_id for e in cv] == ["2103.00001"]
        lg = papers_for_listing(session, day, categories=["cs.LG"])
        assert [(e.paper.arxiv_id, e.announce_type) for e in lg] == [
            ("2103.00001", "cross"),
            ("2103.00002", "replace"),
        ]
        assert papers_for_listing(session, day, categories=[]) == []
        assert papers_for_listing(session, date(2021, 3, 10)) == []


def plans(engine: Engine, queries: list[tuple[str, dict[str, Any]]]) -> list[str]:
    """The query plans (SQLite EXPLAIN QUERY PLAN, PostgreSQL EXPLAIN) as text."""
    sqlite = engine.dialect.name == "sqlite"
    found = []
    with engine.connect() as connection:
        if not sqlite:
            connection.execute(text("ANALYZE"))
            # Tiny tables make a sequential scan cheapest: ask whether an index can serve.
            connection.execute(text("SET enable_seqscan = off"))
        for sql, params in queries:
            prefix = "EXPLAIN QUERY PLAN " if sqlite else "EXPLAIN "
            rows = connection.execute(text(prefix + sql), params).all()
            found.append("\n".join(str(row[-1]) for row in rows))
    return found


def test_queries_use_indexes(loaded: Engine) -> None:
    """The author, category and id lookups are index scans."""
    key = {"k": "krah", "t": "krah\U0010ffff"}
    author, category, paper, links = plans(
        loaded,
        [
            (
                "SELECT name FROM author WHERE folded_name >= :k AND folded_name < :t"
                " UNION SELECT name FROM author WHERE folded_surname >= :k"
                " AND folded_surname < :t"
                " UNION SELECT name FROM author WHERE folded_last >= :k AND folded_last < :t",
                key,
            ),
            (
                "SELECT paper_id FROM paper_category WHERE category = :c"
                " AND submitted IS NOT NULL ORDER BY submitted DESC LIMIT 20",
                {"c": "cs.CV"},
            ),
            ("SELECT title FROM paper WHERE id = :id", {"id": "hep-th/9901001"}),
            ("SELECT paper_id FROM paper_author WHERE author_name = :n", {"n": "Jane Doe"}),
        ],
    )
    assert "ix_author_folded_name" in author and "ix_author_folded_last" in author
    assert "ix_author_folded_surname" in author
    assert "ix_paper_category_latest" in category
    assert "TEMP B-TREE" not in category and "Sort" not in category  # index order, no sort
    assert "paper_pkey" in paper or "sqlite_autoindex_paper_1" in paper
    assert "ix_paper_author_latest" in links


@pytest.mark.parametrize("query", ["krah", "KRÄH", "doe", "smith k", "x", "k"])
def test_papers_by_author_matches_a_plain_join(loaded: Engine, query: str) -> None:
    """The per-author index walk gives what a plain join over all matching authors gives."""
    key = query.strip().lower().replace("ä", "a")
    surname = key.replace(" ", "")  # the surname key has letters and digits only
    with Session(loaded) as session:
        found = ids(papers_by_author(session, query))
        expected = (
            session.execute(
                text(
                    "SELECT DISTINCT p.id, p.submitted FROM paper p"
                    " JOIN paper_author pa ON pa.paper_id = p.id"
                    " JOIN author a ON a.name = pa.author_name"
                    " WHERE a.folded_name LIKE :k OR a.folded_last LIKE :k"
                    " OR a.folded_surname LIKE :s"
                    " ORDER BY p.submitted DESC, p.id DESC"
                ),
                {"k": key + "%", "s": surname + "%"},
            )
            .scalars()
            .all()
        )
    assert found == expected


def test_papers_by_author_caps_the_authors(loaded: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    """Beyond `_MAX_AUTHORS` matches, only the first authors author_names suggests count."""
    monkeypatch.setattr(queries, "_MAX_AUTHORS", 1)
    with Session(loaded) as session:
        # "kra": Kraig Smith (full name) first, then Philipp Krähenbühl and Otto Krahn.
        assert ids(papers_by_author(session, "kra")) == ["2103.00004"]
        assert ids(papers_by_author(session, "krah")) == ["2103.00001"]  # krahenbuhl < krahn


def test_papers_by_author_shared_and_repeated_authors(engine: Engine, tmp_path: Path) -> None:
    """A paper two matching authors share (or one author twice) is listed once."""
    lines = [
        line("2103.00001", 1, [DOE, ["Doey", "Jim", ""], DOE], "cs.LG"),
        line("2103.00002", 2, [DOE], "cs.LG"),
        line("2103.00003", 3, [["Doey", "Jim", ""]], "cs.LG"),
    ]
    path = tmp_path / "snap.json"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    import_snapshot(engine, path)
    with Session(engine) as session:
        assert ids(papers_by_author(session, "doe")) == ["2103.00003", "2103.00002", "2103.00001"]
        assert ids(papers_by_author(session, "doe", limit=2)) == ["2103.00003", "2103.00002"]
        assert ids(papers_by_author(session, "jane doe", limit=1)) == ["2103.00002"]


def test_papers_by_author_newest_paper_shared(engine: Engine, tmp_path: Path) -> None:
    """Both matching authors' newest paper is the same one: the older ones still fill up."""
    jim = ["Doey", "Jim", ""]
    lines = [
        line("2103.00001", 1, [DOE], "cs.LG"),
        line("2103.00002", 2, [jim], "cs.LG"),
        line("2103.00003", 3, [DOE, jim], "cs.LG"),
    ]
    path = tmp_path / "snap.json"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    import_snapshot(engine, path)
    with Session(engine) as session:
        assert ids(papers_by_author(session, "doe", limit=2)) == ["2103.00003", "2103.00002"]
        assert ids(papers_by_author(session, "doe", limit=3)) == [
            "2103.00003",
            "2103.00002",
            "2103.00001",
        ]
