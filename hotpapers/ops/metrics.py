"""Prometheus metrics of this process (one registry, served at /metrics).

Counters are per process: Prometheus sums them across the processes of a deployment.
Figures that live in the database (papers, X spend) are read at scrape time instead.
"""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter

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
