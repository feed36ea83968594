"""A ranked listing seeded straight into the database: the papers, their announcement on one
day, and one original X post each with its likes (the score is likes + reposts, reposts 0).
Shared by the tests of what is made from a day's ranking (the X summary, the TL;DRs)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime

from sqlalchemy import Engine

from hotpapers.storage.db import transaction
from hotpapers.storage.models import SocialPost
from hotpapers.storage.records import PaperRecord
from hotpapers.storage.store import record_announcements, upsert_papers


def seed_x_listing(
    engine: Engine, day: date, categories: Sequence[str], papers: Sequence[tuple[PaperRecord, int]]
) -> None:
    """`papers`: each record with the likes of the one X post that links it."""
    records = [paper for paper, _ in papers]
    with transaction(engine) as session:
        upsert_papers(session, records)
        record_announcements(session, day, records, list(categories))
        for paper, likes in papers:
            arxiv_id = paper.arxiv_id
            session.add(
                SocialPost(
                    source="x", post_id=f"p{arxiv_id}", paper_id=arxiv_id,
                    author_id=f"fan-{arxiv_id}", author_handle="fan", text="read this",
                    url=f"https://x.com/fan/status/{arxiv_id[-3:]}", likes=likes, reposts=0,
                    created_at=datetime(2026, 11, 21, tzinfo=UTC),
                    taken_at=datetime(2026, 11, 22, tzinfo=UTC),
                )
            )  # fmt: skip
