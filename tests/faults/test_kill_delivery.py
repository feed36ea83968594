"""kill -9 in the middle of a Discord delivery, between a message being sent and the ledger
recording it: the re-run finds the sent message instead of sending it again, and the fake
Discord ends with every paper exactly once in every channel, as after an undisturbed run."""

from __future__ import annotations

import random
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlmodel import Session, select

from hotpapers.delivery import STALE_CLAIM
from hotpapers.storage.db import make_engine
from hotpapers.storage.models import Delivery
from tests.bot.discord_support import running_fake
from tests.cluster.test_cluster_support import (
    deliveries,
    fresh_schema,
    make_fake,
    process_env,
    seed,
)
from tests.faults._support import hotpapers

CHANNELS, PAPERS = 3, 4


async def deliver_all(db_url: str, tmp_path: Path, failpoint: str | None) -> Counter:
    """Seed a day, deliver it (killed at `failpoint` and run again if given); what arrived."""
    fresh_schema(db_url)
    engine = make_engine(db_url)
    seeded = seed(engine, CHANNELS, PAPERS, datetime.now(UTC))
    engine.dispose()
    fake = make_fake(CHANNELS)
    async with running_fake(fake):
        env = process_env(fake, db_url, "fault", lock_key=random.randint(1, 2**62))
        args = ["bot", "deliver", "--date", seeded.listing_date.isoformat()]
        if failpoint:
            dead = await hotpapers(args, env, tmp_path, failpoint=failpoint)
            assert dead.killed, dead.stderr[-2000:]
            assert 0 < sum(deliveries(fake).values()) < CHANNELS * PAPERS  # died mid-way
            # At once, the dead run's claims look live: the re-run says so and when it can go on.
            soon = await hotpapers(args, env, tmp_path)
            assert soon.returncode == 0 and "busy" in soon.stdout, soon.stderr[-2000:]
            assert "takes it over (5 minutes after the claim)" in soon.stdout
            age_claims(db_url, STALE_CLAIM)  # five minutes later
        done = await hotpapers(args, env, tmp_path)
        assert done.returncode == 0, done.stderr[-2000:]
        if failpoint:  # the message the dead run sent was found, not sent twice
            assert "1 recovered" in done.stdout, done.stdout
        return deliveries(fake)


def age_claims(db_url: str, by: timedelta) -> None:
    """Move every open claim back in time by `by`: the clock the ledger sees has moved on."""
    engine = make_engine(db_url)
    with Session(engine) as session, session.begin():
        for row in session.exec(select(Delivery).where(Delivery.state == "claimed")):
            assert row.claimed_at is not None
            row.claimed_at = row.claimed_at - by
            session.add(row)
    engine.dispose()


async def test_delivery_killed_after_a_send_is_finished_exactly_once(
    database_pair: tuple[str, str], tmp_path: Path
) -> None:
    calm_url, killed_url = database_pair
    calm = await deliver_all(calm_url, tmp_path, None)
    killed = await deliver_all(killed_url, tmp_path, "delivery.after_send@5")
    assert len(calm) == CHANNELS * PAPERS and set(calm.values()) == {1}
    assert killed == calm  # the same (channel, paper) pairs, each exactly once
