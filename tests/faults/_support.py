"""What the fault suite shares: running `python -m hotpapers` as a real process (optionally
told to die at a failpoint) and reading a database back as comparable content."""

from __future__ import annotations

import asyncio
import os
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import MetaData, create_engine, select

from hotpapers.db import normalize_url

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


def _plain(value: Any) -> Any:
    # SQLite gives naive datetimes and PostgreSQL aware ones; compare the instant, not the type.
    if isinstance(value, datetime) and value.tzinfo is not None:
        return value.astimezone(UTC).replace(tzinfo=None)
    return value
