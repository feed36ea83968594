"""kill -9 at chosen points of collect, digest and import, then a re-run: the outcome equals an
undisturbed run's, row for row (SQLite and PostgreSQL), and nothing half-written is left.

Each process is real (`python -m hotpapers ...`) and dies by SIGKILL at a named failpoint
(`hotpapers/plumbing/failpoints.py`): no rollback handler, no `finally` runs, as with a power cut.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

from hotpapers.arxiv import calendar
from hotpapers.fakes.arxiv import FakeArxiv, generate_papers
from tests.arxiv.test_import import record
from tests.faults._support import COLLECTED, base_env, content, hotpapers

CATS = ["cs.LG", "cs.CV"]


def arxiv_env(arxiv: FakeArxiv, tmp_path: Path) -> dict[str, str]:
    (tmp_path / "none.toml").write_text("", encoding="utf-8")
    return {
        "HOTPAPERS_CONFIG": str(tmp_path / "none.toml"),
        "HOTPAPERS_ARXIV__CATEGORIES": json.dumps(CATS),
        "HOTPAPERS_ARXIV__RSS_URL": arxiv.rss_url,
        "HOTPAPERS_ARXIV__API_URL": arxiv.api_url,
        "HOTPAPERS_ARXIV__OAI_URL": arxiv.oai_url,
        "HOTPAPERS_ARXIV__REQUEST_INTERVAL": "0.01",
    }


async def test_collect_killed_before_commit_keeps_nothing_and_rerun_completes(
    database_pair: tuple[str, str], tmp_path: Path
) -> None:
    calm, killed = database_pair
    listing = calendar.current_listing_date(datetime.now(UTC))
    papers = generate_papers(listing, CATS, 40, seed=5)
    async with FakeArxiv(papers, feed_date=listing) as arxiv:
        extra = arxiv_env(arxiv, tmp_path)
        undisturbed = await hotpapers(["collect"], base_env(calm, **extra), tmp_path)
        assert undisturbed.returncode == 0, undisturbed.stderr
        dead = await hotpapers(["collect"], base_env(killed, **extra), tmp_path,
                               failpoint="collect.before_commit")  # fmt: skip
        assert dead.killed, dead.stderr
        assert all(rows == [] for rows in content(killed).values())  # one transaction: none
        rerun = await hotpapers(["collect"], base_env(killed, **extra), tmp_path)
        assert rerun.returncode == 0, rerun.stderr
    expected = content(calm)
    assert len(expected["announcement"]) >= 40
    assert content(killed) == expected


async def test_digest_killed_before_rename_leaves_no_partial_post(tmp_path: Path) -> None:
    """Killed between writing the temporary file and renaming it: no post, no litter after
    the re-run, and the re-run's post equals an undisturbed one (but for its `date:` line)."""
    demo = await hotpapers(["demo", "--workdir", "demo"], base_env("sqlite:///unused.db"), tmp_path)
    assert demo.returncode == 0, demo.stderr
    env = base_env(f"sqlite:///{tmp_path / 'demo' / 'demo.db'}")
    args = ["digest", "--date", "2026-11-23", "--out"]
    calm = await hotpapers([*args, "calm"], env, tmp_path)
    assert calm.returncode == 0, calm.stderr
    dead = await hotpapers([*args, "killed"], env, tmp_path, failpoint="digest.before_rename")
    assert dead.killed
    assert not list((tmp_path / "killed").glob("*.md"))  # no post, not even a partial one
    rerun = await hotpapers([*args, "killed"], env, tmp_path)
    assert rerun.returncode == 0, rerun.stderr
    assert sorted(p.name for p in (tmp_path / "killed").iterdir()) == [
        "2026-11-23---Hot-Papers.md"
    ]  # the dead writer's temporary file is gone too
    name = "2026-11-23---Hot-Papers.md"
    assert _undated(tmp_path / "killed" / name) == _undated(tmp_path / "calm" / name)


def _undated(post: Path) -> list[str]:
    return [line for line in post.read_text().splitlines() if not line.startswith("date: ")]


def _snapshot(path: Path, version: int) -> Path:
    """Twelve papers; the second file revises every third paper (a new version and title)."""
    lines = []
    for n in range(12):
        revised = version == 2 and n % 3 == 0
        lines.append(record(f"2001.{n:05d}", title=f"Paper {n}{' revised' if revised else ''}",
                            versions=2 if revised else 1))  # fmt: skip
    path.write_text("\n".join(json.dumps(line) for line in lines) + "\n", encoding="utf-8")
    return path


async def test_import_killed_after_a_batch_then_rerun_matches(
    database_pair: tuple[str, str], tmp_path: Path
) -> None:
    """First import (one transaction: nothing kept) and an update import (batch by batch:
    earlier batches kept), each killed after its first batch and run again."""
    calm, killed = database_pair
    first, second = _snapshot(tmp_path / "one.json", 1), _snapshot(tmp_path / "two.json", 2)
    args = ["import-snapshot", "--batch-size", "5"]
    for snapshot in (first, second):
        ok = await hotpapers([*args, str(snapshot)], base_env(calm), tmp_path)
        assert ok.returncode == 0, ok.stderr
        before = content(killed, COLLECTED[:-1])
        dead = await hotpapers([*args, str(snapshot)], base_env(killed), tmp_path,
                               failpoint="import.after_batch")  # fmt: skip
        assert dead.killed, dead.stderr
        if snapshot is first:
            assert content(killed, COLLECTED[:-1]) == before  # the bulk load kept nothing
        rerun = await hotpapers([*args, str(snapshot)], base_env(killed), tmp_path)
        assert rerun.returncode == 0, rerun.stderr
        assert content(killed, COLLECTED[:-1]) == content(calm, COLLECTED[:-1])
