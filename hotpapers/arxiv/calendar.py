"""arXiv's announcement calendar, in America/New_York.

A *listing date* is the date an announcement is labelled with. Listing D is announced at
20:00 ET on the evening of D - 1 day (Monday's listing on Sunday evening), so listings fall
on Monday to Friday; arXiv skips the announcement on holidays (configured as the dates of
the skipped evenings, `hotpapers.arxiv.holidays`). Submissions are cut off at 14:00 ET on the
last weekday on or before the announcement evening; a listing holds what arrived since the
previous listing's cut-off, so the listing after a skipped evening holds two days (after
Thanksgiving: Wednesday 14:00 to Friday 14:00). A year with no holiday at all in the given
list is one whose schedule is unknown: its listings follow the weekday rule, with a warning.
"""

from __future__ import annotations

import logging
from collections.abc import Collection, Iterator
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

ET = ZoneInfo("America/New_York")
ANNOUNCE_AT = time(20, 0)
CUTOFF_AT = time(14, 0)
_DAY = timedelta(days=1)
_SEARCH_LIMIT = 60  # no gap between listings is ever this long
# arXiv opened on 14 August 1991 (hep-th); no listing is older.
FIRST_LISTING = date(1991, 8, 14)
# Far enough from date.max that every search above stays within the calendar.
LAST_LISTING = date.max - 2 * _SEARCH_LIMIT * _DAY

log = logging.getLogger(__name__)
_warned_years: set[int] = set()


def announcement_evening(listing_date: date) -> date:
    """The ET calendar day on whose evening `listing_date` is announced."""
    return listing_date - _DAY


def is_listing_date(day: date, holidays: Collection[date] = ()) -> bool:
    """True if arXiv publishes a listing labelled `day`."""
    _warn_if_unknown_year(announcement_evening(day).year, holidays)
    return _publishes(day, holidays)


def _publishes(day: date, holidays: Collection[date]) -> bool:
    return day.weekday() < 5 and announcement_evening(day) not in holidays


def _warn_if_unknown_year(year: int, holidays: Collection[date]) -> None:
    """Log once per year when `holidays` lists nothing in `year` (but lists other years):
    arXiv closes on a handful of days every year, so an empty year is an unknown one."""
    if not holidays or year in _warned_years or any(day.year == year for day in holidays):
        return
    _warned_years.add(year)
    log.warning(
        "arXiv's holidays for %d are not known; its listings are assumed on every weekday "
        "(add that year's dates to [arxiv] extra_holidays)",
        year,
    )


def no_listing_reason(day: date, holidays: Collection[date] = ()) -> str | None:
    """Why arXiv has no listing dated `day` (a sentence without a full stop), or None if it
    has one."""
    if is_listing_date(day, holidays):
        return None
    evening = announcement_evening(day)
    why = "an arXiv holiday" if evening in holidays else "arXiv never announces on that evening"
    return (
        f"arXiv has no listing dated {day:%A} {day}: there is no announcement on the evening "
        f"of {evening:%A} {evening} ({why})"
    )


def in_range(day: date) -> bool:
    """Whether `day` can be a listing date at all (not before arXiv began, not near date.max)."""
    return FIRST_LISTING <= day <= LAST_LISTING


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


def first_listing_of(submitted: datetime, holidays: Collection[date] = ()) -> date:
    """The listing that announces a submission made at `submitted` (aware) as new: the first
    listing whose cut-off is after it. A year `holidays` does not cover follows the weekday
    rule without the warning `is_listing_date` logs: the snapshot import asks this for every
    paper since 1991 and says once how many fell in such years."""
    day = submitted.astimezone(ET).date()
    for offset in range(1, _SEARCH_LIMIT):  # the listing dated `day` closed before `day`
        candidate = day + offset * _DAY
        if _publishes(candidate, holidays) and _cutoff(candidate) > submitted:
            return candidate
    raise ValueError(f"no arXiv listing in the {_SEARCH_LIMIT} days after {submitted}")


def listing_dates(start: date, end: date, holidays: Collection[date] = ()) -> Iterator[date]:
    """Every listing date in [start, end], oldest first."""
    day = start
    while day <= end:
        if is_listing_date(day, holidays):
            yield day
        day += _DAY
