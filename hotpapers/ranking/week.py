"""The weekly digest's papers: which day is the weekly one, and that week's trending papers.

Shared by the weekly post (`weekly`), the weekly Discord thread (`delivery`) and the site, so
none of them reaches up into the use-cases for it.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Engine

from hotpapers.config import WEEKDAYS, Settings
from hotpapers.ranking.trending import WEEK, TrendingPaper, Window, find_trending, window


def is_weekly_day(settings: Settings, day: date) -> bool:
    """Whether `day` is the configured weekday of an enabled weekly digest."""
    weekly = settings.digest.weekly
    return weekly.enabled and WEEKDAYS[day.weekday()] == weekly.weekday


def week_of(
    settings: Settings, engine: Engine, last_day: date, now: datetime
) -> tuple[Window, list[TrendingPaper]]:
    """The week ending on `last_day` and its top trending papers (digest.weekly.top)."""
    span = window(WEEK, last_day, now)
    return span, find_trending(engine, settings.ranking, span, top=settings.digest.weekly.top)
