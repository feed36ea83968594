"""Small view helpers for the site's templates: score terms, signal rows, safe links, times.

Pure functions of a ranked paper and the settings, so the pages are the same on every build.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from urllib.parse import urlsplit

from hotpapers.arxiv.calendar import announced_at
from hotpapers.config import DigestSettings
from hotpapers.ranking.scoring import PostSignal, RankedPaper, X, format_number

# X's "posts" is the number of posts counted (one per author, reposts left out).
_METRIC_NAMES = {"posts": "posts counted"}
SOURCE_NAMES = {"x": "X", "hn": "Hacker News", "hf": "Hugging Face", "bluesky": "Bluesky"}
# Characters XML 1.0 forbids (feeds must stay well-formed whatever a title holds).
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


@dataclass(frozen=True)
class Term:
    key: str  # source.metric
    value: float
    weight: float

    @property
    def points(self) -> float:
        return self.value * self.weight


def score_terms(item: RankedPaper, weights: Mapping[str, float]) -> list[Term]:
    """The weighted terms that add up to the score (before any decay), in config order."""
    terms = []
    for key, weight in weights.items():
        source, _, metric = key.partition(".")
        terms.append(Term(key, float(item.signals.get(source, {}).get(metric, 0.0)), weight))
    return terms


def decay_factor(item: RankedPaper, weights: Mapping[str, float]) -> float | None:
    """The factor decay applied to the sum of terms, or None when nothing was decayed."""
    raw = sum(term.points for term in score_terms(item, weights))
    if raw == 0 or abs(raw - item.score) <= 1e-9 * abs(raw):
        return None
    return item.score / raw


def source_name(source: str) -> str:
    return SOURCE_NAMES.get(source, source)


def signal_rows(item: RankedPaper) -> list[tuple[str, list[tuple[str, str]]]]:
    """(source name, [(metric, value)]): X first, then the other sources by name."""
    sources = sorted(item.signals, key=lambda s: (s != X, s))
    rows = []
    for source in sources:
        metrics = item.signals[source]
        names = list(metrics) if source == X else sorted(metrics)
        shown = [
            (_METRIC_NAMES.get(name, name), format_number(metrics[name]))
            for name in names
            if metrics[name]
        ]
        if shown:
            rows.append((source_name(source), shown))
    return rows


def signals_sentence(item: RankedPaper) -> str:
    """'X: 729 retweets, 186 likes; Hacker News: 120 points' (zero counts left out)."""
    parts = []
    for source, metrics in signal_rows(item):
        counts = [f"{value} {name}" for name, value in metrics if name != _METRIC_NAMES["posts"]]
        if counts:
            parts.append(f"{source}: {', '.join(counts)}")
    return "; ".join(parts) or "no attention measured"


def posts_to_show(item: RankedPaper, digest: DigestSettings) -> list[PostSignal]:
    """The most engaging post, then others that reach the digest's embed threshold."""
    shown = []
    for index, post in enumerate(item.posts[: digest.max_embeds]):
        if index == 0 or post.engagement >= digest.embed_min_engagement:
            shown.append(post)
    return shown


def safe_url(url: str | None) -> str:
    """The URL if it is plain http(s), else '' (no `javascript:` links from stored data)."""
    if not url:
        return ""
    try:
        scheme = urlsplit(url.strip()).scheme.lower()
    except ValueError:
        return ""
    return url.strip() if scheme in ("http", "https") else ""


def xml_safe(text: str) -> str:
    """`text` without the control characters XML cannot carry."""
    return _NOT_XML.sub("", text)


def rfc3339(moment: datetime) -> str:
    """`2026-11-21T01:00:00Z` (naive times are UTC by the project's convention)."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def published_at(day: date) -> datetime:
    """A listing's papers are published when arXiv announces the listing."""
    return announced_at(day)


def updated_at(day: date, item: RankedPaper) -> datetime:
    """When the counts behind a paper's place were last taken (its announcement at least)."""
    published = published_at(day)
    taken = item.counts_taken_at
    if taken is None:
        return published
    taken = taken if taken.tzinfo else taken.replace(tzinfo=UTC)
    return max(published, taken)


def top_chart_alt(day: date, ranked: Sequence[RankedPaper]) -> str:
    """The text alternative of the day's bar chart: every bar as words."""
    bars = "; ".join(
        f"{item.rank}. {shorten(item.paper.title, 80)}: {format_number(round(item.score, 2))}"
        for item in ranked
    )
    return f"Bar chart of the scores of the top papers of {day}: {bars}."


def attention_alt(item: RankedPaper, snapshots: int = 0, days: float = 0.0) -> str:
    """The text alternative of a paper's attention chart: the latest counts, and the span."""
    span = ""
    if snapshots:
        plural = "s" if snapshots != 1 else ""
        span = f" from {snapshots} measurement{plural}"
        if days >= 0.1:
            span += f" over {format_number(round(days, 1))} days"
    return (
        f"Chart of the attention to this paper over time{span}. "
        f"Latest counts: {signals_sentence(item)}."
    )


def shorten(text: str, limit: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"
