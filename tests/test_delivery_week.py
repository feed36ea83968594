"""Planning the weekly digest's Discord threads (hotpapers/delivery/_week.py), on SQLite and
PostgreSQL, from the trending tests' world (tests/trending_world.py)."""

from __future__ import annotations

from datetime import date

from sqlalchemy import Engine
from sqlmodel import Session

from hotpapers import subscriptions as subs
from hotpapers.config import Settings
from hotpapers.delivery._week import plan_week
from tests.trending_world import NOW, TODAY, build

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
