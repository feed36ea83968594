"""Score and order candidate papers by social attention. Pure functions: no clock, no I/O.

The classic Hot Papers score (the default weights) is, over the original X posts that link a
paper, the sum of their retweets plus the sum of their likes. Rules that keep it honest:

* a repost (retweet copy) carries the original's counts, so it never adds anything;
* a quote post is a post of its own and counts;
* every original post counts, two by one account both (`hotpapers.ranking.classic`: the original
  generator's count, which the classic post keeps).

Other sources (Hacker News, Hugging Face, Bluesky, ...) arrive as latest snapshots
(`source -> metric -> value`) and are weighted through the same `source.metric` keys.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

from hotpapers.errors import ConfigError
from hotpapers.ranking import classic

X = "x"


@dataclass(frozen=True)
class PaperView:
    arxiv_id: str
    title: str
    authors: tuple[str, ...]
    categories: tuple[str, ...]  # primary first
    abstract: str
    primary_category: str
    announced: datetime | None = None
    has_pdf: bool = True


@dataclass(frozen=True)
class PostSignal:
    source: str
    post_id: str
    author_id: str
    author_handle: str
    text: str
    url: str
    reposts: int
    likes: int
    replies: int = 0
    quotes: int = 0
    is_repost: bool = False
    created_at: datetime | None = None
    taken_at: datetime | None = None
    embed_html: str | None = None

    @property
    def engagement(self) -> int:
        return self.reposts + self.likes


@dataclass(frozen=True)
class Candidate:
    paper: PaperView
    posts: tuple[PostSignal, ...] = ()
    # source -> metric -> value, the latest snapshot per source; non-numbers are ignored.
    snapshots: Mapping[str, Mapping[str, object]] = field(default_factory=dict)


@dataclass(frozen=True)
class Rise:
    """Why a paper of an earlier day is shown again ("Rising from earlier days", rising.py)."""

    listed: date  # the listing it ranked on
    before: float  # its score when last shown there (0.0: never shown)
    growth: float  # its score now minus `before`


@dataclass(frozen=True)
class RankedPaper:
    rank: int
    paper: PaperView
    score: float
    signals: dict[str, dict[str, float]]  # e.g. {"x": {"retweets": 729, "likes": 186, ...}}
    posts: tuple[PostSignal, ...]  # originals that counted, most engaging first
    counts_taken_at: datetime | None  # latest taken_at of the X posts
    rise: Rise | None = None  # set in a Rising section (rank is then the place in it)
    # Where else the paper is discussed (an HN story, its HF page): posts of other sources
    # with a link, for the reader to follow; they never change the score.
    discussions: tuple[PostSignal, ...] = ()
    # A one-sentence summary of its current version (hotpapers/tldr/), where one was made.
    tldr: str | None = None
    # The listing it first appeared in, where papers of several listings are shown together
    # (the weekly digest's thread); None in a day's own ranking, whose date is the listing.
    listed: date | None = None


def ranked_record(item: RankedPaper) -> dict[str, Any]:
    """One ranked paper as `hotpapers rank --json` prints it."""
    return {
        "rank": item.rank,
        "arxiv_id": item.paper.arxiv_id,
        "title": item.paper.title,
        "score": item.score,
        "signals": item.signals,
    }


def _engagement_key(post: PostSignal) -> tuple[int, int, str]:
    return (-post.engagement, -post.likes, post.post_id)


def counted_posts(posts: Iterable[PostSignal]) -> tuple[PostSignal, ...]:
    """The X originals that count for a paper (every one, see `classic.counted`), most
    engaging first."""
    originals = classic.counted(post for post in posts if post.source == X)
    return tuple(sorted(originals, key=_engagement_key))


def discussion_posts(posts: Iterable[PostSignal]) -> tuple[PostSignal, ...]:
    """The linked posts of sources other than X (HN stories, the HF page), most liked first."""
    linked = (post for post in posts if post.source != X and post.url)
    return tuple(sorted(linked, key=_engagement_key))


def x_metrics(posts: Iterable[PostSignal]) -> dict[str, float]:
    """Summed counts of the original X posts (reposts never add; every original counts)."""
    originals = counted_posts(posts)
    reposts = likes = replies = quotes = 0  # integer sums, as sum() gave: one pass, not four
    for post in originals:
        reposts += post.reposts
        likes += post.likes
        replies += post.replies
        quotes += post.quotes
    return {
        "retweets": float(reposts),
        "likes": float(likes),
        "replies": float(replies),
        "quotes": float(quotes),
        "posts": float(len(originals)),
    }


def _split_weight_key(key: str) -> tuple[str, str]:
    source, dot, metric = key.partition(".")
    if not dot or not source or not metric:
        raise ConfigError(
            f"ranking.weights: key '{key}' must name a source and a metric, like 'x.likes'"
        )
    return source, metric


def decay_factor(hours_since_announcement: float | None, decay_hours: float | None) -> float:
    """Half-life decay: the score halves every `decay_hours` after announcement (1.0 if off)."""
    if hours_since_announcement is None or not decay_hours or decay_hours <= 0:
        return 1.0
    return float(0.5 ** (max(hours_since_announcement, 0.0) / decay_hours))


def score(
    signals: Mapping[str, Mapping[str, float]],
    weights: Mapping[str, float],
    *,
    hours_since_announcement: float | None = None,
    decay_hours: float | None = None,
) -> float:
    """Sum of weight × signals[source][metric] over the `source.metric` weight keys, decayed."""
    factor = decay_factor(hours_since_announcement, decay_hours)
    return _weighted(signals, _parsed_weights(weights)) * factor


def _parsed_weights(weights: Mapping[str, float]) -> list[tuple[str, str, float]]:
    return [(*_split_weight_key(key), weight) for key, weight in weights.items()]


def parsed_weights(weights: Mapping[str, float]) -> list[tuple[str, str, float]]:
    """`{"x.likes": 1.0}` as `[("x", "likes", 1.0)]` (ConfigError on a key without a dot)."""
    return _parsed_weights(weights)


def _weighted(
    signals: Mapping[str, Mapping[str, float]], weights: list[tuple[str, str, float]]
) -> float:
    total = 0.0
    for source, metric, weight in weights:
        total += weight * float(signals.get(source, {}).get(metric, 0.0))
    return total


def _as_utc(moment: datetime) -> datetime:
    """Naive datetimes are UTC by the project's convention."""
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def hours_between(start: datetime | None, end: datetime) -> float | None:
    if start is None:
        return None
    return (_as_utc(end) - _as_utc(start)).total_seconds() / 3600.0


def _numeric(metrics: Mapping[str, object]) -> dict[str, float]:
    """The numeric metrics of a snapshot (stored JSON may carry other fields too)."""
    return {
        name: float(value)
        for name, value in metrics.items()
        if isinstance(value, int | float) and not isinstance(value, bool)
    }


# x_metrics(()) : what a paper nobody has posted about gets (most of a listing).
_NO_X = {"retweets": 0.0, "likes": 0.0, "replies": 0.0, "quotes": 0.0, "posts": 0.0}


def candidate_signals(candidate: Candidate) -> dict[str, dict[str, float]]:
    """Per-source metrics for a candidate: X from its posts (first), then the snapshots."""
    if not candidate.posts and not candidate.snapshots:
        return {X: dict(_NO_X)}  # a copy: callers own the result
    signals: dict[str, dict[str, float]] = {}
    signals[X] = _x_signals(candidate)
    for source, metrics in candidate.snapshots.items():
        if source != X:
            signals[source] = _numeric(metrics)
    return signals


def _x_signals(candidate: Candidate) -> dict[str, float]:
    """X's counts: from the stored posts (the newest counts of each), unless the snapshot
    counted more originals than are stored (the source keeps a paper's ten most engaging
    posts), in which case only the snapshot's sums are whole."""
    x_snapshot = candidate.snapshots.get(X)
    from_posts = x_metrics(candidate.posts)
    if x_snapshot is None:
        return from_posts
    from_snapshot = _numeric(x_snapshot)
    if not candidate.posts or from_snapshot.get("posts", 0.0) > from_posts["posts"]:
        return from_snapshot
    return from_posts


def _latest_taken_at(posts: Iterable[PostSignal]) -> datetime | None:
    times = [_as_utc(post.taken_at) for post in posts if post.source == X and post.taken_at]
    return max(times) if times else None


def rank_papers(
    candidates: Iterable[Candidate],
    *,
    weights: Mapping[str, float],
    threshold: float,
    top: int | None,
    now: datetime,
    decay_hours: float | None = None,
) -> list[RankedPaper]:
    """Papers scoring at least `threshold`, best first, ranked 1..N and cut to `top` (None:
    no cut). Ties go to the paper later in the day's listing (`classic.listing_tie_key`).
    """
    scored: list[tuple[float, Candidate, dict[str, dict[str, float]]]] = []
    # The same arithmetic as score(), with the weights parsed and the decay worked out once
    # (not per candidate: a listing's papers share one announcement time).
    parsed: list[tuple[str, str, float]] | None = None
    factors: dict[datetime | None, float] = {}
    for candidate in candidates:
        signals = candidate_signals(candidate)
        if parsed is None:
            parsed = _parsed_weights(weights)
        announced = candidate.paper.announced
        factor = factors.get(announced)
        if factor is None:
            factor = factors[announced] = decay_factor(hours_between(announced, now), decay_hours)
        value = _weighted(signals, parsed) * factor
        if value < threshold:
            continue
        scored.append((value, candidate, signals))
    scored.sort(key=lambda item: (-item[0], classic.listing_tie_key(item[1].paper.arxiv_id)))
    kept = scored if top is None else scored[: max(top, 0)]
    ranked: list[RankedPaper] = []
    for position, (value, candidate, signals) in enumerate(kept):
        ranked.append(
            RankedPaper(
                rank=position + 1,
                paper=candidate.paper,
                score=value,
                signals=signals,
                posts=counted_posts(candidate.posts),
                counts_taken_at=_latest_taken_at(candidate.posts),
                discussions=discussion_posts(candidate.posts),
            )
        )
    return ranked


def format_number(value: float) -> str:
    """729.0 -> '729'; 12.5 -> '12.5'; 12345.6 -> '12345.6': plain digits, never an exponent.

    Fractions keep four significant digits (at least one decimal), so a decayed score of
    12345.6 reads as such and not as '1.235e+04'.
    """
    value = float(value)
    if not math.isfinite(value):
        return str(value)
    if value.is_integer():
        return str(int(value))
    magnitude = math.floor(math.log10(abs(value)))
    decimals = min(max(1, 3 - magnitude), 15)
    text = f"{value:.{decimals}f}".rstrip("0").rstrip(".")
    return text if text not in ("0", "-0") else f"{value:.4g}"  # too small for 15 decimals


def explain(
    item: RankedPaper | Candidate,
    weights: Mapping[str, float],
    *,
    now: datetime | None = None,
    decay_hours: float | None = None,
) -> list[str]:
    """Human-readable lines showing how the score is made, one per weighted term.

    With `now` and `decay_hours` (and a known announcement time) the decay factor is shown.
    """
    signals = item.signals if isinstance(item, RankedPaper) else candidate_signals(item)
    paper = item.paper
    lines = [f"{paper.arxiv_id}: {paper.title}"]
    raw = 0.0
    for key, weight in weights.items():
        source, metric = _split_weight_key(key)
        value = float(signals.get(source, {}).get(metric, 0.0))
        term = weight * value
        raw += term
        lines.append(
            f"  {key}: {format_number(value)} × {format_number(weight)} = {format_number(term)}"
        )
    hours = hours_between(paper.announced, now) if now is not None else None
    factor = decay_factor(hours, decay_hours)
    if hours is not None and decay_hours:
        lines.append(
            f"  decay: {hours:.1f} h since announcement, half-life {format_number(decay_hours)} h"
            f" -> × {factor:.4f}"
        )
    total = raw * factor
    lines.append(f"  score = {format_number(round(total, 4))}")
    if isinstance(item, RankedPaper) and abs(item.score - total) > 1e-6 * max(1.0, abs(total)):
        lines.append(f"  score as ranked = {format_number(round(item.score, 4))} (with decay)")
    x_posts = counted_posts(item.posts)
    skipped = [post for post in item.posts if post.source == X and post not in x_posts]
    if x_posts or skipped:
        lines.append(
            f"  x posts counted: {len(x_posts)} (originals, reposts excluded;"
            f" {len(skipped)} left out)"
        )
    for source, metrics in signals.items():
        unused = [m for m in metrics if f"{source}.{m}" not in weights and m != "posts"]
        if unused and source != X:
            lines.append(f"  {source}: {', '.join(unused)} not weighted")
    return lines
