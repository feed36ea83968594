"""Two `hotpapers bot run` processes on one PostgreSQL and the fake Discord: the leader is
killed mid-delivery, and still every paper reaches every channel exactly once."""

from __future__ import annotations

import random
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import Engine
from sqlmodel import Session, col, func, select

from hotpapers.cluster import queue
from hotpapers.storage.db import make_engine
from hotpapers.storage.models import DeliveryTask
from tests.bot.discord_support import running_fake
from tests.cluster.test_cluster_support import (
    BotProcess,
    deliveries,
    fresh_schema,
    headers,
    make_fake,
    process_env,
    seed,
    wait_for,
)

CHANNELS = 150
PAPERS = 10
# Generous bounds that only stop a broken run from hanging; nothing here is a timing claim.
START_TIMEOUT = 60
DELIVERY_TIMEOUT = 120


async def test_leader_killed_mid_delivery_every_paper_once_in_every_channel(
    pg_url: str, tmp_path: Path
) -> None:
    """SIGKILL the leader while it delivers: the other process takes over leadership and its
    tasks, and the fake's history shows each (channel, paper) exactly once."""
    fresh_schema(pg_url)
    engine = make_engine(pg_url)
    seeded = seed(engine, CHANNELS, PAPERS, datetime.now(UTC))
    key = random.randint(1, 2**62)
    # One global limit for the bot, shared by both processes (they split its 45/s budget).
    fake = make_fake(CHANNELS, global_rate_limit=80)
    async with running_fake(fake):
        first = BotProcess("proc-a", tmp_path / "a.log")
        second = BotProcess("proc-b", tmp_path / "b.log")
        try:
            await first.start(process_env(fake, pg_url, first.name, lock_key=key), tmp_path)
            await wait_for(first.leads, START_TIMEOUT, "the first process to lead")
            await second.start(process_env(fake, pg_url, second.name, lock_key=key), tmp_path)
            expected = CHANNELS * PAPERS
            # Both at work: the second has claimed tasks too, and delivery is well under way.
            await wait_for(
                lambda: (
                    holders(engine) >= {first.name, second.name}
                    and sum(deliveries(fake).values()) >= expected // 5
                ),
                DELIVERY_TIMEOUT,
                "both processes delivering",
            )
            first.kill()
            await wait_for(second.leads, START_TIMEOUT, "the second process to take over")
            await wait_for(
                lambda: queue.counts(engine, seeded.listing_date) == {"done": CHANNELS},
                DELIVERY_TIMEOUT,
                "every task done",
            )
        finally:
            first.kill()
            await second.stop()
        found = deliveries(fake)
        wanted = {
            (target.split(":")[1], paper) for target in seeded.targets for paper in seeded.papers
        }
        assert set(found) == wanted, second.log()[-3000:]
        assert [pair for pair, n in found.items() if n != 1] == []  # exactly once each
        # The survivor finished what the killed leader had in hand (its leases expired).
        assert taken_over(engine) > 0 and "took over" in second.log()
        extra = {channel: n for channel, n in headers(fake).items() if n > 1}
        print(f"\n{taken_over(engine)} task(s) taken over; {len(extra)} channel(s) with 2 headers")
    engine.dispose()


def taken_over(engine: Engine) -> int:
    """Tasks that needed more than one run (a takeover counts as a failed attempt)."""
    with Session(engine) as session:
        query = select(func.count()).where(col(DeliveryTask.attempts) > 0)
        return int(session.exec(query).one())


def holders(engine: Engine) -> set[str]:
    """Processes holding a running task right now."""
    with Session(engine) as session:
        query = select(DeliveryTask.locked_by, func.count()).group_by(col(DeliveryTask.locked_by))
        return {name for name, _ in session.exec(query) if name}


async def test_one_process_on_sqlite_schedules_and_delivers_by_itself(tmp_path: Path) -> None:
    """`hotpapers bot run` alone on SQLite: the only process leads, queues and drains."""
    url = f"sqlite:///{tmp_path / 'solo.db'}"
    fresh_schema(url)
    engine = make_engine(url)
    seeded = seed(engine, 5, 3, datetime.now(UTC))
    fake = make_fake(5)
    async with running_fake(fake):
        solo = BotProcess("solo", tmp_path / "solo.log")
        try:
            await solo.start(process_env(fake, url, solo.name, lock_key=1), tmp_path)
            await wait_for(
                lambda: queue.counts(engine, seeded.listing_date) == {"done": 5},
                DELIVERY_TIMEOUT,
                "every task done",
            )
        finally:
            assert await solo.stop() is not None
        found = deliveries(fake)
        assert sorted(found) == sorted(
            (target.split(":")[1], paper) for target in seeded.targets for paper in seeded.papers
        )
        assert set(found.values()) == {1}
        if not seeded.queued_by_test:
            assert "queued 5 digest(s)" in solo.log()
    engine.dispose()
