"""When a digest is due: post times in each server's time zone, DMs on the defaults,
daylight-saving changes, holidays. Pure functions, no clock and no database."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from hotpapers.arxiv.calendar import announced_at, listing_dates
from hotpapers.arxiv.holidays import ARXIV_HOLIDAYS
from hotpapers.config import DiscordSettings
from hotpapers.delivery import TargetPlan, due_targets
from hotpapers.delivery._schedule import SETTLE, due_at, is_due, open_listings
from hotpapers.storage.models import GuildSettings

MONDAY = date(2026, 11, 23)  # announced Sunday 2026-11-22 20:00 New York = 01:00 UTC Monday
TUESDAY = date(2026, 11, 24)
DEFAULTS = DiscordSettings()  # 09:00 UTC
PARIS_DEFAULTS = DiscordSettings(default_timezone="Europe/Paris", default_post_time="07:15")


def utc(
    year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0
) -> datetime:
    return datetime(year, month, day, hour, minute, second, tzinfo=UTC)


def target_plan(target: str, day: date = MONDAY) -> TargetPlan:
    return TargetPlan(target=target, listing_date=day, style="thread", title="Hot Papers")


def guild(guild_id: str, timezone: str, post_time: str) -> GuildSettings:
    return GuildSettings(guild_id=guild_id, timezone=timezone, post_time=post_time)


def due(
    plans: list[TargetPlan],
    now: datetime,
    day: date = MONDAY,
    guilds: Sequence[GuildSettings] = (),
    guild_of: dict[str, str | None] | None = None,
    defaults: DiscordSettings = DEFAULTS,
    superseded_by: date | None = None,
) -> list[str]:
    by_guild = {g.guild_id: g for g in guilds}
    found = due_targets(
        plans, by_guild, defaults, day, now, guild_of=guild_of, superseded_by=superseded_by
    )
    return [item.target for item in found]


def test_a_target_is_due_from_its_post_time_on() -> None:
    plans = [target_plan("channel:1")]
    assert due_at(MONDAY, "UTC", "09:00") == utc(2026, 11, 23, 9, 0)
    assert due(plans, utc(2026, 11, 23, 8, 59, 59)) == []
    assert due(plans, utc(2026, 11, 23, 9, 0)) == ["channel:1"]
    assert due(plans, utc(2026, 11, 23, 18, 30)) == ["channel:1"]  # late ticks still find it
    # The same instant seen from another offset is the same answer.
    assert due(plans, utc(2026, 11, 23, 9, 0).astimezone(ZoneInfo("Europe/Paris"))) == ["channel:1"]


def test_each_server_posts_in_its_own_time_zone_and_order_is_kept() -> None:
    plans = [target_plan("channel:1"), target_plan("channel:2"), target_plan("channel:3")]
    guilds = [
        guild("10", "America/Los_Angeles", "09:00"),  # 17:00 UTC
        guild("20", "Asia/Tokyo", "13:00"),  # 04:00 UTC, after the 03:00 UTC settle
    ]
    guild_of: dict[str, str | None] = {"channel:1": "10", "channel:2": "20", "channel:3": "30"}
    # channel:3's server never changed its settings: the defaults, 09:00 UTC.
    assert due(plans, utc(2026, 11, 23, 3, 59), guilds=guilds, guild_of=guild_of) == []
    assert due(plans, utc(2026, 11, 23, 4, 0), guilds=guilds, guild_of=guild_of) == ["channel:2"]
    assert due(plans, utc(2026, 11, 23, 9, 0), guilds=guilds, guild_of=guild_of) == [
        "channel:2",
        "channel:3",
    ]
    assert due(plans, utc(2026, 11, 23, 17, 0), guilds=guilds, guild_of=guild_of) == [
        "channel:1",
        "channel:2",
        "channel:3",
    ]


def test_a_post_time_before_the_settled_announcement_waits_for_the_next_day() -> None:
    # Announced 10:00 Tokyo, settled at 12:00: a 10:30 server posts the next morning,
    # after the next listing was announced, but that one is not due for it until a day later.
    tokyo = [guild("20", "Asia/Tokyo", "10:30")]
    guild_of: dict[str, str | None] = {"channel:2": "20"}
    assert due_at(MONDAY, "Asia/Tokyo", "10:30") == utc(2026, 11, 24, 1, 30)
    plans = [target_plan("channel:2")]
    at = utc(2026, 11, 24, 1, 30)
    assert due(plans, at, guilds=tokyo, guild_of=guild_of, superseded_by=TUESDAY) == ["channel:2"]
    assert due(plans, at, day=TUESDAY, guilds=tokyo, guild_of=guild_of) == []
    # A day later Tuesday's digest is due, and Monday's is superseded: never both at once.
    later = utc(2026, 11, 25, 1, 30)
    assert due(plans, later, guilds=tokyo, guild_of=guild_of, superseded_by=TUESDAY) == []
    assert due(plans, later, day=TUESDAY, guilds=tokyo, guild_of=guild_of) == ["channel:2"]


def test_direct_messages_use_the_defaults() -> None:
    plans = [target_plan("dm:7"), target_plan("channel:1")]
    guilds = [guild("10", "Asia/Tokyo", "13:00")]
    # Even a (bogus) server for the DM target is ignored: DMs have no server.
    guild_of: dict[str, str | None] = {"dm:7": "10", "channel:1": "10"}
    # 07:15 Paris is 06:15 UTC in November.
    for now, expected in [
        (utc(2026, 11, 23, 6, 14), ["channel:1"]),
        (utc(2026, 11, 23, 6, 15), ["dm:7", "channel:1"]),
    ]:
        found = due(plans, now, guilds=guilds, guild_of=guild_of, defaults=PARIS_DEFAULTS)
        assert found == expected


def test_unusable_stored_settings_fall_back_to_the_defaults() -> None:
    guilds = [guild("10", "Mars/Olympus_Mons", "25:00")]
    plans = [target_plan("channel:1")]
    guild_of: dict[str, str | None] = {"channel:1": "10"}
    assert due(plans, utc(2026, 11, 23, 8, 59), guilds=guilds, guild_of=guild_of) == []
    assert due(plans, utc(2026, 11, 23, 9, 0), guilds=guilds, guild_of=guild_of) == ["channel:1"]


def test_now_must_be_aware() -> None:
    with pytest.raises(ValueError, match="aware"):
        due([target_plan("channel:1")], datetime(2026, 11, 23, 9, 0))


def test_daylight_saving_moves_the_utc_time_not_the_local_one() -> None:
    # New York springs forward on Sunday 2026-03-08: 09:00 local is 14:00 UTC, then 13:00.
    assert due_at(date(2026, 3, 6), "America/New_York", "09:00") == utc(2026, 3, 6, 14, 0)
    assert due_at(date(2026, 3, 9), "America/New_York", "09:00") == utc(2026, 3, 9, 13, 0)
    # ... and falls back on Sunday 2026-11-01.
    assert due_at(date(2026, 10, 30), "America/New_York", "09:00") == utc(2026, 10, 30, 13, 0)
    assert due_at(date(2026, 11, 2), "America/New_York", "09:00") == utc(2026, 11, 2, 14, 0)


def test_a_post_time_skipped_or_repeated_by_a_dst_change_happens_once() -> None:
    # Cairo changes on weekday nights. 2026-04-24 00:00 becomes 01:00: 00:30 does not exist
    # that night, and is read with the old offset (01:30 summer time) rather than skipped.
    assert due_at(date(2026, 4, 23), "Africa/Cairo", "00:30") == utc(2026, 4, 23, 22, 30)
    assert due_at(date(2026, 4, 24), "Africa/Cairo", "00:30") == utc(2026, 4, 24, 21, 30)
    # 2026-10-29 24:00 goes back to 23:00: 23:30 happens twice; the first one counts.
    assert due_at(date(2026, 10, 29), "Africa/Cairo", "23:30") == utc(2026, 10, 29, 20, 30)
    assert due_at(date(2026, 10, 30), "Africa/Cairo", "23:30") == utc(2026, 10, 30, 21, 30)
    plans = [target_plan("channel:1", date(2026, 10, 29))]
    cairo = [guild("10", "Africa/Cairo", "23:30")]
    guild_of: dict[str, str | None] = {"channel:1": "10"}
    day = date(2026, 10, 29)
    for minute, expected in [(29, []), (30, ["channel:1"]), (90, ["channel:1"])]:
        now = utc(2026, 10, 29, 20, 0) + timedelta(minutes=minute)
        assert due(plans, now, day=day, guilds=cairo, guild_of=guild_of) == expected


def test_no_announcement_no_listing_to_deliver() -> None:
    holidays = ARXIV_HOLIDAYS
    # Thanksgiving 2026-11-26: no announcement that evening, so no listing 2026-11-27.
    assert open_listings(utc(2026, 11, 26, 2, 0), holidays) == [
        date(2026, 11, 26),
        date(2026, 11, 25),
    ]
    assert open_listings(utc(2026, 11, 26, 9, 0), holidays) == [date(2026, 11, 26)]
    assert open_listings(utc(2026, 11, 27, 9, 0), holidays) == []
    assert open_listings(utc(2026, 11, 28, 9, 0), holidays) == []  # Saturday
    assert open_listings(utc(2026, 11, 30, 0, 30), holidays) == []  # before Sunday's evening
    assert open_listings(utc(2026, 11, 30, 1, 0), holidays) == [date(2026, 11, 30)]
    with pytest.raises(ValueError, match="aware"):
        open_listings(datetime(2026, 11, 27, 9, 0))


ZONES = [
    ("UTC", "09:00"),
    ("America/New_York", "09:00"),
    ("America/New_York", "21:00"),  # inside the settle window: the next evening
    ("America/Los_Angeles", "00:00"),
    ("Europe/London", "02:30"),
    ("Europe/Berlin", "02:30"),
    ("Asia/Tokyo", "10:30"),
    ("Asia/Kolkata", "23:45"),
    ("Pacific/Auckland", "06:00"),
    ("Africa/Cairo", "00:30"),
    ("Africa/Cairo", "23:30"),
]


def _ticks(start: datetime, end: datetime, step: timedelta) -> Iterator[datetime]:
    now = start
    while now < end:
        yield now
        now += step


@pytest.mark.parametrize(
    ("start", "end"),
    [
        (date(2026, 3, 2), date(2026, 4, 3)),  # US and European spring changes
        (date(2026, 4, 20), date(2026, 4, 30)),  # Cairo springs forward on a Friday
        (date(2026, 10, 19), date(2026, 11, 6)),  # autumn changes, Cairo's on a Thursday
        (date(2026, 11, 20), date(2026, 12, 4)),  # Thanksgiving
    ],
)
def test_every_listing_once_in_order_across_dst_changes_and_holidays(
    start: date, end: date
) -> None:
    """A scheduler ticking every 10 minutes, as the bot does: every listing announced in the
    span reaches every target exactly once, at its due time, never two in one tick."""
    holidays = ARXIV_HOLIDAYS
    step = timedelta(minutes=10)
    targets = [f"channel:{n}" for n in range(len(ZONES))]
    guilds = [guild(str(n), zone, at) for n, (zone, at) in enumerate(ZONES)]
    by_guild = {g.guild_id: g for g in guilds}
    guild_of: dict[str, str | None] = {t: str(n) for n, t in enumerate(targets)}
    delivered: dict[str, list[tuple[date, datetime]]] = {t: [] for t in targets}
    begin = datetime.combine(start, datetime.min.time(), tzinfo=UTC)
    finish = datetime.combine(end, datetime.min.time(), tzinfo=UTC)
    for now in _ticks(begin, finish, step):
        newer = None
        this_tick: dict[str, list[date]] = {}
        for day in open_listings(now, holidays):
            for target in targets:
                if any(d == day for d, _ in delivered[target]):
                    continue
                if is_due(
                    target, by_guild, DEFAULTS, day, now, guild_of=guild_of, superseded_by=newer
                ):
                    this_tick.setdefault(target, []).append(day)
                    delivered[target].append((day, now))
            newer = day
        assert all(len(days) == 1 for days in this_tick.values()), (now, this_tick)
    expected = [
        day
        for day in listing_dates(start, end, holidays)
        if announced_at(day) >= begin and announced_at(day) + SETTLE + timedelta(days=2) < finish
    ]
    assert expected
    for n, target in enumerate(targets):
        zone, at = ZONES[n]
        got = [(day, when) for day, when in delivered[target] if day in expected]
        assert [day for day, _ in got] == expected, (zone, at)
        for day, when in got:
            late = when - due_at(day, zone, at)
            assert timedelta(0) <= late < step, (zone, at, day, when)
    assert date(2026, 11, 27) not in {d for v in delivered.values() for d, _ in v}
