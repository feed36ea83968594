"""The arXiv calendar 2020-2027 with its default holiday table: every holiday, both DST changes
of each year, the windows after a skipped evening, and years nobody knows yet."""

from __future__ import annotations

import logging
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from hotpapers.arxiv import calendar
from hotpapers.config import Settings

HOLIDAYS = Settings().arxiv.holidays
YEARS = range(2020, 2028)
DAY = timedelta(days=1)

# Every evening without an announcement, 2020-2027, written out independently of the table:
# 2023-2026 as arXiv published them (info.arxiv.org/help/availability), the other years as
# reconstructed/projected in hotpapers/arxiv/holidays.py.
EXPECTED = [
    "2020-01-01", "2020-01-20", "2020-09-07", "2020-11-26",
    "2021-01-18", "2021-09-06", "2021-11-25",
    "2022-01-17", "2022-06-20", "2022-07-04", "2022-09-05", "2022-11-24", "2022-12-26",
    "2023-01-02", "2023-01-16", "2023-06-14", "2023-06-19", "2023-07-04", "2023-08-17",
    "2023-09-04", "2023-11-23", "2023-12-25", "2023-12-27",
    "2024-01-15", "2024-05-22", "2024-06-19", "2024-07-04", "2024-09-02", "2024-10-08",
    "2024-11-28", "2024-12-25", "2024-12-26", "2024-12-31",
    "2025-01-01", "2025-01-20", "2025-06-19", "2025-07-06", "2025-09-01", "2025-11-27",
    "2025-12-25", "2025-12-30",
    "2026-01-01", "2026-01-19", "2026-06-19", "2026-07-03", "2026-09-07", "2026-11-26",
    "2026-12-25", "2026-12-29", "2026-12-31",
    "2027-01-18", "2027-09-06", "2027-11-25",
]  # fmt: skip
EVENINGS = [date.fromisoformat(text) for text in EXPECTED]
# Thanksgiving Thursdays (the fourth Thursday of November).
THANKSGIVING = [
    date(2020, 11, 26), date(2021, 11, 25), date(2022, 11, 24), date(2023, 11, 23),
    date(2024, 11, 28), date(2025, 11, 27), date(2026, 11, 26), date(2027, 11, 25),
]  # fmt: skip
# Days the original blog published a post for: real arXiv listings.
HISTORIC = [
    "2020-06-29", "2020-07-15", "2020-08-12", "2020-09-17", "2020-10-06", "2020-11-17",
    "2020-12-07", "2020-12-22", "2021-01-26", "2021-02-10", "2021-03-15", "2021-04-20",
    "2021-05-13", "2021-06-24", "2021-07-06", "2021-08-20", "2021-08-26",
]  # fmt: skip
# ../shared next to the checkout (a worktree sits one level deeper than the main checkout).
_SHARED = [Path(__file__).resolve().parent.parents[n] / "shared" for n in (2, 3)]
HISTORIC_POSTS = next((p for p in _SHARED if p.is_dir()), _SHARED[0]) / "reference" / "historic"


def test_default_table_is_every_holiday_2020_to_2027() -> None:
    """The default `[arxiv] holidays` is exactly this list: nothing lost, nothing invented."""
    assert sorted(HOLIDAYS) == EVENINGS


@pytest.mark.parametrize("evening", EVENINGS, ids=EXPECTED)
def test_a_holiday_evening_has_no_listing_the_next_day(evening: date) -> None:
    """No listing is dated the day after a holiday evening, and every other day of that week
    keeps its listing."""
    assert not calendar.is_listing_date(evening + DAY, HOLIDAYS)
    week = [evening + offset * DAY for offset in range(-3, 4) if offset != 1]
    for day in week:
        if day - DAY not in HOLIDAYS:
            assert calendar.is_listing_date(day, HOLIDAYS) == (day.weekday() < 5), day


@pytest.mark.parametrize(
    "evening", [e for e in EVENINGS if e.weekday() != 4], ids=lambda e: e.isoformat()
)
def test_the_listing_after_a_holiday_holds_the_skipped_submissions(evening: date) -> None:
    """The next listing's window reaches back over the skipped one (it starts earlier than
    in a week without the holiday) to where the last listing's ended: no submission falls
    between two listings."""
    following = calendar.next_listing_date(evening, HOLIDAYS)
    assert following > evening + DAY
    start, _ = calendar.submission_window(following, HOLIDAYS)
    assert start < calendar.submission_window(following)[0]
    before = calendar.previous_listing_date(following, HOLIDAYS)
    assert calendar.submission_window(before, HOLIDAYS)[1] == start


def test_friday_entries_change_nothing() -> None:
    """arXiv lists holidays falling on a Friday too; there is never a Friday announcement."""
    fridays = [e for e in EVENINGS if e.weekday() == 4]
    assert fridays == [date(2026, 6, 19), date(2026, 7, 3), date(2026, 12, 25)]
    for friday in fridays:
        assert calendar.next_listing_date(friday, HOLIDAYS) == friday + 3 * DAY
        assert calendar.submission_window(friday + 3 * DAY, HOLIDAYS) == (
            calendar.submission_window(friday + 3 * DAY)
        )


@pytest.mark.parametrize("thursday", THANKSGIVING, ids=lambda d: str(d.year))
def test_monday_after_thanksgiving_covers_48_hours(thursday: date) -> None:
    """No Friday listing; Monday's holds Wednesday 14:00 to Friday 14:00 EST (19:00 UTC)."""
    friday, monday = thursday + DAY, thursday + 4 * DAY
    assert not calendar.is_listing_date(friday, HOLIDAYS)
    assert calendar.next_listing_date(thursday, HOLIDAYS) == monday
    start, end = calendar.submission_window(monday, HOLIDAYS)
    wednesday = thursday - DAY
    assert start == datetime(wednesday.year, wednesday.month, wednesday.day, 19, tzinfo=UTC)
    assert end == datetime(friday.year, friday.month, friday.day, 19, tzinfo=UTC)
    assert end - start == timedelta(hours=48)


def _nth_sunday(year: int, month: int, n: int) -> date:
    first = date(year, month, 1)
    return first + timedelta(days=(6 - first.weekday()) % 7 + 7 * (n - 1))


def _utc(day: date, hour: int) -> datetime:
    return datetime(day.year, day.month, day.day, hour, tzinfo=UTC)


@pytest.mark.parametrize("year", YEARS)
def test_spring_forward_moves_the_announcement_an_hour_earlier_in_utc(year: int) -> None:
    """US clocks go forward on March's second Sunday: Thursday's 20:00 EST is 01:00 UTC,
    Sunday's 20:00 EDT is 00:00 UTC; the Friday cut is 19:00 UTC, Monday's 18:00 UTC."""
    sunday = _nth_sunday(year, 3, 2)
    friday, monday, tuesday = sunday - 2 * DAY, sunday + DAY, sunday + 2 * DAY
    assert calendar.announced_at(friday) == _utc(friday, 1)
    assert calendar.announced_at(monday) == _utc(monday, 0)
    assert calendar.submission_window(tuesday, HOLIDAYS) == (
        _utc(friday, 19),
        _utc(monday, 18),
    )
    assert calendar.current_listing_date(_utc(monday, 0) - timedelta(minutes=1), HOLIDAYS) == (
        friday
    )
    assert calendar.current_listing_date(_utc(monday, 0), HOLIDAYS) == monday


@pytest.mark.parametrize("year", YEARS)
def test_fall_back_moves_the_announcement_an_hour_later_in_utc(year: int) -> None:
    """US clocks go back on November's first Sunday: Thursday's 20:00 EDT is 00:00 UTC,
    Sunday's 20:00 EST is 01:00 UTC; the Friday cut is 18:00 UTC, Monday's 19:00 UTC."""
    sunday = _nth_sunday(year, 11, 1)
    friday, monday, tuesday = sunday - 2 * DAY, sunday + DAY, sunday + 2 * DAY
    assert calendar.announced_at(friday) == _utc(friday, 0)
    assert calendar.announced_at(monday) == _utc(monday, 1)
    assert calendar.submission_window(tuesday, HOLIDAYS) == (
        _utc(friday, 18),
        _utc(monday, 19),
    )
    assert calendar.current_listing_date(_utc(monday, 1) - timedelta(minutes=1), HOLIDAYS) == (
        friday
    )
    assert calendar.current_listing_date(_utc(monday, 1), HOLIDAYS) == monday


@pytest.mark.parametrize("day", HISTORIC)
def test_the_blogs_historic_days_are_listing_days(day: str) -> None:
    """Every day the original blog posted about is a listing day of this calendar."""
    assert calendar.is_listing_date(date.fromisoformat(day), HOLIDAYS)


def test_the_historic_posts_in_shared_are_listing_days() -> None:
    """The same for the historic posts kept as reference material, where they exist."""
    if not HISTORIC_POSTS.is_dir():
        pytest.skip(f"no reference posts at {HISTORIC_POSTS}")
    days = [date.fromisoformat(p.name[:10]) for p in HISTORIC_POSTS.glob("*---Hot-Papers.md")]
    assert days
    assert [d for d in days if not calendar.is_listing_date(d, HOLIDAYS)] == []


def test_an_unknown_year_follows_the_weekday_rule_with_one_warning(
    caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    """2031 is in no table: Thanksgiving Friday counts as a listing, and the log says why,
    once."""
    monkeypatch.setattr(calendar, "_warned_years", set())
    with caplog.at_level(logging.WARNING, logger="hotpapers.arxiv.calendar"):
        assert calendar.is_listing_date(date(2031, 11, 28), HOLIDAYS)
        assert calendar.next_listing_date(date(2031, 11, 27), HOLIDAYS) == date(2031, 11, 28)
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1 and "2031" in warnings[0]


def test_a_known_year_does_not_warn(
    caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(calendar, "_warned_years", set())
    with caplog.at_level(logging.WARNING, logger="hotpapers.arxiv.calendar"):
        list(calendar.listing_dates(date(2020, 1, 2), date(2027, 12, 31), HOLIDAYS))
    assert caplog.records == []


def test_config_holidays_replace_the_table(tmp_path: Path) -> None:
    """`[arxiv] holidays` overrides the table (e.g. to add an ad-hoc closure)."""
    from hotpapers.config import load_settings

    config = tmp_path / "hotpapers.toml"
    config.write_text("[arxiv]\nholidays = [2026-12-08]\n")
    holidays = load_settings(config).arxiv.holidays
    assert holidays == [date(2026, 12, 8)]
    assert not calendar.is_listing_date(date(2026, 12, 9), holidays)
    assert calendar.is_listing_date(date(2026, 11, 27), holidays)


@pytest.mark.parametrize(
    ("day", "words"),
    [
        (date(2026, 12, 12), ["Saturday 2026-12-12", "Friday 2026-12-11"]),
        (date(2025, 11, 28), ["Friday 2025-11-28", "Thursday 2025-11-27", "holiday"]),
    ],
)
def test_no_listing_reason_names_the_evening(day: date, words: list[str]) -> None:
    reason = calendar.no_listing_reason(day, HOLIDAYS)
    assert reason is not None and all(word in reason for word in words), reason
    assert calendar.no_listing_reason(date(2025, 11, 26), HOLIDAYS) is None


def test_the_range_of_possible_listing_dates() -> None:
    """Nothing before arXiv opened (14 August 1991); nothing where the calendar would run
    off the end of `date`."""
    assert calendar.in_range(date(1991, 8, 14)) and not calendar.in_range(date(1991, 8, 13))
    assert not calendar.in_range(date.max) and not calendar.in_range(date.min)


def test_extra_holidays_extend_the_table(tmp_path: Path) -> None:
    """`[arxiv] extra_holidays` adds an ad-hoc closure and keeps every default date."""
    from hotpapers.config import load_settings

    config = tmp_path / "hotpapers.toml"
    config.write_text("[arxiv]\nextra_holidays = [2026-12-08]\n")
    holidays = load_settings(config).arxiv.holidays
    assert set(holidays) == {*HOLIDAYS, date(2026, 12, 8)}
    assert not calendar.is_listing_date(date(2026, 12, 9), holidays)
    assert not calendar.is_listing_date(date(2025, 11, 28), holidays)
