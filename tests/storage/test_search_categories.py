"""`category:` searches: on SQLite the categories are a column of the FTS5 index (migration
0014), kept in step with paper_category by triggers; PostgreSQL checks paper_category."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import Engine, text

from hotpapers.storage import search
from hotpapers.storage.db import transaction
from hotpapers.storage.fulltext import category_token
from hotpapers.storage.records import PaperRecord
from hotpapers.storage.store import upsert_papers
from tests.storage.test_search import found, load, record


@pytest.fixture
def listed(engine: Engine, tmp_path: Path) -> Engine:
    """Three diffusion papers: cs.LG cross-listed to math.PR, math.PR alone, and cs.LG alone
    with the category's words ("math", "PR", "cs", "LG") in its title."""
    cross = record("2103.00101", 1, "Diffusion learning", "Score matching.")
    cross["categories"] = "cs.LG math.PR"
    alone = record("2103.00102", 2, "Diffusion probability", "Heat kernels.")
    alone["categories"] = "math.PR"
    words = record("2103.00103", 3, "Diffusion for math PR and cs LG", "Words only.")
    load(engine, tmp_path / "listed.jsonl", [cross, alone, words])
    return engine


def _check_index(engine: Engine) -> None:
    """SQLite: FTS5's own check that the index holds exactly what its content says."""
    if engine.dialect.name == "sqlite":
        with engine.begin() as connection:
            connection.execute(text("INSERT INTO paper_fts (paper_fts) VALUES ('integrity-check')"))


def test_a_category_filter_counts_cross_lists_and_not_title_words(listed: Engine) -> None:
    """A paper cross-listed to the category counts; a title with the category's words does not."""
    assert set(found(listed, "diffusion category:math.PR")) == {"2103.00102", "2103.00101"}
    assert set(found(listed, "diffusion category:cs.LG")) == {"2103.00103", "2103.00101"}
    assert found(listed, "math category:math.PR") == []
    assert found(listed, "math") == ["2103.00103"]  # words never match the categories
    assert set(found(listed, "diffusion -math")) == {"2103.00102", "2103.00101"}
    _check_index(listed)


def test_no_searched_word_matches_a_category_token(listed: Engine) -> None:
    """The index token of math.PR without its private-use mark is a word no paper has."""
    hex_word = category_token("math.PR").rstrip("\ue000").lower()
    assert hex_word.isalnum()
    assert found(listed, hex_word) == []
    assert len(found(listed, f"diffusion -{hex_word}")) == 3


def test_the_very_common_rule_keeps_the_category(
    listed: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Beyond _RANK_ALL matches (the newest ones, title first): still only the category's."""
    monkeypatch.setattr(search, "_RANK_ALL", 1)
    monkeypatch.setattr(search, "_WINDOW", 1)
    monkeypatch.setattr(search, "_PG_SURELY_MANY", 0)
    assert found(listed, "diffusion category:math.PR") == ["2103.00102"]
    assert found(listed, "score category:math.PR") == ["2103.00101"]
    monkeypatch.setattr(search, "_WINDOW", 2)
    assert found(listed, "learning category:math.PR") == ["2103.00101"]


def test_recategorised_and_new_papers_are_found_by_their_new_categories(listed: Engine) -> None:
    """The collector's writes (delete and insert of paper_category rows) keep the index."""
    moved = PaperRecord(
        arxiv_id="2103.00102",
        version=2,
        title="Diffusion probability",
        abstract="Heat kernels.",
        authors=("Jane Doe",),
        categories=("stat.ML", "cs.LG"),
        primary_category="stat.ML",
        submitted=datetime(2021, 3, 2, 10, tzinfo=UTC),
    )
    new = dataclasses.replace(moved, arxiv_id="2103.00104", version=1, categories=("math.PR",))
    new = dataclasses.replace(new, primary_category="math.PR", title="Diffusion again")
    with transaction(listed) as session:
        upsert_papers(session, [moved, new])
    assert set(found(listed, "diffusion category:math.PR")) == {"2103.00104", "2103.00101"}
    assert found(listed, "diffusion category:stat.ML") == ["2103.00102"]
    assert len(found(listed, "diffusion category:cs.LG")) == 3
    _check_index(listed)


def test_sqlite_writes_to_paper_category_by_hand_keep_the_index(listed: Engine) -> None:
    """Every trigger: a row inserted, moved to another paper, changed, and deleted."""
    if listed.dialect.name != "sqlite":
        pytest.skip("the FTS5 triggers are SQLite's")
    statements = [
        ("INSERT INTO paper_category (paper_id, position, category, submitted)"
         " VALUES ('2103.00103', 1, 'q-bio.NC', NULL)", ["2103.00103"]),
        ("UPDATE paper_category SET paper_id = '2103.00102', position = 5"
         " WHERE paper_id = '2103.00103' AND position = 1", ["2103.00102"]),
        ("UPDATE paper_category SET category = 'q-bio.QM' WHERE category = 'q-bio.NC'", []),
        ("DELETE FROM paper_category WHERE paper_id = '2103.00102'", []),
    ]  # fmt: skip
    for sql, in_nc in statements:
        with listed.begin() as connection:
            connection.execute(text(sql))
        _check_index(listed)
        assert found(listed, "diffusion category:q-bio.NC") == in_nc
    assert found(listed, "diffusion category:math.PR") == ["2103.00101"]


def test_an_import_into_a_filled_database_keeps_the_index(listed: Engine, tmp_path: Path) -> None:
    """The importer's incremental path (triggers, not a rebuild): new and re-listed papers."""
    again = record("2103.00102", 2, "Diffusion probability", "Heat kernels.")
    again["categories"] = "nlin.AO"
    again["versions"].append({"version": "v2", "created": "Mon, 5 Apr 2021 10:00:00 GMT"})
    fresh = record("2103.00105", 6, "Diffusion adapted", "Plain.")
    fresh["categories"] = "nlin.AO math.PR"
    load(listed, tmp_path / "again.jsonl", [again, fresh])
    assert set(found(listed, "diffusion category:nlin.AO")) == {"2103.00102", "2103.00105"}
    assert set(found(listed, "diffusion category:math.PR")) == {"2103.00101", "2103.00105"}
    _check_index(listed)


def test_sqlite_an_index_older_than_0014_gets_a_sentence(tmp_path: Path) -> None:
    """A category: search on a database not upgraded yet: the sentence, not a crash."""
    from hotpapers.errors import DatabaseError
    from hotpapers.storage import migrate
    from hotpapers.storage.db import make_engine

    url = f"sqlite:///{tmp_path / 'old.db'}"
    migrate.upgrade(url, "0013")
    engine = make_engine(url)
    try:
        assert found(engine, "diffusion") == []
        with pytest.raises(DatabaseError, match="run `hotpapers db upgrade`"):
            found(engine, "diffusion category:math.PR")
    finally:
        engine.dispose()
