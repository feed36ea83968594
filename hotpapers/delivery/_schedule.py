"""When each target's digest is due: its post time, in its server's time zone, after arXiv's
announcement has settled. Pure functions of their arguments (no clock, no database).

Listing L is announced at `calendar.announced_at(L)` (20:00 New York the evening before).
Signals need a little while to arrive, so the digest of L is due for a target at the first
occurrence of the target's post time (HH:MM in its time zone) at or after
`announced_at(L) + settle`. Channels use their server's settings; DMs (and any target whose
server is unknown) use the configured defaults.

Time zones are handled by zoneinfo, so daylight-saving changes neither skip nor repeat a day:
a post time that does not exist that day (inside the spring-forward gap) is read with the
offset before the change (02:30 becomes 03:30), and one that happens twice (fall back) is
its first occurrence.
"""

from __future__ import annotations

import zoneinfo
from collections.abc import Collection, Iterable, Mapping
from datetime import UTC, date, datetime, time, timedelta
from typing import Protocol

from hotpapers.arxiv.calendar import announced_at, current_listing_date, previous_listing_date
from hotpapers.delivery._types import TargetPlan

# After the announcement, before the first digest: time for the first signals to arrive.
SETTLE = timedelta(hours=2)
# The latest a post time can fall after `announced_at + settle`: a day, plus a DST hour.
LONGEST_WAIT = timedelta(hours=25)
_DAY = timedelta(days=1)


class PostSettings(Protocol):
    """What a server's settings say about when to post (hotpapers.storage.models.GuildSettings)."""

    timezone: str
    post_time: str


class PostDefaults(Protocol):
    """The configured defaults (hotpapers.config.DiscordSettings)."""

    default_timezone: str
    default_post_time: str


def parse_post_time(value: str) -> time:
    """ "09:00" -> time(9, 0); ValueError for anything else."""
    hours, sep, minutes = value.strip().partition(":")
    if not sep or not hours.isdigit() or not minutes.isdigit() or len(minutes) != 2:
        raise ValueError(f"not a HH:MM time: {value!r}")
    return time(int(hours), int(minutes))


def due_at(
    listing_date: date, timezone: str, post_time: str, settle: timedelta = SETTLE
) -> datetime:
    """When the digest of `listing_date` is due (aware, UTC) for a target posting at
    `post_time` in `timezone`: that time's first occurrence at or after the announcement
    plus `settle`."""
    zone = zoneinfo.ZoneInfo(timezone)
    at = parse_post_time(post_time)
    ready = announced_at(listing_date) + settle
    day = ready.astimezone(zone).date()
    while True:
        # fold=0: the first of a repeated time; a skipped time keeps the offset before it.
        candidate = datetime.combine(day, at, tzinfo=zone).astimezone(UTC)
        if candidate >= ready:
            return candidate
        day += _DAY


def post_settings(
    target: str,
    settings_by_guild: Mapping[str, PostSettings],
    defaults: PostDefaults,
    guild_of: Mapping[str, str | None],
) -> tuple[str, str]:
    """(time zone, post time) for `target`: its server's, else the defaults.

    A stored setting that no longer parses (a time zone removed from tzdata) falls back to
    the default, so one bad row never stops the schedule.
    """
    zone, at = defaults.default_timezone, defaults.default_post_time
    guild = None if target.startswith("dm:") else guild_of.get(target)
    found = settings_by_guild.get(guild) if guild is not None else None
    if found is not None:
        if _valid_zone(found.timezone):
            zone = found.timezone
        if _valid_time(found.post_time):
            at = found.post_time
    return zone, at


def is_due(
    target: str,
    settings_by_guild: Mapping[str, PostSettings],
    defaults: PostDefaults,
    listing_date: date,
    now: datetime,
    *,
    guild_of: Mapping[str, str | None],
    superseded_by: date | None = None,
    settle: timedelta = SETTLE,
) -> bool:
    """True if `target`'s digest of `listing_date` is due at `now` (and, with
    `superseded_by`, the digest of that newer listing is not due yet)."""
    _aware(now)
    zone, at = post_settings(target, settings_by_guild, defaults, guild_of)
    if now < due_at(listing_date, zone, at, settle):
        return False
    return superseded_by is None or now < due_at(superseded_by, zone, at, settle)


def due_targets(
    plans: Iterable[TargetPlan],
    settings_by_guild: Mapping[str, PostSettings],
    defaults: PostDefaults,
    listing_date: date,
    now: datetime,
    *,
    guild_of: Mapping[str, str | None] | None = None,
    superseded_by: date | None = None,
    settle: timedelta = SETTLE,
) -> list[TargetPlan]:
    """The plans (in their order) whose target is due at `now` for `listing_date`.

    `settings_by_guild` maps server ids to their settings; `guild_of` maps channel targets
    to their server id (a target without one, and every DM, uses `defaults`). With
    `superseded_by` (the next listing), a target already due for that one is left out: it
    gets the newer digest instead, never two at once.
    """
    found = guild_of or {}
    return [
        item
        for item in plans
        if is_due(
            item.target,
            settings_by_guild,
            defaults,
            listing_date,
            now,
            guild_of=found,
            superseded_by=superseded_by,
            settle=settle,
        )
    ]


def open_listings(
    now: datetime, holidays: Collection[date] = (), settle: timedelta = SETTLE
) -> list[date]:
    """The listings some target may be due for at `now`, newest first (at most two).

    A listing stays open from its announcement until every post time after it has passed;
    the previous one can still be open when a post time falls late (e.g. 10:30 in Tokyo is
    after the next announcement). Empty on days without a new announcement (weekends,
    holidays) once the last digest is out.
    """
    _aware(now)
    found = []
    day = current_listing_date(now, holidays)
    for _ in range(2):
        if now < announced_at(day) + settle + LONGEST_WAIT:
            found.append(day)
        day = previous_listing_date(day, holidays)
    return found


def _aware(now: datetime) -> None:
    if now.tzinfo is None or now.utcoffset() is None:
        raise ValueError("`now` must be an aware datetime")


def _valid_zone(name: str) -> bool:
    try:
        zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return False
    return True


def _valid_time(value: str) -> bool:
    try:
        parse_post_time(value)
    except ValueError:
        return False
    return True
