"""The `measure` use-case: every enabled source, for papers in their measuring window.

One failing source never stops the others: each runs in its own task with its own time
bound, and each source's results land in their own transaction. A paid source (X) spends
from the day's cap in the shared spend ledger, request by request (hotpapers/storage/spend.py), so
runs in other processes at the same time cannot spend the same money.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import Engine
from sqlmodel import Session, col, select

from hotpapers.arxiv.calendar import announced_at
from hotpapers.config import Settings
from hotpapers.plumbing.retry import Unreachable
from hotpapers.signals.base import PaperRef, SignalSource, SourceResult
from hotpapers.signals.store import last_measured, save_measurements
from hotpapers.storage.db import transaction
from hotpapers.storage.models import Announcement, Paper
from hotpapers.storage.spend import LedgerBudget

log = logging.getLogger(__name__)


@dataclass(slots=True)
class SourceReport:
    source: str
    papers_asked: int = 0
    measured: int = 0
    posts: int = 0
    requests: int = 0
    spent_usd: float = 0.0
    errors: list[str] = field(default_factory=list)
    stopped: str | None = None
    skipped: str | None = None  # why the source did not run at all

    def sentence(self) -> str:
        if self.skipped:
            return f"{self.source}: skipped ({self.skipped})"
        parts = [f"{self.measured}/{self.papers_asked} papers measured", f"{self.posts} posts",
                 f"{self.requests} requests"]  # fmt: skip
        if self.spent_usd:
            parts.append(f"${self.spent_usd:.3f} spent")
        text = f"{self.source}: " + ", ".join(parts)
        if self.stopped:
            text += f"; stopped early: {self.stopped}"
        if self.errors:
            text += f"; {len(self.errors)} errors (first: {self.errors[0]})"
        return text


def papers_in_window(session: Session, now: datetime, measure_days: int) -> list[PaperRef]:
    """Papers announced within the last `measure_days` days (late risers still surface)."""
    since = (now - timedelta(days=measure_days)).date()
    query = (
        select(col(Paper.id), col(Paper.title), col(Announcement.listing_date))
        .join(Announcement, Announcement.paper_id == Paper.id)  # type: ignore[arg-type]
        .where(Announcement.listing_date >= since)  # type: ignore[arg-type]
    )
    first: dict[str, tuple[str, date]] = {}
    for paper_id, title, listing in session.execute(query):
        if paper_id not in first or listing < first[paper_id][1]:
            first[paper_id] = (title, listing)
    return [PaperRef(i, title, announced_at(day)) for i, (title, day) in sorted(first.items())]


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def due(
    session: Session,
    source: str,
    papers: Sequence[PaperRef],
    now: datetime,
    min_interval: timedelta,
) -> list[PaperRef]:
    """The papers not measured on `source` within `min_interval` of `now`."""
    last = last_measured(session, source, [p.arxiv_id for p in papers])
    return [
        p
        for p in papers
        if p.arxiv_id not in last or now - _aware(last[p.arxiv_id]) >= min_interval
    ]


async def measure(
    settings: Settings,
    engine: Engine,
    sources: Sequence[SignalSource],
    *,
    now: datetime | None = None,
) -> list[SourceReport]:
    """Measure every usable source concurrently; returns one report per source."""
    now = now or datetime.now(UTC)
    with Session(engine) as session:
        window = papers_in_window(session, now, settings.ranking.measure_days)
    tasks = [_run_source(settings, engine, source, window, now) for source in sources]
    return list(await asyncio.gather(*tasks))


async def _run_source(
    settings: Settings, engine: Engine, source: SignalSource, window: list[PaperRef], now: datetime
) -> SourceReport:
    report = SourceReport(source.name)
    problem = source.problem()
    if problem:
        log.warning("signals %s skipped: %s", source.name, problem)
        report.skipped = problem
        return report
    min_interval = timedelta(minutes=settings.signals.min_interval_minutes)
    with Session(engine) as session:
        papers = due(session, source.name, window, now, min_interval)
    budget = _budget(engine, settings, source.name, now)
    report.papers_asked = len(papers)
    if not papers:
        return report
    try:
        result = await asyncio.wait_for(
            source.measure(papers, now, budget), settings.signals.source_timeout
        )
    except Unreachable as exc:  # no answer at all: one sentence, not one per paper
        log.warning("signals %s stopped: %s", source.name, exc)
        report.stopped = str(exc)
        return report
    except Exception as exc:  # a source's failure is its own; the others go on
        log.error("signals %s failed", source.name, exc_info=True)
        report.errors.append(f"{source.name} failed: {exc.__class__.__name__}: {exc}")
        return report
    result.budget = result.budget or budget
    _store(engine, result, report)
    log.info("signals %s", report.sentence())
    return report


def _budget(engine: Engine, settings: Settings, source: str, now: datetime) -> LedgerBudget | None:
    """The UTC day's X cap, shared through the ledger with every process on the database."""
    if source != "x":
        return None
    day = _aware(now).astimezone(UTC).date()
    return LedgerBudget(engine, "x", day, settings.signals.x.daily_budget_usd)


def _store(engine: Engine, result: SourceResult, report: SourceReport) -> None:
    """One source's results in one transaction: snapshots and posts together. (The money is
    in the ledger already: each request settled its cost as soon as X answered.)"""
    with transaction(engine) as session:
        report.measured = save_measurements(session, result.measurements)
    report.posts = sum(len(m.posts) for m in result.measurements)
    report.requests, report.errors, report.stopped = result.requests, result.errors, result.stopped
    report.spent_usd = result.budget.spent_usd if result.budget else 0.0
