"""The delivery ledger's reads and writes: one `Delivery` row per paper and target (claimed,
then sent or failed), one `DeliveryThread` row per target and day (the header claimed, then
recorded). Every function is blocking and takes the engine; the run calls them in threads.

A claim is taken over only when stale (older than STALE_CLAIM: its run died), and every
take-over is a compare-and-set, so two runs never both take one claim.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

from sqlalchemy import Engine, delete, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from hotpapers.delivery._types import TargetPlan
from hotpapers.storage.db import insert_once, transaction
from hotpapers.storage.models import Delivery, DeliveryThread

# A claim younger than this may belong to a run still sending it: left alone.
STALE_CLAIM = timedelta(minutes=5)


def is_stale(row: Delivery, now: datetime) -> bool:
    """Whether the row's claim is old enough to be a run that died."""
    return stale_since(row.claimed_at, now)


def stale_since(claimed: datetime | None, now: datetime) -> bool:
    """Claimed at `claimed` (None: never) long enough ago to be a run that died."""
    if claimed is None:
        return True
    if claimed.tzinfo is None and now.tzinfo is not None:
        now = now.replace(tzinfo=None) - (now.utcoffset() or timedelta(0))
    return now - claimed >= STALE_CLAIM


def ledger_rows(engine: Engine, target: str, day: date) -> dict[str, Delivery]:
    """The target's rows of the day, by paper id."""
    with Session(engine) as session:
        query = select(Delivery).where(Delivery.target == target, Delivery.listing_date == day)
        return {row.paper_id: row for row in session.exec(query)}


def known_thread(engine: Engine, target: str, day: date) -> DeliveryThread | None:
    """The target's thread row of the day, if a run has claimed it."""
    with Session(engine) as session:
        return session.get(DeliveryThread, (target, day))


def claim_thread(engine: Engine, target: str, day: date, now: datetime) -> bool:
    """Claim the day's header for this run; False if another run claimed it first."""
    return insert_once(engine, DeliveryThread(target=target, listing_date=day, created_at=now))


def retake_thread(engine: Engine, found: DeliveryThread, now: datetime) -> bool:
    """Take a stale header claim over, unless another run just did (compare-and-set)."""
    with transaction(engine) as session:
        taken = session.execute(
            update(DeliveryThread)
            .where(col(DeliveryThread.target) == found.target)
            .where(col(DeliveryThread.listing_date) == found.listing_date)
            .where(col(DeliveryThread.created_at) == found.created_at)
            .where(col(DeliveryThread.header_message_id).is_(None))
            .values(created_at=now)
        )
        return bool(taken.rowcount == 1)  # type: ignore[attr-defined]


def release_thread(engine: Engine, target: str, day: date) -> None:
    """Make our header claim stale now (no claim time), so the next run may take it over."""
    with transaction(engine) as session:
        session.execute(
            update(DeliveryThread)
            .where(col(DeliveryThread.target) == target)
            .where(col(DeliveryThread.listing_date) == day)
            .where(col(DeliveryThread.header_message_id).is_(None))
            .values(created_at=None)
        )


def forget_thread(engine: Engine, target: str, day: date, thread_id: str | None) -> None:
    """Drop the record of a deleted thread, unless another run already replaced it."""
    with transaction(engine) as session:
        session.execute(
            delete(DeliveryThread)
            .where(col(DeliveryThread.target) == target)
            .where(col(DeliveryThread.listing_date) == day)
            .where(col(DeliveryThread.thread_id) == thread_id)
        )


def record_thread(
    engine: Engine, target: str, day: date, header_id: str, thread_id: str | None
) -> None:
    """Record the header posted and the thread it opened."""
    with transaction(engine) as session:
        session.execute(
            update(DeliveryThread)
            .where(col(DeliveryThread.target) == target)
            .where(col(DeliveryThread.listing_date) == day)
            .values(header_message_id=header_id, thread_id=thread_id)
        )


def claim_paper(engine: Engine, plan: TargetPlan, paper_id: str, now: datetime) -> int | None:
    """A new claim's id (> 0); minus the id of a stale claim taken over; None if not ours."""
    try:
        with Session(engine) as session:
            row = Delivery(
                target=plan.ledger,
                listing_date=plan.listing_date,
                paper_id=paper_id,
                subscription_id=plan.subscription_for.get(paper_id),
                state="claimed",
                claimed_at=now,
            )
            session.add(row)
            session.commit()
            assert row.id is not None
            return row.id
    except IntegrityError:
        pass
    with Session(engine) as session:
        query = select(Delivery).where(
            Delivery.target == plan.ledger,
            Delivery.listing_date == plan.listing_date,
            Delivery.paper_id == paper_id,
        )
        existing = session.exec(query).one()
        if existing.state != "claimed" or not is_stale(existing, now):
            return None
        # Take the stale claim over, unless another run just did (compare-and-set).
        taken = session.execute(
            update(Delivery)
            .where(col(Delivery.id) == existing.id, col(Delivery.claimed_at) == existing.claimed_at)
            .where(col(Delivery.state) == "claimed")
            .values(claimed_at=now)
        )
        session.commit()
        return -(existing.id or 0) if taken.rowcount == 1 else None  # type: ignore[attr-defined]


def complete_paper(
    engine: Engine, row_id: int, channel_id: str, message_id: str, now: datetime
) -> None:
    """Record the paper's message: delivered."""
    with transaction(engine) as session:
        session.execute(
            update(Delivery)
            .where(col(Delivery.id) == row_id)
            .values(state="sent", channel_id=channel_id, message_id=message_id, sent_at=now)
        )


def release_claim(engine: Engine, row_id: int) -> None:
    """Make our claim stale now (no claim time), as a dead run's would be."""
    with transaction(engine) as session:
        session.execute(
            update(Delivery)
            .where(col(Delivery.id) == row_id, col(Delivery.state) == "claimed")
            .values(claimed_at=None)
        )


def fail_paper(engine: Engine, row_id: int, error: str) -> None:
    """Record that Discord refused the paper's message (never retried)."""
    with transaction(engine) as session:
        session.execute(
            update(Delivery)
            .where(col(Delivery.id) == row_id)
            .values(state="failed", error=error[:300])
        )


def older_versions(engine: Engine, target: str, paper_id: str, version: int) -> list[Delivery]:
    """The target's sent messages of `paper_id` that show a version older than `version`."""
    with Session(engine) as session:
        query = select(Delivery).where(
            Delivery.target == target,
            Delivery.paper_id == paper_id,
            Delivery.state == "sent",
            col(Delivery.version) < version,
        )
        return list(session.exec(query))


def set_version(engine: Engine, row_id: int | None, version: int) -> None:
    """Record the version the row's message now shows."""
    with transaction(engine) as session:
        session.execute(update(Delivery).where(col(Delivery.id) == row_id).values(version=version))
