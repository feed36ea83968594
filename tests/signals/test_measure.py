"""The measure use-case: window, interval, isolation of failing sources, append-only snapshots.

The sources here are small in-test platforms implementing the SignalSource Protocol; the
real adapters are tested against their fake servers in tests/test_signals_*.py.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import Engine, func, select
from sqlmodel import Session, col

from hotpapers.arxiv.calendar import announced_at
from hotpapers.config import Settings
from hotpapers.service import use_cases as jobs
from hotpapers.signals.base import Budget, Measurement, PaperRef, PostRecord, SourceResult
from hotpapers.signals.measure import measure
from hotpapers.storage.db import transaction
from hotpapers.storage.models import SignalSnapshot, SocialPost
from hotpapers.storage.records import PaperRecord
from hotpapers.storage.spend import spent
from hotpapers.storage.store import record_announcements, upsert_papers

DAY = date(2021, 3, 15)
NOW = announced_at(DAY) + timedelta(hours=10)


class CountingSource:
    """A platform where every paper has `likes` that grow by 10 each time it is asked."""

    def __init__(self, name: str = "hn", problem: str | None = None) -> None:
        self.name, self._problem, self.calls = name, problem, 0

    def problem(self) -> str | None:
        return self._problem

    async def measure(
        self, papers: Sequence[PaperRef], now: datetime, budget: Budget | None = None
    ) -> SourceResult:
        self.calls += 1
        result = SourceResult(self.name, requests=len(papers))
        for paper in papers:
            post = PostRecord(
                self.name, f"{paper.arxiv_id}-1", paper.arxiv_id, "alice", likes=10 * self.calls
            )
            result.measurements.append(
                Measurement(paper.arxiv_id, self.name, now, {"points": 10.0 * self.calls}, [post])
            )
        return result


class BrokenSource(CountingSource):
    async def measure(
        self, papers: Sequence[PaperRef], now: datetime, budget: Budget | None = None
    ) -> SourceResult:
        raise ConnectionResetError("the platform hung up")


class PaidSource(CountingSource):
    """Charges $0.005 per paper, stopping when the budget is spent (like X)."""

    async def measure(
        self, papers: Sequence[PaperRef], now: datetime, budget: Budget | None = None
    ) -> SourceResult:
        assert budget is not None
        result = SourceResult(self.name, budget=budget)
        for paper in papers:
            if not await budget.reserve(5_000):
                result.stopped = "daily X budget reached"
                break
            await budget.settle(5_000, 5_000, 1)
            result.measurements.append(Measurement(paper.arxiv_id, self.name, now, {"likes": 1.0}))
        return result


def seed(engine: Engine, count: int = 3) -> list[str]:
    records = [
        PaperRecord(
            f"2103.0{i:04d}",
            1,
            f"Paper {i}",
            "Abstract",
            ("A. Author",),
            ("cs.LG",),
            "cs.LG",
            submitted=datetime(2021, 3, 12, tzinfo=UTC),
        )
        for i in range(count)
    ]
    with transaction(engine) as session:
        upsert_papers(session, records)
        record_announcements(session, DAY, records, ["cs.LG"])
    return [r.arxiv_id for r in records]


def snapshots(engine: Engine, source: str) -> int:
    with Session(engine) as session:
        query = (
            select(func.count())
            .select_from(SignalSnapshot)
            .where(col(SignalSnapshot.source) == source)
        )
        return int(session.execute(query).scalar_one())


async def test_a_failing_source_does_not_stop_the_others(engine: Engine) -> None:
    """One platform raising still lets the other's measurements land."""
    seed(engine)
    reports = await measure(
        Settings(), engine, [BrokenSource("bluesky"), CountingSource("hn")], now=NOW
    )
    by_name = {r.source: r for r in reports}
    assert by_name["bluesky"].errors and "hung up" in by_name["bluesky"].errors[0]
    assert by_name["hn"].measured == 3 and snapshots(engine, "hn") == 3


async def test_source_with_a_problem_is_skipped_with_its_reason(engine: Engine) -> None:
    """Missing credentials: skipped, and the report carries the sentence."""
    seed(engine)
    source = CountingSource("x", problem="HOTPAPERS_SIGNALS__X__BEARER_TOKEN is not set")
    [report] = await measure(Settings(), engine, [source], now=NOW)
    assert source.calls == 0 and "BEARER_TOKEN" in report.sentence()


async def test_never_measured_more_often_than_configured(engine: Engine) -> None:
    """Within min_interval a second run asks nothing; after it, papers are measured again."""
    seed(engine)
    source = CountingSource()
    await measure(Settings(), engine, [source], now=NOW)
    [again] = await measure(Settings(), engine, [source], now=NOW + timedelta(minutes=30))
    assert again.papers_asked == 0 and source.calls == 1
    [later] = await measure(Settings(), engine, [source], now=NOW + timedelta(minutes=61))
    assert later.measured == 3 and source.calls == 2


async def test_snapshots_accumulate_over_days_and_ranking_reads_latest(engine: Engine) -> None:
    """Each day appends a snapshot; posts are updated in place with the newest counts."""
    ids = seed(engine, 1)
    source = CountingSource()
    for day in range(3):
        await measure(Settings(), engine, [source], now=NOW + timedelta(days=day))
    assert snapshots(engine, "hn") == 3
    with Session(engine) as session:
        post = session.execute(
            select(SocialPost).where(col(SocialPost.paper_id) == ids[0])
        ).scalar_one()
        assert post.likes == 30
    settings = Settings(ranking={"weights": {"hn.points": 1.0}, "threshold": 0})
    ranked = jobs.rank(settings, engine, DAY, now=NOW + timedelta(days=1, hours=1))
    assert ranked[0].score == 20  # the snapshot taken on day 2, not the later one


async def test_papers_leave_the_measuring_window(engine: Engine) -> None:
    """After measure_days, a paper is no longer measured."""
    seed(engine, 1)
    [report] = await measure(Settings(), engine, [CountingSource()], now=NOW + timedelta(days=9))
    assert report.papers_asked == 0


async def test_budget_stop_is_reported_and_spend_recorded(engine: Engine) -> None:
    """A paid source stops at the daily cap; what it gathered is kept and the spend is stored."""
    seed(engine, 5)
    settings = Settings(signals={"x": {"daily_budget_usd": 0.012}})
    [report] = await measure(settings, engine, [PaidSource("x")], now=NOW)
    assert report.stopped and "budget" in report.sentence()
    assert report.measured == 2
    with Session(engine) as session:
        assert spent(session, "x", NOW.date()) == (10_000, 2)
    [second] = await measure(settings, engine, [PaidSource("x")], now=NOW + timedelta(hours=2))
    assert second.measured == 0 and second.stopped
