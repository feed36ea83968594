"""Reliability under kill -9: repeated trials of collect, snapshot import and Discord delivery,
each killed at a random point (a failpoint, `hotpapers/plumbing/failpoints.py`), run again and
compared
row for row with an undisturbed run of the same work. Reports trials, faults survived, rows
lost and rows doubled, on SQLite and PostgreSQL.

    .venv/bin/python bench/bench_reliability.py [--trials 30] [--seed 1] [--db sqlite,postgresql]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import platform
import random
import sys
import tempfile
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).parents[1]))


from hotpapers.arxiv import calendar
from hotpapers.delivery import STALE_CLAIM
from hotpapers.fakes.arxiv import FakeArxiv, generate_papers
from hotpapers.storage.db import make_engine
from tests.arxiv.test_import import record
from tests.bot.discord_support import running_fake
from tests.cluster.test_cluster_support import (
    deliveries,
    fresh_schema,
    make_fake,
    process_env,
    seed,
)
from tests.faults._support import COLLECTED, base_env, content, hotpapers, postgresql_pair
from tests.faults.test_kill_delivery import age_claims
from tests.faults.test_kill_points import CATS, arxiv_env


@dataclass
class Tally:
    trials: int = 0
    killed: int = 0  # the process really died at its failpoint
    survived: int = 0  # the re-run ended equal to the undisturbed run
    lost: int = 0  # rows (or deliveries) the undisturbed run has and the re-run lacks
    doubled: int = 0  # rows (or deliveries) the re-run has more often than the undisturbed one


def differences(calm: dict[str, list[Any]], rerun: dict[str, list[Any]]) -> tuple[int, int]:
    lost = doubled = 0
    for table, rows in calm.items():
        want, got = Counter(map(repr, rows)), Counter(map(repr, rerun.get(table, [])))
        lost += sum((want - got).values())
        doubled += sum((got - want).values())
    return lost, doubled


@contextmanager
def databases(kind: str, folder: Path) -> Iterator[tuple[str, str]]:
    if kind == "sqlite":
        name = uuid.uuid4().hex[:8]
        yield f"sqlite:///{folder / f'calm-{name}.db'}", f"sqlite:///{folder / f'dead-{name}.db'}"
        return
    with postgresql_pair() as pair:
        yield pair


async def collect_trial(calm: str, dead: str, folder: Path, rng: random.Random) -> tuple:
    listing = calendar.current_listing_date(datetime.now(UTC))
    papers = generate_papers(listing, CATS, rng.randint(20, 120), seed=rng.randint(0, 10**6))
    async with FakeArxiv(papers, feed_date=listing) as arxiv:
        extra = arxiv_env(arxiv, folder)
        await hotpapers(["collect"], base_env(calm, **extra), folder)
        died = await hotpapers(["collect"], base_env(dead, **extra), folder,
                               failpoint="collect.before_commit")  # fmt: skip
        await hotpapers(["collect"], base_env(dead, **extra), folder)
    return died.killed, content(calm), content(dead)


async def import_trial(calm: str, dead: str, folder: Path, rng: random.Random) -> tuple:
    count, batch = rng.randint(20, 80), rng.choice([3, 5, 10])
    snapshot = folder / f"snap-{uuid.uuid4().hex[:6]}.json"
    lines = [record(f"2001.{n:05d}", title=f"Paper {n}") for n in range(count)]
    snapshot.write_text("\n".join(json.dumps(line) for line in lines) + "\n", encoding="utf-8")
    args = ["import-snapshot", "--batch-size", str(batch), str(snapshot)]
    await hotpapers(args, base_env(calm), folder)
    if rng.random() < 0.5:  # an update import (batch by batch) rather than the first one
        await hotpapers(args, base_env(dead), folder)
    nth = rng.randint(1, max(1, count // batch))
    died = await hotpapers(args, base_env(dead), folder, failpoint=f"import.after_batch@{nth}")
    await hotpapers(args, base_env(dead), folder)
    tables = COLLECTED[:-1]
    return died.killed, content(calm, tables), content(dead, tables)


async def delivery_trial(calm: str, dead: str, folder: Path, rng: random.Random) -> tuple:
    channels, papers = rng.randint(2, 5), rng.randint(2, 5)
    nth = rng.randint(1, channels * papers - 1)
    found = []
    for url, failpoint in ((calm, None), (dead, f"delivery.after_send@{nth}")):
        fresh_schema(url)
        engine = make_engine(url)
        seeded = seed(engine, channels, papers, datetime.now(UTC))
        fake = make_fake(channels)
        async with running_fake(fake):
            env = process_env(fake, url, "reliability", lock_key=rng.randint(1, 2**62))
            args = ["bot", "deliver", "--date", seeded.listing_date.isoformat()]
            died = await hotpapers(args, env, folder, failpoint=failpoint) if failpoint else None
            if failpoint:  # the dead run's claims are taken over once stale (5 minutes)
                age_claims(url, STALE_CLAIM)
            done = await hotpapers(args, env, folder)
            if done.returncode != 0 or "busy" in done.stdout:
                print(done.stdout, done.stderr[-1500:])
            found.append({"deliveries": sorted(Counter(deliveries(fake)).elements())})
        engine.dispose()
    return bool(died and died.killed), found[0], found[1]


TRIALS: dict[str, Callable[..., Any]] = {
    "collect": collect_trial, "import": import_trial, "delivery": delivery_trial,
}  # fmt: skip


async def run(trials: int, seed_value: int, kinds: list[str]) -> dict[tuple[str, str], Tally]:
    rng = random.Random(seed_value)
    tallies: dict[tuple[str, str], Tally] = {}
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        (folder / "none.toml").write_text("", encoding="utf-8")
        for n in range(trials):
            job = list(TRIALS)[n % len(TRIALS)]
            kind = kinds[(n // len(TRIALS)) % len(kinds)]
            tally = tallies.setdefault((job, kind), Tally())
            with databases(kind, folder) as (calm, dead):
                killed, expected, got = await TRIALS[job](calm, dead, folder, rng)
            lost, doubled = differences(expected, got)
            tally.trials += 1
            tally.killed += int(killed)
            tally.survived += int(killed and lost == 0 and doubled == 0)
            tally.lost += lost
            tally.doubled += doubled
            print(f"trial {n + 1}/{trials}: {job} on {kind}: killed={killed} lost={lost} "
                  f"doubled={doubled}", flush=True)  # fmt: skip
    return tallies


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--trials", type=int, default=30)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--db", default="sqlite,postgresql")
    args = parser.parse_args()
    tallies = asyncio.run(run(args.trials, args.seed, args.db.split(",")))
    print(f"\nmachine: {platform.platform()}, {platform.python_version()}")
    print("| job | database | trials | killed mid-way | survived | rows lost | rows doubled |")
    print("|---|---|---|---|---|---|---|")
    for (job, kind), t in sorted(tallies.items()):
        print(f"| {job} | {kind} | {t.trials} | {t.killed} | {t.survived} | {t.lost} "
              f"| {t.doubled} |")  # fmt: skip


if __name__ == "__main__":
    main()
