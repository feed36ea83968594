"""TL;DRs in the running service (after each signals run) and from `hotpapers tldr`."""

from __future__ import annotations

import asyncio
import os
import sys
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import Engine
from sqlmodel import Session

from hotpapers.fakes.openai import FakeOpenAI
from hotpapers.service.app import Service
from hotpapers.storage import migrate
from hotpapers.storage.db import make_engine
from hotpapers.storage.models import JobStatus
from hotpapers.tldr.store import engine_tldrs
from tests.tldr.test_tldr import KEY, RANKED_IDS, make_settings, seed

# Sunday evening UTC: the newest listing is still Friday's (2026-11-20), whose posts are counted.
SUNDAY = datetime(2026, 11, 22, 18, 0, tzinfo=UTC)
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
async def fake() -> AsyncIterator[FakeOpenAI]:
    async with FakeOpenAI(api_key=KEY) as server:
        yield server


async def test_the_service_makes_them_after_each_signals_run(
    fake: FakeOpenAI, engine: Engine, tmp_path: Path
) -> None:
    seed(engine)
    url = engine.url.render_as_string(hide_password=False)
    settings = make_settings(fake).model_copy(
        update={"database": make_settings(fake).database.model_copy(update={"url": url})}
    )
    service = Service(settings, engine, clock=lambda: SUNDAY, components=[])
    await service.leader.start()
    await service.leader.wait_until_leader()
    try:
        await service.signals_job()
        await service.signals_job()  # nothing new to ask
    finally:
        await service.leader.stop()
        await service.jobs.aclose()
    assert sorted(engine_tldrs(engine, RANKED_IDS)) == sorted(RANKED_IDS)
    assert len(fake.requests) == 3
    with Session(engine) as session:
        job = session.get(JobStatus, "tldr")
    assert job is not None and job.last_success_at is not None and job.last_error is None


async def run_cli(config: Path, *args: str) -> tuple[int, str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("HOTPAPERS_")}
    env.update(HOTPAPERS_TLDR__API_KEY=KEY, PYTHONPATH=str(ROOT))
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "hotpapers", "--config", str(config), *args,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE, env=env, cwd=config.parent,
    )  # fmt: skip
    out, err = await process.communicate()
    return process.returncode or 0, out.decode(), err.decode()


async def test_the_command_reports_in_one_sentence_and_never_prints_the_key(
    fake: FakeOpenAI, tmp_path: Path
) -> None:
    url = f"sqlite:///{tmp_path / 'hotpapers.db'}"
    migrate.upgrade(url)
    engine = make_engine(url)
    seed(engine)
    engine.dispose()
    config = tmp_path / "hotpapers.toml"
    config.write_text(
        f'[database]\nurl = "{url}"\n[arxiv]\ncategories = ["cs.LG", "cs.CV"]\n'
        f'[tldr]\nenabled = true\nbase_url = "{fake.base_url}"\nmax_retries = 0\n'
    )
    fake.fail("500", times=None)
    code, out, err = await run_cli(config, "--verbose", "tldr", "--date", "2026-11-20")
    assert code == 0, err
    assert out.strip() == (
        "2026-11-20: TL;DRs for 3 top papers: 0 made, 0 already made, 3 without one (see the "
        "log) (3 requests, $0.0000)."
    )
    assert "no TL;DR for 2611.00202: HTTP 500" in err and KEY not in out + err
    assert all(r.authorization == f"Bearer {KEY}" for r in fake.requests)
    fake.faults.clear()
    code, out, err = await run_cli(config, "--verbose", "tldr", "--date", "2026-11-20")
    assert code == 0 and out.startswith("2026-11-20: TL;DRs for 3 top papers: 3 made"), err
    assert KEY not in out + err
