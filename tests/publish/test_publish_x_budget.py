"""The X summary's money: the day's budget for posts, shared by every run and process."""

from __future__ import annotations

import asyncio
from datetime import date

import pytest
from sqlalchemy import Engine

from hotpapers.fakes.x import FakeX
from hotpapers.publish.x import SPEND_SERVICE, publish_daily
from hotpapers.storage.db import transaction
from hotpapers.storage.models import Spend
from tests.publish._x_support import DAY, NOW, make_settings, publication, seed, spend


async def test_over_budget_posts_nothing(fake: FakeX, seeded: Engine) -> None:
    """A thread that would cost more than the day's budget is not started."""
    settings = make_settings(fake, thread=True, daily_budget_usd=0.5)
    report = await publish_daily(settings, seeded, DAY, now=NOW)
    assert report.status == "over-budget" and report.cost_usd == pytest.approx(0.8)
    assert "would exceed the daily X budget" in report.sentence()
    assert fake.requests == 0 and publication(seeded) is None and spend(seeded) == (0.0, 0)


async def test_two_summaries_at_once_share_the_daily_budget(fake: FakeX, seeded: Engine) -> None:
    """Two days' summaries posted at once (e.g. by two processes) on a budget that pays for
    one thread of 4 posts: one is posted, the other refused before it posts anything."""
    other_day = date(2026, 11, 18)
    seed(seeded, [("2611.00301", "Another day's paper", 50)], day=other_day)
    settings = make_settings(fake, thread=True, daily_budget_usd=1.0)
    first, second = await asyncio.gather(
        publish_daily(settings, seeded, DAY, now=NOW),
        publish_daily(settings, seeded, other_day, now=NOW),
    )
    assert first.status == "posted" and second.status == "over-budget"
    assert len(fake.created) == 4 and spend(seeded) == (0.8, 4)


async def test_earlier_spend_counts_against_the_budget(fake: FakeX, seeded: Engine) -> None:
    """What the day already spent on posts counts: $0.90 spent + $0.20 > $1.00."""
    with transaction(seeded) as session:
        session.add(Spend(service=SPEND_SERVICE, day=NOW.date(), amount_micros=900_000, units=4))
    report = await publish_daily(make_settings(fake, daily_budget_usd=1.0), seeded, DAY, now=NOW)
    assert report.status == "over-budget" and fake.requests == 0
    assert spend(seeded) == (0.9, 4)
