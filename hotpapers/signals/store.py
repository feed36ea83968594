"""Storing what sources measured: append-only snapshots, posts upserted, spend per day."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime

from sqlalchemy import func
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session, select

from hotpapers.signals.base import Measurement, PostRecord
from hotpapers.signals.rollup import roll_up
from hotpapers.storage import spend
from hotpapers.storage.models import SignalSnapshot, SocialPost

_POST_COUNTS = (
    "reposts",
    "likes",
    "replies",
    "quotes",
    "is_repost",
    "taken_at",
    "text",
    "author_handle",
)


def save_measurements(session: Session, measurements: Iterable[Measurement]) -> int:
    """Append one snapshot per measurement and upsert its posts; returns snapshots written."""
    count = 0
    measured: list[tuple[str, str, datetime]] = []
    for measurement in measurements:
        session.add(
            SignalSnapshot(
                paper_id=measurement.paper_id,
                source=measurement.source,
                taken_at=measurement.taken_at,
                metrics=dict(measurement.metrics),
            )
        )
        _upsert_posts(session, measurement.posts, measurement.taken_at)
        measured.append((measurement.paper_id, measurement.source, measurement.taken_at))
        count += 1
    session.flush()
    roll_up(session, measured)
    return count


def _upsert_posts(session: Session, posts: Iterable[PostRecord], taken_at: datetime) -> None:
    rows = [_post_row(post, taken_at) for post in posts]
    if not rows:
        return
    table = SocialPost.__table__  # type: ignore[attr-defined]
    builder = (
        postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
    )
    statement = builder(table)
    statement = statement.on_conflict_do_update(
        index_elements=["source", "post_id", "paper_id"],
        set_={name: getattr(statement.excluded, name) for name in _POST_COUNTS},
    )
    session.execute(statement, rows)


def _post_row(post: PostRecord, taken_at: datetime) -> dict[str, object]:
    return {
        "source": post.source,
        "post_id": post.post_id,
        "paper_id": post.paper_id,
        "author_id": post.author_id,
        "author_handle": post.author_handle,
        "text": post.text,
        "url": post.url,
        "created_at": post.created_at,
        "reposts": post.reposts,
        "likes": post.likes,
        "replies": post.replies,
        "quotes": post.quotes,
        "is_repost": post.is_repost,
        "taken_at": taken_at,
    }


def spent_today(session: Session, service: str, day: date) -> float:
    """The day's spend in US dollars (the ledger itself is hotpapers/storage/spend.py)."""
    return spend.to_usd(spend.spent(session, service, day)[0])


def add_spend(session: Session, service: str, day: date, amount_usd: float, units: int) -> None:
    """Add to the day's spend without a cap; a paid request reserves first
    (hotpapers/storage/spend.py)."""
    spend.add(session, service, day, spend.to_micros(amount_usd), units)


def last_measured(session: Session, source: str, paper_ids: list[str]) -> dict[str, datetime]:
    """When each paper was last measured on `source`."""
    if not paper_ids:
        return {}
    query = (
        select(SignalSnapshot.paper_id, func.max(SignalSnapshot.taken_at))
        .where(SignalSnapshot.source == source, SignalSnapshot.paper_id.in_(paper_ids))  # type: ignore[arg-type,attr-defined]
        .group_by(SignalSnapshot.paper_id)
    )
    return {paper_id: taken for paper_id, taken in session.execute(query)}
