"""When the service's jobs are due: pure functions of `now`, the arXiv calendar and the ledger.

Collect follows arXiv's calendar (20:00 America/New_York on announcement evenings, so DST and
holidays come from `hotpapers.arxiv.calendar`). The daily publications (the Markdown post, the
X post) are not fired by a clock edge but found *due*: the newest post moment at or before
`now` names one listing date, and it is due unless the ledger says it is done. So downtime
over several post times yields one catch-up (the newest day only), a clock jump backwards
finds the day already done, and a jump forward finds the newest day due at the next check.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from hotpapers.arxiv import calendar


def next_collect(
    after: datetime, holidays: Collection[date] = (), delay_minutes: int = 0
) -> tuple[date, datetime]:
    """The next listing to collect strictly after `after`, and when (UTC): its announcement
    plus `delay_minutes`."""
    delay = timedelta(minutes=delay_minutes)
    day = calendar.current_listing_date(after, holidays)
    while calendar.announced_at(day) + delay <= after:
        day = calendar.next_listing_date(day, holidays)
    return day, calendar.announced_at(day) + delay


def collect_retry_at(
    listing_date: date,
    now: datetime,
    *,
    delay_minutes: int,
    retry_minutes: int,
    retry_hours: float,
) -> datetime | None:
    """When to look at the feed again for `listing_date`, or None once the retry window
    (announcement + delay + retry_hours) is over."""
    first = calendar.announced_at(listing_date) + timedelta(minutes=delay_minutes)
    again = now + timedelta(minutes=retry_minutes)
    return again if again <= first + timedelta(hours=retry_hours) else None


def parse_post_time(value: str) -> time:
    """ "HH:MM" (validated by the settings) as a time of day."""
    hours, _, minutes = value.partition(":")
    return time(int(hours), int(minutes))


def last_post_moment(now: datetime, post_time: str, timezone: str) -> datetime:
    """The latest local `post_time` at or before `now`, as an aware UTC datetime.

    A post time that does not exist on a spring-forward day (e.g. 02:30) falls an hour later,
    one repeated on a fall-back day counts once (the first), per zoneinfo's fold=0.
    """
    zone = ZoneInfo(timezone)
    local_now = now.astimezone(zone)
    at = parse_post_time(post_time)
    for back in (0, 1):
        moment = datetime.combine(local_now.date() - timedelta(days=back), at, tzinfo=zone)
        moment = moment.astimezone(UTC)
        if moment <= now:
            return moment
    raise AssertionError("yesterday's post time is always in the past")  # pragma: no cover


def publication_day(
    now: datetime, post_time: str, timezone: str, holidays: Collection[date] = ()
) -> date:
    """The listing date the daily publication made at the last post moment is about."""
    return calendar.current_listing_date(last_post_moment(now, post_time, timezone), holidays)


def due_publication(
    now: datetime,
    post_time: str,
    timezone: str,
    done: Collection[date],
    holidays: Collection[date] = (),
) -> date | None:
    """The listing date to publish now, or None when that day is already in `done`.

    Only the newest day is ever due: days missed during downtime are not made up one by one.
    """
    day = publication_day(now, post_time, timezone, holidays)
    return None if day in done else day
