"""The weekly digest, "Hot Papers Week": the week's trending papers (hotpapers/ranking/trending.py)
as a Markdown post next to the daily ones, `YYYY-MM-DD---Hot-Papers-Week.md`, dated by the
week's last day (the day it is written, `digest.weekly.weekday`)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import Engine

from hotpapers.config import Settings
from hotpapers.ranking.scoring import format_number
from hotpapers.ranking.trending import TrendingPaper, Window
from hotpapers.ranking.week import is_weekly_day, week_of
from hotpapers.render.markdown import (
    PACKAGE_TEMPLATES,
    iso_utc,
    load_template,
    paper_entry,
)

TEMPLATE = PACKAGE_TEMPLATES / "week.md.j2"


def week_filename(last_day: date) -> str:
    """`YYYY-MM-DD---Hot-Papers-Week.md`, beside the daily `YYYY-MM-DD---Hot-Papers.md`."""
    return f"{last_day.isoformat()}---Hot-Papers-Week.md"


def week_due_day(settings: Settings, now: datetime) -> date | None:
    """The week's last day whose post is due at `now`: the local date (scheduler.timezone) of
    the last daily post moment, when weekly posts are on and that date is the weekday."""
    from hotpapers.service.schedule import last_post_moment

    config = settings.scheduler
    moment = last_post_moment(now, config.post_time, config.timezone)
    day = moment.astimezone(ZoneInfo(config.timezone)).date()
    return day if is_weekly_day(settings, day) else None


@dataclass(frozen=True)
class WeekEntry:
    """A trending paper as the template sees it: the daily post's fields plus `listed`."""

    rank: int
    title: str
    authors: str
    listed: str
    score: str
    retweets: str
    favorites: str
    breakdown: str
    abs_url: str
    pdf_url: str
    category_links: str
    abstract: str


def render_week(settings: Settings, span: Window, found: list[TrendingPaper], now: datetime) -> str:
    """The weekly post's text (front matter as the daily post's, for the same blog)."""
    digest = settings.digest
    entries = []
    for item in found:
        daily = paper_entry(item.ranked, digest)
        entries.append(
            WeekEntry(
                rank=daily.rank,
                title=daily.title,
                authors=daily.authors,
                listed=item.listed.isoformat(),
                score=format_number(item.ranked.score),
                retweets=daily.retweets,
                favorites=daily.favorites,
                breakdown=daily.breakdown,
                abs_url=daily.abs_url,
                pdf_url=daily.pdf_url,
                category_links=daily.category_links,
                abstract=daily.abstract,
            )
        )
    return load_template(TEMPLATE).render(
        first_day=span.first_day.isoformat(),
        last_day=span.last_day.isoformat(),
        generated_at=iso_utc(now),
        draft="true" if digest.draft else "false",
        category=digest.category,
        tags=list(digest.tags),
        social_image=digest.social_image,
        papers=entries,
    )


def write_week_post(
    settings: Settings, engine: Engine, last_day: date, now: datetime, out_dir: Path | None = None
) -> Path:
    """Render the week ending `last_day` and write it atomically; returns its path."""
    from hotpapers.publish.files import write_post

    span, found = week_of(settings, engine, last_day, now)
    text = render_week(settings, span, found, now)
    return write_post(out_dir or settings.digest.posts_dir, last_day, text, week_filename(last_day))
