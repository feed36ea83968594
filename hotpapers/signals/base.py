"""The one small interface every social source implements, and the records it returns.

A source measures a batch of papers and returns per-paper metrics (stored as append-only
snapshots) plus the posts that link each paper (stored for embedding and for the
originals-only score). A source never writes to the database and never raises for a
single bad response: it reports what it gathered and what went wrong.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from hotpapers.storage.spend import Budget

__all__ = [
    "Budget",
    "Measurement",
    "PaperRef",
    "PostRecord",
    "SignalSource",
    "SourceResult",
    "parse_time",
]


@dataclass(frozen=True, slots=True)
class PaperRef:
    """What a source needs to look a paper up."""

    arxiv_id: str
    title: str
    announced: datetime | None = None


@dataclass(frozen=True, slots=True)
class PostRecord:
    """One post linking a paper. `is_repost` marks a copy that carries the original's counts."""

    source: str
    post_id: str
    paper_id: str
    author_id: str
    author_handle: str = ""
    text: str = ""
    url: str = ""
    created_at: datetime | None = None
    reposts: int = 0
    likes: int = 0
    replies: int = 0
    quotes: int = 0
    is_repost: bool = False


@dataclass(slots=True)
class Measurement:
    """One paper on one source at one time: metrics for the snapshot, posts for embedding."""

    paper_id: str
    source: str
    taken_at: datetime
    metrics: dict[str, float]
    posts: list[PostRecord] = field(default_factory=list)


@dataclass(slots=True)
class SourceResult:
    """What one source gathered in one run, and how the run went."""

    source: str
    measurements: list[Measurement] = field(default_factory=list)
    requests: int = 0
    errors: list[str] = field(default_factory=list)
    stopped: str | None = None  # why it stopped early, e.g. "daily budget reached"
    budget: Budget | None = None


class SignalSource(Protocol):
    """A social platform. `problem()` is None when usable, else one sentence (e.g. missing
    credentials naming the setting), in which case the caller skips it with one warning."""

    name: str

    def problem(self) -> str | None: ...

    async def measure(
        self, papers: Sequence[PaperRef], now: datetime, budget: Budget | None = None
    ) -> SourceResult: ...


def parse_time(value: Any) -> datetime | None:
    """A timestamp from a service's JSON (ISO 8601, `Z` included); None when absent or bad:
    one odd field never costs the rest of the answer."""
    if not isinstance(value, str):
        return None
    try:
        return datetime.fromisoformat(value)
    except ValueError:
        return None
