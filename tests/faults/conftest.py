"""Fixtures of the fault suite: pairs of empty databases, one for the undisturbed run and one
for the run that is killed and re-run, on SQLite and on PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import _pg_available
from tests.faults._support import postgresql_pair


@pytest.fixture(params=["sqlite", "postgresql"])
def database_pair(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[str, str]]:
    """(undisturbed, disturbed): two empty databases of the same kind."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'calm.db'}", f"sqlite:///{tmp_path / 'killed.db'}"
        return
    reason = _pg_available()
    if reason:
        pytest.skip(reason)
    with postgresql_pair() as pair:
        yield pair
