"""Delivering planned digests exactly once, through the ledger (claim, send, complete;
the ledger's rows are read and written in `_ledger`).

Targets are delivered concurrently by a bounded pool of workers: one target's papers always
go out one after the other, in rank order, by one worker, while up to `workers` targets are in
flight (each Discord thread only takes ~1 message/s, so throughput needs many at once). The
database calls block, so they run in threads, off the event loop (the gateway heartbeat must
keep beating); on SQLite the ledger's writes take turns behind one lock.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import TypeVar

from sqlalchemy import Engine

from hotpapers.delivery._ledger import (
    STALE_CLAIM,
    claim_paper,
    claim_thread,
    complete_paper,
    fail_paper,
    forget_thread,
    is_stale,
    known_thread,
    ledger_rows,
    older_versions,
    record_thread,
    release_claim,
    release_thread,
    retake_thread,
    set_version,
    stale_since,
)
from hotpapers.delivery._types import (
    DM_FORBIDDEN_REASON,
    FORBIDDEN_REASON,
    GONE_CONFIRM_AFTER,
    GONE_REASON,
    Courier,
    MessageGone,
    MessageRejected,
    TargetForbidden,
    TargetGone,
    TargetPlan,
    ThreadGone,
    Transient,
    Update,
)
from hotpapers.delivery.subscriptions import clear_target_missing, note_target_missing, pause_target
from hotpapers.plumbing import failpoints
from hotpapers.ranking.scoring import RankedPaper
from hotpapers.storage.db import is_postgres
from hotpapers.storage.models import Delivery

log = logging.getLogger(__name__)

T = TypeVar("T")

# Targets in flight by default (the bot passes settings.discord.delivery_workers).
DEFAULT_WORKERS = 50

# SQLite has one writer at a time; taking turns here beats its busy-wait and retry.
_SQLITE_WRITES = threading.Lock()


@dataclass
class TargetReport:
    target: str
    sent: int = 0
    recovered: int = 0  # claimed by a run that died after sending: found, completed
    resent: int = 0  # claimed by a run that died before sending: sent now
    edited: int = 0
    failed: int = 0
    outcome: str = "ok"  # ok | busy | paused | missing | retry | error
    error: str = ""


@dataclass
class DeliveryReport:
    listing_date: date
    targets: list[TargetReport] = field(default_factory=list)

    @property
    def sent(self) -> int:
        return sum(t.sent + t.resent for t in self.targets)


async def deliver(
    engine: Engine,
    courier: Courier,
    plans: list[TargetPlan],
    listing_date: date,
    now: datetime,
    *,
    workers: int = DEFAULT_WORKERS,
) -> DeliveryReport:
    """Deliver every plan, up to `workers` targets at a time; one target's failure never
    stops the others. The report lists the targets in the order of `plans`."""
    report = DeliveryReport(listing_date, [TargetReport(p.target) for p in plans])
    todo = iter(zip(plans, report.targets, strict=True))  # shared: each pair taken once

    async def worker() -> None:
        for target_plan, result in todo:
            try:
                await _deliver_one(engine, courier, target_plan, now, result)
            except Exception as exc:  # e.g. the database failing while pausing the target
                result.outcome, result.error = "error", str(exc)
                log.exception("%s: delivery failed", result.target)

    try:
        async with asyncio.TaskGroup() as group:
            for _ in range(max(1, min(workers, len(plans)))):
                group.create_task(worker())
    except BaseExceptionGroup as failed:
        # Only a BaseException gets here (a dying process, cancellation): pass it on as is.
        raise failed.exceptions[0] from None
    return report


async def _deliver_one(
    engine: Engine, courier: Courier, target_plan: TargetPlan, now: datetime, result: TargetReport
) -> None:
    """One target's digest, with its failure turned into the report's outcome."""
    try:
        await _deliver_target(engine, courier, target_plan, now, result)
        if target_plan.missing_since is not None and _reached(result):
            await _write(engine, clear_target_missing, engine, target_plan.target)
        log.info(
            "%s %s: %s, %d sent, %d recovered, %d resent, %d edited, %d refused",
            target_plan.listing_date,
            target_plan.ledger,  # `channel:N/week` for a week's thread, as the CLI prints it
            result.outcome,
            result.sent,
            result.recovered,
            result.resent,
            result.edited,
            result.failed,
        )
    except TargetForbidden as exc:
        result.outcome, result.error = "paused", str(exc)
        log.warning("%s: forbidden (%s); pausing its subscriptions", result.target, exc)
        dm = target_plan.style == "dm"
        reason = DM_FORBIDDEN_REASON if dm else FORBIDDEN_REASON
        await _write(engine, pause_target, engine, target_plan.target, reason)
    except TargetGone as exc:
        # Never deleted: a second 404 a day after the first pauses them (resumable).
        target, confirm = target_plan.target, GONE_CONFIRM_AFTER
        paused = await _write(
            engine, note_target_missing, engine, target, now, confirm, GONE_REASON
        )
        result.outcome, result.error = "paused" if paused else "missing", str(exc)
        then = "pausing its subscriptions" if paused else "retrying tomorrow before pausing"
        log.warning("%s: Discord says it does not exist (%s); %s", result.target, exc, then)
    except (Transient, ThreadGone) as exc:
        result.outcome, result.error = "retry", str(exc)
        log.warning("%s: temporary failure (%s); retrying next run", result.target, exc)
    except Exception as exc:  # a bug or an outage for one target must not stop the rest
        result.outcome, result.error = "error", str(exc)
        log.exception("%s: delivery failed", result.target)


def _reached(result: TargetReport) -> bool:
    """Whether this run posted to the target (or found its posts): it exists after all."""
    return result.outcome == "ok" and result.sent + result.resent + result.recovered > 0


async def _read(call: Callable[..., T], *args: object) -> T:
    """A blocking database read, in a thread."""
    return await asyncio.to_thread(call, *args)


async def _write(engine: Engine, call: Callable[..., T], *args: object) -> T:
    """A blocking database write, in a thread; on SQLite one at a time."""

    def write() -> T:
        if is_postgres(engine):
            return call(*args)
        with _SQLITE_WRITES:
            return call(*args)

    return await asyncio.to_thread(write)


async def _deliver_target(
    engine: Engine, courier: Courier, plan: TargetPlan, now: datetime, result: TargetReport
) -> None:
    ledger = await _read(ledger_rows, engine, plan.ledger, plan.listing_date)
    live = [row for row in ledger.values() if row.state == "claimed" and not is_stale(row, now)]
    if live:
        # Another run is delivering to this target right now: let it finish, in order.
        result.outcome = "busy"
        result.error = _busy_reason(live, now)
        return
    items = (*plan.papers, *plan.rising)
    todo = [item for item in items if _needs_work(ledger.get(item.paper.arxiv_id), now)]
    if todo:
        try:
            await _deliver_papers(engine, courier, plan, todo, now, result)
        except _StartingElsewhere:
            result.outcome = "busy"
            return
    for change in plan.updates:
        await _update(engine, courier, plan.target, change, result)


def _busy_reason(live: list[Delivery], now: datetime) -> str:
    """Why nothing was sent, and when a claim of a run that died is taken over."""
    claimed = max(row.claimed_at for row in live if row.claimed_at is not None)
    if claimed.tzinfo is None:
        claimed = claimed.replace(tzinfo=UTC)
    minutes = int(STALE_CLAIM.total_seconds() // 60)
    return (
        f"another run claimed it at {claimed:%H:%M:%S} UTC; if that run died, a run after "
        f"{claimed + STALE_CLAIM:%H:%M:%S} UTC takes it over ({minutes} minutes after the claim)"
    )


async def _deliver_papers(
    engine: Engine,
    courier: Courier,
    plan: TargetPlan,
    todo: list[RankedPaper],
    now: datetime,
    result: TargetReport,
) -> None:
    """`todo` in order into the day's thread; a thread deleted meanwhile (by a moderator) is
    started again for the papers still to send (those it had are not sent twice)."""
    thread_id = await _thread(engine, courier, plan, now)
    posted_before = result.sent + result.resent
    for item in todo:
        try:
            await _deliver_paper(engine, courier, plan, thread_id, item, now, result)
        except ThreadGone as exc:
            log.warning(
                "%s: the digest thread was deleted (%s); starting a new one", plan.target, exc
            )
            await _write(engine, forget_thread, engine, plan.ledger, plan.listing_date, thread_id)
            thread_id = await _thread(engine, courier, plan, now)
            await _deliver_paper(engine, courier, plan, thread_id, item, now, result)
    if result.sent + result.resent > posted_before:
        # Closes what this run posted; a run that only found earlier posts adds nothing.
        try:
            await courier.finish_digest(plan.target, thread_id, plan.title)
        except (Transient, MessageRejected, ThreadGone) as exc:  # the papers are out: no retry
            log.warning("%s: the closing message was not posted (%s)", plan.target, exc)


def _needs_work(row: Delivery | None, now: datetime) -> bool:
    if row is None:
        return True
    return row.state == "claimed" and is_stale(row, now)


class _StartingElsewhere(Exception):
    """Another run is posting this target's header right now."""


async def _thread(engine: Engine, courier: Courier, plan: TargetPlan, now: datetime) -> str | None:
    """The day's thread for the target, started (header first) on the first paper.

    Like a paper, the header is claimed before it is posted (a row without a header id) and
    recorded after. A stale claim means the run that made it died in between, perhaps after
    posting: its header is looked for (and its thread opened if that is what was missing)
    before a new one is posted, so a crash never leaves two headers."""
    day = plan.listing_date
    found = await _read(known_thread, engine, plan.ledger, day)
    if found is not None and found.header_message_id is not None:
        return found.thread_id
    started: tuple[str, str | None] | None = None
    if found is None:
        if not await _write(engine, claim_thread, engine, plan.ledger, day, now):
            raise _StartingElsewhere
    else:
        if not stale_since(found.created_at, now) or not await _write(
            engine, retake_thread, engine, found, now
        ):
            raise _StartingElsewhere
    try:
        if found is not None:
            started = await courier.find_digest(plan.target, plan.title, plan.style)
        if started is not None:
            log.info("%s: found the header an earlier run posted; not posting another", plan.target)
        else:
            started = await courier.start_digest(plan.target, plan.title, plan.style)
    except Exception:
        # Maybe posted, maybe not (a timeout): the next run looks before posting, at once.
        await _write(engine, release_thread, engine, plan.ledger, day)
        raise
    await _write(engine, record_thread, engine, plan.ledger, day, *started)
    return started[1]


async def _deliver_paper(
    engine: Engine,
    courier: Courier,
    plan: TargetPlan,
    thread_id: str | None,
    item: RankedPaper,
    now: datetime,
    result: TargetReport,
) -> None:
    paper_id = item.paper.arxiv_id
    row_id = await _write(engine, claim_paper, engine, plan, paper_id, now)
    if row_id is None:  # someone else holds it, live: theirs to finish
        return
    fresh = row_id > 0
    row_id = abs(row_id)
    try:
        if not fresh:
            found = await courier.find_paper_message(plan.target, thread_id, paper_id)
            if found is not None:
                await _write(engine, complete_paper, engine, row_id, *found, now)
                result.recovered += 1
                return
        channel_id, message_id = await courier.send_paper(plan.target, thread_id, item)
    except ThreadGone:
        # Not sent: give the claim up at once, so the retry in a new thread may take it.
        await _write(engine, release_claim, engine, row_id)
        raise
    except MessageRejected as exc:
        await _write(engine, fail_paper, engine, row_id, str(exc))
        result.failed += 1
        log.error("%s: %s was refused: %s", plan.target, paper_id, exc)
        return
    failpoints.reach("delivery.after_send")  # sent, not yet recorded: the crash that matters
    await _write(engine, complete_paper, engine, row_id, channel_id, message_id, now)
    if fresh:
        result.sent += 1
    else:
        result.resent += 1


async def _update(
    engine: Engine, courier: Courier, target: str, change: Update, result: TargetReport
) -> None:
    """Edit every earlier message of the paper in this target to show the new version."""
    paper_id = change.ranked.paper.arxiv_id
    rows = await _read(older_versions, engine, target, paper_id, change.version)
    for row in rows:
        if row.channel_id and row.message_id:
            try:
                note = f"updated to v{change.version}"
                await courier.edit_paper(row.channel_id, row.message_id, change.ranked, note)
                result.edited += 1
            except MessageGone:
                log.info("%s: the message of %s was deleted; not edited", target, paper_id)
        await _write(engine, set_version, engine, row.id, change.version)
