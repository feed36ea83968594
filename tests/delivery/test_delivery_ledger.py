"""The delivery ledger's claims when two runs race for the same thread."""

from __future__ import annotations

import logging
from datetime import UTC, date, datetime

import pytest
from sqlalchemy import Engine

from hotpapers.delivery._ledger import claim_thread

DAY = date(2026, 11, 23)
NOW = datetime(2026, 11, 23, 20, 0, tzinfo=UTC)


def test_a_thread_claimed_by_another_run_is_busy_not_an_error(
    engine: Engine, caplog: pytest.LogCaptureFixture
) -> None:
    """The second claim of one day's header answers False (the other run has it), without an
    error in the logs: the race is expected when two processes deliver at once."""
    assert claim_thread(engine, "channel:3000", DAY, NOW) is True
    with caplog.at_level(logging.ERROR):
        assert claim_thread(engine, "channel:3000", DAY, NOW) is False
    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR] == []
    assert claim_thread(engine, "channel:3000/week", DAY, NOW) is True  # another target
