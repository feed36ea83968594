"""The operations endpoints: `GET /healthz` (job status as JSON) and `GET /metrics` (Prometheus).

/healthz answers 200 with status "ok" or "degraded" (a job's last run failed, or the last
successful collect is older than `[ops] stale_collect_hours`), 503 with "stale" when the
newest stored listing is older than arXiv's calendar allows (`hotpapers.ops.freshness`),
and 503 with "failing" when the database does not answer. Database calls run in a
thread, never on the event loop.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from typing import Any

from aiohttp import web
from prometheus_client import generate_latest
from sqlalchemy import Engine

from hotpapers.cluster.leader import process_name
from hotpapers.config import Settings
from hotpapers.errors import HotpapersError
from hotpapers.logs import redact
from hotpapers.ops.freshness import newest_listing, stale_listing
from hotpapers.ops.status import job_statuses
from hotpapers.plumbing.metrics import REGISTRY, database_registry
from hotpapers.storage.models import JobStatus

log = logging.getLogger(__name__)

PROMETHEUS_CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
# /healthz must answer quickly even when the database hangs.
DB_TIMEOUT_SECONDS = 5.0

_SETTINGS = web.AppKey("settings", Settings)
_ENGINE = web.AppKey("engine", Engine)
_EXTRA = web.AppKey("extra", object)
_DB_REGISTRY = web.AppKey("db_registry", object)


def ops_app(
    settings: Settings,
    engine: Engine,
    *,
    extra: Callable[[], dict[str, Any]] | None = None,
) -> web.Application:
    """An aiohttp application serving /healthz and /metrics for this process.

    `extra()` adds keys to the /healthz document (e.g. leadership, shards); it runs on
    the event loop, so it must be quick and must not touch the database.
    """
    app = web.Application()
    app[_SETTINGS] = settings
    app[_ENGINE] = engine
    app[_EXTRA] = extra
    app[_DB_REGISTRY] = database_registry(engine)
    app.router.add_get("/healthz", _healthz)
    app.router.add_get("/metrics", _metrics)
    return app


async def serve_ops(app: web.Application, host: str, port: int) -> web.AppRunner:
    """Start serving `app` on host:port; the caller awaits `runner.cleanup()` to stop."""
    runner = await listen(app, host, port, setting="ops.port")
    log.info("ops endpoints on http://%s:%s (/healthz, /metrics)", host, port)
    return runner


async def listen(app: web.Application, host: str, port: int, *, setting: str) -> web.AppRunner:
    """Serve `app` on host:port, or one sentence naming the setting when the port is taken."""
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    try:
        await web.TCPSite(runner, host, port).start()
    except OSError as exc:
        await runner.cleanup()
        log.debug("binding %s:%s failed", host, port, exc_info=True)
        reason = exc.strerror or str(exc)
        raise HotpapersError(
            f"cannot listen on {host}:{port} ({reason}); stop what uses that port "
            f"or set {setting} to another one"
        ) from None
    return runner


async def _healthz(request: web.Request) -> web.Response:
    settings, engine = request.app[_SETTINGS], request.app[_ENGINE]
    body: dict[str, Any] = {"process": process_name(settings)}
    try:
        statuses, newest = await asyncio.wait_for(
            asyncio.to_thread(_read_health, engine), DB_TIMEOUT_SECONDS
        )
    except (HotpapersError, TimeoutError, OSError) as exc:
        log.warning("healthz: database unavailable: %s", redact(str(exc)), extra=_fields("failing"))
        body |= {"status": "failing", "reasons": ["the database does not answer"], "jobs": {}}
        return web.json_response(body | _extra(request), status=503)
    reasons = health_problems(statuses, settings.ops.stale_collect_hours)
    stale = stale_listing(
        newest, datetime.now(UTC), settings.arxiv.holidays, settings.ops.stale_collect_hours
    )
    state = "stale" if stale else "degraded" if reasons else "ok"
    body |= {
        "status": state,
        "reasons": [stale, *reasons] if stale else reasons,
        "jobs": {job: _job_json(status) for job, status in sorted(statuses.items())},
    }
    # Stale data is an outage for readers: a load balancer or monitor must see it.
    return web.json_response(body | _extra(request), status=503 if stale else 200)


def _read_health(engine: Engine) -> tuple[dict[str, JobStatus], date | None]:
    return job_statuses(engine), newest_listing(engine)


def health_problems(
    statuses: dict[str, JobStatus], stale_collect_hours: float, *, now: datetime | None = None
) -> list[str]:
    """One sentence per problem: failed last runs, and a collect that is too old."""
    problems = [
        f"the last {job} run failed: {status.last_error or 'no detail'}"
        for job, status in sorted(statuses.items())
        if _last_run_failed(status)
    ]
    collect = statuses.get("collect")
    if collect is not None and collect.last_success_at is not None:
        now = now or datetime.now(UTC)
        age = now - collect.last_success_at
        if age > timedelta(hours=stale_collect_hours):
            hours = age.total_seconds() / 3600
            problems.append(f"the last successful collect was {hours:.0f} hours ago")
    return problems


def _last_run_failed(status: JobStatus) -> bool:
    if status.last_failure_at is None:
        return False
    return status.last_success_at is None or status.last_failure_at > status.last_success_at


def _iso(when: datetime | None) -> str | None:
    return when.astimezone(UTC).isoformat() if when else None


def _job_json(status: JobStatus) -> dict[str, Any]:
    return {
        "last_started": _iso(status.last_started_at),
        "last_success": _iso(status.last_success_at),
        "last_failure": _iso(status.last_failure_at),
        "last_error": status.last_error,
        "last_process": status.last_process,
        "ok": not _last_run_failed(status),
    }


def _extra(request: web.Request) -> dict[str, Any]:
    extra = request.app[_EXTRA]
    return dict(extra()) if callable(extra) else {}


def _fields(outcome: str) -> dict[str, str]:
    return {"service": "database", "outcome": outcome}


async def _metrics(request: web.Request) -> web.Response:
    db_registry = request.app[_DB_REGISTRY]
    # The database figures are read at scrape time, in a thread (the collector queries).
    text = await asyncio.to_thread(
        lambda: generate_latest(REGISTRY) + generate_latest(db_registry)  # type: ignore[arg-type]
    )
    return web.Response(body=text, headers={"Content-Type": PROMETHEUS_CONTENT_TYPE})
