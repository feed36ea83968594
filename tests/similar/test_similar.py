"""Similar papers (#13 §2): vectors stored per paper, nearest neighbours, one-sentence refusals."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from datetime import UTC, datetime

import numpy as np
import pytest
from sqlalchemy import Engine
from sqlmodel import Session

from hotpapers.similar import (
    DIMENSIONS,
    SIMILARITY_FLOOR,
    embed_missing,
    embed_texts,
    nearest,
    paper_text,
    similar_to,
    vectors_for,
)
from hotpapers.storage.db import transaction
from hotpapers.storage.records import PaperRecord
from hotpapers.storage.store import upsert_papers

TOPICS = {
    "graphs": (
        "Graph neural networks for molecular property prediction",
        "Message passing on molecular graphs predicts chemical properties of molecules.",
    ),
    "cosmology": (
        "Dark matter halo profiles in cosmological simulations",
        "We measure the density profiles of dark matter halos in N-body simulations of the "
        "universe and compare them with galaxy rotation curves.",
    ),
    "quantum": (
        "Error correction for superconducting qubits",
        "A surface code on superconducting quantum processors lowers logical error rates.",
    ),
}


def paper(arxiv_id: str, topic: str, variant: int, **extra: object) -> PaperRecord:
    title, abstract = TOPICS[topic]
    fields: dict[str, object] = {
        "arxiv_id": arxiv_id,
        "version": 1,
        "title": f"{title} ({variant})" if variant else title,
        "abstract": abstract if variant % 2 == 0 else abstract.replace(".", " again."),
        "authors": (f"Author {topic}",),
        "categories": ("cs.LG",),
        "primary_category": "cs.LG",
        "submitted": datetime(2026, 11, 1 + variant, tzinfo=UTC),
    }
    fields.update(extra)
    return PaperRecord(**fields)  # type: ignore[arg-type]


def store(engine: Engine, records: list[PaperRecord]) -> None:
    with transaction(engine) as session:
        upsert_papers(session, records)


@pytest.fixture
def topical(engine: Engine) -> Engine:
    """Three papers on each of three topics, not yet embedded."""
    records = [
        paper(f"2611.{10 * t + v:05d}", topic, v)
        for t, topic in enumerate(TOPICS)
        for v in range(3)
    ]
    store(engine, records)
    return engine


def test_the_model_loads_and_embeds_with_no_network() -> None:
    """A fresh process whose sockets all refuse to connect loads the model and embeds."""
    guard = textwrap.dedent(
        """
        import socket
        def refuse(*args, **kwargs):
            raise RuntimeError("network call attempted")
        socket.socket.connect = refuse
        socket.socket.connect_ex = refuse
        socket.create_connection = refuse
        socket.getaddrinfo = refuse
        from hotpapers.similar import embed_texts
        vectors = embed_texts(["graph neural networks", "dark matter halos"])
        print(vectors.shape)
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", guard], capture_output=True, text=True, timeout=120, check=False
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == f"(2, {DIMENSIONS})"


def test_texts_become_unit_vectors_that_know_topics() -> None:
    """Same topic in other words scores higher than another topic."""
    vectors = embed_texts(
        [
            "graph neural networks for molecules",
            "message passing on molecular graphs",
            "dark matter halo density profiles",
        ]
    )
    assert vectors.shape == (3, DIMENSIONS) and vectors.dtype == np.float32
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1, atol=1e-3)
    assert vectors[0] @ vectors[1] > vectors[0] @ vectors[2]


def test_embed_missing_stores_each_paper_once(topical: Engine) -> None:
    """The first run embeds every paper; a second finds none missing."""
    first = embed_missing(topical, batch_size=4)
    assert first.embedded == 9
    assert embed_missing(topical).embedded == 0
    with Session(topical) as session:
        vectors = vectors_for(session, ["2611.00000", "2611.00010", "2699.99999"])
    assert set(vectors) == {"2611.00000", "2611.00010"}
    assert abs(float(np.linalg.norm(vectors["2611.00000"])) - 1) < 1e-2


def test_nearest_papers_share_the_topic(topical: Engine) -> None:
    """A paper's two nearest are the other two on its topic; the paper itself is left out."""
    embed_missing(topical)
    with Session(topical) as session:
        query = vectors_for(session, ["2611.00010"])["2611.00010"]
    found = nearest(topical, query, k=2, exclude={"2611.00010"})
    assert {n.paper_id for n in found} == {"2611.00011", "2611.00012"}
    assert found[0].score >= found[1].score


def test_nearest_since_keeps_newer_papers_only(topical: Engine) -> None:
    """`since` leaves out papers submitted before it."""
    embed_missing(topical)
    query = embed_texts([" ".join(TOPICS["quantum"])])[0]
    found = nearest(topical, query, k=9, since=datetime(2026, 11, 3, tzinfo=UTC))
    assert {n.paper_id for n in found} == {"2611.00002", "2611.00012", "2611.00022"}


def test_a_paper_embedded_later_is_found_by_a_loaded_index(topical: Engine) -> None:
    """The in-process index picks up vectors added after it was loaded."""
    embed_missing(topical)
    query = embed_texts([" ".join(TOPICS["cosmology"])])[0]
    assert "2611.00099" not in {n.paper_id for n in nearest(topical, query, k=9)}
    store(topical, [paper("2611.00099", "cosmology", 4)])
    assert embed_missing(topical).embedded == 1
    assert nearest(topical, query, k=1)[0].paper_id in {"2611.00099", "2611.00010"}
    assert "2611.00099" in {n.paper_id for n in nearest(topical, query, k=4)}


def test_embedding_named_papers_again_replaces_their_vectors(topical: Engine) -> None:
    """A collect re-embeds the papers it wrote: a changed abstract moves the vector."""
    embed_missing(topical)
    with Session(topical) as session:
        before = vectors_for(session, ["2611.00000"])["2611.00000"]
    store(topical, [paper("2611.00000", "cosmology", 0)])
    assert embed_missing(topical, ["2611.00000", "2699.00001"]).embedded == 1
    with Session(topical) as session:
        after = vectors_for(session, ["2611.00000"])["2611.00000"]
    assert float(before @ after) < 0.9
    query = embed_texts([" ".join(TOPICS["cosmology"])])[0]
    assert "2611.00000" in {n.paper_id for n in nearest(topical, query, k=4)}


def test_similar_to_lists_neighbours_with_summaries(topical: Engine) -> None:
    embed_missing(topical)
    result = similar_to(topical, "2611.00020", k=2)
    assert result.sentence is None and result.paper is not None
    assert [s.arxiv_id for s, _ in result.neighbours] == sorted(
        [s.arxiv_id for s, _ in result.neighbours],
        key=lambda i: -dict((s.arxiv_id, x) for s, x in result.neighbours)[i],
    )
    assert {s.arxiv_id for s, _ in result.neighbours} == {"2611.00021", "2611.00022"}


def test_unknown_paper_and_paper_without_vector_are_one_sentence(topical: Engine) -> None:
    unknown = similar_to(topical, "2699.00001")
    assert unknown.paper is None and unknown.sentence is not None
    assert unknown.sentence.startswith("arXiv:2699.00001 is not in the database yet")
    bare = similar_to(topical, "2611.00000")
    assert bare.paper is not None and bare.sentence is not None
    assert "has no content vector yet" in bare.sentence and "\n" not in bare.sentence


def test_the_faster_tokenizer_cuts_abstracts_into_the_same_tokens() -> None:
    """The pre-tokenizer hotpapers adds changes the speed, not the tokens."""
    from tokenizers import Tokenizer

    from hotpapers.similar._model import model

    ours = model().tokenizer
    shipped = Tokenizer.from_str(ours.to_str())
    shipped.pre_tokenizer = None
    texts = [
        paper_text(title, abstract + " Schrödinger's ∇·E = ρ/ε₀, 3.5% (GNNs) naïve-ly.")
        for title, abstract in TOPICS.values()
    ]
    assert [e.ids for e in ours.encode_batch(texts)] == [e.ids for e in shipped.encode_batch(texts)]


def test_only_papers_close_enough_are_listed(topical: Engine) -> None:
    """A paper's own topic passes the floor; the other topics (cosine near 0) never pad the
    list up to `k`."""
    embed_missing(topical)
    result = similar_to(topical, "2611.00020", k=5)
    assert result.sentence is None
    assert {s.arxiv_id for s, _ in result.neighbours} == {"2611.00021", "2611.00022"}
    assert all(score >= SIMILARITY_FLOOR for _, score in result.neighbours)


def test_nothing_close_enough_is_one_sentence(engine: Engine) -> None:
    """On a tiny database of unrelated papers the answer says so instead of listing them."""
    store(engine, [paper("2611.00001", "graphs", 0), paper("2611.00002", "cosmology", 0)])
    store(engine, [paper("2611.00003", "quantum", 0)])
    embed_missing(engine)
    result = similar_to(engine, "2611.00001", k=5)
    assert result.paper is not None and result.neighbours == []
    assert result.sentence == (
        "No stored paper is close enough to arXiv:2611.00001 by title and abstract "
        "(none reaches a similarity of 0.20)."
    )


def test_similar_to_searches_with_the_stored_vector(topical: Engine) -> None:
    """The query vector (taken from the in-process index) is the table's: the neighbours and
    their scores are exactly those of a search with the vector read from the table."""
    embed_missing(topical)
    result = similar_to(topical, "2611.00020", k=8)
    with Session(topical) as session:
        stored = vectors_for(session, ["2611.00020"])["2611.00020"]
    expected = [
        (n.paper_id, n.score)
        for n in nearest(topical, stored, k=8, exclude={"2611.00020"})
        if n.score >= SIMILARITY_FLOOR
    ]
    assert [(s.arxiv_id, score) for s, score in result.neighbours] == expected


def test_a_vector_the_index_missed_is_read_from_the_table(topical: Engine) -> None:
    """A row committed with an `added_at` older than the index's margin is not loaded into a
    loaded index; /similar for that paper still finds its neighbours."""
    from sqlalchemy import update
    from sqlmodel import col

    from hotpapers.similar._index import _index_for
    from hotpapers.storage.models import PaperVector

    embed_missing(topical, [f"2611.{n:05d}" for n in (0, 1, 2, 10, 11, 12, 20, 21)])
    similar_to(topical, "2611.00020")  # loads the index
    embed_missing(topical, ["2611.00022"])
    with transaction(topical) as session:
        session.execute(
            update(PaperVector)
            .where(col(PaperVector.paper_id) == "2611.00022")
            .values(added_at=datetime(2000, 1, 1, tzinfo=UTC))
        )
    result = similar_to(topical, "2611.00022", k=2)
    assert _index_for(topical).vector_of("2611.00022") is None
    assert {s.arxiv_id for s, _ in result.neighbours} == {"2611.00020", "2611.00021"}


def test_a_lookup_leaves_pooled_connections_transactional(topical: Engine) -> None:
    """similar_to reads without a transaction; the connections it hands back to the pool
    roll back again afterwards."""
    from sqlalchemy import text

    embed_missing(topical)
    similar_to(topical, "2611.00020")
    for _ in range(3):  # whichever pooled connection comes next
        with Session(topical) as session:
            session.execute(text("UPDATE paper SET title = 'changed' WHERE id = '2611.00000'"))
            session.rollback()
            assert (
                session.execute(
                    text("SELECT title FROM paper WHERE id = '2611.00000'")
                ).scalar_one()
                == TOPICS["graphs"][0]
            )
