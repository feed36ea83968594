"""The listing that first announced an imported paper, from its first version's date.

The snapshot has no listing dates; collection writes an `announcement` row per category of a
new paper (`new` for the primary, `cross` for the others) on the listing that announced it.
The import writes the same rows, dated by arXiv's calendar (`first_listing_of`), for papers
that have none, so imported history shows up in a day's or a week's papers.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime

from hotpapers.arxiv.calendar import ET, FIRST_LISTING, first_listing_of

_CUTOFF_HOUR = 14  # calendar.CUTOFF_AT: the listing depends on the ET day and this side of it


class FirstListings:
    """Listing dates (ISO text) by first-version time, memoised per (ET day, before or after
    the 14:00 cut-off): about 25,000 keys for all of arXiv's history against millions of
    papers, so the calendar's search runs once per key."""

    def __init__(self, holidays: Iterable[date]) -> None:
        self.holidays = frozenset(holidays)
        self._known_years = {day.year for day in self.holidays}
        self._cache: dict[tuple[date, bool], tuple[str | None, bool]] = {}
        # Papers dated by the weekday rule: their listing year has no holidays in the table.
        self.by_weekday_rule = 0

    def of(self, submitted: datetime | None) -> str | None:
        """The listing date of a paper first submitted at `submitted` (aware), or None when
        there is none to give (no date, or one before arXiv began)."""
        if submitted is None:
            return None
        local = submitted.astimezone(ET)
        key = (local.date(), local.hour >= _CUTOFF_HOUR)
        found = self._cache.get(key)
        if found is None:
            found = self._cache[key] = self._compute(submitted)
        listing, weekday_rule = found
        self.by_weekday_rule += weekday_rule
        return listing

    def _compute(self, submitted: datetime) -> tuple[str | None, bool]:
        try:
            listing = first_listing_of(submitted, self.holidays)
        except (ValueError, OverflowError):  # a date near datetime.max
            return None, False
        if listing < FIRST_LISTING:
            return None, False
        # An empty table means the weekday rule throughout, as the calendar reads it.
        return listing.isoformat(), bool(self.holidays) and listing.year not in self._known_years
