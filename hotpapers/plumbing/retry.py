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


CONNECT_TIMEOUT = 10.0
"""Seconds to open a connection: a host that drops packets is not waited on for the whole
request timeout (60 s for arXiv) before the run can call it unreachable."""

UNREACHABLE_AFTER = 20.0
"""Default seconds a service may fail to answer at all before a run gives up on it."""


class Unreachable(Exception):
    """A service that never answered in this run; `str()` is the sentence to show. Not a
    per-request error: it ends the whole source or job, since every request would fail."""


class Reachability:
    """Has a service answered at all in this run? Gives up on one that never does.

    A service that answered once and then fails is retried by the normal policy (attempts,
    back-off). One that never answered (DNS fails, the connection is refused, nothing comes
    back) is most likely out of reach (no network, a wrong URL): once `limit` seconds have gone
    by since its first failure, or the next retry would start later than that, the run stops
    with one sentence instead of backing off for minutes, paper after paper.
    """

    def __init__(self, service: str, limit: float = UNREACHABLE_AFTER) -> None:
        self.service = service
        self.limit = limit
        self.answered = False
        self._first_failure: float | None = None
        self.reason: str | None = None  # set once given up: later requests fail at once

    def answer(self) -> None:
        self.answered = True

    def give_up(self, failed_at: float, next_delay: float, failure: str) -> str | None:
        """After a failure with no answer: the sentence to stop with, or None to retry."""
        if self.answered:
            return None
        if self._first_failure is None:
            self._first_failure = failed_at
        waited = failed_at - self._first_failure
        if waited + next_delay < self.limit and self.limit > 0:
            return None
        self.reason = (
            f"cannot reach {self.service} ({failure}; no answer in {waited:.0f} s); "
            "check the network connection and the service's URL in the config"
        )
        return self.reason
