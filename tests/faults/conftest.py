"""Fixtures of the fault suite: pairs of empty databases, one for the undisturbed run and one
for the run that is killed and re-run, on SQLite and on PostgreSQL."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from tests.conftest import PG_ADMIN_URL, _pg_available


@pytest.fixture(params=["sqlite", "postgresql"])
def database_pair(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[str, str]]:
    """(undisturbed, disturbed): two empty databases of the same kind."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'calm.db'}", f"sqlite:///{tmp_path / 'killed.db'}"
        return
    reason = _pg_available()
    if reason:
        pytest.skip(reason)
    names = [f"hp_fault_{uuid.uuid4().hex[:10]}" for _ in range(2)]
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        for name in names:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
    base = PG_ADMIN_URL.rsplit("/", 1)[0]
    yield f"{base}/{names[0]}", f"{base}/{names[1]}"
    with admin.connect() as connection:
        for name in names:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()
