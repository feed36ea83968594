"""Hugging Face Daily Papers source: the real aiohttp client against the local fake HF API."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, date, datetime

import pytest

from hotpapers.arxiv.calendar import announced_at
from hotpapers.config import HuggingFaceSettings
from hotpapers.fakes.social import FakeHF, generate_hf_daily, hf_daily_item
from hotpapers.signals.base import PaperRef, SignalSource
from hotpapers.signals.hf import HFSource

A, B, C, D = "2611.01234", "2611.05678", "2611.09999", "2611.04444"
LISTING = date(2026, 11, 20)  # a Friday; announced Thursday 20:00 ET
NEXT_LISTING = date(2026, 11, 23)
NOW = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)
REPO = "https://github.com/example/synthetic"


def paper(arxiv_id: str, listing: date = LISTING) -> PaperRef:
    return PaperRef(arxiv_id, f"Paper {arxiv_id}", announced_at(listing))


@pytest.fixture
async def fake() -> AsyncIterator[FakeHF]:
    server = FakeHF()
    server.add_daily(
        LISTING,
        hf_daily_item(A, LISTING, upvotes=42, num_comments=3, github_repo=REPO, github_stars=17),
        hf_daily_item(B, LISTING, upvotes=5, title="Cross-listed"),
        hf_daily_item("2611.07777", LISTING, upvotes=99),  # not one of ours
    )
    await server.start()
    yield server
    await server.close()


def source(fake: FakeHF, **kwargs: object) -> HFSource:
    options: dict[str, object] = {"rate": 1000.0, "backoff": 0.01, "timeout": 5.0}
    options.update(kwargs)
    return HFSource(HuggingFaceSettings(enabled=True, api_url=fake.base_url), **options)  # type: ignore[arg-type]


async def test_featured_papers_get_upvotes_comments_and_stars(fake: FakeHF) -> None:
    hf: SignalSource = source(fake)
    assert hf.problem() is None

    result = await hf.measure([paper(A), paper(B), paper(C)], NOW)

    assert result.errors == []
    by_id = {m.paper_id: m for m in result.measurements}
    assert set(by_id) == {A, B}  # C is not on the list: no measurement, not zeros
    assert by_id[A].metrics == {"upvotes": 42.0, "comments": 3.0, "github_stars": 17.0}
    assert by_id[B].metrics == {"upvotes": 5.0, "comments": 0.0, "github_stars": 0.0}
    assert all(isinstance(v, float) for m in result.measurements for v in m.metrics.values())
    [post] = by_id[A].posts
    assert (post.source, post.post_id, post.paper_id) == ("hf", A, A)
    assert post.url == f"https://huggingface.co/papers/{A}"
    assert REPO in post.text and post.likes == 42
    # the listing date and the day after, one request each (fewer than 100 items: no paging)
    asked = [(r.path, r.query["date"], r.query["limit"], r.query["p"]) for r in fake.requests]
    assert asked == [
        ("/api/daily_papers", "2026-11-20", "100", "0"),
        ("/api/daily_papers", "2026-11-21", "100", "0"),
    ]
    assert result.requests == 2


async def test_a_paper_featured_the_day_after_is_found(fake: FakeHF) -> None:
    fake.add_daily(date(2026, 11, 21), hf_daily_item(C, date(2026, 11, 21), upvotes=8))

    result = await source(fake).measure([paper(C)], NOW)

    assert [m.metrics["upvotes"] for m in result.measurements] == [8.0]


async def test_missing_stars_are_filled_from_the_paper_endpoint(fake: FakeHF) -> None:
    fake.add_daily(NEXT_LISTING, hf_daily_item(D, NEXT_LISTING, upvotes=2, github_repo=REPO))
    fake.papers[D]["githubStars"] = 321

    result = await source(fake).measure([paper(D, NEXT_LISTING)], NOW)

    assert result.errors == []
    assert result.measurements[0].metrics["github_stars"] == 321.0
    assert fake.requests[-1].path == f"/api/papers/{D}"


async def test_pages_through_a_long_daily_list(fake: FakeHF) -> None:
    ids = [f"2611.1{n:04d}" for n in range(150)]
    fake.daily[NEXT_LISTING] = generate_hf_daily(ids, NEXT_LISTING, seed=3)
    target = fake.daily[NEXT_LISTING][130]
    target_id = target["paper"]["id"]

    result = await source(fake).measure([paper(target_id, NEXT_LISTING)], NOW)

    assert result.errors == []
    assert result.measurements[0].metrics["upvotes"] == target["paper"]["upvotes"]
    pages = [r.query["p"] for r in fake.requests if r.query.get("date") == "2026-11-23"]
    assert pages == ["0", "1"]


async def test_generated_lists_match_by_id(fake: FakeHF) -> None:
    ids = [f"2611.2{n:04d}" for n in range(20)]
    fake.daily[NEXT_LISTING] = generate_hf_daily(ids, NEXT_LISTING, seed=11)
    for item in fake.daily[NEXT_LISTING]:
        fake.papers[item["paper"]["id"]] = dict(item["paper"], githubStars=5)

    result = await source(fake).measure([paper(i, NEXT_LISTING) for i in ids], NOW)

    assert result.errors == []
    items = {i["paper"]["id"]: i for i in fake.daily[NEXT_LISTING]}
    for m in result.measurements:
        item = items[m.paper_id]
        assert m.metrics["upvotes"] == item["paper"]["upvotes"]
        assert m.metrics["comments"] == item["numComments"]
        stars = item["paper"].get("githubStars", 5 if item["paper"].get("githubRepo") else 0)
        assert m.metrics["github_stars"] == stars
    assert len(result.measurements) == 20


FAULTS = [
    ("500", {"times": None}, "HTTP 500"),
    ("html", {}, "HTML page instead of JSON"),
    ("malformed", {}, "malformed JSON"),
    ("slow", {"times": None, "delay": 1.0}, "no answer within"),
    ("401", {}, "HTTP 401"),
]


@pytest.mark.parametrize(("kind", "options", "reason"), FAULTS)
async def test_a_failing_date_is_one_error_and_other_dates_are_measured(
    fake: FakeHF, kind: str, options: dict[str, object], reason: str
) -> None:
    fake.add_daily(NEXT_LISTING, hf_daily_item(D, NEXT_LISTING, upvotes=6))
    fake.fail(kind, match="date=2026-11-20", **options)  # type: ignore[arg-type]

    result = await source(fake, timeout=0.3, max_retries=1).measure(
        [paper(A), paper(D, NEXT_LISTING)], NOW
    )

    assert len(result.errors) == 1
    assert result.errors[0].startswith("Hugging Face daily papers for 2026-11-20 failed: ")
    assert reason in result.errors[0]
    assert [(m.paper_id, m.metrics["upvotes"]) for m in result.measurements] == [(D, 6.0)]


@pytest.mark.parametrize(
    ("kind", "reason"),
    [("missing_fields", "paper.upvotes is missing"), ("wrong_types", "expected an integer")],
)
async def test_a_bad_entry_is_an_error_naming_the_paper(
    fake: FakeHF, kind: str, reason: str
) -> None:
    fake.add_daily(NEXT_LISTING, hf_daily_item(D, NEXT_LISTING, upvotes=6))
    fake.fail(kind, match="date=2026-11-20")

    result = await source(fake).measure([paper(A), paper(B), paper(D, NEXT_LISTING)], NOW)

    assert len(result.errors) == 2
    assert all(e.startswith("Hugging Face returned a malformed") for e in result.errors)
    assert A in result.errors[0] and B in result.errors[1]
    assert all(reason in e for e in result.errors)
    assert [m.paper_id for m in result.measurements] == [D]


async def test_entries_without_a_paper_id_are_reported(fake: FakeHF) -> None:
    fake.daily[LISTING].append({"title": "broken", "numComments": 1})

    result = await source(fake).measure([paper(A)], NOW)

    assert [m.paper_id for m in result.measurements] == [A]
    assert result.errors == [
        "Hugging Face daily papers for 2026-11-20 page 0 had 1 entries without a readable "
        "paper.id (skipped)."
    ]


async def test_a_failing_paper_page_keeps_the_measurement(fake: FakeHF) -> None:
    fake.add_daily(NEXT_LISTING, hf_daily_item(D, NEXT_LISTING, upvotes=2, github_repo=REPO))
    fake.fail("wrong_types", match=f"/api/papers/{D}")

    result = await source(fake).measure([paper(D, NEXT_LISTING)], NOW)

    assert result.measurements[0].metrics == {
        "upvotes": 2.0,
        "comments": 0.0,
        "github_stars": 0.0,
    }
    assert len(result.errors) == 1
    assert result.errors[0].startswith(f"Hugging Face paper page for {D} failed: ")


async def test_429_waits_for_retry_after_then_succeeds(fake: FakeHF) -> None:
    fake.fail("429", match="date=2026-11-20", retry_after=0.3)

    result = await source(fake).measure([paper(A)], NOW)

    assert result.errors == []
    assert result.measurements[0].metrics["upvotes"] == 42.0
    first, second = fake.requests[:2]
    assert first.fault == "429" and second.query["date"] == "2026-11-20"
    assert second.at - first.at >= 0.3


async def test_future_dates_are_not_asked(fake: FakeHF) -> None:
    now = datetime(2026, 11, 20, 3, 0, tzinfo=UTC)

    await source(fake).measure([paper(A)], now)

    assert [r.query["date"] for r in fake.requests] == ["2026-11-20"]
