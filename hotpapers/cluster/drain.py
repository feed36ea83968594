"""Draining the delivery queue: claim a task, plan its target, deliver it, complete or fail it.

Every process runs one `Drainer` with up to `workers` targets in flight (Discord threads take
about one message a second each, so throughput needs many targets at once). All of them share
one courier, whose pacing keeps the process under its share of Discord's global limit.

Planning ranks the whole listing, so it is done once per listing and shared (`PlanCache`)
rather than once per target: 5,000 targets would otherwise rank the day 5,000 times.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from datetime import date, datetime, timedelta

from sqlalchemy import Engine
from sqlmodel import Session

from hotpapers.cluster import queue
from hotpapers.config import Settings
from hotpapers.delivery import Courier, DeliveryReport, TargetPlan, TargetReport, deliver, plan
from hotpapers.delivery._week import plan_week
from hotpapers.storage.models import DeliveryTask

log = logging.getLogger(__name__)

# Seconds between looks at an empty queue (a wake-up from this process's leader is at once).
POLL_SECONDS = 1.0
# Seconds a listing's plans are reused before they are computed again (rankings move slowly).
PLAN_TTL_SECONDS = 60.0
# A target busy with another run (its papers freshly claimed) is tried again after this.
BUSY_RETRY = timedelta(seconds=60)
# Outcomes after which the task is done: delivered, the target paused, or its channel
# missing (tried again with the next listing, a day later).
FINAL_OUTCOMES = frozenset({"ok", "paused", "missing"})
_DAYS_KEPT = 3


class PlanCache:
    """The plans of each listing, computed in a thread once and shared by all workers.

    Plans older than `ttl` seconds are computed again; so are plans computed before a task was
    queued that do not know its target (it may have subscribed in between).
    """

    def __init__(self, engine: Engine, settings: Settings, *, ttl: float = PLAN_TTL_SECONDS):
        self.engine = engine
        self.settings = settings
        self.ttl = ttl
        self._plans: dict[date, tuple[float, datetime, dict[str, TargetPlan]]] = {}
        self._locks: dict[date, asyncio.Lock] = {}

    async def plan_for(
        self, target: str, day: date, now: datetime, queued_at: datetime | None = None
    ) -> TargetPlan | None:
        """`target`'s plan for `day` (None: nothing to post); `target` is a ledger key."""
        lock = self._locks.setdefault(day, asyncio.Lock())
        async with lock:
            loop = asyncio.get_running_loop()
            found = self._plans.get(day)
            fresh = found is not None and loop.time() - found[0] < self.ttl
            if found is not None and fresh and target not in found[2]:
                fresh = queued_at is None or queue.as_utc(found[1]) >= queue.as_utc(queued_at)
            if found is None or not fresh:
                plans = await asyncio.to_thread(self._plan, day, now)
                found = (loop.time(), now, {item.ledger: item for item in plans})
                self._plans[day] = found
                for old in sorted(self._plans)[:-_DAYS_KEPT]:  # at most two listings are open
                    del self._plans[old]
            return found[2].get(target)

    def _plan(self, day: date, now: datetime) -> list[TargetPlan]:
        """The day's digests and, on the weekly digest's day, the week's threads (their
        tasks' targets are the ledger keys, "channel:N/week")."""
        with Session(self.engine) as session:
            daily = plan(session, self.settings, day, now)
            return daily + plan_week(session, self.settings, day, now)


class Drainer:
    """Claims and delivers queued tasks, up to `workers` at a time, as process `name`."""

    def __init__(
        self,
        engine: Engine,
        settings: Settings,
        courier: Courier,
        *,
        name: str,
        clock: Callable[[], datetime],
        workers: int | None = None,
        lease: timedelta | None = None,
        poll_seconds: float = POLL_SECONDS,
        plans: PlanCache | None = None,
    ) -> None:
        self.engine = engine
        self.courier = courier
        self.name = name
        self.clock = clock
        self.lease = lease or timedelta(seconds=settings.cluster.task_lease_seconds)
        self.poll_seconds = poll_seconds
        self.plans = plans or PlanCache(engine, settings)
        self._slots = asyncio.Semaphore(workers or settings.discord.delivery_workers)
        self._held: set[int] = set()
        self._heartbeat: asyncio.Task[None] | None = None
        self._wake = asyncio.Event()

    def wake(self) -> None:
        """Look at the queue now rather than at the next poll (new tasks were queued)."""
        self._wake.set()

    async def run(self) -> None:
        """Drain forever: whatever is ready, then wait for a wake-up or the next poll."""
        while True:
            self._wake.clear()
            try:
                await self.drain()
            except Exception:  # an outage must not end the loop: try again next poll
                log.exception("draining the delivery queue failed; trying again")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self.poll_seconds)

    async def drain(self) -> list[DeliveryReport]:
        """Claim and deliver until no task is ready; a report per listing, older first."""
        reports: dict[date, DeliveryReport] = {}
        async with asyncio.TaskGroup() as group:
            while True:
                await self._slots.acquire()
                try:
                    task = await asyncio.to_thread(
                        queue.claim, self.engine, self.name, self.clock(), lease=self.lease
                    )
                except BaseException:
                    # Cancelled while the claim ran in its thread, a task may be ours with
                    # no worker: its lease expires and another process takes it over.
                    self._slots.release()
                    raise
                if task is None:
                    self._slots.release()
                    break
                report = reports.setdefault(task.listing_date, DeliveryReport(task.listing_date))
                result = TargetReport(task.target)
                report.targets.append(result)
                group.create_task(self._work(task, result))
        return [reports[day] for day in sorted(reports)]

    async def _work(self, task: DeliveryTask, result: TargetReport) -> None:
        assert task.id is not None
        self._hold(task.id)
        try:
            await self._deliver(task, result)
        except asyncio.CancelledError:
            self._hand_back(task)
            raise
        except Exception as exc:  # planning or the database failed: the task is retried
            log.exception("delivery task %s %s failed", task.listing_date, task.target)
            result.outcome, result.error = "error", str(exc)
            with contextlib.suppress(Exception):
                await asyncio.to_thread(
                    queue.fail, self.engine, task.id, self.name, str(exc), self.clock()
                )
        finally:
            self._held.discard(task.id)
            self._slots.release()

    async def _deliver(self, task: DeliveryTask, result: TargetReport) -> None:
        assert task.id is not None
        now = self.clock()
        if queue.taken_over(task):
            log.warning("took over %s %s (%s)", task.listing_date, task.target, task.error)
            await asyncio.to_thread(queue.abandon_claims, self.engine, task, now)
        target_plan = await self.plans.plan_for(
            task.target, task.listing_date, now, task.available_at
        )
        if target_plan is not None:
            report = await deliver(self.engine, self.courier, [target_plan], task.listing_date, now)
            found = report.targets[0]
            for name in ("sent", "recovered", "resent", "edited", "failed", "outcome", "error"):
                setattr(result, name, getattr(found, name))
        done_at = self.clock()
        if result.outcome in FINAL_OUTCOMES:  # nothing to post is done too
            await asyncio.to_thread(queue.complete, self.engine, task.id, self.name, done_at)
        elif result.outcome == "busy":
            later = done_at + BUSY_RETRY
            await asyncio.to_thread(queue.release, self.engine, task.id, self.name, later)
        else:
            await asyncio.to_thread(
                queue.fail, self.engine, task.id, self.name, result.error, done_at
            )

    def _hand_back(self, task: DeliveryTask) -> None:
        """Shutting down mid-task: queue it again at once for another process, its paper
        claims made stale (nothing of ours is sending any more), instead of leaving it to
        wait out its lease. Blocking on purpose: the loop is being torn down."""
        assert task.id is not None
        try:
            now = self.clock()
            queue.abandon_claims(self.engine, task, now)
            queue.release(self.engine, task.id, self.name, now)
        except Exception:  # the lease still expires: another process takes it over then
            log.warning("could not hand back %s %s", task.listing_date, task.target, exc_info=True)

    def _hold(self, task_id: int) -> None:
        self._held.add(task_id)
        if self._heartbeat is None or self._heartbeat.done():
            self._heartbeat = asyncio.create_task(self._beat(), name=f"lease-heartbeat:{self.name}")

    async def _beat(self) -> None:
        """Renew the lease of every task in hand, a few times per lease, while any is held."""
        interval = self.lease.total_seconds() / 3
        while self._held:
            await asyncio.sleep(interval)
            held = list(self._held)
            try:
                mine = await asyncio.to_thread(
                    queue.heartbeat, self.engine, self.name, held, self.clock()
                )
            except Exception:  # missed beats only risk a takeover, which the ledger makes safe
                log.warning("renewing delivery leases failed", exc_info=True)
                continue
            if mine < len(held):
                log.warning(
                    "%d delivery task(s) were taken over by another process", len(held) - mine
                )

    async def close(self) -> None:
        """Stop heart-beating (tasks still in hand will be taken over after their lease)."""
        if self._heartbeat is not None:
            self._heartbeat.cancel()
            await asyncio.gather(self._heartbeat, return_exceptions=True)
