"""Collecting listings end to end: the real client against the local fake arXiv, into a real DB."""

from __future__ import annotations

import dataclasses
import itertools
import time
from collections.abc import AsyncIterator
from datetime import date, timedelta

import aiohttp
import pytest
from sqlalchemy import Engine, func, select
from sqlmodel import Session, col

from hotpapers.arxiv import calendar
from hotpapers.arxiv.client import ArxivClient
from hotpapers.config import ArxivSettings, DatabaseSettings, Settings
from hotpapers.errors import ArxivError, FeedParseError, InputError
from hotpapers.fakes.arxiv import FakeArxiv, FakePaper, generate_papers
from hotpapers.service import use_cases as jobs
from hotpapers.storage.models import (
    Announcement,
    Author,
    Paper,
    PaperAuthor,
    PaperCategory,
    PaperVersion,
)

DAY = date(2021, 3, 15)  # a Monday listing
CATS = ["cs.LG", "cs.CV"]
NOW = calendar.announced_at(DAY) + timedelta(hours=6)


def make_settings(fake: FakeArxiv, engine: Engine, **arxiv: object) -> Settings:
    options = {
        "categories": CATS,
        "rss_url": fake.rss_url,
        "api_url": fake.api_url,
        "oai_url": fake.oai_url,
        "request_interval": 0.01,
        "max_retries": 2,
        "batch_size": 7,
        **arxiv,
    }
    return Settings.model_construct(
        database=DatabaseSettings(url=engine.url.render_as_string(hide_password=False)),
        arxiv=ArxivSettings(**options),
    )


@pytest.fixture
def papers() -> list[FakePaper]:
    return generate_papers(DAY, CATS, 20, seed=11)


@pytest.fixture
async def fake(papers: list[FakePaper]) -> AsyncIterator[FakeArxiv]:
    server = FakeArxiv(papers, feed_date=DAY)
    await server.start()
    yield server
    await server.close()


def table_counts(engine: Engine) -> dict[str, int]:
    with Session(engine) as session:
        return {
            model.__name__: session.execute(select(func.count()).select_from(model)).scalar_one()
            for model in (Paper, PaperVersion, Author, PaperAuthor, PaperCategory, Announcement)
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


async def test_collect_today_from_feed(
    fake: FakeArxiv, engine: Engine, papers: list[FakePaper]
) -> None:
    """Today's listing comes from the feed, completed by the API: every paper, primary first."""
    report = await jobs.collect(make_settings(fake, engine), engine, now=NOW)
    listed = [p for p in papers if set(p.record.categories) & set(CATS)]
    assert report.status == "collected" and report.source == "feed"
    assert report.papers == len(listed)
    with Session(engine) as session:
        for fake_paper in listed:
            record = fake_paper.record
            stored = session.get(Paper, record.arxiv_id)
            assert stored is not None
            assert stored.primary_category == record.primary_category
            assert stored.title == " ".join(record.title.split())
            first = session.execute(
                select(col(PaperCategory.category)).where(
                    col(PaperCategory.paper_id) == record.arxiv_id, col(PaperCategory.position) == 0
                )
            ).scalar_one()
            assert first == record.primary_category


async def test_announce_types_per_category(
    fake: FakeArxiv, engine: Engine, papers: list[FakePaper]
) -> None:
    """A paper is 'new' in its primary category and 'cross' in the others it is listed in."""
    await jobs.collect(make_settings(fake, engine), engine, now=NOW)
    rows = announcements(engine, DAY)
    for fake_paper in papers:
        record = fake_paper.record
        for category in set(record.categories) & set(CATS):
            replaced = (record.announce_type or "").startswith("replace")
            primary = category == record.primary_category
            expected = {
                (False, True): "new",
                (False, False): "cross",
                (True, True): "replace",
                (True, False): "replace-cross",
            }[(replaced, primary)]
            assert (record.arxiv_id, category, expected) in rows


async def test_collecting_twice_changes_nothing(fake: FakeArxiv, engine: Engine) -> None:
    """The second run is a conditional request answered 304; the database is identical."""
    settings = make_settings(fake, engine)
    await jobs.collect(settings, engine, now=NOW)
    before = table_counts(engine)
    report = await jobs.collect(settings, engine, now=NOW)
    assert report.status == "unchanged"
    assert table_counts(engine) == before


INTERVAL = 0.3  # seconds between requests in the pacing test
CALLBACK_LATENESS = 0.1  # how late a trace callback may run on a loaded machine


async def test_requests_are_one_feed_plus_batches(
    fake: FakeArxiv, engine: Engine, papers: list[FakePaper]
) -> None:
    """One feed request and ceil(ids / batch) API requests, each at least the interval apart.

    The spacing is read where the client starts each request (an aiohttp trace), not where the
    fake receives it: on a loaded machine an arrival can be late by more than the interval,
    which says nothing about the client's pacing. The trace's callback itself runs a little
    after the client's own start on such a machine (CI met a gap just under 0.01 s), so the
    interval here is long next to that lateness; without pacing the gaps are milliseconds."""
    starts: list[float] = []

    async def started(*_: object) -> None:
        starts.append(time.monotonic())

    trace = aiohttp.TraceConfig()
    trace.on_request_start.append(started)
    settings = make_settings(fake, engine, request_interval=INTERVAL)
    async with (
        aiohttp.ClientSession(trace_configs=[trace]) as session,
        ArxivClient(settings.arxiv, session) as client,
    ):
        report = await jobs.collect(settings, engine, now=NOW, client=client)
    ids = report.papers
    assert report.requests == 1 + -(-ids // 7) == len(starts) == len(fake.requests)
    gaps = [b - a for a, b in itertools.pairwise(starts)]
    assert all(gap >= INTERVAL - CALLBACK_LATENESS for gap in gaps), gaps


async def test_replacement_updates_paper_and_appends_version(
    fake: FakeArxiv, engine: Engine, papers: list[FakePaper]
) -> None:
    """A v2 announced the next day updates the paper and keeps v1 in its history."""
    settings = make_settings(fake, engine)
    await jobs.collect(settings, engine, now=NOW)
    target = next(p for p in papers if p.record.version == 1 and p.record.primary_category in CATS)
    next_day = calendar.next_listing_date(DAY)
    v2 = dataclasses.replace(
        target.record, version=2, title="A Better Title", announce_type="replace",
        updated=calendar.announced_at(next_day) - timedelta(hours=8),
    )  # fmt: skip
    fake.set_papers([FakePaper(v2, next_day)], feed_date=next_day)
    await jobs.collect(settings, engine, now=calendar.announced_at(next_day) + timedelta(hours=1))
    with Session(engine) as session:
        paper = session.get(Paper, target.record.arxiv_id)
        assert paper is not None and paper.latest_version == 2 and paper.title == "A Better Title"
        versions = session.execute(
            select(col(PaperVersion.version)).where(
                col(PaperVersion.paper_id) == target.record.arxiv_id
            )
        ).scalars()
        assert sorted(versions) == [1, 2]
    assert (target.record.arxiv_id, target.record.primary_category, "replace") in announcements(
        engine, next_day
    )


@pytest.mark.parametrize("backfill_source", ["api", "oai"])
async def test_past_date_gets_the_same_new_papers(
    fake: FakeArxiv, engine: Engine, backfill_source: str
) -> None:
    """A past listing from the API or OAI-PMH lists the same new submissions as the feed did."""
    settings = make_settings(fake, engine, backfill_source=backfill_source)
    await jobs.collect(settings, engine, now=NOW)
    from_feed = {row for row in announcements(engine, DAY) if row[2] in ("new", "cross")}
    with Session(engine) as session:
        session.execute(Announcement.__table__.delete())  # type: ignore[attr-defined]
        session.commit()
    later = NOW + timedelta(days=7)
    report = await jobs.collect(settings, engine, DAY, now=later)
    assert report.source == backfill_source
    from_archive = {row for row in announcements(engine, DAY) if row[2] in ("new", "cross")}
    assert from_archive == from_feed


async def test_no_announcement_date_changes_nothing(fake: FakeArxiv, engine: Engine) -> None:
    """A Saturday has no listing: the report says so, no request is made."""
    report = await jobs.collect(make_settings(fake, engine), engine, date(2021, 3, 13), now=NOW)
    assert report.status == "no-announcement"
    assert "no announcement" in report.sentence()
    assert fake.requests == []


async def test_future_date_is_refused(fake: FakeArxiv, engine: Engine) -> None:
    """A listing not yet announced is an input error naming when it will be."""
    with pytest.raises(InputError, match="not announced yet"):
        await jobs.collect(make_settings(fake, engine), engine, DAY + timedelta(days=1), now=NOW)


async def test_failed_collection_leaves_database_as_it_was(fake: FakeArxiv, engine: Engine) -> None:
    """If the API keeps failing midway, nothing of the listing is written."""
    settings = make_settings(fake, engine)
    fake.fail_next(status=503, times=50, path="/api/query")
    with pytest.raises(ArxivError):
        await jobs.collect(settings, engine, now=NOW)
    assert table_counts(engine) == dict.fromkeys(table_counts(engine), 0)


async def test_backfill_collects_each_listing(fake: FakeArxiv, engine: Engine) -> None:
    """A range backfills every listing date in it, skipping the weekend."""
    seen: list[date] = []
    result = await jobs.backfill(
        make_settings(fake, engine), engine, date(2021, 3, 12), DAY, now=NOW + timedelta(days=3),
        on_day=lambda report, index, total: seen.append(report.listing_date),
    )  # fmt: skip
    assert seen == [date(2021, 3, 12), DAY]
    assert result.reports[-1].papers > 0


async def test_a_malformed_api_page_is_retried_a_few_times_then_named(
    fake: FakeArxiv, engine: Engine
) -> None:
    """A page that keeps coming back malformed (an HTML page with status 200) is asked for
    three times in all, then the run stops with one sentence naming the URL; nothing is
    written."""
    settings = make_settings(fake, engine, max_retries=5, backfill_source="api")
    fake.html_error_next(status=200, times=50, path="/api/query")
    with pytest.raises(FeedParseError) as caught:
        await jobs.collect(settings, engine, DAY, now=NOW + timedelta(days=7))
    assert len([r for r in fake.requests if r.path == "/api/query"]) == 3
    message = str(caught.value)
    assert message.startswith(f"arXiv answered a malformed page 3 times at {fake.api_url}?")
    assert "search_query=" in message and "HTML page" in message and "\n" not in message
    assert table_counts(engine) == dict.fromkeys(table_counts(engine), 0)


async def test_a_malformed_api_page_once_is_asked_again(fake: FakeArxiv, engine: Engine) -> None:
    settings = make_settings(fake, engine, backfill_source="api")
    fake.html_error_next(status=200, times=2, path="/api/query")
    report = await jobs.collect(settings, engine, DAY, now=NOW + timedelta(days=7))
    assert report.source == "api" and report.papers > 0
