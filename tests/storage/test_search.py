"""Full-text /search on SQLite (FTS5) and PostgreSQL (tsvector + GIN), fed by the importer."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, text
from sqlmodel import Session

from hotpapers.arxiv.importer import import_snapshot
from hotpapers.errors import DatabaseError, InputError
from hotpapers.storage import migrate, search
from hotpapers.storage.db import make_engine, transaction
from hotpapers.storage.records import PaperRecord
from hotpapers.storage.search import search_papers
from hotpapers.storage.search_query import parse_search
from hotpapers.storage.store import upsert_papers


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


def found(engine: Engine, words: str, limit: int = 20) -> list[str]:
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
    assert set(found(papers, "schrodinger")) == {"2103.00002", "2103.00001"}
    assert set(found(papers, "SCHRÖDINGER")) == {"2103.00002", "2103.00001"}


def test_words_are_stemmed(papers: Engine) -> None:
    """Old code: whole words only ("networks" did not find "network")."""
    assert found(papers, "transformer") == ["2103.00003"]
    assert set(found(papers, "networks")) == {"2103.00001", "2103.00003"}
    assert set(found(papers, "network")) == {"2103.00001", "2103.00003"}
    assert found(papers, "solved equations") == ["2103.00001"]
    assert found(papers, "netw") == []  # no prefix matching
    assert found(papers, "self-supervised") == ["2103.00004"]


def test_phrases_in_quotes_need_adjacent_words(engine: Engine, tmp_path: Path) -> None:
    load(engine, tmp_path / "phrases.jsonl", [
        record("2103.00010", 1, "Diffusion models for speech", "A model of diffusion."),
        record("2103.00011", 2, "Models of diffusion", "No adjacent pair here."),
        record("2103.00012", 3, "Latent diffusion model", "The same phrase, singular."),
    ])  # fmt: skip
    assert set(found(engine, "diffusion models")) == {"2103.00010", "2103.00011", "2103.00012"}
    assert set(found(engine, '"diffusion models"')) == {"2103.00010", "2103.00012"}
    assert found(engine, '"models diffusion"') == []
    assert set(found(engine, '"model of diffusion"')) == {"2103.00010", "2103.00011"}
    assert found(engine, '"diffusion models" speech') == ["2103.00010"]


def test_minus_excludes_words_and_phrases(papers: Engine) -> None:
    assert set(found(papers, "diffusion -bridges")) == {"2103.00003", "2103.00006"}
    assert found(papers, "diffusion -bridges -transformers") == ["2103.00006"]
    assert set(found(papers, 'diffusion -"later id"')) == {"2103.00002", "2103.00003"}
    assert set(found(papers, 'diffusion -"id later"')) == {"2103.00002", "2103.00003", "2103.00006"}


def test_filters_category_author_since(engine: Engine, tmp_path: Path) -> None:
    first = record("2103.00020", 1, "Graph networks", "Message passing.")
    second = record("2103.00021", 9, "Graph transformers", "Attention on graphs.")
    second["categories"] = "math.CO cs.LG"
    second["authors_parsed"] = [["van der Maaten", "Laurens", ""], ["Krähenbühl", "Philipp", ""]]
    load(engine, tmp_path / "filters.jsonl", [first, second])
    assert set(found(engine, "graph")) == {"2103.00020", "2103.00021"}
    assert found(engine, "graph category:math.CO") == ["2103.00021"]  # not only the primary
    assert found(engine, "graph category:MATH.co") == ["2103.00021"]
    assert found(engine, "graph category:cs.CV") == []
    assert found(engine, "graph author:maaten") == ["2103.00021"]
    assert found(engine, 'graph author:"Laurens van der"') == ["2103.00021"]
    assert found(engine, "graph author:krahenbuhl") == ["2103.00021"]
    with pytest.raises(
        InputError, match=r"^No stored paper has an author whose name starts with 'Nobody'; check"
    ):
        found(engine, "graph author:Nobody")  # old code: no papers, as if none matched
    assert found(engine, "graph since:2021-03-09") == ["2103.00021"]
    assert set(found(engine, "graph since:2021-03-01")) == {"2103.00020", "2103.00021"}
    assert found(engine, "graph since:2021-03-10") == []


def test_most_relevant_first_then_newest(engine: Engine, tmp_path: Path) -> None:
    """Old code: newest first whatever matched."""
    load(engine, tmp_path / "rank.jsonl", [
        record("2103.00030", 1, "Sparse attention", "Attention, attention and attention again."),
        record("2103.00031", 5, "Protein folding", "We also use attention, once."),
        record("2103.00032", 3, "Sparse attention", "Attention, attention and attention again."),
        record("2103.00033", 2, "Attention", "Attention is what we study here, attention."),
    ])  # fmt: skip
    ranked = found(engine, "attention")
    assert ranked[-1] == "2103.00031"  # once, in the abstract only: newest, yet last
    # Equal text scores equal: the newer one first.
    assert ranked.index("2103.00032") == ranked.index("2103.00030") - 1
    assert found(engine, "attention", limit=1) == ranked[:1]
    assert found(engine, "attention", limit=0) == []


def test_ties_are_broken_by_date_newest_first(engine: Engine, tmp_path: Path) -> None:
    """The same text scores the same: newest first, then the higher id (same time)."""
    load(engine, tmp_path / "ties.jsonl", [
        record(f"2103.0004{n}", day, "Quantum error correction", "Surface codes.", hour=hour)
        for n, (day, hour) in enumerate([(2, 10), (7, 10), (4, 10), (7, 10), (1, 10)])
    ])  # fmt: skip
    expected = ["2103.00043", "2103.00041", "2103.00042", "2103.00040", "2103.00044"]
    assert found(engine, "quantum codes") == expected
    assert found(engine, "quantum codes", limit=2) == expected[:2]


def test_a_very_common_search_looks_at_its_newest_matches_title_first(
    engine: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Beyond _RANK_ALL matches nothing is scored (that reads every match): of the newest
    _WINDOW matches, those with the words in the title come first, then the others, newest
    first in each. Old code: bm25/ts_rank_cd over the newest matches (~40 ms at 1M on SQLite
    for one common word, bm25 counting every paper with it)."""
    monkeypatch.setattr(search, "_RANK_ALL", 3)
    monkeypatch.setattr(search, "_WINDOW", 5)
    load(engine, tmp_path / "common.jsonl", [
        record("2103.00050", 1, "Lattice lattice lattice", "Lattice lattice."),  # oldest: out
        record("2103.00051", 2, "Lattice gauge theory", "On a lattice."),
        record("2103.00052", 3, "Gauge theory", "A lattice, lattice, lattice."),
        record("2103.00053", 4, "Lattice QCD", "Plain."),
        record("2103.00054", 5, "Spin models", "On a lattice."),
        record("2103.00055", 6, "Spin glasses", "On a lattice."),
    ])  # fmt: skip
    assert found(engine, "lattice") == [
        "2103.00053", "2103.00051", "2103.00055", "2103.00054", "2103.00052"
    ]  # fmt: skip
    assert found(engine, "lattice", limit=2) == ["2103.00053", "2103.00051"]
    assert found(engine, "lattice -qcd") == [  # five matches left, the oldest among them
        "2103.00051", "2103.00050", "2103.00055", "2103.00054", "2103.00052"
    ]  # fmt: skip
    # A phrase counts as in the title only when its words stand together there.
    assert found(engine, '"gauge theory" lattice')[:1] == ["2103.00051"]
    assert found(engine, '"lattice theory"') == []
    # Few matches: every match scored again (most lattice-heavy first).
    monkeypatch.setattr(search, "_RANK_ALL", 10)
    assert found(engine, "lattice")[:1] == ["2103.00050"]


def test_filters_apply_before_the_newest_matches_are_taken(
    engine: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(search, "_RANK_ALL", 1)
    monkeypatch.setattr(search, "_WINDOW", 2)
    records = [record(f"2103.0006{n}", 1 + n, "Lattice models", "Plain.") for n in range(5)]
    records[0]["categories"] = "hep-lat"
    records[1]["categories"] = "hep-lat"
    load(engine, tmp_path / "filtered.jsonl", records)
    assert found(engine, "lattice") == ["2103.00064", "2103.00063"]
    assert found(engine, "lattice category:hep-lat") == ["2103.00061", "2103.00060"]
    assert found(engine, "lattice since:2021-03-02") == ["2103.00064", "2103.00063"]


def test_filters_of_a_search_of_very_common_words(
    engine: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Words the database thinks very common (PostgreSQL: the planner's estimate; SQLite: a
    word in more than _COMMON_WORD papers): the category's newest papers are walked (PG),
    an author's papers all checked and scored, `since` and exclusions still hold."""
    monkeypatch.setattr(search, "_PG_SURELY_MANY", 0)
    monkeypatch.setattr(search, "_COMMON_WORD", 0)
    monkeypatch.setattr(search, "_RANK_ALL", 1)
    monkeypatch.setattr(search, "_WINDOW", 2)
    records = [
        record(f"2103.0008{n}", 1 + n, title, "Lattice field theory.")
        for n, title in enumerate(["Lattice A", "Gauge B", "Lattice C", "Gauge D", "Spin E"])
    ]
    for paper in records[:4]:
        paper["categories"] = "hep-lat"
    records[0]["authors_parsed"] = [["Wilson", "Kenneth", ""]]
    load(engine, tmp_path / "common.jsonl", records)
    assert found(engine, "lattice category:hep-lat") == ["2103.00082", "2103.00083"]
    assert found(engine, "lattice category:hep-lat -gauge") == ["2103.00082", "2103.00080"]
    assert found(engine, "lattice category:hep-lat since:2021-03-04") == ["2103.00083"]
    assert found(engine, "lattice author:wilson") == ["2103.00080"]
    assert found(engine, "lattice author:wilson category:math.CO") == []


def test_an_authors_papers_title_matches_first(engine: Engine, tmp_path: Path) -> None:
    """SQLite takes the authors' newest papers first (walking the words' matches to check
    each one's authors took seconds at 1M): those matching, title matches first, newest
    first; PostgreSQL scores them. Both put the title match first here."""
    records = [
        record("2103.00090", 1, "Lattice gauge theory", "Lattice."),
        record("2103.00091", 2, "Spin glasses", "On a lattice."),
        record("2103.00092", 3, "Spin glasses", "Nothing."),
        record("2103.00093", 4, "Lattice QCD", "By someone else."),
    ]
    for paper in records[:3]:
        paper["authors_parsed"] = [["Wilson", "Kenneth", ""]]
    load(engine, tmp_path / "author.jsonl", records)
    assert found(engine, "lattice author:wilson") == ["2103.00090", "2103.00091"]
    assert found(engine, "lattice author:wilson -gauge") == ["2103.00091"]


def test_sqlite_a_word_in_very_many_papers_is_not_scored(
    engine: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """SQLite's bm25() counts every paper with each word; a word in more than _COMMON_WORD
    papers (here 2) makes even a search with few matches take the newest-first rule.
    PostgreSQL's ts_rank_cd counts nothing: few matches are scored there."""
    monkeypatch.setattr(search, "_COMMON_WORD", 2)
    load(engine, tmp_path / "rare.jsonl", [
        record("2103.00070", 1, "Graph rewiring", "Graph graph graph, oversquashing."),
        record("2103.00071", 2, "Graph pooling", "Oversquashing once."),
        record("2103.00072", 3, "Graph sampling", "Plain."),
        record("2103.00073", 4, "Oversquashing", "Plain."),
    ])  # fmt: skip
    expected = {"sqlite": ["2103.00071", "2103.00070"], "postgresql": ["2103.00070", "2103.00071"]}
    assert found(engine, "graph oversquashing") == expected[engine.dialect.name]
    assert found(engine, "oversquashing")[0] == "2103.00073"  # a rare word alone: scored


HOSTILE = [
    "*", "diff*", "NEAR(a b)", "- diffusion", "(", ")", "%", "_", "%_%",
    "'; DROP TABLE paper; --", "title:diffusion", "^diffusion", "{x}", "a:b", "\\", "\x00",
    '"', '"quoted"', '"unclosed phrase', "diffusion -", "-(", "NOT", "OR", "AND", "   ", "",
    "category:", "author:", "since:", '-"', 'author:"', "author:-", "diffusion\x00bridges",
]  # fmt: skip


@pytest.mark.parametrize("words", HOSTILE)
def test_hostile_input_is_just_words(papers: Engine, words: str) -> None:
    """Syntax of FTS5, tsquery or LIKE is never interpreted: plain words, or one sentence."""
    expected = {
        "diff*": [],
        "- diffusion": ["2103.00006", "2103.00003", "2103.00002"],
        "diffusion -": ["2103.00006", "2103.00003", "2103.00002"],
        "title:diffusion": [],  # "title" is not in those papers
        "^diffusion": ["2103.00006", "2103.00003", "2103.00002"],
        '"quoted"': ["2103.00005"],
        '"unclosed phrase': [],
        "NEAR(a b)": ["2103.00005"],
        "diffusion\x00bridges": ["2103.00002"],
    }
    try:
        result = found(papers, words)
    except InputError as exc:
        assert words not in expected, exc
        assert str(exc).endswith("."), exc
        return
    assert sorted(result) == sorted(expected.get(words, []))


def test_stop_words_alone_get_a_sentence(papers: Engine) -> None:
    """Old code: "the of and" answered with papers that had those words (nearly all)."""
    for words in ("the of and", '"of the"', "The AND"):
        with pytest.raises(InputError, match="add a word about the topic"):
            found(papers, words)
    assert found(papers, "the bridges") == ["2103.00002"]  # next to a real word, ignored


def test_long_or_wordy_or_empty_searches_get_a_sentence(papers: Engine) -> None:
    with pytest.raises(
        InputError,
        match=r"^Searches can be up to 200 characters long, and this one has 5,444; keep",
    ):
        found(papers, "x" * 5444)
    with pytest.raises(InputError, match="up to 10 words, and this one has 11"):
        found(papers, " ".join(f"word{i}" for i in range(11)))
    with pytest.raises(InputError, match=r"^'diffusion' is both wanted and excluded"):
        found(papers, "diffusion models -diffusion")  # old code: walked every paper (PG, 6 s)
    with pytest.raises(InputError, match=r"^'neural network' is both wanted and excluded"):
        found(papers, '"neural network" -"neural network"')
    with pytest.raises(InputError, match="besides the -excluded ones"):
        found(papers, "-diffusion")
    with pytest.raises(InputError, match="next to the filters"):
        found(papers, "category:cs.LG")
    with pytest.raises(InputError, match="is not an arXiv category"):
        found(papers, "diffusion category:cs.XX")
    with pytest.raises(InputError, match="is not a date"):
        found(papers, "diffusion since:yesterday")
    assert parse_search("Ünïcode  ünïcode x_y 42").words == ("ünïcode", "42")
    assert len(parse_search("word " * 40).words) == 1  # repeats count once
    with pytest.raises(InputError, match="up to 200 characters long, and this one has 7,889"):
        found(papers, " ".join(f"word{i}" for i in range(1000)))  # a thousand words


def test_an_updated_title_is_found_and_the_old_one_is_not(papers: Engine, tmp_path: Path) -> None:
    v2 = record("2103.00003", 3, "Consistency distillation", "Scaling the network width.")
    v2["versions"].append({"version": "v2", "created": "Tue, 6 Apr 2021 10:00:00 GMT"})
    load(papers, tmp_path / "v2.jsonl", [v2])
    assert found(papers, "distillation") == ["2103.00003"]
    assert set(found(papers, "diffusion")) == {"2103.00006", "2103.00002"}
    assert found(papers, "width") == ["2103.00003"]  # the abstract is still indexed


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
    assert found(papers, "rectified") == ["2103.00099", "2103.00003"]  # same text and time: by id
    assert found(papers, "transformers") == []  # 2103.00003's old title


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
    """0003 then 0009 index the papers already there (0009 with stems and positions), new
    imports stay in sync, 0009 undoes to exactly 0003's objects, and what it creates is what
    hotpapers.storage.fulltext creates with the tables (tests, benchmarks)."""
    engine = migrated_to_0002
    insert_as_of_0003(engine, PAPERS[:3])
    migrate.upgrade(db_url, "0003")
    as_of_0003 = _fulltext_schema(engine)
    migrate.upgrade(db_url)
    assert set(found(engine, "schrodinger")) == {"2103.00002", "2103.00001"}
    assert found(engine, "transformer") == ["2103.00003"]  # stemmed
    assert found(engine, '"neural networks"') == ["2103.00001"]  # positions kept
    load(engine, tmp_path / "more.jsonl", PAPERS[3:])
    assert set(found(engine, "diffusion")) == {"2103.00006", "2103.00003", "2103.00002"}
    migrated = _fulltext_schema(engine)
    assert len(migrated) >= 2 and migrated != as_of_0003

    from alembic import command

    command.downgrade(migrate.alembic_config(db_url), "0008")
    assert _fulltext_schema(engine) == as_of_0003
    assert set(found_as_of_0003(engine, "rotation")) == {"2103.00004"}  # 0003's index, rebuilt
    migrate.upgrade(db_url)
    assert found(engine, "rotations") == ["2103.00004"]
    assert _fulltext_schema(engine) == migrated


def found_as_of_0003(engine: Engine, word: str) -> list[str]:
    """What 0003's index finds for one word (today's queries need 0009's objects)."""
    with engine.connect() as connection:
        if engine.dialect.name == "sqlite":
            sql = "SELECT rowid FROM paper_fts WHERE paper_fts MATCH :w"
            sql = f"SELECT id FROM paper WHERE rowid IN ({sql})"
        else:
            sql = "SELECT id FROM paper WHERE search_vector @@ to_tsquery('hotpapers_search', :w)"
        return list(connection.execute(text(sql), {"w": word}).scalars())


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
    """The `engine` fixture's create_all goes through hotpapers.storage.fulltext: same objects as
    0009."""
    schema = _fulltext_schema(engine)
    if engine.dialect.name == "sqlite":
        url = f"sqlite:///{tmp_path / 'migrated.db'}"
        migrate.upgrade(url)
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
        assert "hotpapers_english" in schema[0][1] and "strip" not in schema[0][1]
        assert "gin (search_vector)" in schema[1][1]
