"""arXiv's announcement calendar, in America/New_York.

A *listing date* is the date an announcement is labelled with. Listing D is announced at
20:00 ET on the evening of D - 1 day (Monday's listing on Sunday evening), so listings fall
on Monday to Friday; arXiv skips the announcement on holidays (configured as the dates of
the skipped evenings). Submissions are cut off at 14:00 ET on the last weekday on or before
the announcement evening; a listing holds what arrived since the previous listing's cut-off.
"""

from __future__ import annotations

from collections.abc import Collection, Iterator
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

ET = ZoneInfo("America/New_York")
ANNOUNCE_AT = time(20, 0)
CUTOFF_AT = time(14, 0)
_DAY = timedelta(days=1)
_SEARCH_LIMIT = 60  # no gap between listings is ever this long


def announcement_evening(listing_date: date) -> date:
    """The ET calendar day on whose evening `listing_date` is announced."""
    return listing_date - _DAY


def is_listing_date(day: date, holidays: Collection[date] = ()) -> bool:
    """True if arXiv publishes a listing labelled `day`."""
    return day.weekday() < 5 and announcement_evening(day) not in holidays


def announced_at(listing_date: date) -> datetime:
    """When `listing_date` is announced, as an aware UTC datetime."""
    local = datetime.combine(announcement_evening(listing_date), ANNOUNCE_AT, tzinfo=ET)
    return local.astimezone(UTC)


def previous_listing_date(day: date, holidays: Collection[date] = ()) -> date:
    """The listing date strictly before `day`."""
    for offset in range(1, _SEARCH_LIMIT):
        candidate = day - offset * _DAY
        if is_listing_date(candidate, holidays):
            return candidate
    raise ValueError(f"no arXiv listing in the {_SEARCH_LIMIT} days before {day}")


def next_listing_date(day: date, holidays: Collection[date] = ()) -> date:
    """The listing date strictly after `day`."""
    for offset in range(1, _SEARCH_LIMIT):
        candidate = day + offset * _DAY
        if is_listing_date(candidate, holidays):
            return candidate
    raise ValueError(f"no arXiv listing in the {_SEARCH_LIMIT} days after {day}")


def current_listing_date(now: datetime, holidays: Collection[date] = ()) -> date:
    """The newest listing already announced at `now` (an aware datetime)."""
    local = now.astimezone(ET)
    # The listing announced this evening (if it is past 20:00) is labelled tomorrow.
    day = local.date() + _DAY if local.time() >= ANNOUNCE_AT else local.date()
    if is_listing_date(day, holidays):
        return day
    return previous_listing_date(day, holidays)


def _cutoff(listing_date: date) -> datetime:
    """14:00 ET on the last weekday on or before the announcement evening."""
    day = announcement_evening(listing_date)
    while day.weekday() >= 5:
        day -= _DAY
    return datetime.combine(day, CUTOFF_AT, tzinfo=ET).astimezone(UTC)


def submission_window(
    listing_date: date, holidays: Collection[date] = ()
) -> tuple[datetime, datetime]:
    """[start, end) in UTC of the submissions that `listing_date` announces as new."""
    previous = previous_listing_date(listing_date, holidays)
    return _cutoff(previous), _cutoff(listing_date)


def listing_dates(start: date, end: date, holidays: Collection[date] = ()) -> Iterator[date]:
    """Every listing date in [start, end], oldest first."""
    day = start
    while day <= end:
        if is_listing_date(day, holidays):
            yield day
        day += _DAY
