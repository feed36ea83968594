"""The arXiv calendar in America/New_York."""

from __future__ import annotations

from datetime import UTC, date, datetime

from hotpapers.arxiv import calendar

HOLIDAYS = [date(2026, 11, 26)]


def test_monday_listing_is_announced_sunday_evening() -> None:
    """2021-03-15 is announced Sunday 2021-03-14 at 20:00 EDT (00:00 UTC)."""
    assert calendar.announced_at(date(2021, 3, 15)) == datetime(2021, 3, 15, 0, 0, tzinfo=UTC)


def test_monday_window_is_thursday_to_friday_cutoff() -> None:
    """2021-03-15 holds submissions from Thu 14:00 to Fri 14:00 ET (EST that week)."""
    start, end = calendar.submission_window(date(2021, 3, 15))
    assert start == datetime(2021, 3, 11, 19, 0, tzinfo=UTC)
    assert end == datetime(2021, 3, 12, 19, 0, tzinfo=UTC)


def test_tuesday_window_spans_the_weekend_and_dst_change() -> None:
    """2021-03-16 holds Fri 14:00 EST to Mon 14:00 EDT."""
    start, end = calendar.submission_window(date(2021, 3, 16))
    assert (start, end) == (
        datetime(2021, 3, 12, 19, 0, tzinfo=UTC),
        datetime(2021, 3, 15, 18, 0, tzinfo=UTC),
    )


def test_no_listings_on_weekends() -> None:
    """Saturday and Sunday are never listing dates (no Friday/Saturday announcements)."""
    assert not calendar.is_listing_date(date(2021, 3, 13))
    assert not calendar.is_listing_date(date(2021, 3, 14))
    assert calendar.is_listing_date(date(2021, 3, 12))


def test_holiday_evening_skips_the_next_listing() -> None:
    """No announcement on Thanksgiving evening means no listing labelled the Friday after."""
    assert not calendar.is_listing_date(date(2026, 11, 27), HOLIDAYS)
    assert calendar.next_listing_date(date(2026, 11, 26), HOLIDAYS) == date(2026, 11, 30)


def test_holiday_window_carries_over() -> None:
    """After a skipped evening, the next listing holds the deferred submissions too."""
    start, _end = calendar.submission_window(date(2026, 11, 30), HOLIDAYS)
    assert start == datetime(2026, 11, 25, 19, 0, tzinfo=UTC)


def test_current_listing_flips_at_eight_pm_new_york() -> None:
    """Before 20:00 ET Monday the newest listing is Monday's; after, Tuesday's."""
    before = datetime(2021, 3, 15, 23, 59, tzinfo=UTC)  # 19:59 EDT
    after = datetime(2021, 3, 16, 0, 0, tzinfo=UTC)  # 20:00 EDT
    assert calendar.current_listing_date(before) == date(2021, 3, 15)
    assert calendar.current_listing_date(after) == date(2021, 3, 16)


def test_current_listing_over_the_weekend_is_friday() -> None:
    """Saturday afternoon the newest listing is Friday's."""
    assert calendar.current_listing_date(datetime(2021, 3, 13, 18, 0, tzinfo=UTC)) == date(
        2021, 3, 12
    )


def test_listing_dates_in_range() -> None:
    """A week has five listings."""
    days = list(calendar.listing_dates(date(2021, 3, 13), date(2021, 3, 21)))
    assert days == [date(2021, 3, d) for d in (15, 16, 17, 18, 19)]
