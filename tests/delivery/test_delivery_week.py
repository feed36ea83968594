"""Planning the weekly digest's Discord threads (hotpapers/delivery/_week.py), on SQLite and
PostgreSQL, from the trending tests' world (tests/ranking/trending_world.py)."""

from __future__ import annotations

import logging
from datetime import date, timedelta

import pytest
from sqlalchemy import Engine
from sqlmodel import Session, col, select

from hotpapers.config import Settings
from hotpapers.delivery import STALE_CLAIM, deliver
from hotpapers.delivery import subscriptions as subs
from hotpapers.delivery._week import plan_week
from hotpapers.storage.db import transaction
from hotpapers.storage.models import Delivery
from tests.delivery.test_delivery import Crash, RecordingCourier
from tests.ranking.trending_world import NOW, TODAY, build

WEEKLY_ON = Settings(digest={"weekly": {"enabled": True}})  # type: ignore[arg-type]


def subscribe(engine: Engine, target: str, value: str, guild: str | None = "1") -> None:
    channel = None if target.startswith("dm:") else target.removeprefix("channel:")
    subs.subscribe(
        engine, target=target, guild_id=guild, channel_id=channel, user_id="7",
        kind="category", value=value, now=NOW,
    )  # fmt: skip


def test_every_subscribed_channel_gets_the_weeks_papers_on_the_weekday(engine: Engine) -> None:
    """Each channel (not a DM) gets one thread plan, the week's trending papers in order,
    whatever its subscriptions filter; the title names the week."""
    build(engine)
    subscribe(engine, "channel:100", "cs.CV")
    subscribe(engine, "channel:100", "cs.LG")
    subscribe(engine, "channel:200", "math.AG")
    subscribe(engine, "dm:7", "cs.LG", guild=None)
    with Session(engine) as session:
        plans = plan_week(session, WEEKLY_ON, TODAY, NOW)
    assert [plan.target for plan in plans] == ["channel:100", "channel:200"]
    for plan in plans:
        assert plan.title == "Hot this week · 2026-11-21 to 2026-11-27"
        assert plan.listing_date == TODAY and plan.style == "thread"
        ids = [item.paper.arxiv_id for item in plan.papers]
        assert ids == ["2611.00002", "2609.00001", "2611.00006"]
        assert set(plan.subscription_for) == set(ids)


def test_no_week_plan_off_the_weekday_or_with_the_digest_off(engine: Engine) -> None:
    build(engine)
    subscribe(engine, "channel:100", "cs.LG")
    with Session(engine) as session:
        assert plan_week(session, Settings(), TODAY, NOW) == []  # off by default
        assert plan_week(session, WEEKLY_ON, date(2026, 11, 26), NOW) == []  # a Thursday


def delivered(engine: Engine) -> list[tuple[str, str, str]]:
    with Session(engine) as session:
        rows = session.exec(select(Delivery).order_by(col(Delivery.id))).all()
    return [(row.target, row.paper_id, row.state) for row in rows]


async def test_the_week_is_delivered_once_apart_from_the_days_digest(
    engine: Engine, caplog: pytest.LogCaptureFixture
) -> None:
    """A week thread per channel through the exactly-once ledger, keyed apart from the daily
    digest of the same day (a paper the day's digest already had is still in the week's
    thread); a re-run after it completed posts nothing. The log names the week's ledger key."""
    caplog.set_level(logging.INFO, logger="hotpapers")
    build(engine)
    subscribe(engine, "channel:100", "cs.LG")
    with transaction(engine) as session:  # the day's digest already posted WEEKLY here
        session.add(
            Delivery(target="channel:100", listing_date=TODAY, paper_id="2611.00002", state="sent")
        )
    with Session(engine) as session:
        plans = plan_week(session, WEEKLY_ON, TODAY, NOW)
    courier = RecordingCourier()
    report = await deliver(engine, courier, plans, TODAY, NOW)
    assert [(t.target, t.outcome, t.sent) for t in report.targets] == [("channel:100", "ok", 3)]
    assert "2026-11-27 channel:100/week: ok, 3 sent" in caplog.text
    assert courier.headers_in("channel:100") == ["Hot this week · 2026-11-21 to 2026-11-27"]
    assert courier.papers_in("thread:1") == ["2611.00002", "2609.00001", "2611.00006"]
    assert courier.closings == [("thread:1", "Hot this week · 2026-11-21 to 2026-11-27")]
    week = [("channel:100/week", paper, "sent") for paper in courier.papers_in("thread:1")]
    assert delivered(engine) == [("channel:100", "2611.00002", "sent"), *week]
    again = await deliver(engine, courier, plans, TODAY, NOW + timedelta(hours=1))
    assert again.targets[0].sent == 0 and len(courier.channels["thread:1"]) == 3
    assert courier.headers_in("channel:100") == ["Hot this week · 2026-11-21 to 2026-11-27"]


async def test_a_week_delivery_that_died_mid_way_is_finished_without_doubles(
    engine: Engine,
) -> None:
    build(engine)
    subscribe(engine, "channel:100", "cs.LG")
    with Session(engine) as session:
        plans = plan_week(session, WEEKLY_ON, TODAY, NOW)
    courier = RecordingCourier(crash_after_sends=2)
    with pytest.raises(Crash):
        await deliver(engine, courier, plans, TODAY, NOW)
    courier.crash_after_sends = None
    later = NOW + STALE_CLAIM + timedelta(minutes=1)  # the dead run's claim is stale
    await deliver(engine, courier, plans, TODAY, later)
    assert courier.papers_in("thread:1") == ["2611.00002", "2609.00001", "2611.00006"]
    assert courier.headers_in("channel:100") == ["Hot this week · 2026-11-21 to 2026-11-27"]
    assert [state for _, _, state in delivered(engine)] == ["sent"] * 3
