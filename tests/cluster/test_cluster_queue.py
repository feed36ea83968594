"""The delivery work queue on real SQLite and PostgreSQL: enqueue, claim, lease, back-off."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import Engine
from sqlmodel import Session, select

from hotpapers.cluster import queue
from hotpapers.delivery import STALE_CLAIM
from hotpapers.storage.db import transaction
from hotpapers.storage.models import Delivery, DeliveryTask

MONDAY = date(2026, 11, 23)
TUESDAY = date(2026, 11, 24)
NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
LEASE = timedelta(minutes=5)


def task_of(engine: Engine, target: str, day: date = MONDAY) -> DeliveryTask:
    with Session(engine) as session:
        query = select(DeliveryTask).where(
            DeliveryTask.target == target,
            DeliveryTask.listing_date == day,  # type: ignore[arg-type]
        )
        return session.exec(query).one()


def test_enqueue_is_idempotent(engine: Engine) -> None:
    """A target is queued once per listing, however often (and by however many) it is asked."""
    assert queue.enqueue(engine, ["channel:1", "channel:2", "channel:1"], MONDAY, NOW) == 2
    assert queue.enqueue(engine, ["channel:1", "channel:2"], MONDAY, NOW) == 0
    assert queue.enqueue(engine, ["channel:2", "channel:3"], MONDAY, NOW) == 1
    assert queue.enqueue(engine, ["channel:1"], TUESDAY, NOW) == 1
    assert queue.enqueue(engine, [], MONDAY, NOW) == 0
    assert queue.counts(engine) == {"queued": 4}
    assert queue.counts(engine, MONDAY) == {"queued": 3}


def test_claim_takes_older_listings_first_and_each_task_once(engine: Engine) -> None:
    """Claims come oldest listing first; a claimed task is nobody else's; then None."""
    queue.enqueue(engine, ["channel:9"], TUESDAY, NOW)
    queue.enqueue(engine, ["channel:1", "channel:2"], MONDAY, NOW)
    taken = [queue.claim(engine, f"w{i}", NOW, lease=LEASE) for i in range(4)]
    assert [(t.target, t.listing_date) for t in taken if t] == [
        ("channel:1", MONDAY),
        ("channel:2", MONDAY),
        ("channel:9", TUESDAY),
    ]
    assert taken[3] is None
    first = task_of(engine, "channel:1")
    assert (first.state, first.locked_by, first.attempts) == ("running", "w0", 0)


def test_concurrent_claims_never_share_a_task(engine: Engine) -> None:
    """Many workers claiming at once (threads, separate connections) split the queue exactly."""
    targets = [f"channel:{i}" for i in range(60)]
    queue.enqueue(engine, targets, MONDAY, NOW)

    def drain(worker: str) -> list[str]:
        mine = []
        while (task := queue.claim(engine, worker, NOW, lease=LEASE)) is not None:
            mine.append(task.target)
            assert task.id is not None
            assert queue.complete(engine, task.id, worker, NOW)
        return mine

    with ThreadPoolExecutor(6) as pool:
        results = list(pool.map(drain, [f"w{i}" for i in range(6)]))
    claimed = [target for mine in results for target in mine]
    assert sorted(claimed) == sorted(targets)  # every task once, none twice
    assert queue.counts(engine) == {"done": 60}


def test_only_the_holder_completes_its_task(engine: Engine) -> None:
    """A worker cannot complete (or fail) a task another worker holds."""
    queue.enqueue(engine, ["channel:1"], MONDAY, NOW)
    task = queue.claim(engine, "a", NOW, lease=LEASE)
    assert task is not None and task.id is not None
    assert not queue.complete(engine, task.id, "b", NOW)
    assert queue.fail(engine, task.id, "b", "nope", NOW) is None
    assert queue.complete(engine, task.id, "a", NOW)
    done = task_of(engine, "channel:1")
    assert (done.state, done.locked_by) == ("done", None)
    assert done.done_at == NOW
    assert not queue.complete(engine, task.id, "a", NOW)  # done is done


def test_failures_back_off_then_give_up(engine: Engine) -> None:
    """Each failure waits longer before the next try; after MAX_ATTEMPTS the task is failed."""
    queue.enqueue(engine, ["channel:1"], MONDAY, NOW)
    now = NOW
    waits = []
    for attempt in range(1, queue.MAX_ATTEMPTS + 1):
        task = queue.claim(engine, "w", now, lease=LEASE)
        assert task is not None and task.id is not None
        state = queue.fail(engine, task.id, "w", f"503 number {attempt}", now)
        row = task_of(engine, "channel:1")
        assert row.attempts == attempt and row.error == f"503 number {attempt}"
        if attempt == queue.MAX_ATTEMPTS:
            assert state == "failed" and row.state == "failed"
            break
        assert state == "queued" and row.available_at is not None
        wait = row.available_at - now
        waits.append(wait)
        assert queue.claim(engine, "w", now + wait - timedelta(seconds=1), lease=LEASE) is None
        now = now + wait
    assert waits == sorted(waits) and waits[0] == queue.BACKOFF_BASE and len(set(waits)) > 1
    assert queue.claim(engine, "w", now + timedelta(days=1), lease=LEASE) is None


def test_an_expired_lease_is_taken_over_and_counted(engine: Engine) -> None:
    """A holder that stops heart-beating (its process died) loses the task after the lease."""
    queue.enqueue(engine, ["channel:1"], MONDAY, NOW)
    task = queue.claim(engine, "dead", NOW, lease=LEASE)
    assert task is not None and task.id is not None
    assert queue.claim(engine, "alive", NOW + LEASE - timedelta(seconds=1), lease=LEASE) is None
    taken = queue.claim(engine, "alive", NOW + LEASE + timedelta(seconds=1), lease=LEASE)
    assert taken is not None and taken.id == task.id
    assert (taken.locked_by, taken.attempts) == ("alive", 1)
    assert not queue.complete(engine, task.id, "dead", NOW)  # the old holder lost it
    assert queue.heartbeat(engine, "dead", [task.id], NOW) == 0


def test_a_heartbeat_keeps_the_lease(engine: Engine) -> None:
    """A holder that heart-beats keeps its task however long the delivery takes."""
    queue.enqueue(engine, ["channel:1"], MONDAY, NOW)
    task = queue.claim(engine, "slow", NOW, lease=LEASE)
    assert task is not None and task.id is not None
    later = NOW + LEASE * 3
    assert queue.heartbeat(engine, "slow", [task.id], later - timedelta(minutes=1)) == 1
    assert queue.claim(engine, "other", later, lease=LEASE) is None
    assert queue.complete(engine, task.id, "slow", later)


def test_an_abandoned_task_out_of_attempts_is_given_up(engine: Engine) -> None:
    """A task whose holders keep dying is failed, not handed to yet another process."""
    queue.enqueue(engine, ["channel:1"], MONDAY, NOW)
    now = NOW
    for _ in range(queue.MAX_ATTEMPTS):  # every run abandoned: the first and the takeovers
        assert queue.claim(engine, "doomed", now, lease=LEASE) is not None
        now += LEASE * 2
    assert queue.claim(engine, "next", now, lease=LEASE) is None
    row = task_of(engine, "channel:1")
    assert row.state == "failed" and "stopped" in (row.error or "")


def test_release_requeues_without_counting_an_attempt(engine: Engine) -> None:
    """A busy target goes back to the queue for later, its attempts untouched."""
    queue.enqueue(engine, ["channel:1"], MONDAY, NOW)
    task = queue.claim(engine, "w", NOW, lease=LEASE)
    assert task is not None and task.id is not None
    later = NOW + timedelta(minutes=1)
    assert queue.release(engine, task.id, "w", later)
    row = task_of(engine, "channel:1")
    assert (row.state, row.attempts, row.locked_by) == ("queued", 0, None)
    assert queue.claim(engine, "w", later - timedelta(seconds=1), lease=LEASE) is None
    assert queue.claim(engine, "w", later, lease=LEASE) is not None


def test_a_takeover_is_marked_and_ages_the_dead_holders_paper_claims(engine: Engine) -> None:
    """Taken over from an expired lease: marked as such, and the target's fresh per-paper
    claims (left by the dead holder) become stale at once so the ledger recovers them."""
    queue.enqueue(engine, ["channel:1", "channel:2"], MONDAY, NOW)
    first = queue.claim(engine, "dead", NOW, lease=LEASE)
    assert first is not None and not queue.taken_over(first)
    later = NOW + LEASE + timedelta(seconds=1)
    fresh = later - timedelta(seconds=30)  # claimed just before the holder died
    with transaction(engine) as session:
        for target in ("channel:1", "channel:2"):
            session.add(
                Delivery(target=target, listing_date=MONDAY, paper_id="2611.00001",
                         state="claimed", claimed_at=fresh)
            )  # fmt: skip
    taken = queue.claim(engine, "alive", later, lease=LEASE)
    assert taken is not None and taken.target == "channel:1"
    assert queue.taken_over(taken) and taken.error == "lease expired: dead"
    assert queue.abandon_claims(engine, taken, later) == 1
    with Session(engine) as session:
        claimed = {row.target: row.claimed_at for row in session.exec(select(Delivery))}
    assert claimed["channel:1"] == later - STALE_CLAIM  # stale: the ledger may recover it
    assert claimed["channel:2"] == fresh  # another target's claim is left alone
    assert taken.id is not None and queue.complete(engine, taken.id, "alive", later)
    assert task_of(engine, "channel:1").error is None
