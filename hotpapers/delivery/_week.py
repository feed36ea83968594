"""Planning the weekly digest's Discord threads (issue #13 §1): on the weekday of an enabled
`digest.weekly`, every subscribed channel gets one thread of the week's trending papers
(hotpapers/ranking/trending.py, as the weekly Markdown post lists them), whatever its subscriptions
filter: the week is the community's, not a subscription's. Direct messages get none.

A day without a listing does not move the week: when the weekday has none (the Friday after
Thanksgiving, or a Saturday chosen as the weekday), its thread still goes out that day, at each
channel's post time (reckoned from 20:00 New York the evening before, as for a listing), dated
and keyed in the ledger by that weekday, with no daily digest beside it. That is what a server
admin who picked a weekday expects, and what the weekly Markdown post does too."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import replace
from datetime import date, datetime, timedelta

from sqlmodel import Session, col, select

from hotpapers.arxiv.calendar import ET, announced_at, current_listing_date, is_listing_date
from hotpapers.config import Settings
from hotpapers.delivery._plan import _engine, _style
from hotpapers.delivery._schedule import LONGEST_WAIT, SETTLE
from hotpapers.delivery._types import TargetPlan
from hotpapers.ranking.trending import Window
from hotpapers.storage.models import Subscription

_DAY = timedelta(days=1)
WEEK_TITLE = "Hot this week"  # how the thread's title starts (bot/render.py's header knows it)


def week_title(span: Window) -> str:
    """ "Hot this week · 2026-11-21 to 2026-11-27": the thread's header."""
    return f"{WEEK_TITLE} · {span.first_day:%Y-%m-%d} to {span.last_day:%Y-%m-%d}"


def unlisted_week_day(settings: Settings, now: datetime) -> date | None:
    """The weekly digest's day when it has come (its announcement evening, 20:00 New York,
    is past) with no listing since the newest one: a holiday, or a weekend weekday."""
    from hotpapers.ranking.week import is_weekly_day

    newest = current_listing_date(now, settings.arxiv.holidays)
    day = now.astimezone(ET).date() + _DAY
    while day > newest:
        if announced_at(day) <= now and is_weekly_day(settings, day):
            return day
        day -= _DAY
    return None


def unlisted_week_days(settings: Settings, now: datetime, settle: timedelta = SETTLE) -> list[date]:
    """The weekly digest's days without a listing whose week threads some channel may be due
    for at `now`, kept open as a listing is (`open_listings`): the scheduler queues their week
    threads alone."""
    from hotpapers.ranking.week import is_weekly_day

    today = now.astimezone(ET).date()
    found = []
    for day in (today + _DAY, today, today - _DAY, today - 2 * _DAY):
        if not is_weekly_day(settings, day) or is_listing_date(day, settings.arxiv.holidays):
            continue
        if announced_at(day) <= now < announced_at(day) + settle + LONGEST_WAIT:
            found.append(day)
    return found


def plan_week(
    session: Session, settings: Settings, last_day: date, now: datetime
) -> list[TargetPlan]:
    """One plan per channel with active subscriptions, for the week ending `last_day`.

    None when `last_day` is not the configured weekday of an enabled weekly digest, and none
    for a week without trending papers (an empty thread says nothing)."""
    from hotpapers.ranking.week import is_weekly_day, week_of

    if not is_weekly_day(settings, last_day):
        return []
    query = select(Subscription).where(Subscription.status == "active")
    by_target: dict[str, list[Subscription]] = defaultdict(list)
    for subscription in session.exec(query.order_by(col(Subscription.id))):
        if subscription.target.startswith("channel:"):
            by_target[subscription.target].append(subscription)
    if not by_target:
        return []
    span, found = week_of(settings, _engine(session), last_day, now)
    papers = tuple(replace(item.ranked, listed=item.listed) for item in found)
    if not papers:
        return []
    return [
        TargetPlan(
            target=target,
            listing_date=last_day,
            style=_style(session, subs[0]),
            title=week_title(span),
            papers=papers,
            # the week's papers were asked for by the channel, not by one subscription:
            # its first one stands for it (reactions and /forget-me look this up)
            subscription_for={item.paper.arxiv_id: subs[0].id or 0 for item in papers},
            missing_since=min((s.gone_since for s in subs if s.gone_since), default=None),
            kind="week",
        )
        for target, subs in by_target.items()
    ]
