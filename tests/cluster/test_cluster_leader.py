"""Leader election on the real PostgreSQL (an advisory lock) and on SQLite (always leads)."""

from __future__ import annotations

import asyncio
import functools
import random
from collections.abc import AsyncIterator

import pytest
from sqlalchemy import Engine, text

from hotpapers.cluster import LeaderElection, process_name
from hotpapers.config import ClusterSettings, Settings
from hotpapers.storage.db import make_engine

POLL = 0.05
HANG_GUARD = 20  # seconds: only stops a broken test from hanging, never a measured bound


@pytest.fixture
def key() -> int:
    return random.randint(1, 2**62)


@pytest.fixture
async def pair(pg_engine: Engine, key: int) -> AsyncIterator[list[LeaderElection]]:
    elections = [LeaderElection(pg_engine, key=key, name=n, poll_seconds=POLL) for n in "ab"]
    yield elections
    for election in elections:
        await election.stop()


async def first_leader(elections: list[LeaderElection]) -> LeaderElection:
    waits = {asyncio.ensure_future(e.wait_until_leader()): e for e in elections}
    done, pending = await asyncio.wait(waits, timeout=HANG_GUARD, return_when="FIRST_COMPLETED")
    for future in pending:
        future.cancel()
    assert done, "nobody became leader"
    return waits[next(iter(done))]


def record_change(changes: list[tuple[str, bool]], name: str, leading: bool) -> None:
    changes.append((name, leading))


async def settle(rounds: int = 5) -> None:
    """Let several polls of every election pass."""
    await asyncio.sleep(POLL * rounds)


async def test_two_elections_exactly_one_leader(pair: list[LeaderElection]) -> None:
    """Two processes campaigning for the same key: exactly one leads, and keeps leading."""
    for election in pair:
        await election.start()
    await first_leader(pair)
    await settle()
    assert sorted(e.is_leader for e in pair) == [False, True]


async def test_follower_takes_over_when_leader_stops(pair: list[LeaderElection]) -> None:
    """Stopping the leader frees the lock; the follower takes over and both see the change."""
    changes: list[tuple[str, bool]] = []
    for election in pair:
        election.on_change(functools.partial(record_change, changes, election.name))
        await election.start()
    leader = await first_leader(pair)
    follower = next(e for e in pair if e is not leader)
    await leader.stop()
    await asyncio.wait_for(follower.wait_until_leader(), HANG_GUARD)
    assert not leader.is_leader and follower.is_leader
    assert changes == [(leader.name, True), (leader.name, False), (follower.name, True)]


async def test_leader_steps_down_when_its_connection_dies(
    pair: list[LeaderElection], pg_engine: Engine
) -> None:
    """The server ends the leader's session: it steps down, and afterwards exactly one of the
    two leads, the one whose session holds the lock (who wins the free lock is open)."""
    lost = asyncio.Event()
    for election in pair:
        await election.start()
    leader = await first_leader(pair)
    leader.on_change(lambda leading: None if leading else lost.set())
    assert terminate_lock_holder(pg_engine, leader.key) == 1
    await asyncio.wait_for(lost.wait(), HANG_GUARD)
    await first_leader(pair)
    await settle()
    [now_leading] = [e for e in pair if e.is_leader]
    for election in pair:  # freeze the campaigns before looking at the server's side
        assert election._task is not None
        election._task.cancel()
        await asyncio.gather(election._task, return_exceptions=True)
    assert now_leading.is_leader and now_leading._connection is not None
    with now_leading._connection.engine.connect() as check:
        holders = check.execute(text(HOLDER_PIDS), {"key": leader.key}).scalars().all()
    backend = now_leading._connection.execute(text("SELECT pg_backend_pid()")).scalar_one()
    assert holders == [backend]


HOLDER_PIDS = (
    "SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND granted AND database ="
    " (SELECT oid FROM pg_database WHERE datname = current_database())"
    " AND ((classid::bigint << 32) | objid::bigint) = :key"
)


def terminate_lock_holder(engine: Engine, key: int) -> int:
    """End the server session holding the lock, as a dead network or process would."""
    with engine.connect() as admin:
        pids = admin.execute(text(HOLDER_PIDS), {"key": key}).scalars().all()
        for pid in pids:
            admin.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
    return len(pids)


async def test_a_dead_leader_session_hands_the_lock_to_the_follower(
    pair: list[LeaderElection], pg_engine: Engine
) -> None:
    """The leader's process is gone (its session ends and it campaigns no more): the
    follower becomes leader within a few polls."""
    leader, follower = pair
    await leader.start()
    await asyncio.wait_for(leader.wait_until_leader(), HANG_GUARD)
    await follower.start()
    await settle()
    assert not follower.is_leader
    assert leader._task is not None
    leader._task.cancel()  # the process stops running...
    assert terminate_lock_holder(pg_engine, leader.key) == 1  # ...and its connection drops
    await asyncio.wait_for(follower.wait_until_leader(), HANG_GUARD)
    assert follower.is_leader


async def test_different_keys_lead_independently(pg_engine: Engine, key: int) -> None:
    """Two deployments (two lock keys) on one server each have their own leader."""
    elections = [
        LeaderElection(pg_engine, key=k, name=str(k), poll_seconds=POLL) for k in (key, key + 1)
    ]
    try:
        for election in elections:
            await election.start()
        for election in elections:
            await asyncio.wait_for(election.wait_until_leader(), HANG_GUARD)
        assert all(e.is_leader for e in elections)
    finally:
        for election in elections:
            await election.stop()


async def test_sqlite_process_leads_at_once(tmp_path) -> None:
    """SQLite is single-process by design: the one process leads as soon as it starts."""
    engine = make_engine(f"sqlite:///{tmp_path / 'one.db'}")
    election = LeaderElection(engine, key=1, name="solo", poll_seconds=POLL)
    seen: list[bool] = []
    election.on_change(seen.append)
    assert not election.is_leader
    await election.start()
    assert election.is_leader
    await election.stop()
    assert seen == [True, False]
    engine.dispose()


def test_process_name_configured_or_host_and_pid() -> None:
    """The configured name wins; otherwise host:pid, unique per process."""
    import os

    assert process_name(Settings(cluster=ClusterSettings(process_name="web-1"))) == "web-1"
    assert process_name(Settings()).endswith(f":{os.getpid()}")
