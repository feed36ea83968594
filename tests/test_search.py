"""Full-text /search on SQLite (FTS5) and PostgreSQL (tsvector + GIN), fed by the importer."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, inspect, text
from sqlmodel import Session

from hotpapers import migrate, queries
from hotpapers.db import make_engine, transaction
from hotpapers.errors import DatabaseError, InputError
from hotpapers.importer import import_snapshot
from hotpapers.queries import search_papers, search_terms
from hotpapers.records import PaperRecord
from hotpapers.store import upsert_papers


def record(
    arxiv_id: str, day: int, title: str, abstract: str = "Nothing to see.", hour: int = 10
) -> dict[str, Any]:
    return {
        "id": arxiv_id,
        "authors": "",
        "title": title,
        "abstract": abstract,
        "categories": "cs.LG",
        "versions": [{"version": "v1", "created": f"Mon, {day} Mar 2021 {hour:02d}:00:00 GMT"}],
        "authors_parsed": [["Doe", "Jane", ""]],
    }


def load(engine: Engine, path: Path, records: list[dict[str, Any]]) -> None:
    path.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    import_snapshot(engine, path)


PAPERS = [
    record("2103.00001", 1, "Solving the Schrödinger equation", "With neural networks."),
    record("2103.00002", 2, "Schrodinger bridges", "A diffusion model, plainly."),
    record("2103.00003", 3, "Diffusion transformers", "Scaling the network width."),
    record("2103.00004", 4, "Self-supervised learning (of things)", "Pretext tasks: rotation."),
    record("2103.00005", 5, "NEAR OR NOT", 'About "quoted" words * and - signs (a AND b).'),
    record("2103.00006", 3, "Diffusion again", "Same day as 00003, later id."),
]


@pytest.fixture
def papers(engine: Engine, tmp_path: Path) -> Engine:
    load(engine, tmp_path / "snapshot.jsonl", PAPERS)
    return engine


def found(engine: Engine, words: str | list[str], limit: int = 20) -> list[str]:
    with Session(engine) as session:
        return [paper.arxiv_id for paper in search_papers(session, words, limit)]


def test_words_in_title_or_abstract_all_required(papers: Engine) -> None:
    assert found(papers, "bridges") == ["2103.00002"]  # title
    assert found(papers, "PRETEXT rotation") == ["2103.00004"]  # abstract, any case
    assert found(papers, "diffusion model") == ["2103.00002"]  # title and abstract words
    assert found(papers, "diffusion bridges scaling") == []  # every word must occur
    assert found(papers, "zzqxv") == []


def test_accents_do_not_matter(papers: Engine) -> None:
    if papers.dialect.name == "postgresql":
        with papers.connect() as connection:
            installed = connection.execute(
                text("SELECT count(*) FROM pg_extension WHERE extname = 'unaccent'")
            ).scalar()
        if not installed:
            pytest.skip("unaccent is not available on this server: accents matter there")
    assert found(papers, "schrodinger") == ["2103.00002", "2103.00001"]
    assert found(papers, "SCHRÖDINGER") == ["2103.00002", "2103.00001"]


def test_whole_words_without_stemming(papers: Engine) -> None:
    assert found(papers, "network") == ["2103.00003"]
    assert found(papers, "networks") == ["2103.00001"]
    assert found(papers, "netw") == []  # no prefix matching
    assert found(papers, "self supervised") == ["2103.00004"]
    assert found(papers, "self-supervised") == ["2103.00004"]


def test_newest_first_then_by_id(papers: Engine) -> None:
    assert found(papers, "diffusion") == ["2103.00006", "2103.00003", "2103.00002"]
    assert found(papers, "diffusion", limit=2) == ["2103.00006", "2103.00003"]
    assert found(papers, "diffusion", limit=0) == []


HOSTILE = [
    '"', '"quoted"', "*", "diff*", "NEAR(a b)", "-", "- diffusion", "OR", "a OR b", "(", ")",
    "()", "%", "_", "%_%", "'; DROP TABLE paper; --", "title:diffusion", "^diffusion", "{x}",
    "a:b", "\\", "NOT", "AND", "\x00", "   ", "",
]  # fmt: skip


@pytest.mark.parametrize("words", HOSTILE)
def test_hostile_input_is_just_words(papers: Engine, words: str) -> None:
    """Syntax of FTS5, tsquery or LIKE is never interpreted; what is left are plain words."""
    expected = {
        "diff*": [],
        "- diffusion": ["2103.00006", "2103.00003", "2103.00002"],
        "title:diffusion": [],  # "title" is not in those papers
        "^diffusion": ["2103.00006", "2103.00003", "2103.00002"],
        "a OR b": ["2103.00005"],  # one-letter words are dropped; "or" is a word here
        "OR": ["2103.00005"],
        "NOT": ["2103.00005"],
        "AND": ["2103.00005"],
        '"quoted"': ["2103.00005"],
        "NEAR(a b)": ["2103.00005"],
    }
    assert found(papers, words) == expected.get(words, [])
    if not search_terms(words):  # nothing but syntax: next to real words, it changes nothing
        assert found(papers, [words, 'near*"(signs']) == ["2103.00005"]


def test_too_long_or_too_many_words_is_refused(papers: Engine) -> None:
    with pytest.raises(InputError, match="at most 300 characters"):
        found(papers, "diffusion " * 600)
    with pytest.raises(InputError, match="at most 10 words"):
        found(papers, " ".join(f"word{i}" for i in range(11)))
    assert search_terms("Ünïcode  ünïcode x_y 42") == ["ünïcode", "42"]


def test_an_updated_title_is_found_and_the_old_one_is_not(papers: Engine, tmp_path: Path) -> None:
    v2 = record("2103.00003", 3, "Consistency distillation", "Scaling the network width.")
    v2["versions"].append({"version": "v2", "created": "Tue, 6 Apr 2021 10:00:00 GMT"})
    load(papers, tmp_path / "v2.jsonl", [v2])
    assert found(papers, "distillation") == ["2103.00003"]
    assert found(papers, "diffusion") == ["2103.00006", "2103.00002"]
    assert found(papers, "network") == ["2103.00003"]  # the abstract is still indexed


def test_the_collectors_writes_keep_the_index(papers: Engine) -> None:
    """Collection writes through the ORM (store.upsert_papers), not the importer."""
    fresh = PaperRecord(
        arxiv_id="2103.00003",
        version=2,
        title="Flow matching",
        abstract="Rectified flows.",
        authors=("Jane Doe",),
        categories=("cs.LG",),
        primary_category="cs.LG",
        submitted=datetime(2021, 3, 3, 10, tzinfo=UTC),
    )
    new = dataclasses.replace(fresh, arxiv_id="2103.00099", version=1, title="Straight paths")
    with transaction(papers) as session:
        upsert_papers(session, [fresh, new])
    assert found(papers, "flow matching") == ["2103.00003"]  # the new title
    assert found(papers, "rectified") == ["2103.00099", "2103.00003"]  # same time: by id
    assert found(papers, "transformers") == []  # 2103.00003's old title


@pytest.fixture
def small_steps(monkeypatch: pytest.MonkeyPatch) -> None:
    """Tiny thresholds, so that a few dozen papers take every one of the three steps."""
    monkeypatch.setattr(queries, "_SEARCH_FEW", 5)
    monkeypatch.setattr(queries, "_SEARCH_WINDOW", 10)
    monkeypatch.setattr(queries, "_SEARCH_WINDOW_PG", 10)


def test_every_search_step_gives_the_newest_matches(
    small_steps: None, engine: Engine, tmp_path: Path
) -> None:
    """Common words (step 2), words common only long ago (step 3) and rare words (step 1)
    give the same answer as sorting every match."""
    records = []
    for n in range(40):
        words = ["common"] + (["ancient"] if n < 12 else []) + (["rare"] if n % 17 == 0 else [])
        day, hour = 1 + n // 4, 8 + n % 4 if n % 7 else 9  # ties on some submission times
        records.append(record(f"2103.{n:05d}", day, " ".join(words), hour=hour))
    load(engine, tmp_path / "many.jsonl", records)

    def newest(word: str, limit: int) -> list[str]:
        matching = [r for r in records if word in r["title"].split()]
        matching.sort(key=lambda r: (_when(r), r["id"]), reverse=True)
        return [r["id"] for r in matching[:limit]]

    for word in ("common", "ancient", "rare"):
        for limit in (1, 3, 8, 50):
            assert found(engine, word, limit) == newest(word, limit), (word, limit)


def _when(r: dict[str, Any]) -> datetime:
    return datetime.strptime(r["versions"][0]["created"][5:-4], "%d %b %Y %X")


def _fulltext_schema(engine: Engine) -> list[Any]:
    with engine.connect() as connection:
        if engine.dialect.name == "sqlite":
            rows = connection.execute(
                text(
                    "SELECT type, name, sql FROM sqlite_master"
                    " WHERE name LIKE 'paper_fts%' ORDER BY name"
                )
            )
        else:
            rows = connection.execute(
                text(
                    "SELECT column_name, generation_expression FROM information_schema.columns"
                    " WHERE table_name = 'paper' AND column_name = 'search_vector'"
                    " UNION ALL SELECT indexname, indexdef FROM pg_indexes"
                    " WHERE indexname = 'ix_paper_search'"
                )
            )
        return [tuple(row) for row in rows]


@pytest.fixture
def migrated_to_0002(db_url: str) -> Iterator[Engine]:
    migrate.upgrade(db_url, "0002")
    engine = make_engine(db_url)
    yield engine
    engine.dispose()


def test_migration_backfills_and_matches_create_all(
    migrated_to_0002: Engine, db_url: str, tmp_path: Path
) -> None:
    """0003 indexes the papers already there, keeps new imports in sync, undoes cleanly, and
    creates what hotpapers.fulltext creates with the tables (tests, benchmarks)."""
    engine = migrated_to_0002
    insert_as_of_0003(engine, PAPERS[:3])
    migrate.upgrade(db_url, "0003")
    assert found(engine, "schrodinger") == ["2103.00002", "2103.00001"]
    insert_as_of_0003(engine, PAPERS[3:])
    assert found(engine, "diffusion") == ["2103.00006", "2103.00003", "2103.00002"]
    migrated = _fulltext_schema(engine)
    assert len(migrated) >= 2

    from alembic import command

    command.downgrade(migrate.alembic_config(db_url), "0002")
    assert _fulltext_schema(engine) == []
    assert "paper_fts" not in inspect(engine).get_table_names()
    migrate.upgrade(db_url, "0003")
    assert found(engine, "rotation") == ["2103.00004"]
    assert _fulltext_schema(engine) == migrated


def insert_as_of_0003(engine: Engine, records: list[dict[str, Any]]) -> None:
    """Papers written as a program of that schema would: the paper table's columns of 0003.
    (Today's importer writes columns later migrations added, which 0002/0003 lack.)"""
    from email.utils import parsedate_to_datetime

    rows = [
        {"id": r["id"], "title": r["title"], "abstract": r["abstract"], "primary": "cs.LG",
         "submitted": parsedate_to_datetime(r["versions"][0]["created"]).replace(tzinfo=None)}
        for r in records
    ]  # fmt: skip
    with engine.begin() as connection:
        connection.execute(
            text("INSERT INTO paper (id, latest_version, title, abstract, primary_category, "
                 "submitted) VALUES (:id, 1, :title, :abstract, :primary, :submitted)"),
            rows,
        )  # fmt: skip


def test_a_database_without_the_index_gets_a_sentence(migrated_to_0002: Engine) -> None:
    with pytest.raises(DatabaseError, match="run `hotpapers db upgrade`"):
        found(migrated_to_0002, "diffusion")


def test_create_all_makes_the_same_index(engine: Engine, tmp_path: Path) -> None:
    """The `engine` fixture's create_all goes through hotpapers.fulltext: same objects as 0003."""
    schema = _fulltext_schema(engine)
    if engine.dialect.name == "sqlite":
        url = f"sqlite:///{tmp_path / 'migrated.db'}"
        migrate.upgrade(url, "0003")
        other = make_engine(url)
        assert schema == _fulltext_schema(other)
        other.dispose()
        assert {name for kind, name, _ in schema if kind == "trigger"} == {
            "paper_fts_insert",
            "paper_fts_delete",
            "paper_fts_update",
        }
    else:
        assert [name for name, _ in schema] == ["search_vector", "ix_paper_search"]
        assert "hotpapers_search" in schema[0][1]
        assert "gin (search_vector)" in schema[1][1]
