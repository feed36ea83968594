""" "Rising from earlier days": papers whose score grew most since they were last shown, each
shown at most once per surface, the choice of a day kept when it is made again."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from lxml import html
from sqlalchemy import Engine
from sqlmodel import Session, select

from hotpapers.config import RankingSettings, RisingSettings, Settings
from hotpapers.errors import ConfigError
from hotpapers.ranking.rising import POST, SITE, rising_papers
from hotpapers.ranking.scoring import Rise
from hotpapers.service import use_cases as jobs
from hotpapers.site.build import build_site
from hotpapers.storage.db import transaction
from hotpapers.storage.models import ShownPaper, SocialPost
from hotpapers.storage.records import PaperRecord
from hotpapers.storage.store import record_announcements, upsert_papers

OLD = date(2026, 11, 10)  # outside the 7-day window of TODAY
D1 = date(2026, 11, 16)
D2 = date(2026, 11, 17)
TODAY = date(2026, 11, 20)
NEXT = date(2026, 11, 23)

LATE = "2611.00001"  # D1, nobody cared on its day; 400 likes by TODAY: never shown, rises
STEADY = "2611.00002"  # D1, shown at 300; 330 by TODAY: grew 30, under the threshold
GREW = "2611.00003"  # D2, shown at 100; 300 by TODAY: grew 200, rises
SLOW = "2611.00004"  # D2, 40 by TODAY; 1,000 by NEXT: rises then
ANCIENT = "2611.00005"  # OLD, 5,000 by TODAY: outside the window
FRESH = "2611.00006"  # TODAY's own paper

LISTINGS = {OLD: [ANCIENT], D1: [LATE, STEADY], D2: [GREW, SLOW], TODAY: [FRESH]}


def _record(arxiv_id: str) -> PaperRecord:
    return PaperRecord(
        arxiv_id=arxiv_id,
        version=1,
        title=f"Paper {arxiv_id}",
        abstract="An abstract.",
        authors=("Ada Lovelace",),
        categories=("cs.LG",),
        primary_category="cs.LG",
        announce_type="new",
    )


def _at(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, 9, tzinfo=UTC)


def set_likes(engine: Engine, likes: dict[str, int], taken_at: datetime) -> None:
    """The X counts measured at `taken_at` (one post per paper, updated in place)."""
    with transaction(engine) as session:
        for paper_id, count in likes.items():
            query = select(SocialPost).where(SocialPost.paper_id == paper_id)
            post = session.exec(query).first() or SocialPost(
                source="x", post_id=f"p{paper_id}", paper_id=paper_id, author_id=f"a{paper_id}"
            )
            post.likes, post.taken_at = count, taken_at
            session.add(post)


@pytest.fixture
def world(engine: Engine) -> Engine:
    with transaction(engine) as session:
        for day, ids in LISTINGS.items():
            records = [_record(i) for i in ids]
            upsert_papers(session, records)
            record_announcements(session, day, records, ["cs.LG"])
    return engine


def settings(**rising: object) -> Settings:
    return Settings(ranking=RankingSettings(threshold=50), rising=RisingSettings(**rising))


def post_of(engine: Engine, day: date, now: datetime, tmp_path: Path, config: Settings) -> str:
    return jobs.write_post(config, engine, day, now=now, out_dir=tmp_path).read_text()


def rising_lines(text: str) -> list[str]:
    _, found, section = text.partition("## Rising from earlier days\n")
    return [line for line in section.splitlines() if line.startswith("- ")] if found else []


def test_the_post_lists_late_risers_once_each(world: Engine, tmp_path: Path) -> None:
    config = settings(post=True)
    set_likes(world, {STEADY: 300}, _at(D2))
    assert rising_lines(post_of(world, D1, _at(D2), tmp_path, config)) == []  # STEADY: main
    set_likes(world, {GREW: 100}, _at(D2))
    post_of(world, D2, _at(D2), tmp_path, config)  # GREW shown at 100

    counts = {LATE: 400, STEADY: 330, GREW: 300, SLOW: 40, ANCIENT: 5000, FRESH: 80}
    set_likes(world, counts, _at(TODAY))
    text = post_of(world, TODAY, _at(TODAY), tmp_path, config)
    assert "# 1. Paper 2611.00006" in text  # the day's own ranking comes first
    assert rising_lines(text) == [
        f"- [Paper {LATE}](https://arxiv.org/abs/{LATE}) (listed 2026-11-16): score 400,"
        " up 400 since last shown",
        f"- [Paper {GREW}](https://arxiv.org/abs/{GREW}) (listed 2026-11-17): score 300,"
        " up 200 since last shown",
    ]

    # The day's choice is kept: written again later, the same papers (SLOW has risen since).
    set_likes(world, {SLOW: 1000}, _at(NEXT))
    again = post_of(world, TODAY, _at(NEXT), tmp_path, config)
    assert [line.split("]")[0] for line in rising_lines(again)] == [
        f"- [Paper {LATE}",
        f"- [Paper {GREW}",
    ]
    # The next day: LATE and GREW were shown in the section already; SLOW is new to it.
    later = rising_lines(post_of(world, NEXT, _at(NEXT), tmp_path, config))
    assert [line.split("]")[0] for line in later] == [f"- [Paper {SLOW}"]


def test_the_post_has_no_rising_section_by_default(world: Engine, tmp_path: Path) -> None:
    set_likes(world, {LATE: 400}, _at(TODAY))
    text = post_of(world, TODAY, _at(TODAY), tmp_path, settings())
    assert "Rising" not in text
    with Session(world) as session:  # nothing was chosen for the post
        assert rising_papers(session, settings(), POST, TODAY, _at(TODAY), choose=False) == []


def test_each_surface_keeps_its_own_record(world: Engine) -> None:
    set_likes(world, {LATE: 400, GREW: 300}, _at(TODAY))
    config = settings(top=1)
    with transaction(world) as session:
        post = rising_papers(session, config, POST, TODAY, _at(TODAY))
    with transaction(world) as session:
        site = rising_papers(session, config, SITE, TODAY, _at(TODAY))
        assert [r.paper.arxiv_id for r in post] == [LATE]  # top 1
        assert [r.paper.arxiv_id for r in site] == [LATE]
        assert post[0].rise == Rise(listed=D1, before=0.0, growth=400.0)
    with Session(world) as session:
        rows = session.exec(select(ShownPaper.surface, ShownPaper.section)).all()
    assert sorted(rows) == [(POST, "rising"), (SITE, "rising")]


def test_min_growth_and_window_are_configurable(world: Engine) -> None:
    set_likes(world, {LATE: 400, GREW: 300, ANCIENT: 5000}, _at(TODAY))
    with Session(world) as session:
        wide = rising_papers(session, settings(days=14, min_growth=350), SITE, TODAY, _at(TODAY))
    assert [r.paper.arxiv_id for r in wide] == [ANCIENT, LATE]


def _site_rising(out: Path, day: date) -> list[str]:
    document = html.fromstring((out / day.isoformat() / "index.html").read_bytes())
    articles = document.xpath("//section[@class='rising']//article/@id")
    return [a.removeprefix("paper-") for a in articles]


def paper_ids_of(out: Path, day: date) -> list[str]:
    document = html.fromstring((out / day.isoformat() / "index.html").read_bytes())
    return [a.removeprefix("paper-") for a in document.xpath("//article/@id")]


def test_the_newest_day_page_shows_late_risers(world: Engine, tmp_path: Path) -> None:
    config = settings()
    config.site.feed_days = 5
    out = tmp_path / "site"
    set_likes(world, {STEADY: 300, GREW: 100}, _at(D2))
    build_site(config, world, out, now=_at(D2))  # first published: D1 (STEADY), D2 (GREW)
    assert _site_rising(out, D2) == []  # nothing grew since
    set_likes(world, {LATE: 400, STEADY: 330, GREW: 300, FRESH: 80}, _at(TODAY))
    build_site(config, world, out, now=_at(TODAY))
    # LATE now makes D1's rebuilt page too, but it was not there when that page was new.
    assert _site_rising(out, TODAY) == [LATE, GREW]
    assert _site_rising(out, D2) == []  # an older page keeps the section chosen for it
    assert LATE in paper_ids_of(out, D1)
    text = (out / TODAY.isoformat() / "index.html").read_text()
    assert 'Listed <a href="../2026-11-17/">2026-11-17</a>; up 200 since last shown.' in text

    set_likes(world, {SLOW: 1000}, _at(NEXT))
    build_site(config, world, out, now=_at(NEXT))  # a rebuild keeps the day's choice
    assert _site_rising(out, TODAY) == [LATE, GREW]

    config.rising.site = False
    build_site(config, world, out, now=_at(NEXT))
    assert _site_rising(out, TODAY) == []


def test_a_post_that_cannot_render_remembers_nothing(world: Engine, tmp_path: Path) -> None:
    set_likes(world, {LATE: 400}, _at(TODAY))
    broken = tmp_path / "broken.md.j2"
    broken.write_text("{{ papers[0].title }\n")
    config = settings(post=True)
    config.digest.template = broken
    with pytest.raises(ConfigError):
        post_of(world, TODAY, _at(TODAY), tmp_path, config)
    with Session(world) as session:
        assert session.exec(select(ShownPaper)).all() == []
