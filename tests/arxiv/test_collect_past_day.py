"""A past day collected from the archive is that day's complete listing (issue #11 §3).

The fake arXiv serves a past day with new papers, replacements, cross-lists of papers first
announced weeks earlier, a metadata-only change, the neighbouring listings and papers of other
categories; the real client collects it into both databases.
"""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator
from datetime import date, datetime, timedelta

import pytest
from sqlalchemy import Engine, select
from sqlmodel import Session, col

from hotpapers.arxiv import calendar
from hotpapers.config import Settings
from hotpapers.errors import FeedParseError
from hotpapers.fakes.arxiv import FakeArxiv, FakePaper, generate_past_day
from hotpapers.service import use_cases as jobs
from hotpapers.storage.models import Announcement, Paper
from tests.arxiv.test_collect import make_settings as collect_settings

DAY = date(2026, 11, 24)  # a Tuesday: the evening before (Monday's) is itself a listing date
CATS = ["cs.LG", "cs.CV"]
LIVE = calendar.announced_at(DAY) + timedelta(hours=6)
WEEKS_LATER = LIVE + timedelta(days=30)


def make_settings(fake: FakeArxiv, engine: Engine, **arxiv: object) -> Settings:
    """test_collect's settings, unpaced, with room for a day in one API batch."""
    options: dict[str, object] = {"request_interval": 0.0, "max_retries": 1, "batch_size": 50}
    return collect_settings(fake, engine, **(options | arxiv))


@pytest.fixture(scope="module")
def papers() -> list[FakePaper]:
    return generate_past_day(DAY, CATS, 40, seed=7)


@pytest.fixture
async def fake(papers: list[FakePaper]) -> AsyncIterator[FakeArxiv]:
    server = FakeArxiv(papers, feed_date=DAY, oai_page_size=25)
    await server.start()
    yield server
    await server.close()


def expected_listing(papers: list[FakePaper]) -> set[tuple[str, str, str]]:
    """(paper, category, type) of every paper the fake announced on DAY in CATS."""
    rows = set()
    for paper in papers:
        record = paper.record
        if paper.listing_date != DAY:
            continue
        for category in set(record.categories) & set(CATS):
            replaced = (record.announce_type or "").startswith("replace")
            if category == record.primary_category:
                kind = "replace" if replaced else "new"
            else:
                kind = "replace-cross" if replaced else "cross"
            rows.add((record.arxiv_id, category, kind))
    return rows


def late_cross_lists(papers: list[FakePaper]) -> set[str]:
    start, _ = calendar.submission_window(DAY)
    return {
        p.record.arxiv_id
        for p in papers
        if p.listing_date == DAY
        and p.record.submitted is not None
        and p.record.updated is not None
        and p.record.updated < start
    }


def announcements(engine: Engine, day: date) -> set[tuple[str, str, str]]:
    with Session(engine) as session:
        rows = session.execute(
            select(
                col(Announcement.paper_id),
                col(Announcement.category),
                col(Announcement.announce_type),
            ).where(col(Announcement.listing_date) == day)
        )
        return {tuple(row) for row in rows}  # type: ignore[misc]


def stored_ids(engine: Engine) -> set[str]:
    with Session(engine) as session:
        return set(session.execute(select(col(Paper.id))).scalars())


def test_the_fake_serves_cross_lists_of_older_papers(papers: list[FakePaper]) -> None:
    """The scenario is what the test claims: older papers cross-listed on DAY, datestamped DAY."""
    late = late_cross_lists(papers)
    assert len(late) >= 4
    start, _ = calendar.submission_window(DAY)
    for paper in papers:
        if paper.record.arxiv_id in late:
            assert paper.record.announce_type == "cross" and paper.datestamp == DAY
            assert paper.record.submitted is not None
            assert paper.record.submitted < start - timedelta(days=13)
            assert paper.record.primary_category not in CATS
    assert any(p.datestamp == DAY and p.listing_date < DAY for p in papers)  # metadata change
    moved_on = [p for p in papers if p.listing_date == DAY and p.datestamp != DAY]
    assert moved_on and all(p.record.version == 2 for p in moved_on)  # replaced later
    assert {p.listing_date for p in papers} >= {date(2026, 11, 23), DAY, date(2026, 11, 25)}


async def test_past_day_is_exactly_that_days_listing(
    fake: FakeArxiv, engine: Engine, papers: list[FakePaper]
) -> None:
    """`collect --date` weeks later: new, cross (also of older papers), replacements; no more."""
    report = await jobs.collect(make_settings(fake, engine), engine, DAY, now=WEEKS_LATER)
    assert report.source == "oai"
    expected = expected_listing(papers)
    assert announcements(engine, DAY) == expected
    assert stored_ids(engine) == {paper_id for paper_id, _, _ in expected}
    assert late_cross_lists(papers) <= stored_ids(engine)


async def test_past_day_matches_what_the_live_feed_showed(
    fake: FakeArxiv, engine: Engine, papers: list[FakePaper]
) -> None:
    """The archive's listing of DAY equals the one collected live from the feed on DAY."""
    settings = make_settings(fake, engine)
    live = await jobs.collect(settings, engine, now=LIVE)
    assert live.source == "feed"
    from_feed = announcements(engine, DAY)
    with Session(engine) as session:
        session.execute(Announcement.__table__.delete())  # type: ignore[attr-defined]
        session.commit()
    await jobs.collect(settings, engine, DAY, now=WEEKS_LATER)
    assert announcements(engine, DAY) == from_feed == expected_listing(papers)


async def test_a_past_day_costs_the_oai_pages_of_its_datestamp_and_one_api_page(
    fake: FakeArxiv, engine: Engine
) -> None:
    """⌈records datestamped DAY in set cs / OAI page size⌉ requests, plus one API page."""
    report = await jobs.collect(make_settings(fake, engine), engine, DAY, now=WEEKS_LATER)
    in_window = [
        p
        for p in fake.papers
        if p.datestamp == DAY and any(c.startswith("cs.") for c in p.record.categories)
    ]
    oai = [r for r in fake.requests if r.path == "/oai"]
    assert len(oai) == -(-len(in_window) // 25) == 2
    assert report.requests == len(fake.requests) == len(oai) + 1
    assert [r.path for r in fake.requests][-1] == "/api/query"
    first = oai[0].params
    assert (first["from"], first["until"], first["set"]) == (DAY.isoformat(),) * 2 + ("cs",)


@pytest.mark.parametrize("backfill_source", ["api", "oai"])
async def test_the_api_source_still_lists_the_new_submissions(
    fake: FakeArxiv, engine: Engine, papers: list[FakePaper], backfill_source: str
) -> None:
    """The API alternative, when configured, still gets every new submission of DAY."""
    settings = make_settings(fake, engine, backfill_source=backfill_source)
    report = await jobs.collect(settings, engine, DAY, now=WEEKS_LATER)
    assert report.source == backfill_source
    late = late_cross_lists(papers)
    new_submissions = {
        row for row in expected_listing(papers) if row[2] in ("new", "cross") and row[0] not in late
    }
    got = {row for row in announcements(engine, DAY) if row[0] not in late}
    assert {row for row in got if row[2] in ("new", "cross")} == new_submissions


def listing_of(moment: datetime) -> date:
    """The listing date whose submission window holds `moment`."""
    day = moment.astimezone(calendar.ET).date()
    for candidate in calendar.listing_dates(day, day + timedelta(days=10)):
        start, end = calendar.submission_window(candidate)
        if start <= moment < end:
            return candidate
    raise AssertionError(f"no listing for {moment}")


async def test_a_metadata_change_of_an_old_cross_list_is_not_listed_again(
    fake: FakeArxiv, engine: Engine, papers: list[FakePaper]
) -> None:
    """An older cross-list whose journal ref changed on DAY looks like a new cross-list in
    OAI; once its first listing is collected, DAY does not list it again."""
    old = next(p.record for p in papers if p.record.arxiv_id in late_cross_lists(papers))
    assert old.submitted is not None
    first_day = listing_of(old.submitted)
    others = [p for p in papers if p.record.arxiv_id != old.arxiv_id]
    fake.set_papers([*others, FakePaper(old, first_day)])
    settings = make_settings(fake, engine)
    await jobs.collect(settings, engine, first_day, now=WEEKS_LATER)
    assert {row[0] for row in announcements(engine, first_day)} == {old.arxiv_id}

    annotated = dataclasses.replace(old, journal_ref="J. Mach. Learn. Res. 27 (2026) 1-40")
    fake.set_papers([*others, FakePaper(annotated, first_day, datestamp=DAY)])
    await jobs.collect(settings, engine, DAY, now=WEEKS_LATER)
    expected = {row for row in expected_listing(papers) if row[0] != old.arxiv_id}
    assert announcements(engine, DAY) == expected


async def test_a_stuck_resumption_token_stops_with_one_sentence(
    fake: FakeArxiv, engine: Engine
) -> None:
    """An OAI-PMH server that answers a token with the same token again would be asked for the
    same page until the run's time is up (~1,200 requests an hour): it is not asked again."""
    fake.oai_page_size = 2
    fake.stuck_oai_token = True
    with pytest.raises(FeedParseError, match="same resumption token twice"):
        await jobs.collect(make_settings(fake, engine), engine, DAY, now=WEEKS_LATER)
    oai = [r for r in fake.requests if r.path.startswith("/oai")]
    assert len(oai) == 2  # the first page, then its token answered with that token again
    assert announcements(engine, DAY) == set()  # nothing half-written
