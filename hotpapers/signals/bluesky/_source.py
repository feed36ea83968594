"""The Bluesky source: which papers one sweep covers, which are searched one by one, and
the measurements (see the package docstring for the query choice and the counting)."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Literal

from hotpapers.config import BlueskySettings
from hotpapers.signals._http import LOOKBACK_BEFORE_ANNOUNCEMENT, SweepPlan, sweep_plan
from hotpapers.signals.base import Budget, Measurement, PaperRef, SourceResult
from hotpapers.signals.bluesky._posts import Collector, Counts
from hotpapers.signals.bluesky._search import SweepFailed, TooBig, posts_linking, sweep
from hotpapers.signals.bluesky._session import PASSWORD_ENV, CallFailed, LoginRejected, Session

# The source's logger, as before the split: log lines keep their name.
log = logging.getLogger("hotpapers.signals.bluesky")

HANDLE_KEY = "signals.bluesky.handle"
MAX_PAGES = 5
REQUESTS_PER_SECOND = 4.0
SWEEP_THRESHOLD = 200  # more papers than this: sweep every arXiv link in the window
SWEEP_QUERY = "arxiv.org"
MAX_SWEEP_PAGES = 300  # 30,000 posts
Mode = Literal["auto", "per_paper", "sweep"]


class BlueskySource:
    """Bluesky posts linking each paper (needs a handle and an app password)."""

    name = "bluesky"

    def __init__(
        self,
        settings: BlueskySettings,
        *,
        rate: float = REQUESTS_PER_SECOND,
        timeout: float = 30.0,
        max_retries: int = 3,
        backoff: float = 2.0,
        max_wait: float = 120.0,
        max_pages: int = MAX_PAGES,
        mode: Mode = "auto",
        sweep_threshold: int = SWEEP_THRESHOLD,
        max_sweep_pages: int = MAX_SWEEP_PAGES,
        sweep_query: str = SWEEP_QUERY,
    ) -> None:
        self.settings = settings
        self.rate = rate
        self.timeout = timeout
        self.max_retries = max_retries
        self.backoff = backoff
        self.max_wait = max_wait
        self.max_pages = max_pages
        self.mode = mode
        self.sweep_threshold = sweep_threshold
        self.max_sweep_pages = max_sweep_pages
        self.sweep_query = sweep_query

    def plan(self, papers: Sequence[PaperRef]) -> SweepPlan | None:
        """The sweep for `papers`, or None to look every paper up on its own."""
        if self.mode == "per_paper" or (
            self.mode == "auto" and len(papers) <= self.sweep_threshold
        ):
            return None
        return sweep_plan(papers)

    def problem(self) -> str | None:
        handle = self.settings.handle.strip()
        password = self.settings.app_password
        missing_password = password is None or not password.get_secret_value()
        if not handle and missing_password:
            return (
                f"Bluesky needs an account: set {HANDLE_KEY} and {PASSWORD_ENV} "
                "(an app password from bsky.app, Settings, App passwords)."
            )
        if not handle:
            return f"Bluesky needs the account's handle: set {HANDLE_KEY}."
        if missing_password:
            return f"Bluesky needs an app password for {handle}: set {PASSWORD_ENV}."
        return None

    async def measure(
        self, papers: Sequence[PaperRef], now: datetime, budget: Budget | None = None
    ) -> SourceResult:
        result = SourceResult(self.name)
        problem = self.problem()
        if problem:
            result.errors.append(problem)
            result.stopped = problem
            return result
        session = self._session(result)
        measured: dict[str, Measurement] = {}
        try:
            await session.login()
            plan = self.plan(papers)
            single = list(papers)
            if plan is not None:
                single = await self._measure_swept(session, plan, now, measured)
            for index, paper in enumerate(single):
                try:
                    posts = await posts_linking(session, paper.arxiv_id, max_pages=self.max_pages)
                except CallFailed as exc:
                    result.errors.append(f"Bluesky search for {paper.arxiv_id} failed: {exc}.")
                    continue
                measured[paper.arxiv_id] = Measurement(
                    paper.arxiv_id, self.name, now, Counts(posts).metrics(), posts
                )
                log.debug("bluesky: %d/%d %s", index + 1, len(single), paper.arxiv_id)
        except LoginRejected as exc:
            result.errors.append(str(exc))
            result.stopped = "Bluesky rejected the login"
        except CallFailed as exc:
            result.errors.append(f"Bluesky login for {self.settings.handle} failed: {exc}.")
            result.stopped = "Bluesky login failed"
        finally:
            await session.close()
        result.measurements = [measured[p.arxiv_id] for p in papers if p.arxiv_id in measured]
        return result

    def _session(self, result: SourceResult) -> Session:
        """A session for one run, paced and retried as this source was set up."""
        return Session(
            self.settings,
            result,
            rate=self.rate,
            timeout=self.timeout,
            max_retries=self.max_retries,
            backoff=self.backoff,
            max_wait=self.max_wait,
        )

    async def _measure_swept(
        self, session: Session, plan: SweepPlan, now: datetime, measured: dict[str, Measurement]
    ) -> list[PaperRef]:
        """Measure `plan.swept` with one sweep; returns the papers to look up one by one."""
        found = {p.arxiv_id: Collector() for p in plan.swept}
        try:
            reached = await sweep(
                session,
                plan.start,
                found,
                query=self.sweep_query,
                max_pages=self.max_sweep_pages,
                auto=self.mode == "auto",
            )
        except TooBig as big:
            log.info("bluesky: %s; searching paper by paper", big)
            return [*plan.swept, *plan.single]
        except SweepFailed as failed:
            complete = [p for p in plan.swept if _covered(p, failed.reached)]
            missing = len(plan.swept) - len(complete)
            session.result.errors.append(
                f"Bluesky search for arXiv posts since {plan.start:%Y-%m-%d %H:%M} UTC failed: "
                f"{failed.problem}; {missing} papers not measured."
            )
            _store(found, complete, now, measured)
            return plan.single
        if reached is None:
            _store(found, plan.swept, now, measured)
            return plan.single
        complete = [p for p in plan.swept if _covered(p, reached)]
        rest = [p for p in plan.swept if not _covered(p, reached)]
        log.info(
            "bluesky: the sweep stopped after %d pages at posts from %s; %d papers announced "
            "before that are searched one by one",
            self.max_sweep_pages,
            reached.isoformat(),
            len(rest),
        )
        _store(found, complete, now, measured)
        return [*rest, *plan.single]


def _covered(paper: PaperRef, reached: datetime | None) -> bool:
    """Whether every post linking `paper` sorts after `reached` (so a sweep that read back
    to `reached` saw them all)."""
    if reached is None or paper.announced is None:
        return False
    announced = paper.announced if paper.announced.tzinfo else paper.announced.replace(tzinfo=UTC)
    return announced - LOOKBACK_BEFORE_ANNOUNCEMENT > reached


def _store(
    found: dict[str, Collector],
    papers: Sequence[PaperRef],
    now: datetime,
    measured: dict[str, Measurement],
) -> None:
    for paper in papers:
        posts = found[paper.arxiv_id].posts()
        measured[paper.arxiv_id] = Measurement(
            paper.arxiv_id, "bluesky", now, Counts(posts).metrics(), posts
        )
