"""Prometheus metrics of this process (one registry, served at /metrics).

Counters are per process: Prometheus sums them across the processes of a deployment.
Figures that live in the database (papers, X spend) are read at scrape time instead.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Iterable, Iterator
from datetime import UTC, date, datetime
from typing import Any, TypeVar

from prometheus_client import CollectorRegistry, Counter
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector
from sqlalchemy import Engine, func
from sqlalchemy.exc import SQLAlchemyError
from sqlmodel import Session, select

from hotpapers.storage.models import Delivery, JobStatus, Paper, Spend
from hotpapers.storage.spend import to_usd

log = logging.getLogger(__name__)

T = TypeVar("T")

# Spend rows of X: reads by the signals job, posts by the X publisher.
X_SPEND_SERVICES = ("x", "x-post")

REGISTRY = CollectorRegistry(auto_describe=True)

API_REQUESTS = Counter(
    "hotpapers_api_requests",
    "HTTP requests made to external services.",
    ["service"],
    registry=REGISTRY,
)
API_ERRORS = Counter(
    "hotpapers_api_errors",
    "Requests to external services that failed (HTTP error, timeout, refused).",
    ["service"],
    registry=REGISTRY,
)
POSTS_DELIVERED = Counter(
    "hotpapers_posts_delivered",
    "Messages and posts published, per destination (discord, x, markdown).",
    ["destination"],
    registry=REGISTRY,
)
PAPERS_COLLECTED = Counter(
    "hotpapers_papers_collected",
    "Papers written by collect and backfill runs of this process.",
    registry=REGISTRY,
)
JOB_RUNS = Counter(
    "hotpapers_job_runs",
    "Scheduled job runs per job and outcome (ok, failed).",
    ["job", "outcome"],
    registry=REGISTRY,
)


def count_request(service: str, *, failed: bool = False) -> None:
    """One request to `service` (arxiv, x, bluesky, hn, hf, discord), and whether it failed."""
    API_REQUESTS.labels(service).inc()
    if failed:
        API_ERRORS.labels(service).inc()


class DatabaseCollector(Collector):
    """Gauges read from the database at scrape time: what every process shares.

    A database that does not answer gives `hotpapers_database_up 0` instead of a failed
    scrape, so the process's own counters are still collected.
    """

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def collect(self) -> Iterator[GaugeMetricFamily]:
        up = GaugeMetricFamily("hotpapers_database_up", "Whether the database answered.")
        try:
            families = self._read(datetime.now(UTC).date())
        except (SQLAlchemyError, OSError):
            log.warning("metrics: database unavailable", extra={"service": "database"})
            up.add_metric([], 0)
            yield up
            return
        up.add_metric([], 1)
        yield up
        yield from families

    def _read(self, today: date) -> list[GaugeMetricFamily]:
        with Session(self.engine) as session:
            papers = session.execute(select(func.count()).select_from(Paper)).scalar_one()
            sent = session.execute(
                select(func.count()).select_from(Delivery).where(Delivery.state == "sent")  # type: ignore[arg-type]
            ).scalar_one()
            spend = session.execute(
                select(Spend.service, Spend.amount_micros).where(
                    Spend.day == today,  # type: ignore[arg-type]
                    Spend.service.in_(X_SPEND_SERVICES),  # type: ignore[attr-defined]
                )
            ).all()
            jobs = session.execute(select(JobStatus.job, JobStatus.last_success_at)).all()
        return [
            _gauge("hotpapers_papers", "Papers in the database.", papers),
            _gauge("hotpapers_deliveries_sent", "Discord deliveries sent (ledger rows).", sent),
            _x_spend({service: to_usd(micros) for service, micros in spend}),
            _last_success(jobs),
        ]


def _gauge(name: str, documentation: str, value: float) -> GaugeMetricFamily:
    return GaugeMetricFamily(name, documentation, value=value)


def _x_spend(spend: dict[str, float]) -> GaugeMetricFamily:
    family = GaugeMetricFamily(
        "hotpapers_x_spend_today_usd",
        "US dollars spent on the X API today (UTC), per use: x = reads, x-post = posts.",
        labels=["service"],
    )
    for service in X_SPEND_SERVICES:
        family.add_metric([service], spend.get(service, 0.0))
    return family


def _last_success(jobs: Iterable[Any]) -> GaugeMetricFamily:
    family = GaugeMetricFamily(
        "hotpapers_job_last_success_timestamp_seconds",
        "When each scheduled job last succeeded (Unix time).",
        labels=["job"],
    )
    for job, when in sorted(jobs):
        if when is not None:
            family.add_metric([job], when.timestamp())
    return family


def database_registry(engine: Engine) -> CollectorRegistry:
    """A registry with the database gauges of `engine` (one per ops app; no global state)."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(DatabaseCollector(engine))
    return registry


async def counted(
    service: str, call: Awaitable[T], *, failed: Callable[[T], bool] | None = None
) -> T:
    """`await call`, counted as one request to `service`: failed when it raises (or `failed`)."""
    try:
        result = await call
    except Exception:
        count_request(service, failed=True)
        raise
    count_request(service, failed=bool(failed and failed(result)))
    return result
