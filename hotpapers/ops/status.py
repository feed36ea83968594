"""Job status shared by every process: what ran, when it last succeeded or failed, and why.

Scheduled jobs wrap their run in `track_job`, which writes one `JobStatus` row per job (read
by /healthz), counts the run in `JOB_RUNS` and logs one line per run. Recording is best
effort: a database that is away is logged, never raised, so bookkeeping cannot fail a job.
"""

from __future__ import annotations

import asyncio
import logging
import time
from datetime import UTC, datetime
from types import TracebackType
from typing import Any

from sqlalchemy import Engine, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import SQLAlchemyError

from hotpapers.errors import HotpapersError
from hotpapers.logs import redact
from hotpapers.plumbing.metrics import JOB_RUNS
from hotpapers.storage.db import transaction
from hotpapers.storage.models import JobStatus

log = logging.getLogger("hotpapers.service.use_cases")

ERROR_LIMIT = 500


def _now(now: datetime | None) -> datetime:
    """Aware UTC, as the columns want it (a naive `now` is taken as UTC)."""
    when = now or datetime.now(UTC)
    return when.astimezone(UTC) if when.tzinfo else when.replace(tzinfo=UTC)


def _upsert(engine: Engine, job: str, values: dict[str, Any]) -> None:
    """Insert or update one job's row in one statement (safe when processes race)."""
    builder = postgresql.insert if engine.dialect.name == "postgresql" else sqlite.insert
    statement = builder(JobStatus.__table__).values(job=job, **values)  # type: ignore[attr-defined]
    statement = statement.on_conflict_do_update(index_elements=["job"], set_=values)
    try:
        with transaction(engine) as session:
            session.execute(statement)
    except (HotpapersError, SQLAlchemyError, OSError) as exc:
        # The run itself decides success; a missing status row only dims /healthz.
        log.warning("job=%s outcome=unrecorded detail=%s", job, redact(str(exc)))


def job_started(
    engine: Engine, job: str, *, process: str | None = None, now: datetime | None = None
) -> None:
    """Record that `job` started on `process` (never raises)."""
    values: dict[str, Any] = {"last_started_at": _now(now)}
    if process:
        values["last_process"] = process[:100]
    _upsert(engine, job, values)


def record_job(
    engine: Engine,
    job: str,
    *,
    ok: bool,
    error: str | None = None,
    process: str | None = None,
    now: datetime | None = None,
) -> None:
    """Record the outcome of one run of `job` (never raises).

    `error` is the one-sentence message shown to users (never a traceback or a secret);
    it is truncated to 500 characters. A success clears the last error.
    """
    when = _now(now)
    values: dict[str, Any]
    if ok:
        values = {"last_success_at": when, "last_error": None}
    else:
        message = redact(error or "failed")
        values = {"last_failure_at": when, "last_error": message[:ERROR_LIMIT]}
    if process:
        values["last_process"] = process[:100]
    _upsert(engine, job, values)


def job_statuses(engine: Engine) -> dict[str, JobStatus]:
    """Every job's status row by job name (raises DatabaseError when the database is away)."""
    with transaction(engine) as session:
        rows = session.execute(select(JobStatus)).scalars().all()
    return {row.job: row for row in rows}


def describe_error(exc: BaseException) -> str:
    """The sentence stored for a failed run: our own errors already are one sentence."""
    if isinstance(exc, HotpapersError):
        return str(exc)
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


# Lower-case: used like a function, `with track_job(engine, "collect"):`.
class track_job:
    """Record start, success or failure of one run of `job`; re-raise failures.

    Works as `with` (sync code) and `async with` (the database writes then run in a thread).
    Set `.detail` inside the block to add a short summary to the run's log line.
    """

    def __init__(self, engine: Engine, job: str, process: str | None = None) -> None:
        self.engine = engine
        self.job = job
        self.process = process
        self.detail = ""
        self._started = 0.0

    def __enter__(self) -> track_job:
        self._started = time.monotonic()
        job_started(self.engine, self.job, process=self.process)
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._finish(exc)

    async def __aenter__(self) -> track_job:
        self._started = time.monotonic()
        await asyncio.to_thread(job_started, self.engine, self.job, process=self.process)
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await asyncio.to_thread(self._finish, exc)

    def _finish(self, exc: BaseException | None) -> None:
        if isinstance(exc, (asyncio.CancelledError, KeyboardInterrupt, SystemExit)):
            # Shutdown, not a failure of the job: leave the status as it was.
            log.info("job=%s outcome=cancelled", self.job, extra=self._extra("cancelled"))
            return
        ok = exc is None
        error = None if exc is None else describe_error(exc)
        record_job(self.engine, self.job, ok=ok, error=error, process=self.process)
        outcome = "ok" if ok else "failed"
        JOB_RUNS.labels(self.job, outcome).inc()
        detail = self.detail if ok else (error or "")
        log.log(
            logging.INFO if ok else logging.ERROR,
            "job=%s outcome=%s duration=%.1fs detail=%s",
            self.job,
            outcome,
            time.monotonic() - self._started,
            redact(detail),
            extra=self._extra(outcome),
        )

    def _extra(self, outcome: str) -> dict[str, str]:
        return {"job": self.job, "outcome": outcome}
