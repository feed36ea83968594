"""The shared retry policy's pieces: Retry-After parsing and how waits are described."""

from __future__ import annotations

import pytest

from hotpapers.plumbing.retry import describe_wait, parse_retry_after, wait_refused, wait_too_long


@pytest.mark.parametrize("value", ["nan", "inf", "-inf", "1e999"])
def test_non_finite_retry_after_is_unusable(value: str) -> None:
    """`Retry-After: inf` is no instruction: unusable (the client's own back-off applies)."""
    assert parse_retry_after(value) is None


@pytest.mark.parametrize(
    ("seconds", "said"),
    [(0, "0 s"), (45, "45 s"), (90, "90 s"), (120, "2 minutes"), (3600, "1 hour"),
     (86400, "24 hours"), (3 * 86400, "3 days")],
)  # fmt: skip
def test_waits_are_described_as_people_say_them(seconds: float, said: str) -> None:
    assert describe_wait(seconds) == said


def test_sentences() -> None:
    assert wait_refused("arXiv", 86400, "more than the run allows") == (
        "arXiv asked to wait 24 hours before trying again, more than the run allows; stopped"
    )
    assert wait_too_long(7200, 120) == "asked to wait 2 hours, more than the 2 minutes allowed"
