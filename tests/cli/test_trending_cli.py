"""`hotpapers trending` as a user runs it: a real process on a migrated database.

The week's table is a golden file (`HOTPAPERS_UPDATE_GOLDEN=1` rewrites it; review the diff).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from hotpapers.storage import migrate
from hotpapers.storage.db import make_engine
from tests.ranking.trending_world import build

GOLDEN = Path(__file__).parents[1] / "fixtures" / "trending" / "cli-week.txt"


@pytest.fixture
def migrated(db_url: str) -> str:
    migrate.upgrade(db_url)
    engine = make_engine(db_url)
    build(engine)
    engine.dispose()
    return db_url


def run(url: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("HOTPAPERS_")}
    env.update(HOTPAPERS_DATABASE__URL=url, COLUMNS="120")
    return subprocess.run(
        [sys.executable, "-m", "hotpapers", "trending", *args],
        capture_output=True,
        text=True,
        env=env,
        cwd=Path(url.removeprefix("sqlite:///")).parent if url.startswith("sqlite") else None,
    )


def test_the_week_prints_the_rank_table_with_listing_dates(migrated: str) -> None:
    result = run(migrated, "week", "--date", "2026-11-27")
    assert result.returncode == 0, result.stderr
    if os.environ.get("HOTPAPERS_UPDATE_GOLDEN"):
        GOLDEN.parent.mkdir(parents=True, exist_ok=True)
        GOLDEN.write_text(result.stdout)
    assert result.stdout == GOLDEN.read_text()


def test_month_category_and_top(migrated: str) -> None:
    result = run(migrated, "month", "--date", "2026-11-27", "--category", "cs.CV", "--top", "1")
    assert result.returncode == 0, result.stderr
    assert "Trending this month in cs.CV (2026-10-29 to 2026-11-27)" in result.stdout
    assert "2611.00002" in result.stdout and "2611.00003" not in result.stdout


def test_an_empty_window_is_one_sentence(migrated: str) -> None:
    result = run(migrated, "--date", "2026-08-01")
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("No paper gained attention between 2026-07-26 and 2026-08-01;")
    assert len(result.stdout.strip().splitlines()) == 1


@pytest.mark.parametrize(
    ("args", "sentence"),
    [
        (["year"], "the period must be 'week' or 'month', not 'year'"),
        (["--category", "cs.XX"], "--category: unknown arXiv category"),
        (["--top", "0"], "--top must be at least 1"),
        (["--date", "2099-01-01"], "is in the future"),
        (["--date", "soon"], "is not a date"),
    ],
)
def test_bad_input_is_one_sentence(tmp_path: Path, args: list[str], sentence: str) -> None:
    result = run(f"sqlite:///{tmp_path / 'db.sqlite'}", *args)
    assert result.returncode == 2
    assert sentence in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_digest_week_writes_the_weeks_post(migrated: str, tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("HOTPAPERS_")}
    env.update(HOTPAPERS_DATABASE__URL=migrated)
    out = tmp_path / "posts"
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "hotpapers",
            "digest-week",
            "--date",
            "2026-11-27",
            "--out",
            str(out),
        ],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stderr
    path = out / "2026-11-27---Hot-Papers-Week.md"
    assert result.stdout.strip() == f"wrote {path}"
    golden = GOLDEN.with_name("2026-11-27---Hot-Papers-Week.md").read_text()

    def undated(text: str) -> list[str]:  # the front matter's date is when it was written
        return [line for line in text.splitlines() if not line.startswith("date: ")]

    assert undated(path.read_text()) == undated(golden)
