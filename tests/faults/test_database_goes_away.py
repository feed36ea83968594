"""PostgreSQL goes away in the middle of a job: every connection of the job is cut (what a
server restart does to its clients) while the job is frozen inside its write transaction.
The job ends with one sentence and writes nothing; the re-run equals an undisturbed run."""

from __future__ import annotations

import asyncio
import signal
import sys
from datetime import UTC, datetime
from pathlib import Path

import psutil
import pytest
from sqlalchemy import create_engine, text

from hotpapers.arxiv import calendar
from hotpapers.fakes.arxiv import FakeArxiv, generate_papers
from hotpapers.plumbing.failpoints import ENV
from tests.conftest import PG_ADMIN_URL
from tests.faults._support import base_env, content, hotpapers
from tests.faults.test_kill_points import CATS, arxiv_env


def cut_connections(db_url: str) -> int:
    """Terminate every backend of the database of `db_url` (as a restart would); how many."""
    name = db_url.rsplit("/", 1)[1]
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        cut = connection.execute(
            text("SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                 "WHERE datname = :name AND pid <> pg_backend_pid()"),
            {"name": name},
        ).scalar_one()  # fmt: skip
    admin.dispose()
    return int(cut)


async def wait_until_stopped(pid: int) -> None:
    for _ in range(600):
        if psutil.Process(pid).status() == psutil.STATUS_STOPPED:
            return
        await asyncio.sleep(0.05)
    raise AssertionError("the job never reached its failpoint")


@pytest.mark.parametrize("database_pair", ["postgresql"], indirect=True)  # SQLite: no server
async def test_collect_survives_postgresql_going_away_mid_transaction(
    database_pair: tuple[str, str], tmp_path: Path
) -> None:
    calm, cut = database_pair
    listing = calendar.current_listing_date(datetime.now(UTC))
    async with FakeArxiv(generate_papers(listing, CATS, 30, seed=9), feed_date=listing) as arxiv:
        extra = arxiv_env(arxiv, tmp_path)
        assert (await hotpapers(["collect"], base_env(calm, **extra), tmp_path)).returncode == 0
        env = base_env(cut, **extra) | {ENV: "collect.before_commit:stop"}
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "hotpapers", "collect",
            env=env, cwd=tmp_path,
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
        )  # fmt: skip
        await wait_until_stopped(process.pid)
        assert cut_connections(cut) >= 1
        process.send_signal(signal.SIGCONT)
        _, stderr = await asyncio.wait_for(process.communicate(), 120)
        shown = stderr.decode()
        errors = [line for line in shown.splitlines() if line.startswith("error:")]
        assert process.returncode == 1, shown
        assert len(errors) == 1 and "nothing was written" in errors[0], shown
        assert "Traceback" not in shown
        assert all(rows == [] for rows in content(cut).values())
        rerun = await hotpapers(["collect"], base_env(cut, **extra), tmp_path)
        assert rerun.returncode == 0, rerun.stderr
    assert content(cut) == content(calm)
