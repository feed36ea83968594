"""Pictures: a paper's attention over time, and the day's top papers, as small PNGs.

Drawn with matplotlib's object-oriented API on the Agg canvas, never pyplot: no global
figure state, so charts can be rendered from worker threads (`asyncio.to_thread`, or
`render_off_loop`) while the event loop keeps serving. The output is deterministic: fixed
size and DPI, no timestamps or software version in the PNG, so the same data gives the
same bytes. Paper titles are plain text (`$` and `_` are not read as mathtext).
"""

from __future__ import annotations

import asyncio
import io
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.dates import AutoDateLocator, ConciseDateFormatter
from matplotlib.figure import Figure
from sqlalchemy import Engine
from sqlmodel import Session, select

from hotpapers.ranking.scoring import RankedPaper
from hotpapers.storage.models import SignalSnapshot

T = TypeVar("T")

# Okabe-Ito: distinguishable with the common colour-vision deficiencies.
PALETTE = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442")
# The metrics that mean attention, per source (counts of posts or comments are left out).
ATTENTION_METRICS: dict[str, tuple[str, ...]] = {
    "x": ("likes", "retweets"),
    "bluesky": ("likes", "reposts"),
    "hn": ("points",),
    "hf": ("upvotes",),
    "discord": ("reactions",),
}
SOURCE_NAMES = {"x": "X", "bluesky": "Bluesky", "hn": "Hacker News", "hf": "Hugging Face"}
SIZE_INCHES, DPI = (8.0, 4.0), 100
TITLE_CHARS, LABEL_CHARS = 80, 48
# A 375 px phone shows a 400 px picture nearly at full size (an 800 px one at half).
NARROW_INCHES, NARROW_LABEL_CHARS = 4.0, 22
# Same bytes for the same data: no Software/creation-time chunks.
PNG_METADATA: dict[str, Any] = {"Software": None}

Series = dict[tuple[str, str], list[tuple[datetime, float]]]


async def render_off_loop(fn: Callable[..., T], *args: Any) -> T:
    """Run a chart function in a worker thread (matplotlib is CPU-bound and blocking)."""
    return await asyncio.to_thread(fn, *args)


def truncate(text: str, limit: int) -> str:
    """`text` on one line, cut to `limit` characters with an ellipsis."""
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1].rstrip() + "…"


def source_name(source: str) -> str:
    return SOURCE_NAMES.get(source, source.capitalize())


def attention_series(engine: Engine, paper_id: str) -> Series:
    """(source, metric) -> [(taken_at, value)] from the paper's snapshots, oldest first."""
    query = (
        select(SignalSnapshot)
        .where(SignalSnapshot.paper_id == paper_id)
        .order_by(SignalSnapshot.taken_at, SignalSnapshot.id)  # type: ignore[arg-type]
    )
    series: Series = {}
    with Session(engine) as session:
        for snapshot in session.exec(query):
            for metric in ATTENTION_METRICS.get(snapshot.source, ("likes",)):
                value = snapshot.metrics.get(metric)
                if isinstance(value, int | float) and not isinstance(value, bool):
                    when = _utc(snapshot.taken_at)
                    series.setdefault((snapshot.source, metric), []).append((when, float(value)))
    return dict(sorted(series.items()))


def attention_chart_png(engine: Engine, paper_id: str, *, narrow: bool = False) -> bytes | None:
    """A line per source and metric over time; None when the paper has no snapshots.
    `narrow`: drawn for a phone's width, the legend below."""
    series = attention_series(engine, paper_id)
    return _png(attention_figure(series, paper_id, narrow=narrow)) if series else None


def attention_figure(series: Series, paper_id: str, *, narrow: bool = False) -> Figure:
    """The attention chart of `series` (not empty) as a figure."""
    if narrow:
        figure = _figure(height=SIZE_INCHES[1] + 0.4 * len(series), width=NARROW_INCHES)
    else:
        figure = _figure()
    axes = figure.add_subplot()
    colours = _source_colours(source for source, _ in series)
    seen: dict[str, int] = {}
    for (source, metric), points in series.items():
        style = ("-", "--", ":")[min(seen.get(source, 0), 2)]
        seen[source] = seen.get(source, 0) + 1
        times, values = zip(*points, strict=True)
        axes.plot(
            times,
            values,
            linestyle=style,
            marker="o",
            markersize=3,
            color=colours[source],
            label=f"{source_name(source)} {metric}",
        )
    # A phone-wide axis has room for a few dates only (more would overprint each other).
    locator = AutoDateLocator(tz=UTC, minticks=3, maxticks=5) if narrow else AutoDateLocator(tz=UTC)
    axes.xaxis.set_major_locator(locator)
    axes.xaxis.set_major_formatter(ConciseDateFormatter(locator, tz=UTC))
    _span_at_least_a_day(axes, [when for points in series.values() for when, _ in points])
    axes.set_ylabel("count", parse_math=False)
    axes.set_xlabel("time (UTC)", parse_math=False)
    axes.set_ylim(bottom=0)
    axes.grid(True, alpha=0.3)
    axes.set_title(truncate(f"Attention to arXiv:{paper_id}", TITLE_CHARS), parse_math=False)
    if narrow:
        figure.legend(loc="outside lower center", fontsize="small", frameon=False)
    else:
        figure.legend(loc="outside right upper", fontsize="small", frameon=False)
    return figure


def _span_at_least_a_day(axes: Any, times: list[datetime]) -> None:
    """Measurements within a few hours (or one alone) get a day-wide axis around them;
    left to itself the date locator spreads a single point over years."""
    first, last = min(times), max(times)
    if last - first < timedelta(hours=12):
        middle = first + (last - first) / 2
        axes.set_xlim(middle - timedelta(hours=12), middle + timedelta(hours=12))


def _contributions(paper: RankedPaper, weights: Mapping[str, float] | None) -> dict[str, float]:
    """source -> its part of the bar: weighted score parts, or attention counts."""
    parts: dict[str, float] = {}
    if weights:
        for key, weight in weights.items():
            source, _, metric = key.partition(".")
            value = weight * paper.signals.get(source, {}).get(metric, 0.0)
            parts[source] = parts.get(source, 0.0) + value
        total = sum(parts.values())
        # Decay shrinks the score: scale the parts so the bar ends at the score.
        scale = paper.score / total if total > 0 else 0.0
        return {source: value * scale for source, value in parts.items() if value > 0}
    for source, metrics in paper.signals.items():
        names = ATTENTION_METRICS.get(source, ("likes",))
        value = sum(metrics.get(name, 0.0) for name in names)
        if value > 0:
            parts[source] = value
    return parts


def top_papers_chart_png(
    ranked: Sequence[RankedPaper],
    title: str,
    weights: Mapping[str, float] | None = None,
    *,
    narrow: bool = False,
) -> bytes | None:
    """Horizontal bars of the ranked papers, split by source; None when nothing is ranked.

    With `weights` (the ranking's) each bar is the paper's score split into the part each
    source contributed; without, each bar is the attention counts (likes, reposts, points,
    upvotes, reactions) per source. `narrow` draws it for a phone's width: half as wide,
    shorter labels, the legend below (shrunk to fit, a full-width chart's text is too small).
    """
    if not ranked:
        return None
    parts = [_contributions(paper, weights) for paper in ranked]
    sources = sorted({source for part in parts for source in part})
    colours = _source_colours(sources)
    height = max(2.5, 0.9 + 0.38 * len(ranked)) + (0.5 if narrow else 0.0)
    figure = _figure(height=height, width=NARROW_INCHES if narrow else SIZE_INCHES[0])
    axes = figure.add_subplot()
    rows = list(range(len(ranked)))
    left = [0.0] * len(ranked)
    for source in sources:
        widths = [part.get(source, 0.0) for part in parts]
        axes.barh(rows, widths, left=left, color=colours[source], label=source_name(source))
        left = [a + b for a, b in zip(left, widths, strict=True)]
    chars = NARROW_LABEL_CHARS if narrow else LABEL_CHARS
    labels = [truncate(f"{paper.rank}. {paper.paper.title}", chars) for paper in ranked]
    axes.set_yticks(rows, labels=labels)
    for label in axes.get_yticklabels():
        label.set_parse_math(False)
        label.set_fontsize("small")
    axes.invert_yaxis()  # rank 1 on top
    axes.set_xlabel("score" if weights else "attention (likes, reposts, points, upvotes)")
    axes.grid(True, axis="x", alpha=0.3)
    axes.set_title(truncate(title, TITLE_CHARS), parse_math=False)
    if sources and narrow:
        figure.legend(loc="outside lower center", ncols=3, fontsize="small", frameon=False)
    elif sources:
        figure.legend(loc="outside right upper", fontsize="small", frameon=False)
    return _png(figure)


def _utc(moment: datetime) -> datetime:
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _source_colours(sources: Any) -> dict[str, str]:
    """A stable colour per source: the known ones keep theirs whatever else is drawn."""
    known = list(ATTENTION_METRICS)
    colours: dict[str, str] = {}
    extra = len(known)
    for source in sources:
        if source in colours:
            continue
        if source in known:
            colours[source] = PALETTE[known.index(source) % len(PALETTE)]
        else:
            colours[source] = PALETTE[extra % len(PALETTE)]
            extra += 1
    return colours


def _figure(height: float = SIZE_INCHES[1], width: float = SIZE_INCHES[0]) -> Figure:
    figure = Figure(figsize=(width, height), dpi=DPI, layout="constrained")
    FigureCanvasAgg(figure)
    return figure


def _png(figure: Figure) -> bytes:
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=DPI, metadata=PNG_METADATA)
    return buffer.getvalue()
