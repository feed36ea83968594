"""When the service's jobs are due: collect on arXiv's calendar, daily posts from the ledger."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from hotpapers.arxiv import calendar
from hotpapers.arxiv.holidays import ARXIV_HOLIDAYS
from hotpapers.service import schedule
from hotpapers.service.app import CollectTrigger

HOLIDAYS = ARXIV_HOLIDAYS


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


@pytest.mark.parametrize(
    ("after", "listing", "at"),
    [
        # Monday noon: Tuesday's listing, Monday 20:00 EST + 5 min.
        (utc(2026, 11, 23, 12), date(2026, 11, 24), utc(2026, 11, 24, 1, 5)),
        # Saturday: Monday's listing, announced on Sunday evening.
        (utc(2026, 11, 21, 12), date(2026, 11, 23), utc(2026, 11, 23, 1, 5)),
        # Thanksgiving (26 Nov) evening is skipped: Monday's listing next.
        (utc(2026, 11, 26, 12), date(2026, 11, 30), utc(2026, 11, 30, 1, 5)),
        # Between 20:00 and 20:05 ET the announcement just made is still to collect.
        (utc(2026, 11, 24, 1, 2), date(2026, 11, 24), utc(2026, 11, 24, 1, 5)),
        # Spring forward (8 March): Sunday 20:00 is EDT, one hour earlier in UTC.
        (utc(2026, 3, 6, 2), date(2026, 3, 9), utc(2026, 3, 9, 0, 5)),
        # Fall back (1 November): Thursday 20:00 EDT, then Sunday 20:00 EST.
        (utc(2026, 10, 29, 12), date(2026, 10, 30), utc(2026, 10, 30, 0, 5)),
        (utc(2026, 10, 30, 2), date(2026, 11, 2), utc(2026, 11, 2, 1, 5)),
    ],
)
def test_next_collect_follows_the_arxiv_calendar(
    after: datetime, listing: date, at: datetime
) -> None:
    assert schedule.next_collect(after, HOLIDAYS, 5) == (listing, at)


def test_collect_trigger_fires_once_per_listing_across_dst_and_holidays() -> None:
    trigger = CollectTrigger(HOLIDAYS, 5)
    fired: list[datetime] = []
    previous = None
    now = utc(2026, 10, 26)
    while True:
        moment = trigger.get_next_fire_time(previous, now)
        assert moment is not None
        if moment > utc(2026, 12, 5):
            break
        fired.append(moment)
        previous = moment
    listings = list(calendar.listing_dates(date(2026, 10, 26), date(2026, 12, 5), HOLIDAYS))
    assert fired == [calendar.announced_at(d) + timedelta(minutes=5) for d in listings]
    assert date(2026, 11, 27) not in listings  # Thanksgiving evening
    # Every firing is 20:05 in New York, whatever the UTC offset of the day.
    assert {m.astimezone(calendar.ET).strftime("%H:%M") for m in fired} == {"20:05"}


def test_collect_retries_stop_after_the_retry_window() -> None:
    day = date(2026, 11, 24)
    first = calendar.announced_at(day) + timedelta(minutes=5)

    def retry_at(now: datetime) -> datetime | None:
        return schedule.collect_retry_at(
            day, now, delay_minutes=5, retry_minutes=10, retry_hours=1.0
        )

    assert retry_at(first) == first + timedelta(minutes=10)
    late = first + timedelta(minutes=50)
    assert retry_at(late) == first + timedelta(hours=1)
    assert retry_at(late + timedelta(minutes=1)) is None


def test_post_is_due_after_its_time_for_the_newest_listing() -> None:
    before, after = utc(2026, 11, 24, 8, 59), utc(2026, 11, 24, 9, 0)
    assert schedule.due_publication(before, "09:00", "UTC", set(), HOLIDAYS) == date(2026, 11, 23)
    assert schedule.due_publication(after, "09:00", "UTC", set(), HOLIDAYS) == date(2026, 11, 24)
    done = {date(2026, 11, 24)}
    assert schedule.due_publication(after, "09:00", "UTC", done, HOLIDAYS) is None


def simulate(
    start: datetime, end: datetime, step: timedelta, post_time: str, zone: str,
    done: set[date] | None = None, clock: list[datetime] | None = None,
) -> list[date]:  # fmt: skip
    """Check every `step` (or at the `clock` moments) and publish what is due, like the job."""
    done = set() if done is None else done
    published: list[date] = []
    moments = clock or [start + i * step for i in range(int((end - start) / step) + 1)]
    for now in moments:
        day = schedule.due_publication(now, post_time, zone, done, HOLIDAYS)
        if day is not None:
            published.append(day)
            done.add(day)
    return published


def test_three_days_of_downtime_make_one_catch_up_post() -> None:
    done = {date(2026, 11, 20)}  # Friday's post was made, then the process was down
    back = utc(2026, 11, 24, 12)  # up again on Tuesday after the post time
    published = simulate(back, back + timedelta(hours=6), timedelta(minutes=1), "09:00", "UTC",
                         done)  # fmt: skip
    assert published == [date(2026, 11, 24)]  # not Monday's, not once per missed trigger


def test_a_published_day_is_never_redone_after_a_restart() -> None:
    done = {date(2026, 11, 24)}
    published = simulate(
        utc(2026, 11, 24, 9, 30), utc(2026, 11, 25, 8, 59), timedelta(minutes=1), "09:00", "UTC",
        done,
    )  # fmt: skip
    assert published == []


def test_a_week_of_checks_publishes_each_listing_once_weekends_included() -> None:
    published = simulate(
        utc(2026, 11, 20, 9, 30), utc(2026, 12, 1, 23), timedelta(minutes=7), "09:00", "UTC",
        {date(2026, 11, 20)},
    )  # fmt: skip
    expected = list(calendar.listing_dates(date(2026, 11, 21), date(2026, 12, 1), HOLIDAYS))
    assert published == expected  # Thanksgiving's skipped listing (27th) is not posted


def test_clock_jumps_neither_repeat_nor_skip_a_post() -> None:
    tuesday = utc(2026, 11, 24, 8, 0)
    clock = [
        tuesday,  # Monday's post is due (made on Monday in real life)
        tuesday + timedelta(hours=1, minutes=1),  # 09:01: Tuesday's post
        tuesday + timedelta(minutes=30),  # the clock jumps back to 08:30
        tuesday + timedelta(hours=1, minutes=5),  # and forward again past 09:00
        tuesday + timedelta(days=1, hours=3),  # a jump forward over Wednesday's 09:00
    ]
    published = simulate(tuesday, tuesday, timedelta(minutes=1), "09:00", "UTC", clock=clock)
    assert published == [date(2026, 11, 23), date(2026, 11, 24), date(2026, 11, 25)]


@pytest.mark.parametrize(
    ("start", "post_time"),
    [
        (utc(2026, 3, 2), "02:30"),  # 02:30 does not exist on 8 March in New York
        (utc(2026, 10, 26), "01:30"),  # 01:30 happens twice on 1 November
    ],
)
def test_dst_changes_neither_repeat_nor_skip_a_post(start: datetime, post_time: str) -> None:
    published = simulate(
        start, start + timedelta(days=14), timedelta(minutes=10), post_time, "America/New_York"
    )
    first, last = published[0], published[-1]
    assert published == list(calendar.listing_dates(first, last, HOLIDAYS))
    assert len(published) == len(set(published)) >= 9
