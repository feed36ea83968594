"""Two real `hotpapers signals` processes on one database against one fake X: the day's cap
on X reads holds between them (issue #14, section 1), on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import os
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

from aiohttp import web

from hotpapers.fakes.x import FakeX
from hotpapers.storage import migrate
from hotpapers.storage.db import make_engine, transaction
from hotpapers.storage.records import PaperRecord
from hotpapers.storage.store import record_announcements, upsert_papers

TOKEN = "budget-test-token"
PAPER = "2611.07777"
PRICE_MICROS = 5_000  # $0.005 per post read
CAP_USD = "0.60"  # one page of 100 posts ($0.50) and 20 more: the runs must share it
CAP_MICROS = 600_000
RUNS = 2
PROCESS_LIMIT = 120.0  # liveness guard only: a hung process fails the test instead of hanging


class GatedX(FakeX):
    """FakeX holding every search until `parties` searches have arrived, so the runs are
    surely in flight together (each has read the ledger) before X answers any of them."""

    def __init__(self, parties: int, **options: object) -> None:
        super().__init__(**options)  # type: ignore[arg-type]
        self.parties = parties
        self._arrived = 0
        self._open = asyncio.Event()

    async def _search(self, request: web.Request) -> web.StreamResponse:
        self._arrived += 1
        if self._arrived >= self.parties:
            self._open.set()
        await self._open.wait()
        return await super()._search(request)


def seed(url: str, now: datetime) -> None:
    """One paper on yesterday's listing (inside the measuring window)."""
    engine = make_engine(url)
    day = (now - timedelta(days=1)).date()
    paper = PaperRecord(
        PAPER, 1, "A paper everyone links", "Abstract", ("A. Author",), ("cs.LG",), "cs.LG",
        submitted=now - timedelta(days=2),
    )  # fmt: skip
    with transaction(engine) as session:
        upsert_papers(session, [paper])
        record_announcements(session, day, [paper], ["cs.LG"])
    engine.dispose()


def environment(url: str, fake: FakeX) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("HOTPAPERS_")}
    env.update(
        HOTPAPERS_DATABASE__URL=url,
        HOTPAPERS_SIGNALS__X__ENABLED="true",
        HOTPAPERS_SIGNALS__X__API_URL=fake.api_url,
        HOTPAPERS_SIGNALS__X__OEMBED_URL=fake.oembed_url,
        HOTPAPERS_SIGNALS__X__BEARER_TOKEN=TOKEN,
        HOTPAPERS_SIGNALS__X__DAILY_BUDGET_USD=CAP_USD,
        HOTPAPERS_SIGNALS__X__PRICE_PER_READ_USD="0.005",
    )
    return env


async def run_signals(env: dict[str, str], workdir: Path) -> tuple[int, str]:
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "hotpapers", "signals", env=env, cwd=workdir,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
    )  # fmt: skip
    try:
        output, _ = await asyncio.wait_for(process.communicate(), PROCESS_LIMIT)
    except TimeoutError:
        process.kill()
        await process.wait()
        raise
    return process.returncode or 0, output.decode()


async def test_two_signals_runs_at_once_stay_within_the_daily_cap(
    db_url: str, tmp_path: Path
) -> None:
    """Both runs start on an empty ledger; together X bills them at most the cap, and the
    ledger holds exactly what X billed."""
    now = datetime.now(UTC)
    migrate.upgrade(db_url)
    seed(db_url, now)
    async with GatedX(RUNS, bearer_token=TOKEN) as fake:
        for n in range(250):
            fake.add_post(
                f"reader{n}", urls=[f"https://arxiv.org/abs/{PAPER}"], likes=1,
                created_at=now - timedelta(hours=3, minutes=n),
            )  # fmt: skip
        env = environment(db_url, fake)
        results = await asyncio.gather(*(run_signals(env, tmp_path) for _ in range(RUNS)))
    for code, output in results:
        assert code == 0, output
    billed = fake.reads_returned * PRICE_MICROS
    assert billed <= CAP_MICROS, f"X billed ${billed / 1e6:.3f} against a ${CAP_USD} cap"
    assert billed == CAP_MICROS  # the cap was used, not refused to both

    from hotpapers.storage.spend import spent

    engine = make_engine(db_url)
    with transaction(engine) as session:
        assert spent(session, "x", now.date()) == (billed, fake.reads_returned)
    engine.dispose()
