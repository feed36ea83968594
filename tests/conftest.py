"""Shared fixtures: a real SQLite file and a real, private PostgreSQL database per test run."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine, text
from sqlmodel import SQLModel

from hotpapers.storage.db import make_engine

# pytest-xdist's workers set COLUMNS=80 (the parent's terminal); the CLI's rich consoles read
# it once, when hotpapers.cli.common is imported, so a test's own COLUMNS would be ignored.
if os.environ.get("PYTEST_XDIST_WORKER"):
    os.environ.pop("COLUMNS", None)
    os.environ.pop("LINES", None)

PG_ADMIN_URL = os.environ.get(
    "HOTPAPERS_TEST_PG_ADMIN", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)


def _pg_available() -> str | None:
    """None when PostgreSQL answers, else the reason to skip."""
    try:
        engine = create_engine(PG_ADMIN_URL, connect_args={"connect_timeout": 3})
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
        engine.dispose()
        return None
    except Exception as exc:  # any failure means: no server to test against
        return f"PostgreSQL not reachable at {PG_ADMIN_URL}: {exc.__class__.__name__}"


@pytest.fixture(scope="session")
def pg_url() -> Iterator[str]:
    """A fresh PostgreSQL database for this test run, dropped afterwards."""
    reason = _pg_available()
    if reason:
        pytest.skip(reason)
    name = f"hp_test_{uuid.uuid4().hex[:10]}"
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    yield PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path) -> str:
    """A database URL with an empty schema: a SQLite file, or the private PostgreSQL database."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'hotpapers.db'}"
    url: str = request.getfixturevalue("pg_url")
    engine = make_engine(url)
    SQLModel.metadata.drop_all(engine)
    with engine.begin() as connection:
        connection.execute(text("DROP TABLE IF EXISTS alembic_version"))
    engine.dispose()
    return url


@pytest.fixture
def engine(db_url: str) -> Iterator[Engine]:
    """An engine on `db_url` with every table created."""
    import hotpapers.storage.models  # noqa: F401  (registers the tables)

    engine = make_engine(db_url)
    SQLModel.metadata.create_all(engine)
    yield engine
    engine.dispose()


@pytest.fixture
def pg_engine(pg_url: str) -> Iterator[Engine]:
    """An engine on the private PostgreSQL database, schema as the test leaves it."""
    engine = make_engine(pg_url)
    yield engine
    engine.dispose()


@pytest.fixture(scope="session")
def demo(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, subprocess.CompletedProcess[str]]:
    """One `hotpapers demo` run (its work folder and what it printed), shared by the tests
    that read it: the demo is the slowest command. Readers must not change its files; a test
    that writes copies the folder first."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("HOTPAPERS_")}
    env["COLUMNS"] = "250"  # wide enough that no title is wrapped inside a panel
    workdir = tmp_path_factory.mktemp("demo-run") / "demo"
    result = subprocess.run(
        [sys.executable, "-m", "hotpapers", "demo", "--workdir", str(workdir)],
        capture_output=True, text=True, env=env, timeout=300,
    )  # fmt: skip
    # What a user sees, kept to look at: `pytest --basetemp=DIR` leaves it in DIR.
    (workdir.parent / "demo-output.txt").write_text(result.stdout + result.stderr)
    return workdir, result
