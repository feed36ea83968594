"""A small archive for the site tests: two ranked days, a hostile paper, and settings."""

from __future__ import annotations

from datetime import UTC, date, datetime

from sqlalchemy import Engine

from hotpapers.config import Settings
from hotpapers.storage.db import transaction
from hotpapers.storage.models import SignalSnapshot, SocialPost, Tldr
from hotpapers.storage.records import PaperRecord
from hotpapers.storage.store import record_announcements, upsert_papers

OLDER = date(2026, 11, 19)  # a Thursday listing
NEWER = date(2026, 11, 20)  # the Friday after
NOW = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)
CATEGORIES = ["cs.LG", "cs.CV"]
HOSTILE_ID = "2611.00199"
HOSTILE_TITLE = (
    "<script>alert('t')</script></script> Attention & <b>bold</b> "
    "\u202eRTL override \u05e9\u05dc\u05d5\u05dd " + "x" * 6000
)
HOSTILE_ABSTRACT = '<img src=x onerror="alert(1)"> We show that </p><h1>nothing</h1> holds.'


def record(
    arxiv_id: str,
    title: str,
    categories: tuple[str, ...] = ("cs.LG",),
    abstract: str = "",
    authors: tuple[str, ...] = ("Ada Lovelace", "Alan Turing"),
) -> PaperRecord:
    return PaperRecord(
        arxiv_id=arxiv_id,
        version=1,
        title=title,
        abstract=abstract or f"We study {title.lower()}.",
        authors=authors,
        categories=categories,
        primary_category=categories[0],
        submitted=datetime(2026, 11, 18, tzinfo=UTC),
    )


# day -> [(record, likes, retweets)]; the score is likes + retweets.
DAYS: dict[date, list[tuple[PaperRecord, int, int]]] = {
    OLDER: [
        (record("2611.00101", "Scaling laws again", ("cs.LG", "cs.CV")), 400, 100),
        (record("2611.00102", "Seeing in the dark", ("cs.CV",)), 200, 50),
        (record("2611.00103", "Nobody read this"), 3, 0),  # under the threshold
    ],
    NEWER: [
        (record("2611.00201", "Diffusion for robots", ("cs.LG",)), 90, 30),
        (record("2611.00202", "Vision transformers, again", ("cs.CV", "cs.LG")), 700, 20),
        (
            record(
                HOSTILE_ID,
                HOSTILE_TITLE,
                ("cs.LG",),
                HOSTILE_ABSTRACT,
                ("\u05e9\u05dc\u05d5\u05dd <i>",),
            ),
            300,
            0,
        ),
    ],
}


def seed(engine: Engine) -> None:
    """Both days, one X post per paper (with its counts), and a Hacker News snapshot."""
    with transaction(engine) as session:
        for day, papers in DAYS.items():
            records = [item for item, _, _ in papers]
            upsert_papers(session, records)
            record_announcements(session, day, records, CATEGORIES)
            for item, likes, retweets in papers:
                hostile = item.arxiv_id == HOSTILE_ID
                session.add(
                    SocialPost(
                        source="x",
                        post_id=f"p{item.arxiv_id}",
                        paper_id=item.arxiv_id,
                        author_id=f"fan-{item.arxiv_id}",
                        author_handle=f"fan{item.arxiv_id[-3:]}",
                        text="<script>alert('post')</script> read this!" if hostile
                        else f"Great paper: {item.title}",
                        url="javascript:alert(1)" if hostile
                        else f"https://x.com/fan/status/{item.arxiv_id[-3:]}",
                        likes=likes,
                        reposts=retweets,
                        created_at=datetime(2026, 11, 21, tzinfo=UTC),
                        taken_at=datetime(2026, 11, 22, 6, 0, tzinfo=UTC),
                    )
                )  # fmt: skip
        session.add(
            SignalSnapshot(
                paper_id="2611.00202",
                source="hn",
                taken_at=datetime(2026, 11, 22, tzinfo=UTC),
                metrics={"points": 120, "comments": 45},
            )
        )
        # One paper has a TL;DR (hotpapers/tldr/); the others are shown without one.
        session.add(
            Tldr(
                paper_id="2611.00202", version=1, model="fake-mini",
                text="Plain vision transformers, trained longer, beat the tuned hybrids.",
            )
        )  # fmt: skip


def site_settings(**site: object) -> Settings:
    """Default settings with the test categories and an https base URL."""
    values: dict[str, object] = {"base_url": "https://papers.example.org/hot/", **site}
    return Settings(arxiv={"categories": CATEGORIES}, site=values)  # type: ignore[arg-type]


# The expected order: by score, best first (ties: more likes first).
EXPECTED = {
    NEWER: ["2611.00202", HOSTILE_ID, "2611.00201"],
    OLDER: ["2611.00101", "2611.00102"],
}
