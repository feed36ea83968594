"""Latency of trending (hotpapers/ranking/trending.py) for a week and a month at 1M papers.

    python bench/bench_trending.py --url sqlite:////work/data/trend_1m.db [--runs 50]
    python bench/bench_trending.py --url postgresql://postgres@127.0.0.1:5432/trend_1m

The URL must name a COPY of the shared 1M database (see the common brief): the first run adds
to it, once,
* listing dates: an `announcement` row per paper, in the shape collect writes (type `new`, its
  primary category), by importer15's rule (first version's date -> the next listing day),
  except the MEASURED newest papers, which are spread over the last LISTINGS listing days,
  PER_LISTING per day (the generated snapshot has ~140 papers a day; a deployment collecting
  cs.LG, cs.CV, cs.CL and stat.ML lists ~1,000 a day, new plus cross-lists);
* `signal_snapshot` rows as `hotpapers signals` writes them: each measured paper on X and
  Hacker News, every 6 hours for its 7-day measuring window (`ranking.measure_days`), so the
  60 days before TODAY hold ~42,000 papers x 28 x 2 = ~2.35M rows. Most papers stay at zero
  (80% on X, 97% on HN, as on a real day); the others grow towards a long-tailed total.
Then it times `find_trending` (a fresh session each call, as the CLI and the bot do) for
week/month, with and without a category, and prints p50/p99 and the rows involved.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import sys
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench_import import machine  # noqa: E402
from sqlalchemy import Engine, text  # noqa: E402

from hotpapers.arxiv.calendar import next_listing_date, previous_listing_date  # noqa: E402
from hotpapers.config import RankingSettings  # noqa: E402
from hotpapers.ranking.trending import MONTH, WEEK, find_trending, window  # noqa: E402
from hotpapers.storage.db import make_engine  # noqa: E402

TODAY = date(2026, 10, 30)  # the bench's "today": the window's last day
NOW = datetime.combine(TODAY, datetime.min.time(), tzinfo=UTC) + timedelta(hours=18)
LISTINGS = 42  # listing days in the 60 days before TODAY
PER_LISTING = 1_000
MEASURE_DAYS = 7
EVERY_HOURS = 6
SOURCES = ("x", "hn")


def listing_days() -> list[date]:
    days = [previous_listing_date(TODAY)]
    while len(days) < LISTINGS:
        days.append(previous_listing_date(days[-1]))
    return sorted(days)


def _announcement_rows(engine: Engine) -> list[tuple[Any, ...]]:
    """(listing_date, category, paper_id): measured papers on the last listing days, every
    other paper on the listing after its first version's date."""
    with engine.connect() as connection:
        papers = connection.execute(
            text("SELECT id, primary_category, submitted FROM paper ORDER BY submitted, id")
        ).all()
    measured = papers[-LISTINGS * PER_LISTING :]
    rest = papers[: -LISTINGS * PER_LISTING]
    next_day: dict[date, date] = {}
    rows = []
    for paper_id, category, submitted in rest:
        day = (
            submitted if isinstance(submitted, datetime) else datetime.fromisoformat(submitted)
        ).date()
        if day not in next_day:
            next_day[day] = next_listing_date(day)
        rows.append((next_day[day], category, paper_id))
    for index, (paper_id, category, _) in enumerate(measured):
        rows.append((listing_days()[index // PER_LISTING], category, paper_id))
    return rows


def _snapshot_rows(rows: list[tuple[Any, ...]], rng: random.Random) -> list[tuple[Any, ...]]:
    """(paper_id, source, taken_at, metrics JSON) for every measured paper."""
    first_listing = listing_days()[0]
    out = []
    for listed, _, paper_id in rows:
        if listed < first_listing:
            continue
        start = datetime.combine(listed, datetime.min.time(), tzinfo=UTC) + timedelta(hours=1)
        steps = MEASURE_DAYS * 24 // EVERY_HOURS
        x_total = rng.lognormvariate(3.5, 1.5) if rng.random() < 0.2 else 0.0
        hn_total = rng.lognormvariate(3.0, 1.2) if rng.random() < 0.03 else 0.0
        for step in range(steps):
            taken = start + timedelta(hours=EVERY_HOURS * step)
            if taken > NOW:  # nothing is measured after the moment trending is asked for
                break
            share = (step + 1) / steps
            likes = int(x_total * share)
            posts = min(likes // 30, 10) + (1 if likes else 0)
            x = {"retweets": likes // 4, "likes": likes, "replies": likes // 10,
                 "quotes": likes // 20, "posts": posts}  # fmt: skip
            out.append((paper_id, "x", taken, json.dumps(x)))
            points = int(hn_total * share)
            out.append(
                (paper_id, "hn", taken, json.dumps({"points": points, "comments": points // 3}))
            )
    return out


def prepare(engine: Engine) -> None:
    with engine.connect() as connection:
        if connection.execute(text("SELECT count(*) FROM signal_snapshot")).scalar():
            return
    started = time.perf_counter()
    with engine.begin() as connection:
        # A database the importer made has each paper's first listing already; this bench's
        # own listing dates replace them (they put the measured papers in the last days).
        connection.execute(text("DELETE FROM announcement"))
    announcements = _announcement_rows(engine)
    snapshots = _snapshot_rows(announcements, random.Random(13))
    print(f"adding {len(announcements):,} announcements, {len(snapshots):,} snapshots", flush=True)
    if engine.dialect.name == "postgresql":
        _copy_pg(engine, announcements, snapshots)
    else:
        _insert_sqlite(engine, announcements, snapshots)
    print(f"prepared in {time.perf_counter() - started:.0f} s", flush=True)


def _insert_sqlite(engine: Engine, announcements: list[Any], snapshots: list[Any]) -> None:
    raw = engine.raw_connection()
    try:
        cursor = raw.cursor()
        cursor.executemany(
            "INSERT INTO announcement (listing_date, category, paper_id, announce_type, version)"
            " VALUES (?, ?, ?, 'new', 1)",
            [(d.isoformat(), c, p) for d, c, p in announcements],
        )
        cursor.executemany(
            "INSERT INTO signal_snapshot (paper_id, source, taken_at, metrics) VALUES (?, ?, ?, ?)",
            [(p, s, t.strftime("%Y-%m-%d %H:%M:%S.%f"), m) for p, s, t, m in snapshots],
        )
        raw.commit()
        cursor.execute("ANALYZE")
        raw.commit()
    finally:
        raw.close()


def _copy_pg(engine: Engine, announcements: list[Any], snapshots: list[Any]) -> None:
    raw = engine.raw_connection()
    try:
        cursor = raw.cursor()
        with cursor.copy(  # type: ignore[attr-defined]
            "COPY announcement (listing_date, category, paper_id, announce_type, version)"
            " FROM STDIN"
        ) as copy:
            for d, c, p in announcements:
                copy.write_row((d, c, p, "new", 1))
        with cursor.copy(  # type: ignore[attr-defined]
            "COPY signal_snapshot (paper_id, source, taken_at, metrics) FROM STDIN"
        ) as copy:
            for p, s, t, m in snapshots:
                copy.write_row((p, s, t.replace(tzinfo=None), m))
        raw.commit()
        cursor.execute("ANALYZE announcement")
        cursor.execute("ANALYZE signal_snapshot")
        raw.commit()
    finally:
        raw.close()


def _p99(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(0.99 * (len(ordered) - 1)))]


def measure(engine: Engine, runs: int, category: str) -> list[str]:
    ranking = RankingSettings()
    now = NOW
    lines = []
    for period in (WEEK, MONTH):
        for categories in (None, [category]):
            span = window(period, TODAY, now)
            found = find_trending(engine, ranking, span, top=10, categories=categories)  # warm
            times, cpu = [], []
            for _ in range(runs):
                started, started_cpu = time.perf_counter(), time.process_time()
                find_trending(engine, ranking, span, top=10, categories=categories)
                times.append((time.perf_counter() - started) * 1000)
                cpu.append((time.process_time() - started_cpu) * 1000)
            label = f"{period:5} {categories[0] if categories else 'all':6}"
            lines.append(
                f"{label}  wall p50 {statistics.median(times):7.1f} p99 {_p99(times):7.1f} ms"
                f"  this process's CPU p50 {statistics.median(cpu):7.1f} p99 {_p99(cpu):7.1f} ms"
                f"  ({len(found)} papers shown, {runs} runs)"
            )
            print(lines[-1], flush=True)
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--url", required=True, help="a COPY of the 1M database")
    parser.add_argument("--runs", type=int, default=50)
    parser.add_argument("--category", default="cs.LG")
    args = parser.parse_args()
    engine = make_engine(args.url)
    prepare(engine)
    with engine.connect() as connection:
        rows = connection.execute(text("SELECT count(*) FROM signal_snapshot")).scalar()
        rolled = connection.execute(text("SELECT count(*) FROM signal_gain_day")).scalar()
    print(f"{engine.dialect.name}: {rows:,} snapshot rows, {rolled:,} roll-up rows; {machine()}")
    print(f"load average before: {os.getloadavg()}")
    measure(engine, args.runs, args.category)
    print(f"load average after: {os.getloadavg()}")
    engine.dispose()


if __name__ == "__main__":
    main()
