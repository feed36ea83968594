"""/foryou's core: likes, ranking recent papers by them, reasons, and forgetting a user.

Vectors come from a `VectorLookup` built here from fixed topic directions (an input, as the
embedding store would give); everything else is the real code on SQLite and PostgreSQL.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta

import numpy as np
from sqlalchemy import Engine, text
from sqlmodel import Session, SQLModel

from hotpapers import foryou
from hotpapers.delivery import subscriptions as subs
from hotpapers.storage.db import transaction
from hotpapers.storage.models import Delivery, DeliveryThread
from hotpapers.storage.records import PaperRecord
from hotpapers.storage.store import upsert_papers

NOW = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)
ME, OTHER = 424242424242, 818181818181
TOPICS = {"vision": 0, "language": 1, "robots": 2, "graphs": 3}


def _paper(arxiv_id: str, title: str, days_ago: float, **extra: object) -> PaperRecord:
    fields: dict[str, object] = {
        "arxiv_id": arxiv_id,
        "version": 1,
        "title": title,
        "abstract": f"We study {title.lower()}.",
        "authors": ("Ada Lovelace",),
        "categories": ("cs.LG",),
        "primary_category": "cs.LG",
        "submitted": NOW - timedelta(days=days_ago),
    }
    fields.update(extra)
    return PaperRecord(**fields)  # type: ignore[arg-type]


# id -> (title, days ago, topic): liked papers are older than the window.
PAPERS = {
    "2610.00001": ("Old vision paper", 30, "vision"),
    "2610.00002": ("Old language paper", 30, "language"),
    "2610.00003": ("Old vision paper two", 31, "vision"),
    "2610.00004": ("Old vision paper three", 32, "vision"),
    "2611.00101": ("Recent vision paper", 1, "vision"),
    "2611.00102": ("Recent language paper", 2, "language"),
    "2611.00103": ("Recent robots paper", 3, "robots"),
    "2611.00104": ("Recent graphs paper on diffusion", 4, "graphs"),
    "2611.00105": ("Another recent vision paper", 5, "vision"),
    "2609.00100": ("Too old vision paper", 40, "vision"),
}


def _vector(topic: str, noise: int) -> np.ndarray:
    vector = np.full(8, 0.05 * noise, dtype=np.float32)
    vector[TOPICS[topic]] = 1.0
    return vector


VECTORS = {key: _vector(topic, n % 3) for n, (key, (_, _, topic)) in enumerate(PAPERS.items())}


def vectors(session: Session, ids: Sequence[str]) -> Mapping[str, np.ndarray]:
    return {key: VECTORS[key] for key in ids if key in VECTORS}


def _add_papers(engine: Engine) -> None:
    records = [_paper(key, title, days) for key, (title, days, _) in PAPERS.items()]
    records[7] = _paper("2611.00104", PAPERS["2611.00104"][0], 4, authors=("Yann Le Cun",))
    with transaction(engine) as session:
        upsert_papers(session, records)


def _subscribe(engine: Engine, user: int, kind: str, value: str, channel: int = 0) -> None:
    """A DM subscription of `user`, or (with `channel`) one they set up for a channel."""
    target = f"channel:{channel}" if channel else subs.dm_target(user)
    guild = 2000 if channel else None
    subs.subscribe(
        engine,
        target=target,
        guild_id=guild,
        channel_id=channel or None,
        user_id=user,
        kind=kind,
        value=value,
    )


def _picks(engine: Engine, user: int = ME, **options: object) -> foryou.ForYou:
    with Session(engine) as session:
        return foryou.recommend(session, user, NOW, vectors=vectors, **options)  # type: ignore[arg-type]


def test_a_user_with_no_history_gets_no_picks_and_a_sentence(engine: Engine) -> None:
    """Nothing liked: no picks, `likes.empty`, and the sentence says how to get picks."""
    _add_papers(engine)
    found = _picks(engine)
    assert found.picks == [] and found.likes.empty
    assert "⭐" in foryou.NO_HISTORY and "/subscribe" in foryou.NO_HISTORY


def test_a_star_toggles(engine: Engine) -> None:
    _add_papers(engine)
    assert foryou.toggle_star(engine, ME, "2610.00001", NOW) is True
    assert foryou.toggle_star(engine, ME, "2610.00001", NOW) is False
    with Session(engine) as session:
        assert foryou.likes_of(session, ME).papers == {}


def test_one_star_ranks_recent_papers_like_it_first_with_its_reason(engine: Engine) -> None:
    """Mean-of-likes cosine: the recent vision papers lead, each says which star it is like;
    papers outside the 7-day window and the starred paper itself are never picked."""
    _add_papers(engine)
    foryou.toggle_star(engine, ME, "2610.00001", NOW)
    found = _picks(engine)
    assert found.model == "profile"
    ids = [pick.arxiv_id for pick in found.picks]
    assert set(ids[:2]) == {"2611.00101", "2611.00105"}
    assert "2609.00100" not in ids and "2610.00001" not in ids
    assert found.picks[0].reason == "like 2610.00001 you starred"


def test_three_likes_train_the_linear_model(engine: Engine) -> None:
    """arxiv-sanity's idea (a linear classifier, likes against the week's papers)."""
    _add_papers(engine)
    for key in ("2610.00001", "2610.00003", "2610.00004"):
        foryou.toggle_star(engine, ME, key, NOW)
    found = _picks(engine)
    assert found.model == "linear"
    assert {p.arxiv_id for p in found.picks[:2]} == {"2611.00101", "2611.00105"}
    assert found.picks[0].reason.startswith("like 2610.0000")


def test_subscriptions_alone_pick_with_their_reason(engine: Engine) -> None:
    """No stars and no vectors: the user's keyword and author subscriptions pick, and say so;
    other users' subscriptions do not count."""
    _add_papers(engine)
    _subscribe(engine, ME, "keyword", "diffusion")
    _subscribe(engine, OTHER, "keyword", "robots", channel=3000)
    with Session(engine) as session:
        found = foryou.recommend(session, ME, NOW)  # no vectors at all
    assert found.model == "subscriptions"
    assert [(p.arxiv_id, p.reason) for p in found.picks] == [
        ("2611.00104", "matches your keyword “diffusion”")
    ]
    _subscribe(engine, ME, "author", "LeCun")
    with Session(engine) as session:
        [pick] = foryou.recommend(session, ME, NOW).picks
    assert pick.reason == "by LeCun, an author you follow"


def test_a_subscription_match_and_a_like_both_show(engine: Engine) -> None:
    """A paper like the star that also matches a keyword says both; a keyword match far
    from every like says only the keyword; papers far from the likes are not picked."""
    _add_papers(engine)
    foryou.toggle_star(engine, ME, "2610.00001", NOW)
    _subscribe(engine, ME, "keyword", "diffusion")
    _subscribe(engine, ME, "keyword", "another")
    found = [(p.arxiv_id, p.reason) for p in _picks(engine).picks]
    assert found == [
        ("2611.00105", "matches your keyword “another” · like 2610.00001 you starred"),
        ("2611.00101", "like 2610.00001 you starred"),
        ("2611.00104", "matches your keyword “diffusion”"),
    ]


def _deliver(engine: Engine, target: str, paper_id: str, message_id: str) -> None:
    with transaction(engine) as session:
        session.add(
            Delivery(
                target=target,
                listing_date=NOW.date(),
                paper_id=paper_id,
                state="sent",
                message_id=message_id,
                channel_id="5000",
            )
        )


def test_reactions_on_our_paper_messages_are_likes(engine: Engine) -> None:
    _add_papers(engine)
    _deliver(engine, "channel:3000", "2610.00002", "9001")
    assert foryou.record_reaction(engine, ME, 9001, "🔥", NOW) == "2610.00002"
    assert foryou.record_reaction(engine, ME, 9001, "🔥", NOW) == "2610.00002"  # idempotent
    assert foryou.record_reaction(engine, ME, 1234, "🔥", NOW) is None  # not our message
    found = _picks(engine)
    assert found.picks[0].arxiv_id == "2611.00102"
    assert found.picks[0].reason == "like 2610.00002 you reacted to"
    assert foryou.remove_reaction(engine, ME, 9001, "🔥") is True
    assert _picks(engine).likes.empty


def _rows_naming(engine: Engine, needle: str) -> list[str]:
    """Every row of every table with `needle` in any column, as "table: row"."""
    found = []
    with engine.connect() as connection:
        for table in SQLModel.metadata.sorted_tables:
            for row in connection.execute(table.select()):
                if any(needle in str(value) for value in row):
                    found.append(f"{table.name}: {tuple(row)}")
    return found


def test_forget_me_leaves_nothing_of_the_user_and_keeps_others(engine: Engine) -> None:
    """Stars, reactions, DM subscriptions and their ledger go; a channel subscription the user
    set up stays for the channel without their id; another user's data is untouched."""
    _add_papers(engine)
    for user in (ME, OTHER):
        foryou.toggle_star(engine, user, "2610.00001", NOW)
        _subscribe(engine, user, "keyword", "diffusion")
    _subscribe(engine, ME, "category", "cs.LG", channel=3000)
    _deliver(engine, "channel:3000", "2610.00002", "9001")
    _deliver(engine, subs.dm_target(ME), "2610.00002", "9002")
    with transaction(engine) as session:
        session.add(DeliveryThread(target=subs.dm_target(ME), listing_date=NOW.date()))
    foryou.record_reaction(engine, ME, 9001, "🔥", NOW)
    foryou.record_reaction(engine, OTHER, 9001, "🔥", NOW)
    before_others = _rows_naming(engine, str(OTHER))
    with Session(engine) as session:
        preview = foryou.what_would_be_forgotten(session, ME)

    done = foryou.forget(engine, ME)

    assert done == preview
    assert done == foryou.Forgotten(
        stars=1, reactions=1, subscriptions=1, deliveries=1, channel_subscriptions=1
    )
    assert _rows_naming(engine, str(ME)) == []
    assert _rows_naming(engine, str(OTHER)) == before_others
    with engine.connect() as connection:
        kept = connection.execute(text("SELECT target, user_id FROM subscription")).all()
    assert ("channel:3000", "") in [tuple(row) for row in kept]
    assert foryou.forget(engine, ME).nothing


# Titles and abstracts in three fields, for the real embedding model of /similar.
REAL = {
    "2610.00201": (
        "Denoising diffusion models for high-resolution image synthesis",
        "We train a latent diffusion model that generates photorealistic images from text "
        "prompts, improving sample quality with classifier-free guidance.",
        30,
    ),
    "2611.00201": (
        "Faster sampling for text-to-image diffusion models",
        "A distillation method lets image diffusion models generate pictures in four denoising "
        "steps while keeping image quality on standard benchmarks.",
        2,
    ),
    "2611.00202": (
        "Protein structure prediction with evolutionary couplings",
        "We predict the folded three-dimensional structure of proteins from amino acid "
        "sequences using coevolution statistics of homologous sequences.",
        1,
    ),
    "2611.00203": (
        "Dark matter halos in cosmological simulations",
        "N-body simulations of galaxy formation show how dark matter halos grow and merge "
        "across cosmic time.",
        3,
    ),
}


def test_real_embeddings_pick_the_paper_on_the_starred_topic(engine: Engine) -> None:
    """With /similar's stored vectors (WordLlama, offline): a star on an image-diffusion paper
    picks the week's image-diffusion paper, and not protein folding or cosmology."""
    from hotpapers.similar import embed_missing, vectors_for

    records = [
        _paper(key, title, days, abstract=abstract) for key, (title, abstract, days) in REAL.items()
    ]
    with transaction(engine) as session:
        upsert_papers(session, records)
    embed_missing(engine)
    foryou.toggle_star(engine, ME, "2610.00201", NOW)
    with Session(engine) as session:
        found = foryou.recommend(session, ME, NOW, vectors=vectors_for)
    assert [(p.arxiv_id, p.reason) for p in found.picks] == [
        ("2611.00201", "like 2610.00201 you starred")
    ]


def test_subscription_matching_keeps_delivery_rules_for_accents_and_whole_words(
    engine: Engine,
) -> None:
    """The cheap substring test before the full rule changes no answer: accents fold
    ("modele" finds "modèle", "krahenbuhl" finds Krähenbühl), whole words only ("GAN" is not
    in "organ"), plurals count ("GAN" finds "GANs")."""
    records = [
        _paper("2611.00301", "Un modèle de diffusion", 1),
        _paper("2611.00302", "Organ segmentation", 2),
        _paper("2611.00303", "Training GANs quickly", 3),
        _paper("2611.00304", "Optical flow", 4, authors=("Philipp Krähenbühl",)),
    ]
    with transaction(engine) as session:
        upsert_papers(session, records)
    _subscribe(engine, ME, "keyword", "modele")
    _subscribe(engine, ME, "keyword", "GAN")
    _subscribe(engine, ME, "author", "krahenbuhl")
    with Session(engine) as session:
        found = {p.arxiv_id: p.reason for p in foryou.recommend(session, ME, NOW).picks}
    assert found == {
        "2611.00301": "matches your keyword “modele”",
        "2611.00303": "matches your keyword “GAN”",
        "2611.00304": "by krahenbuhl, an author you follow",
    }
