"""The retry policy the HTTP clients share (arXiv, and Hacker News, Hugging Face, Bluesky).

* attempts are bounded (each client's `max_retries`), never "until the run's time is up";
* back-off is exponential with full jitter (`backoff_delay`), capped;
* a `Retry-After` header (`parse_retry_after`) is honoured, never undercut; one that asks for
  longer than the client may wait ends the run with a sentence that says so
  (`wait_refused`: "arXiv asked to wait 24 hours; stopped"), not one about a timeout.
"""

from __future__ import annotations

import math
import random
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

BACKOFF_CAP = 300.0
"""Longest back-off between two attempts (seconds), unless Retry-After asks for more."""


def parse_retry_after(value: str | None, *, now: datetime | None = None) -> float | None:
    """Seconds to wait from a Retry-After header (delta-seconds or HTTP-date); None if absent
    or unusable (not a number or date, not finite)."""
    if not value or not value.strip():
        return None
    text = value.strip()
    try:
        seconds = float(text)
    except ValueError:
        pass
    else:
        return max(seconds, 0.0) if math.isfinite(seconds) else None
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max((when - (now or datetime.now(UTC))).total_seconds(), 0.0)


def backoff_delay(attempt: int, base: float, cap: float = BACKOFF_CAP) -> float:
    """Full-jitter exponential back-off before retry number `attempt` (1, 2, ...)."""
    ceiling = min(cap, max(base, 0.001) * 2 ** min(attempt - 1, 64))
    return random.uniform(0, ceiling)


def describe_wait(seconds: float) -> str:
    """A wait as people say it: '45 s', '5 minutes', '24 hours', '3 days'."""
    for unit, size in (("day", 86400), ("hour", 3600), ("minute", 60)):
        if seconds >= 2 * size or (unit != "day" and seconds >= size and seconds % size == 0):
            count = round(seconds / size)
            return f"{count} {unit}{'s' if count != 1 else ''}"
    return f"{seconds:.0f} s"


def wait_refused(service: str, seconds: float, why: str) -> str:
    """The sentence for a Retry-After the client will not honour: `why` says what limits it."""
    return f"{service} asked to wait {describe_wait(seconds)} before trying again, {why}; stopped"


def wait_too_long(seconds: float, limit: float) -> str:
    """The clause for a Retry-After over a client's longest wait (for a longer sentence)."""
    return f"asked to wait {describe_wait(seconds)}, more than the {describe_wait(limit)} allowed"
