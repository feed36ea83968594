"""The service's job bodies on a real database (SQLite and PostgreSQL): JobStatus, the ledger,
publishers failing independently, and the database going away."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, func, select
from sqlmodel import Session

from hotpapers.config import Settings
from hotpapers.errors import DatabaseError
from hotpapers.service.app import Service
from hotpapers.service.jobs import MARKDOWN, Retry, ServiceJobs, claim
from hotpapers.storage.db import make_engine, transaction
from hotpapers.storage.models import JobStatus, Publication, SocialPost
from hotpapers.storage.records import PaperRecord
from hotpapers.storage.store import record_announcements, upsert_papers

DAY = date(2026, 11, 24)  # a Tuesday listing, announced Monday 20:00 New York time
AT_POST_TIME = datetime(2026, 11, 24, 9, 0, 30, tzinfo=UTC)
BEFORE_POST_TIME = datetime(2026, 11, 24, 8, 59, tzinfo=UTC)
FAST = Retry(attempts=2, first_delay=0.01)


def make_settings(tmp_path: Path, engine: Engine, **sections: Any) -> Settings:
    return Settings(
        database={"url": engine.url.render_as_string(hide_password=False)},  # type: ignore[arg-type]
        arxiv={"categories": ["cs.LG"]},  # type: ignore[arg-type]
        digest={"posts_dir": tmp_path / "posts"},  # type: ignore[arg-type]
        site={"enabled": False, "out_dir": tmp_path / "site", "port": 0},  # type: ignore[arg-type]
        ops={"port": 0},  # type: ignore[arg-type]
        ranking={"threshold": 1},  # type: ignore[arg-type]
        **sections,
    )


def seed(engine: Engine, day: date = DAY) -> None:
    """One collected listing with one paper that people talk about on X."""
    paper = PaperRecord(
        arxiv_id="2611.00201", version=1, title="Diffusion for robots",
        abstract="We study robots.", authors=("Ada Lovelace",), categories=("cs.LG",),
        primary_category="cs.LG", submitted=datetime(2026, 11, 20, tzinfo=UTC),
    )  # fmt: skip
    with transaction(engine) as session:
        upsert_papers(session, [paper])
        record_announcements(session, day, [paper], ["cs.LG"])
        session.add(
            SocialPost(
                source="x", post_id="p1", paper_id=paper.arxiv_id, author_id="fan",
                author_handle="fan", text="read this", url="https://x.com/fan/status/1",
                likes=120, reposts=3, created_at=datetime(2026, 11, 23, 12, tzinfo=UTC),
                taken_at=datetime(2026, 11, 23, 13, tzinfo=UTC),
            )
        )  # fmt: skip


def status(engine: Engine, job: str) -> JobStatus | None:
    with Session(engine) as session:
        return session.get(JobStatus, job)


def publications(engine: Engine, kind: str) -> list[tuple[date, str]]:
    with Session(engine) as session:
        query = select(Publication).where(Publication.kind == kind)  # type: ignore[arg-type]
        return [(row.listing_date, row.state) for row in session.execute(query).scalars()]


async def test_markdown_post_is_written_once_and_recorded(engine: Engine, tmp_path: Path) -> None:
    seed(engine)
    jobs = ServiceJobs(make_settings(tmp_path, engine), engine, "test-process", FAST)
    assert await jobs.markdown(BEFORE_POST_TIME) is None  # Monday's listing: not collected
    path = await jobs.markdown(AT_POST_TIME)
    assert path is not None and path.read_text(encoding="utf-8").count("Diffusion for robots")
    assert await jobs.markdown(AT_POST_TIME) is None  # the ledger says sent
    assert list((tmp_path / "posts").iterdir()) == [path]
    assert publications(engine, MARKDOWN) == [(DAY, "sent")]
    row = status(engine, "markdown")
    assert row is not None and row.last_success_at is not None and row.last_error is None
    assert row.last_process == "test-process"


async def test_a_claim_is_taken_once_until_its_lease_expires(engine: Engine) -> None:
    first = claim(engine, MARKDOWN, DAY, AT_POST_TIME, lease=300)
    assert first is not None
    assert claim(engine, MARKDOWN, DAY, AT_POST_TIME, lease=300) is None  # held by a live run
    later = datetime(2026, 11, 24, 9, 10, tzinfo=UTC)
    assert claim(engine, MARKDOWN, DAY, later, lease=300) == first  # that run died: taken over


async def test_a_failing_publisher_does_not_stop_the_others(engine: Engine, tmp_path: Path) -> None:
    seed(engine)
    # X is enabled for real posting but has no credentials: that publisher fails.
    settings = make_settings(
        tmp_path, engine, publish={"x": {"enabled": True, "dry_run": False, "post_time": "09:00"}}
    )
    clock = [AT_POST_TIME]
    service = Service(settings, engine, clock=lambda: clock[0], components=[], retry=FAST)
    await service.leader.start()
    await service.leader.wait_until_leader()
    failures = []
    try:
        for minutes in (0, 1, 14, 16):  # checks after the failure: retried after 15 minutes
            clock[0] = AT_POST_TIME + timedelta(minutes=minutes)
            await service.catch_up()
            x = status(engine, "x")
            assert x is not None and x.last_failure_at is not None
            failures.append(x.last_failure_at)
    finally:
        await service.leader.stop()
    assert len(set(failures)) == 2 and failures[0] == failures[2] < failures[3]
    x = status(engine, "x")
    assert x is not None and x.last_success_at is None
    assert x.last_error is not None and "credentials" in x.last_error
    assert publications(engine, MARKDOWN) == [(DAY, "sent")]  # the Markdown post went out
    markdown = status(engine, "markdown")
    assert markdown is not None and markdown.last_error is None


async def test_x_dry_run_is_shown_once_a_day(engine: Engine, tmp_path: Path) -> None:
    seed(engine)
    settings = make_settings(tmp_path, engine, publish={"x": {"enabled": True, "dry_run": True}})
    jobs = ServiceJobs(settings, engine, "test-process", FAST)
    at = datetime(2026, 11, 24, 10, 1, tzinfo=UTC)
    assert await jobs.x_post(at) == "dry-run"
    assert await jobs.x_post(at) is None
    assert publications(engine, "x-dry-run") == [(DAY, "dry-run")]
    assert publications(engine, "x") == []  # a dry run leaves X's own ledger alone


async def test_database_away_fails_with_one_sentence(tmp_path: Path) -> None:
    away = make_engine("postgresql://postgres@127.0.0.1:1/nowhere")  # nothing listens there
    try:
        jobs = ServiceJobs(make_settings(tmp_path, away), away, "test-process", FAST)
        with pytest.raises(DatabaseError) as caught:
            await jobs.markdown(AT_POST_TIME)
    finally:
        away.dispose()
    message = str(caught.value)
    assert message.startswith("markdown check failed: the database could not be reached")
    assert "\n" not in message
    assert not (tmp_path / "posts").exists()


async def test_collect_job_failure_is_recorded_and_raised(engine: Engine, tmp_path: Path) -> None:
    # arXiv at a closed port: the run fails, JobStatus says why, the database is untouched.
    settings = make_settings(tmp_path, engine)
    settings.arxiv = settings.arxiv.model_copy(
        update={"rss_url": "http://127.0.0.1:1/rss", "api_url": "http://127.0.0.1:1/api",
                "request_interval": 0.01, "max_retries": 0, "timeout": 2.0}
    )  # fmt: skip
    jobs = ServiceJobs(settings, engine, "test-process", FAST)
    try:
        with pytest.raises(Exception):  # noqa: B017 - whatever arXiv's error, it is recorded
            await jobs.collect(DAY, datetime(2026, 11, 24, 2, tzinfo=UTC))
    finally:
        await jobs.aclose()
    row = status(engine, "collect")
    assert row is not None and row.last_failure_at is not None and row.last_error
    with Session(engine) as session:
        assert session.execute(select(func.count()).select_from(Publication)).scalar_one() == 0
