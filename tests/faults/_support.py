"""What the fault suite shares: running `python -m hotpapers` as a real process (optionally
told to die at a failpoint) and reading a database back as comparable content."""

from __future__ import annotations

import asyncio
import os
import sys
import uuid
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import MetaData, create_engine, select, text

from hotpapers.storage.db import normalize_url

# Columns whose values differ between two correct runs (surrogate keys, wall-clock times).
VOLATILE = frozenset({"id", "fetched_at", "created_at", "updated_at", "taken_at", "claimed_at"})
COLLECTED = ("paper", "paper_version", "author", "paper_author", "paper_category", "announcement")


@dataclass(frozen=True)
class Outcome:
    returncode: int
    stdout: str
    stderr: str

    @property
    def killed(self) -> bool:
        return self.returncode == -9


def base_env(db_url: str, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("HOTPAPERS_")}
    env["HOTPAPERS_DATABASE__URL"] = db_url
    env["COLUMNS"] = "200"
    return env | extra


async def hotpapers(args: list[str], env: Mapping[str, str], cwd: Path,
                    failpoint: str | None = None) -> Outcome:  # fmt: skip
    """Run the CLI in its own process; with `failpoint`, it kills itself there (kill -9)."""
    run_env = dict(env)
    if failpoint:
        run_env["HOTPAPERS_FAILPOINT"] = failpoint
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "hotpapers", *args, env=run_env, cwd=cwd,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    stdout, stderr = await asyncio.wait_for(process.communicate(), 180)
    assert process.returncode is not None
    return Outcome(process.returncode, stdout.decode(), stderr.decode())


def content(db_url: str, tables: tuple[str, ...] = COLLECTED) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of `tables` without volatile columns, sorted: equal for equal outcomes."""
    engine = create_engine(normalize_url(db_url))
    metadata = MetaData()
    metadata.reflect(engine, only=lambda name, _meta: name in tables)
    found: dict[str, list[tuple[Any, ...]]] = {name: [] for name in tables}  # no schema yet
    with engine.connect() as connection:
        for name in tables:
            table = metadata.tables.get(name)
            if table is None:
                continue
            columns = [c for c in table.columns if c.name not in VOLATILE]
            rows = connection.execute(select(*columns)).all()
            found[name] = sorted((tuple(_plain(v) for v in row) for row in rows), key=repr)
    engine.dispose()
    return found


@contextmanager
def postgresql_pair() -> Iterator[tuple[str, str]]:
    """Two fresh PostgreSQL databases (undisturbed, disturbed), dropped afterwards."""
    from tests.conftest import PG_ADMIN_URL

    names = [f"hp_fault_{uuid.uuid4().hex[:10]}" for _ in range(2)]
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        for name in names:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
    base = PG_ADMIN_URL.rsplit("/", 1)[0]
    try:
        yield f"{base}/{names[0]}", f"{base}/{names[1]}"
    finally:
        with admin.connect() as connection:
            for name in names:
                connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def _plain(value: Any) -> Any:
    # SQLite gives naive datetimes and PostgreSQL aware ones; compare the instant, not the type.
    if isinstance(value, datetime) and value.tzinfo is not None:
        return value.astimezone(UTC).replace(tzinfo=None)
    return value
