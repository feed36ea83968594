"""Charts: real PNGs from real snapshots (SQLite and PostgreSQL), deterministic and small."""

from __future__ import annotations

import struct
from datetime import UTC, datetime, timedelta

from sqlalchemy import Engine

from hotpapers.ranking.scoring import PaperView, RankedPaper
from hotpapers.render.charts import (
    attention_chart_png,
    attention_figure,
    attention_series,
    render_off_loop,
    top_papers_chart_png,
    truncate,
)
from hotpapers.storage.db import transaction
from hotpapers.storage.models import SignalSnapshot
from tests.site.test_site_support import seed

PAPER = "2611.00202"  # seeded, with one Hacker News snapshot
UNMEASURED = "2611.00101"
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
START = datetime(2026, 11, 23, 1, 0, tzinfo=UTC)


def _size(png: bytes) -> tuple[int, int]:
    assert png.startswith(PNG_SIGNATURE)
    width, height = struct.unpack(">II", png[16:24])
    return width, height


def _chunks(png: bytes) -> list[bytes]:
    """The chunk types of a PNG (to check what metadata it carries)."""
    kinds, offset = [], 8
    while offset < len(png):
        (length,) = struct.unpack(">I", png[offset : offset + 4])
        kinds.append(png[offset + 4 : offset + 8])
        offset += 12 + length
    return kinds


def _snapshots(engine: Engine, hours: int = 6) -> None:
    with transaction(engine) as session:
        for hour in range(hours):
            when = START + timedelta(hours=hour)
            session.add(
                SignalSnapshot(
                    paper_id=PAPER,
                    source="x",
                    taken_at=when,
                    metrics={"likes": 10 * hour, "retweets": 3 * hour, "posts": 2},
                )
            )
            session.add(
                SignalSnapshot(
                    paper_id=PAPER, source="hf", taken_at=when, metrics={"upvotes": hour}
                )
            )


def test_attention_series_reads_the_attention_metrics_per_source(engine: Engine) -> None:
    seed(engine)
    _snapshots(engine, hours=3)

    series = attention_series(engine, PAPER)

    assert list(series) == [("hf", "upvotes"), ("hn", "points"), ("x", "likes"), ("x", "retweets")]
    assert series[("x", "likes")] == [(START + timedelta(hours=h), 10.0 * h) for h in range(3)]
    assert ("x", "posts") not in series  # a count of posts is not attention


def test_attention_chart_is_a_small_deterministic_png(engine: Engine) -> None:
    seed(engine)
    _snapshots(engine)

    first = attention_chart_png(engine, PAPER)
    second = attention_chart_png(engine, PAPER)

    assert first is not None
    assert first == second
    assert _size(first) == (800, 400)
    assert len(first) < 100_000
    assert b"tEXt" not in _chunks(first) and b"tIME" not in _chunks(first)
    _snapshots(engine, hours=8)  # more data, another picture
    assert attention_chart_png(engine, PAPER) != first


def test_no_snapshots_no_chart(engine: Engine) -> None:
    seed(engine)
    assert attention_chart_png(engine, UNMEASURED) is None
    assert attention_chart_png(engine, "0000.00000") is None


def _ranked(rank: int, title: str, likes: float, hn: float = 0.0) -> RankedPaper:
    paper = PaperView(
        arxiv_id=f"2611.{rank:05d}",
        title=title,
        authors=("A. Author",),
        categories=("cs.LG",),
        abstract="",
        primary_category="cs.LG",
    )
    signals = {"x": {"likes": likes, "retweets": likes / 2}, "hn": {"points": hn}}
    return RankedPaper(rank, paper, likes * 1.5, signals, (), None)


HOSTILE_TITLES = [
    r"$O(n^2)$ attention_is_all you need \frac{1}{2",
    "Unbalanced $dollar and under_score_ names",
    "A very long title " * 10,
]


def test_top_papers_chart_with_mathtext_looking_titles() -> None:
    ranked = [_ranked(i + 1, title, 300 - 50 * i, hn=40) for i, title in enumerate(HOSTILE_TITLES)]

    png = top_papers_chart_png(ranked, "Hot Papers $2026_11_23 \\")
    again = top_papers_chart_png(ranked, "Hot Papers $2026_11_23 \\")
    weighted = top_papers_chart_png(ranked, "weighted", {"x.likes": 1.0, "hn.points": 2.0})

    assert png is not None and weighted is not None
    assert png == again and png != weighted
    width, _height = _size(png)
    assert width == 800 and len(png) < 100_000


def test_top_papers_chart_of_nothing_is_none() -> None:
    assert top_papers_chart_png([], "empty day") is None


def test_truncate_keeps_one_line() -> None:
    assert truncate("a\nb   c", 10) == "a b c"
    assert truncate("x" * 20, 10) == "x" * 9 + "…"


async def test_render_off_loop_runs_the_chart_in_a_thread(engine: Engine) -> None:
    seed(engine)
    _snapshots(engine, hours=2)
    png = await render_off_loop(attention_chart_png, engine, PAPER)
    assert png == attention_chart_png(engine, PAPER)


def test_one_measurement_gets_an_axis_of_about_a_day(engine: Engine) -> None:
    """A single snapshot used to stretch the time axis over years (2025 to 2029)."""
    seed(engine)  # PAPER has exactly one Hacker News snapshot
    figure = attention_figure(attention_series(engine, PAPER), PAPER)
    low, high = figure.axes[0].get_xlim()
    assert 0 < high - low <= 2  # matplotlib dates count in days
    labels = [label.get_text() for label in figure.axes[0].get_xticklabels()]
    assert not any("2025" in text or "2029" in text for text in labels)
