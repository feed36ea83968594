"""Processes sharing one bot count each other on PostgreSQL and split the request budget."""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Callable
from contextlib import AsyncExitStack

import aiohttp
import pytest
from sqlalchemy import Engine, text

from bot.client import HotpapersBot
from bot.pace import share_pace
from bot.pacer import RequestPacer, pacer_for
from hotpapers.cluster.members import Membership, members_key
from hotpapers.config import Settings
from hotpapers.fakes.discord import FakeDiscord
from hotpapers.storage.db import make_engine
from tests.bot.discord_support import bot_settings, running_fake

HANG_GUARD = 20.0  # seconds: only stops a broken test from hanging, never a measured bound


@pytest.fixture
def key() -> int:
    return random.randrange(1, 2**31)


def test_members_count_each_other_and_drop_out_with_their_session(
    pg_engine: Engine, key: int
) -> None:
    first, second, elsewhere = (
        Membership(pg_engine, key),
        Membership(pg_engine, key),
        Membership(pg_engine, key + 1),
    )
    try:
        first.join()
        second.join()
        elsewhere.join()
        assert (first.count(), second.count(), elsewhere.count()) == (2, 2, 1)
        second.leave()
        assert first.count() == 1

        # One process's session dies (as it does with the process): it no longer counts ...
        second.join()
        high, low = members_key(key)
        with pg_engine.connect() as connection:
            victim = connection.execute(
                text(
                    "SELECT min(pid) FROM pg_locks WHERE locktype = 'advisory'"
                    " AND mode = 'ShareLock' AND objsubid = 2"
                    " AND classid = CAST(:high AS bigint) AND objid = CAST(:low AS bigint)"
                ),
                {"high": high, "low": low & 0xFFFF_FFFF},
            ).scalar_one()
            connection.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": victim})
            gone = text("SELECT count(*) FROM pg_stat_activity WHERE pid = :pid")
            for _ in range(int(HANG_GUARD / 0.02)):
                if connection.execute(gone, {"pid": victim}).scalar_one() == 0:
                    break
                time.sleep(0.02)
        seen: dict[str, int | str] = {}
        for name, member in (("first", first), ("second", second)):
            try:
                seen[name] = member.count()
            except Exception:
                seen[name] = "lost"
        assert sorted(map(str, seen.values())) == ["1", "lost"]
        # ... and counts again once it has joined again.
        lost = first if seen["first"] == "lost" else second
        assert lost.count() == 2
    finally:
        for member in (first, second, elsewhere):
            member.leave()


@pytest.mark.parametrize("odd_key", [-123_456_789_012, 2**62 + 5, 2**31 + 7])
def test_any_leader_key_gives_a_countable_membership(pg_engine: Engine, odd_key: int) -> None:
    members = [Membership(pg_engine, odd_key), Membership(pg_engine, odd_key)]
    try:
        for member in members:
            member.join()
        assert [member.count() for member in members] == [2, 2]
    finally:
        for member in members:
            member.leave()


def test_on_sqlite_one_process_has_the_whole_budget(tmp_path) -> None:  # type: ignore[no-untyped-def]
    engine = make_engine(f"sqlite:///{tmp_path / 'one.db'}")
    assert Membership(engine, 7227).count() == 1
    engine.dispose()


async def until(condition: Callable[[], bool]) -> None:
    async with asyncio.timeout(HANG_GUARD):
        while not condition():
            await asyncio.sleep(0.02)


def cluster_settings(fake: FakeDiscord, pg_url: str) -> Settings:
    settings = bot_settings(fake)
    settings.cluster.leader_poll_seconds = 0.05
    settings.discord.max_requests_per_second = 40.0
    settings.database.url = pg_url
    return settings


async def test_two_bots_split_the_budget_and_a_survivor_takes_it_all(
    pg_engine: Engine, pg_url: str
) -> None:
    async with running_fake(FakeDiscord()) as fake, AsyncExitStack() as stack:
        settings = cluster_settings(fake, pg_url)
        http = await stack.enter_async_context(aiohttp.ClientSession())
        bots = [HotpapersBot(settings, pg_engine, http, schedule_deliveries=False) for _ in "ab"]
        for bot in bots:
            stack.push_async_callback(bot.close)
            await bot.login("fake-token")  # the REST login runs setup_hook, as `bot deliver`
        pacers = [pacer_for(bot) for bot in bots]
        await until(lambda: all(p.rate == 20.0 for p in pacers))

        await bots[0].close()  # the other process goes on alone: the whole budget again
        await until(lambda: pacers[1].rate == 40.0)


async def test_without_the_database_the_share_stays_and_the_log_says_why(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """PostgreSQL unreachable: the pace keeps its last share; one warning line per poll."""
    engine = make_engine("postgresql://nobody@127.0.0.1:1/none")
    pacer = RequestPacer(20.0)
    sharing = asyncio.create_task(share_pace(pacer, Membership(engine, 7227), 40.0, 0.05))
    try:
        await until(lambda: "could not count" in caplog.text)
    finally:
        sharing.cancel()
        await asyncio.gather(sharing, return_exceptions=True)
        engine.dispose()
    assert pacer.rate == 20.0
    assert "Traceback" not in caplog.text and "pacing at 20.0/s" in caplog.text
