"""Requests needed to collect one day of 20 categories, counted against the fake arXiv.

Expected: one feed request plus ceil(ids / batch_size) export-API requests, every request
at least `request_interval` (3 s, arXiv's rule) after the previous one.

    .venv/bin/python bench/bench_collect.py [--papers 1500] [--interval 3.0] [--batch-size 100]
"""

from __future__ import annotations

import argparse
import asyncio
import math
import platform
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parents[1]))

import itertools

from hotpapers.arxiv import calendar
from hotpapers.config import ArxivSettings, DatabaseSettings, Settings
from hotpapers.fakes.arxiv import FakeArxiv, generate_papers
from hotpapers.service import use_cases as jobs
from hotpapers.storage import migrate
from hotpapers.storage.db import make_engine

DAY = date(2026, 11, 23)
CATEGORIES = [
    "cs.LG", "cs.CV", "cs.CL", "cs.AI", "stat.ML", "cs.RO", "cs.NE", "cs.IR", "cs.CR", "cs.DS",
    "cs.SE", "cs.HC", "cs.SD", "eess.AS", "eess.IV", "eess.SP", "math.OC", "math.ST", "q-bio.NC",
    "physics.comp-ph",
]  # fmt: skip


async def main(papers: int, interval: float, batch_size: int) -> None:
    fake = FakeArxiv(generate_papers(DAY, CATEGORIES, papers, seed=5), feed_date=DAY)
    await fake.start()
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{tmp}/bench.db"
        migrate.upgrade(url)
        settings = Settings.model_construct(
            database=DatabaseSettings(url=url),
            arxiv=ArxivSettings(
                categories=CATEGORIES, rss_url=fake.rss_url, api_url=fake.api_url,
                oai_url=fake.oai_url, request_interval=interval, batch_size=batch_size,
            ),
        )  # fmt: skip
        engine = make_engine(url)
        started = time.monotonic()
        report = await jobs.collect(
            settings, engine, now=calendar.announced_at(DAY) + timedelta(hours=5)
        )
        elapsed = time.monotonic() - started
        engine.dispose()
    await fake.close()
    starts = [r.time for r in fake.requests]
    gaps = [b - a for a, b in itertools.pairwise(starts)]
    feed = sum(1 for r in fake.requests if r.path.startswith("/rss"))
    api = sum(1 for r in fake.requests if r.path.startswith("/api"))
    expected = 1 + math.ceil(report.papers / batch_size)
    print(
        f"machine: {platform.machine()}, {platform.python_version()}, "
        f"interval {interval}s, batch {batch_size}"
    )
    print(
        "| papers | feed requests | API requests | total "
        "| expected 1+ceil(ids/batch) | min gap s | wall s |"
    )
    print("|---|---|---|---|---|---|---|")
    print(
        f"| {report.papers} | {feed} | {api} | {len(fake.requests)} | {expected} "
        f"| {min(gaps) if gaps else 0:.3f} | {elapsed:.1f} |"
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--papers", type=int, default=1500)
    parser.add_argument("--interval", type=float, default=3.0)
    parser.add_argument("--batch-size", type=int, default=100)
    args = parser.parse_args()
    asyncio.run(main(args.papers, args.interval, args.batch_size))
