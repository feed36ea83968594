"""The delivery work queue: one `DeliveryTask` row per (target, listing); every process drains it.

The leader enqueues the targets that are due; any process claims a task, delivers that one
target's digest and completes (or fails) it. On PostgreSQL a claim is one
`UPDATE ... WHERE id = (SELECT ... FOR UPDATE SKIP LOCKED LIMIT 1)`, so concurrent workers in
several processes never take the same row and never wait for each other; on SQLite (one process)
the same statement is atomic because SQLite has a single writer.

Recovery uses a lease, not a row lock held for the whole delivery: a running task's holder
re-stamps `locked_at` (`heartbeat`) while it works, and a claim also takes a "running" task
whose `locked_at` is older than the lease (its process vanished). Holding a row lock instead
would keep one open transaction and one pooled connection per in-flight target (50 workers,
minutes each) and would not work on SQLite at all; a lease costs one UPDATE per process per
heartbeat. A holder that stalls past its lease may see its task taken over: harmless, because
the per-paper `Delivery` ledger keeps every message exactly once whoever runs the task.

`now` always comes from the caller (tests and the scheduler pass their clock), never from here.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import Engine, Table, and_, case, func, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.sql.dml import Update
from sqlmodel import Session, col

from hotpapers.delivery import STALE_CLAIM
from hotpapers.storage.db import is_postgres, transaction
from hotpapers.storage.models import Delivery, DeliveryTask

# A task that failed this many times (errors or abandoned leases) is given up.
MAX_ATTEMPTS = 5
# Back-off after the n-th failure: BASE * 2**(n-1), at most MAX.
BACKOFF_BASE = timedelta(seconds=30)
BACKOFF_MAX = timedelta(minutes=15)
_ERROR_LENGTH = 300
# The error of a task taken over from a process whose lease expired (then its holder's name).
TAKEOVER = "lease expired: "
DELIVERY_TASK: Table = DeliveryTask.__table__  # type: ignore[attr-defined]


def as_utc(moment: datetime) -> datetime:
    """`moment` as an aware UTC time (a naive one is taken to be UTC already)."""
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def enqueue(
    engine: Engine, targets: Iterable[str], listing_date: date, now: datetime | None = None
) -> int:
    """Queue one task per target for `listing_date`; the number of new tasks.

    Idempotent: a (target, listing) already queued, running, done or failed is left alone
    (the unique constraint decides, so two leaders at once cannot queue a target twice).
    """
    available = as_utc(now) if now is not None else None
    rows = [
        {"target": target, "listing_date": listing_date, "state": "queued", "attempts": 0,
         "available_at": available}
        for target in dict.fromkeys(targets)
    ]  # fmt: skip
    if not rows:
        return 0
    dialect = postgresql if is_postgres(engine) else sqlite
    statement = (
        dialect.insert(DeliveryTask)
        .on_conflict_do_nothing(index_elements=["target", "listing_date"])
        .returning(col(DeliveryTask.id))
    )
    with transaction(engine) as session:
        return len(session.execute(statement, rows).all())


def claim(
    engine: Engine, worker: str, now: datetime, *, lease: timedelta = timedelta(minutes=5)
) -> DeliveryTask | None:
    """Take the next task for `worker` (older listings first), or None if nothing is ready.

    Ready: queued and past its back-off, or running under a lease that expired (its holder
    stopped heart-beating: the process died). Taking over an expired lease counts as a failed
    attempt; a task out of attempts is given up instead of taken.
    """
    stamp = as_utc(now)
    expired = stamp - lease
    _give_up_abandoned(engine, expired)
    task = DELIVERY_TASK
    ready = or_(
        and_(
            task.c.state == "queued",
            or_(task.c.available_at.is_(None), task.c.available_at <= stamp),
        ),
        and_(task.c.state == "running", task.c.locked_at < expired),
    )
    candidate = (
        select(task.c.id)
        .where(ready)
        .order_by(task.c.listing_date, task.c.id)
        .limit(1)
        .with_for_update(skip_locked=True)  # PostgreSQL; SQLite has one writer anyway
        .scalar_subquery()
    )
    statement = (
        update(task)
        .where(task.c.id == candidate)
        .values(
            state="running",
            locked_by=worker[:100],
            locked_at=stamp,
            # Taking over an abandoned task counts its holder's run as a failed attempt.
            attempts=case((task.c.state == "running", task.c.attempts + 1), else_=task.c.attempts),
            error=case(
                (task.c.state == "running", TAKEOVER + func.coalesce(task.c.locked_by, "?")),
                else_=task.c.error,
            ),
        )
        .returning(*task.c)
    )
    with transaction(engine) as session:
        row = session.execute(statement).mappings().first()
    return DeliveryTask.model_validate(dict(row)) if row is not None else None


def _give_up_abandoned(engine: Engine, expired: datetime) -> None:
    """Mark failed the running tasks whose lease expired and that have no attempt left."""
    with transaction(engine) as session:
        session.execute(
            update(DeliveryTask)
            .where(
                col(DeliveryTask.state) == "running",
                col(DeliveryTask.locked_at) < expired,
                col(DeliveryTask.attempts) >= MAX_ATTEMPTS - 1,
            )
            .values(state="failed", error="given up: its process stopped while running it")
        )


def taken_over(task: DeliveryTask) -> bool:
    """Whether `task` was just taken over from a process whose lease expired."""
    return task.state == "running" and (task.error or "").startswith(TAKEOVER)


def abandon_claims(engine: Engine, task: DeliveryTask, now: datetime) -> int:
    """Make the per-paper claims of a taken-over task's target stale at once; how many.

    The ledger leaves a fresh claim alone for `STALE_CLAIM` (its sender may still be at
    work). After a takeover its sender is the process whose lease expired, so waiting is
    pointless: a stale claim is recovered the safe way (the ledger looks for the message in
    the channel before sending it again).
    """
    stale = as_utc(now) - STALE_CLAIM
    with transaction(engine) as session:
        result = session.execute(
            update(Delivery)
            .where(
                col(Delivery.target) == task.target,
                col(Delivery.listing_date) == task.listing_date,
                col(Delivery.state) == "claimed",
                col(Delivery.claimed_at) > stale,
            )
            .values(claimed_at=stale)
        )
        return int(result.rowcount)  # type: ignore[attr-defined]


def heartbeat(engine: Engine, worker: str, task_ids: Iterable[int], now: datetime) -> int:
    """Renew the lease of `worker`'s running tasks; how many are still its own."""
    ids = list(task_ids)
    if not ids:
        return 0
    with transaction(engine) as session:
        result = session.execute(
            _own(update(DeliveryTask), worker, ids).values(locked_at=as_utc(now))
        )
        return int(result.rowcount)  # type: ignore[attr-defined]


def complete(engine: Engine, task_id: int, worker: str, now: datetime) -> bool:
    """Mark `worker`'s task done; False if it was not (any longer) its own."""
    values = {"state": "done", "done_at": as_utc(now), "locked_by": None, "error": None}
    return _finish(engine, task_id, worker, values)


def fail(engine: Engine, task_id: int, worker: str, error: str, now: datetime) -> str | None:
    """Record a failed attempt: back to the queue after a back-off, or "failed" when out of
    attempts. The new state, or None if the task was not (any longer) `worker`'s."""
    stamp = as_utc(now)
    with transaction(engine) as session:
        row = session.get(DeliveryTask, task_id, with_for_update=True)
        if row is None or row.state != "running" or row.locked_by != worker[:100]:
            return None
        row.attempts += 1
        row.error = error[:_ERROR_LENGTH]
        row.locked_by = None
        if row.attempts >= MAX_ATTEMPTS:
            row.state, row.done_at = "failed", stamp
        else:
            row.state = "queued"
            row.available_at = stamp + min(BACKOFF_BASE * 2 ** (row.attempts - 1), BACKOFF_MAX)
        session.add(row)
        return row.state


def release(engine: Engine, task_id: int, worker: str, available_at: datetime) -> bool:
    """Put `worker`'s task back in the queue, not before `available_at`, without counting an
    attempt (the target was busy with another run)."""
    values = {"state": "queued", "available_at": as_utc(available_at), "locked_by": None}
    return _finish(engine, task_id, worker, values)


def _finish(engine: Engine, task_id: int, worker: str, values: dict[str, object]) -> bool:
    with transaction(engine) as session:
        result = session.execute(_own(update(DeliveryTask), worker, [task_id]).values(**values))
        return int(result.rowcount) == 1  # type: ignore[attr-defined]


def _own(statement: Update, worker: str, ids: list[int]) -> Update:
    """Restrict an UPDATE to `worker`'s running tasks among `ids`."""
    return statement.where(
        col(DeliveryTask.id).in_(ids),
        col(DeliveryTask.state) == "running",
        col(DeliveryTask.locked_by) == worker[:100],
    )


def counts(engine: Engine, listing_date: date | None = None) -> dict[str, int]:
    """Tasks per state (of one listing, or all): for /healthz, logs and tests."""
    query = select(col(DeliveryTask.state), func.count()).group_by(col(DeliveryTask.state))
    if listing_date is not None:
        query = query.where(col(DeliveryTask.listing_date) == listing_date)
    with Session(engine) as session:
        return {state: int(n) for state, n in session.execute(query)}
