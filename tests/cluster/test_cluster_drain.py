"""Draining the delivery queue with the real ledger and a recording courier, on SQLite and
PostgreSQL: outcomes become task states, several drainers share the work exactly once."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from sqlalchemy import Engine
from sqlmodel import Session, select

from hotpapers.cluster import queue
from hotpapers.cluster.drain import BUSY_RETRY, Drainer, PlanCache
from hotpapers.config import Settings
from hotpapers.delivery import STALE_CLAIM, Transient
from hotpapers.storage.db import transaction
from hotpapers.storage.models import Delivery, DeliveryTask
from tests.delivery.test_delivery import DAY, RecordingCourier, add_day, subscribe

NOW = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)
HOT = ["2611.00101", "2611.00102", "2611.00104"]  # cs.LG papers over the threshold, by rank


def drainer(engine: Engine, courier: RecordingCourier, name: str = "p1", **options) -> Drainer:  # type: ignore[no-untyped-def]
    return Drainer(engine, Settings(), courier, name=name, clock=lambda: NOW, **options)


def task_state(engine: Engine, target: str) -> DeliveryTask:
    with Session(engine) as session:
        return session.exec(select(DeliveryTask).where(DeliveryTask.target == target)).one()


async def test_queued_targets_are_delivered_and_done(engine: Engine) -> None:
    """Each queued target gets its papers in rank order; its task is done afterwards."""
    add_day(engine)
    targets = [f"channel:{n}" for n in range(1, 6)]
    for target in targets:
        subscribe(engine, target, "category", "cs.LG")
    subscribe(engine, "channel:99", "keyword", "nothing matches this")
    queue.enqueue(engine, [*targets, "channel:99"], DAY, NOW)
    courier = RecordingCourier()
    reports = await drainer(engine, courier, workers=3).drain()
    assert [r.listing_date for r in reports] == [DAY]
    assert sorted(t.target for t in reports[0].targets) == sorted([*targets, "channel:99"])
    assert reports[0].sent == 3 * len(targets)
    for target in targets:
        [header] = courier.channels[target]
        assert courier.papers_in(f"thread:{header.id}") == HOT
    assert "channel:99" not in courier.channels  # nothing to post: done all the same
    assert queue.counts(engine) == {"done": len(targets) + 1}
    assert await drainer(engine, courier).drain() == []  # done is done


async def test_a_transient_failure_goes_back_to_the_queue_with_a_back_off(engine: Engine) -> None:
    """A 5xx for one target: its task waits out the back-off; the others are done."""
    add_day(engine)
    subscribe(engine, "channel:1", "category", "cs.LG")
    subscribe(engine, "channel:2", "category", "cs.LG")
    queue.enqueue(engine, ["channel:1", "channel:2"], DAY, NOW)
    courier = RecordingCourier(failing={"channel:2": Transient("503 from Discord")})
    await drainer(engine, courier).drain()
    failed = task_state(engine, "channel:2")
    assert (failed.state, failed.attempts) == ("queued", 1)
    assert failed.available_at == NOW + queue.BACKOFF_BASE and "503" in (failed.error or "")
    assert task_state(engine, "channel:1").state == "done"

    courier.failing.clear()  # Discord is back; the back-off has passed
    later = drainer(engine, courier)
    later.clock = lambda: NOW + queue.BACKOFF_BASE
    await later.drain()
    assert task_state(engine, "channel:2").state == "done"
    [header] = courier.channels["channel:2"]
    assert courier.papers_in(f"thread:{header.id}") == HOT


async def test_a_target_busy_with_another_run_is_released_not_failed(engine: Engine) -> None:
    """A live claim by another run (e.g. the CLI): try later, without counting an attempt."""
    add_day(engine)
    subscribe(engine, "channel:1", "category", "cs.LG")
    with transaction(engine) as session:
        session.add(Delivery(target="channel:1", listing_date=DAY, paper_id=HOT[0], claimed_at=NOW))
    queue.enqueue(engine, ["channel:1"], DAY, NOW)
    courier = RecordingCourier()
    [report] = await drainer(engine, courier).drain()
    assert report.targets[0].outcome == "busy" and courier.channels == {}
    task = task_state(engine, "channel:1")
    assert (task.state, task.attempts, task.available_at) == ("queued", 0, NOW + BUSY_RETRY)


async def test_two_drainers_share_the_queue_and_send_each_paper_once(engine: Engine) -> None:
    """Two processes' drainers (here in one loop) split the tasks; no paper goes out twice."""
    add_day(engine)
    targets = [f"channel:{n}" for n in range(1, 21)]
    for target in targets:
        subscribe(engine, target, "category", "cs.LG")
    queue.enqueue(engine, targets, DAY, NOW)
    courier = RecordingCourier()
    first, second = (drainer(engine, courier, name, workers=4) for name in ("a", "b"))
    reports = await asyncio.gather(first.drain(), second.drain())
    handled = [t.target for run in reports for report in run for t in report.targets]
    assert sorted(handled) == sorted(targets)  # each task claimed by exactly one of them
    for target in targets:
        [header] = courier.channels[target]
        assert courier.papers_in(f"thread:{header.id}") == HOT
    assert queue.counts(engine) == {"done": len(targets)}


async def test_a_target_subscribed_after_planning_is_planned_again(engine: Engine) -> None:
    """Plans are shared for a while, but a task queued after them is not lost to them."""
    add_day(engine)
    subscribe(engine, "channel:1", "category", "cs.LG")
    plans = PlanCache(engine, Settings(), ttl=3600)
    assert (await plans.plan_for("channel:1", DAY, NOW)) is not None
    subscribe(engine, "channel:2", "category", "cs.LG")
    assert (await plans.plan_for("channel:2", DAY, NOW, NOW - timedelta(minutes=1))) is None
    found = await plans.plan_for("channel:2", DAY, NOW, NOW + timedelta(seconds=1))
    assert found is not None and [p.paper.arxiv_id for p in found.papers] == HOT


class StuckCourier(RecordingCourier):
    """Posts the header, then hangs on the first paper (until cancelled)."""

    def __init__(self) -> None:
        super().__init__()
        self.stuck = asyncio.Event()

    async def send_paper(self, target, thread_id, ranked):  # type: ignore[no-untyped-def]
        self.stuck.set()
        await asyncio.Event().wait()
        raise AssertionError("unreachable")


async def test_a_stopping_process_hands_its_task_back_at_once(engine: Engine) -> None:
    """Cancelled mid-target (shutdown): the task is queued again for anyone, no attempt
    counted, and its paper claim is stale so the next run recovers it right away."""
    add_day(engine)
    subscribe(engine, "channel:1", "category", "cs.LG")
    queue.enqueue(engine, ["channel:1"], DAY, NOW)
    courier = StuckCourier()
    running = asyncio.create_task(drainer(engine, courier).drain())
    await asyncio.wait_for(courier.stuck.wait(), 10)
    running.cancel()
    await asyncio.gather(running, return_exceptions=True)
    task = task_state(engine, "channel:1")
    assert (task.state, task.attempts, task.locked_by) == ("queued", 0, None)
    with Session(engine) as session:
        [claim] = session.exec(select(Delivery)).all()
    assert (claim.paper_id, claim.state) == (HOT[0], "claimed")
    assert claim.claimed_at == NOW - STALE_CLAIM

    after = RecordingCourier()
    await drainer(engine, after, "p2").drain()  # another process, right away
    assert task_state(engine, "channel:1").state == "done"
    # The same thread (recorded by the first process) gets every paper, the first one once.
    [thread] = after.channels
    assert after.papers_in(thread) == HOT
