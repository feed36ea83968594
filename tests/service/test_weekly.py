"""The weekly digest's Markdown post, "Hot Papers Week" (hotpapers/service/weekly.py).

The post for the test world is a golden file (`HOTPAPERS_UPDATE_GOLDEN=1` rewrites it).
"""

from __future__ import annotations

import os
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from sqlalchemy import Engine

from hotpapers.config import DigestSettings, Settings, WeeklyDigestSettings
from hotpapers.ranking.week import is_weekly_day
from hotpapers.service.weekly import week_filename, write_week_post
from tests.ranking.trending_world import NOW, TODAY, build

GOLDEN = Path(__file__).parents[1] / "fixtures" / "trending" / "2026-11-27---Hot-Papers-Week.md"


def test_the_week_is_written_next_to_the_daily_posts(engine: Engine, tmp_path: Path) -> None:
    build(engine)
    posts = tmp_path / "posts"
    path = write_week_post(Settings(), engine, TODAY, NOW, posts)
    assert path == posts / "2026-11-27---Hot-Papers-Week.md"
    text = path.read_text()
    if os.environ.get("HOTPAPERS_UPDATE_GOLDEN"):
        GOLDEN.write_text(text)
    assert text == GOLDEN.read_text()
    assert [p.name for p in posts.iterdir()] == [path.name]  # no temporary file left


def test_an_empty_week_says_so(engine: Engine, tmp_path: Path) -> None:
    build(engine)
    text = write_week_post(Settings(), engine, date(2026, 8, 7), NOW, tmp_path).read_text()
    assert text.endswith("\nNo paper gained attention between 2026-08-01 and 2026-08-07.\n")


def test_the_weekly_day_is_the_configured_weekday_when_enabled() -> None:
    friday, saturday = date(2026, 11, 27), date(2026, 11, 28)
    assert week_filename(friday) == "2026-11-27---Hot-Papers-Week.md"
    assert not is_weekly_day(Settings(), friday)  # off by default
    on = Settings(digest=DigestSettings(weekly=WeeklyDigestSettings(enabled=True)))
    assert is_weekly_day(on, friday) and not is_weekly_day(on, saturday)
    sunday = WeeklyDigestSettings(enabled=True, weekday="sunday")
    assert is_weekly_day(Settings(digest=DigestSettings(weekly=sunday)), date(2026, 11, 29))


async def test_the_service_writes_the_week_once_on_its_weekday(
    engine: Engine, tmp_path: Path
) -> None:
    from sqlmodel import Session, select

    from hotpapers.service.jobs import WEEK_POST, Retry, ServiceJobs
    from hotpapers.storage.models import Publication

    build(engine)
    settings = Settings(
        database={"url": engine.url.render_as_string(hide_password=False)},  # type: ignore[arg-type]
        digest={"posts_dir": tmp_path / "posts", "weekly": {"enabled": True}},  # type: ignore[arg-type]
    )
    jobs = ServiceJobs(settings, engine, "test-process", Retry(attempts=2, first_delay=0.01))
    thursday = datetime(2026, 11, 26, 12, tzinfo=UTC)
    friday_early = datetime(2026, 11, 27, 8, 59, tzinfo=UTC)  # before scheduler.post_time
    friday = datetime(2026, 11, 27, 9, 0, 30, tzinfo=UTC)
    assert await jobs.weekly(thursday) is None
    assert await jobs.weekly(friday_early) is None
    path = await jobs.weekly(friday)
    assert path == tmp_path / "posts" / "2026-11-27---Hot-Papers-Week.md"
    assert "# 1. Paper 2611.00002" in path.read_text()
    assert await jobs.weekly(friday + timedelta(hours=5)) is None  # the ledger says sent
    with Session(engine) as session:
        rows = session.exec(select(Publication).where(Publication.kind == WEEK_POST)).all()
    assert [(row.listing_date, row.state) for row in rows] == [(date(2026, 11, 27), "sent")]
    await jobs.aclose()


def test_the_site_has_the_weeks_page_when_the_weekly_digest_is_on(
    engine: Engine, tmp_path: Path
) -> None:
    from lxml import html

    from hotpapers.site.build import build_site

    build(engine)
    weekly = {"enabled": True}
    on = Settings(digest={"weekly": weekly})  # type: ignore[arg-type]
    build_site(on, engine, tmp_path / "site", now=NOW)
    page = html.fromstring((tmp_path / "site" / "week" / "index.html").read_text())
    assert page.findtext(".//h1") == "Trending this week (2026-11-21 to 2026-11-27)"
    titles = [" ".join(t.text_content().split()) for t in page.find_class("title")]
    assert titles == ["1. Paper 2611.00002", "2. Paper 2609.00001", "3. Paper 2611.00006"]
    listed = [p.text_content() for p in page.find_class("growth")]
    assert listed == ["Listed 2026-11-24.", "Listed 2026-09-01.", "Listed 2026-11-25."]
    build_site(Settings(), engine, tmp_path / "plain", now=NOW)
    assert not (tmp_path / "plain" / "week").exists()  # off by default


def test_the_sites_feed_has_an_entry_for_each_week_post(engine: Engine, tmp_path: Path) -> None:
    """The main feed lists the week post (the configured weekday, Friday 2026-11-27) first,
    its papers in trending order; category feeds and a site without the digest have none."""
    import json

    from hotpapers.site.build import build_site
    from tests.site.test_site import check_atom, check_json_feed

    build(engine)
    on = Settings(digest={"weekly": {"enabled": True}})  # type: ignore[arg-type]
    site = tmp_path / "site"
    build_site(on, engine, site, now=NOW)
    week_id = "http://localhost:8080/week/#week-2026-11-27"
    ids = check_atom(site / "feed.atom")
    assert ids == check_json_feed(site / "feed.json")
    assert ids[0] == week_id and ids.count(week_id) == 1
    item = json.loads((site / "feed.json").read_text(encoding="utf-8"))["items"][0]
    assert item["title"] == "Trending this week (2026-11-21 to 2026-11-27)"
    assert item["content_html"].index("Paper 2611.00002") < item["content_html"].index(
        "Paper 2609.00001"
    )
    for feed in (site / "category").glob("*/feed.atom"):
        assert week_id not in check_atom(feed)
    build_site(Settings(), engine, tmp_path / "plain", now=NOW)
    assert not any("week" in entry for entry in check_atom(tmp_path / "plain" / "feed.atom"))
