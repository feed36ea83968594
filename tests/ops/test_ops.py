"""The operations endpoints and job status, with a real aiohttp client on SQLite and PostgreSQL."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable
from contextlib import AsyncExitStack
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp.test_utils import TestServer
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import Engine, create_engine

from hotpapers.arxiv import calendar
from hotpapers.config import ClusterSettings, OpsSettings, Settings
from hotpapers.demo.pipeline import DEMO_LISTING, demo_settings, demo_sources, start_fakes
from hotpapers.errors import ArxivHTTPError
from hotpapers.ops.http import ops_app, serve_ops
from hotpapers.ops.status import job_statuses, record_job, track_job
from hotpapers.plumbing.metrics import JOB_RUNS, REGISTRY, count_request
from hotpapers.service import use_cases as jobs
from hotpapers.signals.measure import measure
from hotpapers.storage import migrate
from hotpapers.storage.db import make_engine, transaction
from hotpapers.storage.models import Delivery, Spend
from tests.site.test_site_support import seed

SETTINGS = Settings(cluster=ClusterSettings(process_name="test-1"))
# A port nothing listens on: the database "is gone".
GONE_PG = "postgresql+psycopg://postgres@127.0.0.1:9/hotpapers"


@pytest.fixture
async def client_for() -> AsyncIterator[Callable[..., Any]]:
    servers: list[TestServer] = []
    sessions: list[aiohttp.ClientSession] = []

    async def make(engine: Engine, settings: Settings = SETTINGS, **kwargs: Any) -> Any:
        server = TestServer(ops_app(settings, engine, **kwargs))
        await server.start_server()
        servers.append(server)
        session = aiohttp.ClientSession(base_url=server.make_url("/"))
        sessions.append(session)
        return session

    yield make
    for session in sessions:
        await session.close()
    for server in servers:
        await server.close()


async def _healthz(client: aiohttp.ClientSession) -> tuple[int, dict[str, Any]]:
    async with client.get("/healthz") as response:
        return response.status, await response.json()


async def test_healthz_is_ok_when_jobs_succeed(engine: Engine, client_for: Any) -> None:
    now = datetime.now(UTC)
    record_job(engine, "collect", ok=True, process="p1", now=now)
    record_job(engine, "signals", ok=True, now=now)
    client = await client_for(engine, extra=lambda: {"leader": True})

    status, body = await _healthz(client)

    assert status == 200
    assert body["status"] == "ok" and body["reasons"] == []
    assert body["process"] == "test-1" and body["leader"] is True
    assert set(body["jobs"]) == {"collect", "signals"}
    collect = body["jobs"]["collect"]
    assert datetime.fromisoformat(collect["last_success"]) == now
    assert collect["last_failure"] is None and collect["last_error"] is None
    assert collect["last_process"] == "p1"


async def test_a_failed_publisher_degrades_health_until_it_succeeds(
    engine: Engine, client_for: Any
) -> None:
    start = datetime.now(UTC) - timedelta(minutes=5)
    record_job(engine, "collect", ok=True, now=start)
    record_job(engine, "publish-x", ok=True, now=start)
    record_job(engine, "publish-x", ok=False, error="X refused the post", now=start + timedelta(1))
    client = await client_for(engine)

    status, body = await _healthz(client)
    assert status == 200
    assert body["status"] == "degraded"
    assert body["reasons"] == ["the last publish-x run failed: X refused the post"]
    assert body["jobs"]["publish-x"]["ok"] is False
    assert body["jobs"]["publish-x"]["last_error"] == "X refused the post"
    assert body["jobs"]["collect"]["ok"] is True

    record_job(engine, "publish-x", ok=True, now=start + timedelta(days=2))
    status, body = await _healthz(client)
    assert body["status"] == "ok"
    assert body["jobs"]["publish-x"]["last_error"] is None


async def test_an_old_collect_is_reported_stale(engine: Engine, client_for: Any) -> None:
    settings = Settings(ops=OpsSettings(stale_collect_hours=30))
    record_job(engine, "collect", ok=True, now=datetime.now(UTC) - timedelta(hours=31))
    client = await client_for(engine, settings)

    status, body = await _healthz(client)

    assert status == 200 and body["status"] == "degraded"
    assert body["reasons"] == ["the last successful collect was 31 hours ago"]


def _listing(engine: Engine, day: date) -> None:
    """One paper announced in the listing of `day` (what a collect of it leaves behind)."""
    from hotpapers.storage.store import record_announcements, upsert_papers
    from tests.site.test_site_support import record

    paper = record(f"2611.{day.toordinal() % 100000:05d}", f"Paper of {day}")
    with transaction(engine) as session:
        upsert_papers(session, [paper])
        record_announcements(session, day, [paper], ["cs.LG"])


async def test_days_old_data_is_stale_with_503(engine: Engine, client_for: Any) -> None:
    """Collect "succeeds" but the newest listing is eight days old: the calendar says
    several listings are missing, so /healthz answers 503 "stale" with the reason."""
    now = datetime.now(UTC)
    record_job(engine, "collect", ok=True, now=now)
    current = calendar.current_listing_date(now, SETTINGS.arxiv.holidays)
    old = current - timedelta(days=8)
    _listing(engine, old)
    client = await client_for(engine)

    status, body = await _healthz(client)

    assert status == 503 and body["status"] == "stale"
    assert any(f"the newest listing is {old}" in reason for reason in body["reasons"])


async def test_the_current_listing_is_fresh(engine: Engine, client_for: Any) -> None:
    """Holding the listing the calendar expects is healthy."""
    now = datetime.now(UTC)
    record_job(engine, "collect", ok=True, now=now)
    holidays = SETTINGS.arxiv.holidays
    _listing(engine, calendar.current_listing_date(now, holidays))
    client = await client_for(engine)

    status, body = await _healthz(client)

    assert status == 200 and body["status"] == "ok", body


def _gone_engines(tmp_path: Any) -> list[Engine]:
    # A SQLite file inside a path that is a regular file cannot be opened.
    blocker = tmp_path / "not-a-directory"
    blocker.write_text("")
    return [
        create_engine(f"sqlite:///{blocker / 'hotpapers.db'}"),
        create_engine(GONE_PG, connect_args={"connect_timeout": 2}),
    ]


async def test_healthz_is_failing_with_503_when_the_database_is_gone(
    tmp_path: Any, client_for: Any
) -> None:
    for engine in _gone_engines(tmp_path):
        client = await client_for(engine)
        status, body = await _healthz(client)
        assert status == 503, engine.dialect.name
        assert body["status"] == "failing"
        assert body["reasons"] == ["the database does not answer"]


def test_recording_never_raises_when_the_database_is_gone(tmp_path: Any, caplog: Any) -> None:
    for engine in _gone_engines(tmp_path):
        record_job(engine, "collect", ok=True)
        with track_job(engine, "collect"):
            pass
    assert "outcome=unrecorded" in caplog.text


def _families(text: str) -> dict[str, Any]:
    return {family.name: family for family in text_string_to_metric_families(text)}


def _value(families: dict[str, Any], name: str, **labels: str) -> float:
    family = families[name.removesuffix("_total")]
    for sample in family.samples:
        if sample.name == name and sample.labels == labels:
            return float(sample.value)
    raise AssertionError(f"no sample {name} {labels}")


async def _metrics(client: aiohttp.ClientSession) -> dict[str, Any]:
    async with client.get("/metrics") as response:
        assert response.status == 200
        assert response.headers["Content-Type"].startswith("text/plain; version=0.0.4")
        return _families(await response.text())


def _sent_delivery(listing: date, paper_id: str, state: str) -> Delivery:
    return Delivery(
        target="channel:1",
        listing_date=listing,
        paper_id=paper_id,
        state=state,
        claimed_at=datetime.now(UTC),
    )


async def test_metrics_report_process_counters_and_database_figures(
    engine: Engine, client_for: Any
) -> None:
    seed(engine)
    today = datetime.now(UTC).date()
    with transaction(engine) as session:
        session.add(Spend(service="x", day=today, amount_micros=250_000, units=50))
        session.add(Spend(service="x-post", day=today, amount_micros=400_000, units=2))
        yesterday = today - timedelta(days=1)
        session.add(Spend(service="x", day=yesterday, amount_micros=9_000_000, units=1))
        session.add(_sent_delivery(today, "2401.00001", "sent"))
        session.add(_sent_delivery(today, "2401.00002", "failed"))
    before_arxiv = REGISTRY.get_sample_value("hotpapers_api_requests_total", {"service": "arxiv"})
    count_request("arxiv")
    count_request("arxiv", failed=True)
    with pytest.raises(ArxivHTTPError), track_job(engine, "collect"):
        raise ArxivHTTPError("arXiv answered 503 five times")
    client = await client_for(engine)

    families = await _metrics(client)

    assert _value(families, "hotpapers_database_up") == 1
    assert _value(families, "hotpapers_papers") == _paper_count(engine)
    assert _value(families, "hotpapers_deliveries_sent") == 1
    assert _value(families, "hotpapers_x_spend_today_usd", service="x") == 0.25
    assert _value(families, "hotpapers_x_spend_today_usd", service="x-post") == 0.4
    requests = _value(families, "hotpapers_api_requests_total", service="arxiv")
    assert requests == (before_arxiv or 0) + 2
    assert _value(families, "hotpapers_api_errors_total", service="arxiv") >= 1
    assert _value(families, "hotpapers_job_runs_total", job="collect", outcome="failed") >= 1
    assert "hotpapers_posts_delivered" in families and "hotpapers_papers_collected" in families


def _paper_count(engine: Engine) -> int:
    from sqlmodel import Session, func, select

    from hotpapers.storage.models import Paper

    with Session(engine) as session:
        return session.execute(select(func.count()).select_from(Paper)).scalar_one()


async def test_metrics_still_answer_when_the_database_is_gone(
    tmp_path: Any, client_for: Any
) -> None:
    client = await client_for(_gone_engines(tmp_path)[1])

    families = await _metrics(client)

    assert _value(families, "hotpapers_database_up") == 0
    assert "hotpapers_api_requests" in families
    assert "hotpapers_papers" not in families


def test_track_job_records_logs_and_reraises(engine: Engine, caplog: Any) -> None:
    caplog.set_level(logging.INFO, logger="hotpapers.service.use_cases")
    ok_before = JOB_RUNS.labels("signals", "ok")._value.get()

    with track_job(engine, "signals", process="p1") as run:
        run.detail = "120 papers measured"
    with pytest.raises(RuntimeError), track_job(engine, "signals", process="p2"):
        raise RuntimeError("boom")

    status = job_statuses(engine)["signals"]
    assert status.last_success_at is not None and status.last_failure_at is not None
    assert status.last_failure_at >= status.last_success_at
    assert status.last_error == "RuntimeError: boom" and status.last_process == "p2"
    assert JOB_RUNS.labels("signals", "ok")._value.get() == ok_before + 1
    lines = [r.getMessage() for r in caplog.records if r.name == "hotpapers.service.use_cases"]
    assert len(lines) == 2
    assert lines[0].startswith("job=signals outcome=ok duration=")
    assert lines[0].endswith("detail=120 papers measured")
    assert lines[1].startswith("job=signals outcome=failed duration=")
    assert lines[1].endswith("detail=RuntimeError: boom")


async def test_async_track_job_and_long_errors_are_truncated(engine: Engine) -> None:
    async with track_job(engine, "publish-x"):
        pass
    with pytest.raises(ArxivHTTPError):
        async with track_job(engine, "collect"):
            raise ArxivHTTPError("x" * 800)

    statuses = job_statuses(engine)
    assert statuses["publish-x"].last_success_at is not None
    assert statuses["collect"].last_error == "x" * 500


async def test_serve_ops_listens_on_a_port(engine: Engine) -> None:
    record_job(engine, "collect", ok=True)
    runner = await serve_ops(ops_app(SETTINGS, engine), "127.0.0.1", 0)
    try:
        port = runner.addresses[0][1]
        url = f"http://127.0.0.1:{port}/healthz"
        async with aiohttp.ClientSession() as session, session.get(url) as response:
            assert response.status == 200
            assert (await response.json())["status"] == "ok"
    finally:
        await runner.cleanup()


def _sample(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


async def test_real_clients_count_their_requests_per_service(tmp_path: Path) -> None:
    now = calendar.announced_at(DEMO_LISTING) + timedelta(hours=13)
    services = ("arxiv", "x", "hn", "hf", "bluesky")
    before = {s: _sample("hotpapers_api_requests_total", service=s) for s in services}
    collected_before = _sample("hotpapers_papers_collected_total")
    async with AsyncExitStack() as stack:
        fakes = await start_fakes(stack, now)
        settings = demo_settings(tmp_path, fakes)
        migrate.upgrade(settings.database.url)
        engine = make_engine(settings.database.url)
        report = await jobs.collect(settings, engine, now=now)
        async with aiohttp.ClientSession() as http:
            sources = await measure(settings, engine, demo_sources(settings, http), now=now)
        engine.dispose()

    counted = {s: _sample("hotpapers_api_requests_total", service=s) - before[s] for s in services}
    assert counted["arxiv"] == report.requests > 0
    assert _sample("hotpapers_papers_collected_total") - collected_before == report.papers > 0
    for source in sources:
        assert counted[source.source] == source.requests > 0, source.source
