"""The service as a whole: start-up checks, a driven day (collect -> signals -> Markdown post ->
site -> X post, each once) against the local fakes, and `hotpapers run` in a subprocess."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import sys
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from pydantic import SecretStr
from sqlalchemy import Engine, select
from sqlmodel import Session, SQLModel

from hotpapers.arxiv import calendar
from hotpapers.config import Settings
from hotpapers.errors import ConfigError
from hotpapers.fakes.arxiv import FakeArxiv, generate_papers
from hotpapers.fakes.x import FakeX, generate_posts
from hotpapers.service import schedule
from hotpapers.service.app import Service, check_startup
from hotpapers.storage.db import make_engine
from hotpapers.storage.models import JobStatus, Publication

DAY = calendar.next_listing_date(datetime(2026, 11, 23).date())  # Tuesday 24 November
CATS = ["cs.LG", "cs.CV"]
ANNOUNCED = calendar.announced_at(DAY)
BEARER, KEY, TOKEN = "bearer-123", "consumer-key-123", "access-token-456"
FIRST_COLLECT = ANNOUNCED + timedelta(minutes=6)
NOWHERE = "http://127.0.0.1:9"


def base_settings(tmp_path: Path, **extra: Any) -> Settings:
    values: dict[str, Any] = {
        "database": {"url": f"sqlite:///{tmp_path / 'hp.db'}"},
        # Nothing listens on port 9 of loopback: no test ever reaches a real host.
        "arxiv": {
            "categories": CATS,
            "rss_url": f"{NOWHERE}/rss",
            "api_url": f"{NOWHERE}/api",
            "oai_url": f"{NOWHERE}/oai",
            "request_interval": 0.01,
            "max_retries": 0,
        },
        "publish": {"x": {"api_url": NOWHERE}},
        "scheduler": {"shutdown_grace_seconds": 5},
        "digest": {"posts_dir": tmp_path / "posts"},
        "site": {"enabled": True, "out_dir": tmp_path / "site", "port": 0},
        "ops": {"port": 0},
    }
    return Settings(**(values | extra))


# --- start-up checks ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("template", "words"),
    [
        ("{% for paper in papers %}{{ paper.title }}", "syntax error"),  # no endfor
        ("{{ papers[0].title | no_such_filter }}", "no_such_filter"),
        ("{{ 1 // 0 }}", "failed to render"),
    ],
)
def test_a_broken_template_is_a_config_error_at_start_up(
    tmp_path: Path, template: str, words: str
) -> None:
    path = tmp_path / "post.md.j2"
    path.write_text(template, encoding="utf-8")
    settings = base_settings(tmp_path, digest={"posts_dir": tmp_path / "p", "template": path})
    with pytest.raises(ConfigError) as caught:
        check_startup(settings)
    assert str(path) in str(caught.value) and words in str(caught.value)


def test_the_shipped_template_and_writable_dirs_pass(tmp_path: Path) -> None:
    check_startup(base_settings(tmp_path))
    assert (tmp_path / "posts").is_dir()


def test_posting_to_x_without_credentials_is_a_config_error(tmp_path: Path) -> None:
    settings = base_settings(tmp_path, publish={"x": {"enabled": True, "dry_run": False}})
    with pytest.raises(ConfigError, match="HOTPAPERS_PUBLISH__X__API_KEY"):
        check_startup(settings)
    check_startup(base_settings(tmp_path, publish={"x": {"enabled": True, "dry_run": True}}))


def test_an_unwritable_output_directory_is_a_config_error(tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory")
    settings = base_settings(tmp_path, digest={"posts_dir": blocker / "posts"})
    with pytest.raises(ConfigError, match=r"^digest.posts_dir: cannot write to "):
        check_startup(settings)


async def test_start_schedules_the_jobs_and_stop_is_clean(tmp_path: Path) -> None:
    settings = base_settings(tmp_path, publish={"x": {"enabled": True, "api_url": NOWHERE}})
    from hotpapers.storage import migrate

    migrate.upgrade(settings.database.url)
    service = Service(settings, make_engine(settings.database.url), components=[])
    before = datetime.now(UTC)
    await service.start()
    try:
        jobs = {job.id: job for job in service.scheduler.get_jobs()}
        assert set(jobs) == {"collect", "signals", "markdown", "x"}
        assert (
            jobs["collect"].next_run_time
            == schedule.next_collect(
                before, settings.arxiv.holidays, settings.scheduler.collect_delay_minutes
            )[1]
        )
        assert jobs["markdown"].coalesce and jobs["markdown"].max_instances == 1
        assert jobs["markdown"].misfire_grace_time == settings.scheduler.misfire_grace_seconds
        assert service.leader.is_leader
    finally:
        service.request_stop()
        await service.stop()
    assert not service.scheduler.running and not service.leader.is_leader


async def test_start_builds_the_site_from_what_the_database_holds(tmp_path: Path) -> None:
    """Before any job has run, the served site already shows the stored ranked days."""
    from hotpapers.storage import migrate
    from tests.site.test_site_support import NEWER, OLDER, seed

    settings = base_settings(tmp_path)
    migrate.upgrade(settings.database.url)
    engine = make_engine(settings.database.url)
    seed(engine)
    service = Service(settings, engine, components=[])
    await service.start()
    try:
        index = (tmp_path / "site" / "index.html").read_text()
    finally:
        service.request_stop()
        await service.stop()
    assert f'href="{NEWER.isoformat()}/"' in index and f'href="{OLDER.isoformat()}/"' in index


async def test_the_discord_bot_runs_as_a_component(tmp_path: Path, engine: Engine) -> None:
    from hotpapers.fakes.discord import FakeDiscord
    from tests.bot.discord_support import bot_settings, running_fake

    async with running_fake(FakeDiscord()) as fake:
        url = engine.url.render_as_string(hide_password=False)
        settings = base_settings(tmp_path, database={"url": url},
                                 discord=bot_settings(fake).discord)  # fmt: skip
        service = Service(settings, engine)  # components from the entry points
        await service.start()
        try:
            await fake.wait_ready(timeout=10)
            for _ in range(100):
                if service.health()["components"]["discord"].get("connected"):
                    break
                await asyncio.sleep(0.1)
            health = service.health()
            assert health["leader"] is True
            assert health["components"]["discord"] == {"connected": True, "guilds": 1}
            bot = service.components[0]._bot  # type: ignore[attr-defined]
            assert bot.leader is service.leader  # one election for the scheduler and the bot
        finally:
            service.request_stop()
            await service.stop()
        assert service.health()["components"]["discord"] == {"connected": False}


# --- a driven day ------------------------------------------------------------------------


@pytest.fixture
async def fakes() -> AsyncIterator[tuple[FakeArxiv, FakeX]]:
    papers = generate_papers(DAY, CATS, 20, seed=5)
    ids = [p.record.arxiv_id for p in papers]
    measured = ANNOUNCED + timedelta(hours=5)
    posts = generate_posts(ids, seed=5, now=measured, since=ANNOUNCED, linked_fraction=0.6)
    arxiv = FakeArxiv(papers, feed_date=DAY)
    x = FakeX(posts, bearer_token=BEARER, now=measured, consumer_key=KEY, access_token=TOKEN)
    await arxiv.start()
    await x.start()
    yield arxiv, x
    await x.close()
    await arxiv.close()


def driven_settings(tmp_path: Path, arxiv: FakeArxiv, x: FakeX, db_url: str) -> Settings:
    secrets = ("api_key", "api_secret", "access_token", "access_token_secret")
    return base_settings(
        tmp_path,
        database={"url": db_url},
        arxiv={"categories": CATS, "rss_url": arxiv.rss_url, "api_url": arxiv.api_url,
               "oai_url": arxiv.oai_url, "request_interval": 0.01},
        signals={"x": {"enabled": True, "api_url": x.api_url, "oembed_url": x.oembed_url,
                       "bearer_token": SecretStr(BEARER), "daily_budget_usd": 5.0}},
        ranking={"threshold": 1},
        scheduler={"post_time": "09:00", "timezone": "Europe/Berlin"},
        publish={"x": {"enabled": True, "dry_run": False, "api_url": x.api_url, "top": 3,
                       "post_time": "09:30", "daily_budget_usd": 5.0,
                       **{name: SecretStr(KEY if name == "api_key" else TOKEN if name ==
                                          "access_token" else "s3cret") for name in secrets}}},
    )  # fmt: skip


def job_outcomes(engine: Engine) -> dict[str, bool]:
    with Session(engine) as session:
        rows = session.execute(select(JobStatus)).scalars().all()
        return {r.job: r.last_success_at is not None and r.last_error is None for r in rows}


def ledger(engine: Engine) -> list[tuple[str, str]]:
    with Session(engine) as session:
        rows = session.execute(select(Publication)).scalars().all()
        return sorted((r.kind, r.state) for r in rows)


async def test_a_driven_day_collects_posts_and_publishes_once(
    tmp_path: Path, fakes: tuple[FakeArxiv, FakeX], engine: Engine
) -> None:
    arxiv, x = fakes
    db_url = engine.url.render_as_string(hide_password=False)
    settings = driven_settings(tmp_path, arxiv, x, db_url)
    clock = [ANNOUNCED + timedelta(minutes=6)]
    service = Service(settings, engine, clock=lambda: clock[0], components=[])
    await service.leader.start()
    await service.leader.wait_until_leader()
    try:
        await service.collect_job()  # the scheduler's collect, 20:06 New York time
        clock[0] = ANNOUNCED + timedelta(hours=5)
        await service.signals_job()
        # 09:00 in Berlin: the Markdown post is due, the X post (09:30) not yet.
        clock[0] = datetime(2026, 11, 24, 8, 5, tzinfo=UTC)
        await service.catch_up()
        assert ledger(engine) == [("markdown", "sent")] and x.created == []
        # 10:45 in Berlin, after a restart: the X post goes out; nothing is made twice.
        clock[0] = datetime(2026, 11, 24, 9, 45, tzinfo=UTC)
        await service.catch_up()
        await service.catch_up()
        await service.markdown_job()
        await service.x_job()
    finally:
        await service.leader.stop()
        await service.jobs.aclose()
    assert ledger(engine) == [("markdown", "sent"), ("x", "sent")]
    assert len(x.created) == 1  # one summary post (thread off)
    posts = list((tmp_path / "posts").iterdir())
    assert len(posts) == 1 and DAY.isoformat() in posts[0].name
    assert DAY.isoformat() in (tmp_path / "site" / "index.html").read_text(encoding="utf-8")
    assert job_outcomes(engine) == {
        "collect": True, "signals": True, "markdown": True, "site": True, "x": True
    }  # fmt: skip


# --- `hotpapers run` in a subprocess -------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def run_env(tmp_path: Path, arxiv: FakeArxiv, ops_port: int, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("HOTPAPERS_")}
    env |= {
        "HOTPAPERS_CONFIG": str(tmp_path / "none.toml"),
        "HOTPAPERS_DATABASE__URL": f"sqlite:///{tmp_path / 'run.db'}",
        "HOTPAPERS_ARXIV__CATEGORIES": '["cs.LG", "cs.CV"]',
        "HOTPAPERS_ARXIV__RSS_URL": arxiv.rss_url,
        "HOTPAPERS_ARXIV__API_URL": arxiv.api_url,
        "HOTPAPERS_ARXIV__OAI_URL": arxiv.oai_url,
        "HOTPAPERS_ARXIV__REQUEST_INTERVAL": "0.01",
        "HOTPAPERS_DIGEST__POSTS_DIR": str(tmp_path / "posts"),
        "HOTPAPERS_SITE__OUT_DIR": str(tmp_path / "site"),
        "HOTPAPERS_SITE__PORT": "0",
        "HOTPAPERS_OPS__PORT": str(ops_port),
        "HOTPAPERS_CLUSTER__PROCESS_NAME": "subprocess-test",
    }
    return env | extra


async def start_run(tmp_path: Path, env: dict[str, str]) -> asyncio.subprocess.Process:
    (tmp_path / "none.toml").write_text("", encoding="utf-8")
    return await asyncio.create_subprocess_exec(
        sys.executable, "-m", "hotpapers", "run", cwd=tmp_path, env=env,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip


async def wait_for_jobs(port: int, jobs: set[str], process: asyncio.subprocess.Process) -> dict:
    """Poll /healthz until `jobs` have succeeded (the start-up catch-up ran)."""
    url = f"http://127.0.0.1:{port}/healthz"
    async with aiohttp.ClientSession() as http:
        for _ in range(600):
            assert process.returncode is None, "hotpapers run exited early"
            try:
                async with http.get(url) as response:
                    body = await response.json()
                    done = {j for j, s in body.get("jobs", {}).items() if s["last_success"]}
                    if jobs <= done:
                        return dict(body)
            except aiohttp.ClientConnectionError:
                pass
            await asyncio.sleep(0.1)
    raise AssertionError(f"/healthz never showed {jobs} done")


async def test_run_answers_healthz_and_stops_cleanly_on_sigterm(tmp_path: Path) -> None:
    now = datetime.now(UTC)
    listing = calendar.current_listing_date(now)
    arxiv = FakeArxiv(generate_papers(listing, CATS, 12, seed=3), feed_date=listing)
    await arxiv.start()
    port = free_port()
    process = await start_run(tmp_path, run_env(tmp_path, arxiv, port))
    try:
        body = await wait_for_jobs(port, {"collect"}, process)
        assert body["process"] == "subprocess-test" and body["leader"] is True
        assert body["components"] == {}  # no Discord token: no bot
        process.send_signal(signal.SIGTERM)
        _, stderr = await asyncio.wait_for(process.communicate(), 60)
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
        await arxiv.close()
    log = stderr.decode()
    assert process.returncode == 0, log
    assert "Discord: no token, bot not started" in log
    assert "hotpapers run: stopped cleanly" in log
    assert "Traceback" not in log


async def test_run_with_a_broken_template_fails_at_start_up(tmp_path: Path) -> None:
    template = tmp_path / "broken.md.j2"
    template.write_text("{% if %}", encoding="utf-8")
    async with FakeArxiv([], feed_date=DAY) as arxiv:
        env = run_env(tmp_path, arxiv, 0, HOTPAPERS_DIGEST__TEMPLATE=str(template))
        process = await start_run(tmp_path, env)
        _, stderr = await asyncio.wait_for(process.communicate(), 60)
    assert process.returncode == 2
    lines = [line for line in stderr.decode().splitlines() if line.startswith("error:")]
    assert lines and f"Post template {template} has a syntax error" in lines[0]
    assert "Traceback" not in stderr.decode()


async def test_collect_looks_again_until_the_feed_shows_the_new_day(
    tmp_path: Path, fakes: tuple[FakeArxiv, FakeX], engine: Engine
) -> None:
    arxiv, x = fakes
    arxiv.feed_date = calendar.previous_listing_date(DAY)  # arXiv is late tonight
    settings = driven_settings(tmp_path, arxiv, x, engine.url.render_as_string(hide_password=False))
    clock = [ANNOUNCED + timedelta(minutes=6)]
    service = Service(settings, engine, clock=lambda: clock[0], components=[])
    await service.leader.start()
    await service.leader.wait_until_leader()
    service.scheduler.start(paused=True)  # a running scheduler that fires nothing by itself
    try:
        await service.collect_job()
        retry = service.scheduler.get_job("collect-retry")
        assert retry is not None and retry.args == (DAY,)
        assert retry.trigger.run_date == clock[0] + timedelta(minutes=10)
        service.scheduler.remove_job("collect-retry")
        arxiv.feed_date = DAY  # the feed shows the new day now
        clock[0] += timedelta(minutes=10)
        await service.collect_job(DAY)
        assert service.scheduler.get_job("collect-retry") is None
    finally:
        service.scheduler.shutdown(wait=False)
        await service.leader.stop()
        await service.jobs.aclose()
    assert job_outcomes(engine)["collect"] is True


@pytest.fixture
def pg_engine(pg_url: str) -> Iterator[Engine]:
    """Several processes share one PostgreSQL database (SQLite runs one process by design)."""
    import hotpapers.storage.models  # noqa: F401  (registers the tables)

    engine = make_engine(pg_url)
    SQLModel.metadata.drop_all(engine)
    SQLModel.metadata.create_all(engine)
    yield engine
    engine.dispose()


async def test_only_the_leader_runs_scheduled_jobs(
    tmp_path: Path, fakes: tuple[FakeArxiv, FakeX], pg_engine: Engine
) -> None:
    engine = pg_engine
    arxiv, x = fakes
    url = engine.url.render_as_string(hide_password=False)
    services = []
    for name in ("first", "second"):
        settings = driven_settings(tmp_path / name, arxiv, x, url)
        settings.cluster = settings.cluster.model_copy(
            update={"process_name": name, "leader_lock_key": 424242, "leader_poll_seconds": 0.2}
        )
        services.append(Service(settings, engine, clock=lambda: FIRST_COLLECT, components=[]))
    for service in services:
        await service.leader.start()
    try:
        waits = [asyncio.ensure_future(s.leader.wait_until_leader()) for s in services]
        await asyncio.wait(waits, return_when=asyncio.FIRST_COMPLETED)
        for wait in waits:
            wait.cancel()
        await asyncio.sleep(0.5)  # a few polls: the other must still be following
        leader, follower = sorted(services, key=lambda s: not s.leader.is_leader)
        assert leader.leader.is_leader and not follower.leader.is_leader
        await follower.collect_job()
        assert job_outcomes(engine) == {}  # the follower did nothing
        await leader.collect_job()
        with Session(engine) as session:
            row = session.get(JobStatus, "collect")
            assert row is not None and row.last_process == leader.name
    finally:
        for service in services:
            await service.leader.stop()
            await service.jobs.aclose()
