"""The listing loader and /hot's `rank_listing` give exactly what `jobs.rank` gives."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import Engine
from sqlmodel import Session

from hotpapers.config import RankingSettings, Settings
from hotpapers.ranking.candidates import load_candidates, rank_listing
from hotpapers.service import use_cases as jobs
from hotpapers.storage.db import transaction
from hotpapers.storage.models import SignalSnapshot, SocialPost
from hotpapers.storage.records import PaperRecord
from hotpapers.storage.store import record_announcements, upsert_papers

DAY = date(2026, 11, 20)
NOW = datetime(2026, 11, 24, 12, tzinfo=UTC)
MEASURED = datetime(2026, 11, 22, tzinfo=UTC)


def _paper(n: int, categories: tuple[str, ...]) -> PaperRecord:
    return PaperRecord(
        arxiv_id=f"2611.{n:05d}",
        version=1,
        title=f"Paper {n}",
        abstract=f"Abstract {n}.",
        authors=(f"Author {n}", "Ada Lovelace"),
        categories=categories,
        primary_category=categories[0],
        submitted=datetime(2026, 11, 19, tzinfo=UTC) + timedelta(minutes=n),
    )


def _post(paper: int, post: str, author: str, likes: int, **extra: object) -> SocialPost:
    fields: dict[str, object] = {
        "source": "x",
        "post_id": post,
        "paper_id": f"2611.{paper:05d}",
        "author_id": author,
        "author_handle": f"@{author}",
        "text": f"read 2611.{paper:05d}",
        "url": f"https://x.com/{author}/status/{post}",
        "created_at": datetime(2026, 11, 21, tzinfo=UTC),
        "taken_at": MEASURED,
        "reposts": 5,
        "likes": likes,
    }
    fields.update(extra)
    return SocialPost(**fields)  # type: ignore[arg-type]


@pytest.fixture
def listing(engine: Engine) -> Engine:
    """Eight papers in cs.LG / cs.CV with posts (reposts, one author twice, a future post)
    and Hacker News snapshots (an older and a newer one, and one after NOW)."""
    records = [_paper(n, ("cs.LG",) if n % 2 else ("cs.CV", "cs.LG")) for n in range(1, 9)]
    rows: list[SocialPost | SignalSnapshot] = [
        _post(1, "a", "u1", 100),
        _post(1, "b", "u1", 300),  # same author: both posts count
        _post(1, "c", "u2", 900, is_repost=True),  # a repost never adds
        _post(2, "d", "u3", 250),
        _post(3, "e", "u4", 40),
        _post(4, "f", "u5", 5000, taken_at=NOW + timedelta(hours=1)),  # not measured yet
        _post(5, "g", "u6", 250),  # ties paper 2 on score and likes: the id decides
    ]
    for paper, taken, points in ((6, MEASURED, 10), (6, MEASURED + timedelta(hours=5), 70)):
        rows.append(
            SignalSnapshot(
                paper_id=f"2611.{paper:05d}",
                source="hn",
                taken_at=taken,
                metrics={"points": points},
            )
        )
    rows.append(
        SignalSnapshot(
            paper_id="2611.00007",
            source="hn",
            taken_at=NOW + timedelta(days=1),
            metrics={"points": 999},
        )
    )
    with transaction(engine) as session:
        upsert_papers(session, records)
        record_announcements(session, DAY, records, ["cs.LG", "cs.CV"])
        session.add_all(rows)
    return engine


RANKINGS = [
    RankingSettings(),
    RankingSettings(threshold=0, top=50),  # every paper, also those without any signal
    RankingSettings(weights={"x.likes": 1.0, "hn.points": 3.0}, threshold=1, decay_hours=36),
]


@pytest.mark.parametrize("ranking", RANKINGS)
@pytest.mark.parametrize("categories", [None, ["cs.CV"], ["cs.LG", "cs.CV"]])
def test_rank_listing_is_jobs_rank(
    listing: Engine, ranking: RankingSettings, categories: list[str] | None
) -> None:
    settings = Settings(ranking=ranking)
    expected = jobs.rank(settings, listing, DAY, now=NOW, categories=categories)
    for top in (None, 1, 3):
        with Session(listing) as session:
            got = rank_listing(session, ranking, DAY, NOW, top=top, categories=categories)
        if top is None:
            assert got == expected
        else:
            assert got == jobs.rank(settings, listing, DAY, now=NOW, top=top, categories=categories)
    assert all(r.paper.title and r.paper.abstract and r.paper.authors for r in expected)


def test_the_classic_score_and_its_order(listing: Engine) -> None:
    with Session(listing) as session:
        ranked = rank_listing(session, RankingSettings(threshold=1), DAY, NOW)
    assert [(r.paper.arxiv_id, r.score) for r in ranked] == [
        ("2611.00001", 410.0),  # both of u1's posts; the repost adds nothing
        ("2611.00002", 255.0),  # ties 00005: the lower id was later in the listing
        ("2611.00005", 255.0),
        ("2611.00003", 45.0),
    ]
    first = ranked[0]
    assert first.paper.authors == ("Author 1", "Ada Lovelace")
    assert first.paper.categories == ("cs.LG",)
    assert [p.post_id for p in first.posts] == ["b", "a"]
    assert first.counts_taken_at == MEASURED


def test_load_candidates_reads_every_listed_paper(listing: Engine) -> None:
    with Session(listing) as session:
        every = load_candidates(session, DAY, None, NOW)
        vision = load_candidates(session, DAY, ["cs.CV"], NOW)
        assert load_candidates(session, date(2026, 11, 19), None, NOW) == []
    assert [c.paper.arxiv_id for c in every] == [f"2611.{n:05d}" for n in range(1, 9)]
    assert [c.paper.arxiv_id for c in vision] == [
        "2611.00002",
        "2611.00004",
        "2611.00006",
        "2611.00008",
    ]
    by_id = {c.paper.arxiv_id: c for c in every}
    assert by_id["2611.00002"].paper.categories == ("cs.CV", "cs.LG")
    assert by_id["2611.00004"].posts == ()  # taken after NOW
    assert dict(by_id["2611.00006"].snapshots) == {"hn": {"points": 70.0}}  # the newest
    assert dict(by_id["2611.00007"].snapshots) == {}  # taken after NOW
    assert [p.post_id for p in by_id["2611.00001"].posts] == ["a", "b", "c"]
