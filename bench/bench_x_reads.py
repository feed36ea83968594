"""Benchmark: which X query strategy reads (and so pays for) fewer posts on a typical day.

A day of 1,500 announced papers against FakeX (the real tweepy AsyncClient over HTTP on
127.0.0.1): 30% of the papers are linked by 1-20 original posts (heavy-tailed), with
retweet copies, quotes and repeat posts, plus posts linking other arXiv papers spread over
the 7-day search window. The measurement runs 20 hours after the announcement. For each
strategy and each amount of unrelated arXiv traffic it reports billed posts read (what the
fake returned; X bills $0.005 each), requests, posts read per paper covered, and coverage
(papers whose search finished; papers with posts found / papers that have posts).

    .venv/bin/python bench/bench_x_reads.py [--papers 1500] [--unrelated 0,5000,20000,60000]

Writes the table, with the command and the machine, to bench/results/x_reads.md.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from pydantic import SecretStr  # noqa: E402

from hotpapers.arxiv.ids import find_ids  # noqa: E402
from hotpapers.config import XSignalSettings  # noqa: E402
from hotpapers.fakes.x import FakeTweet, FakeX, generate_posts  # noqa: E402
from hotpapers.signals.base import Budget, PaperRef  # noqa: E402
from hotpapers.signals.x import XSource  # noqa: E402

PRICE = 0.005
TOKEN = "bench-token"


def _machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return (
        f"{cpu}, nproc {os.cpu_count()}, {platform.system()} {platform.release()}, "
        f"Python {platform.python_version()} ({platform.python_implementation()})"
    )


def _papers_with_posts(posts: list[FakeTweet], ids: set[str]) -> set[str]:
    found: set[str] = set()
    for post in posts:
        if not post.is_retweet:
            found |= {i for url in post.urls for i in find_ids(url)} & ids
    return found


async def _run(papers: int, unrelated: int, seed: int) -> list[dict[str, object]]:
    now = datetime.now(UTC).replace(microsecond=0)
    announced = now - timedelta(hours=20)
    ids = [f"2611.{n:05d}" for n in range(10_000, 10_000 + papers)]
    population = generate_posts(
        ids,
        seed=seed,
        now=now,
        since=announced,
        linked_fraction=0.3,
        max_links=20,
        unrelated=unrelated,
    )
    truth = _papers_with_posts(population, set(ids))
    refs = [PaperRef(arxiv_id, arxiv_id, announced) for arxiv_id in ids]
    rows: list[dict[str, object]] = []
    async with FakeX(population, bearer_token=TOKEN, now=now, rate_limit=100_000) as fake:
        settings = XSignalSettings(
            enabled=True,
            api_url=fake.api_url,
            bearer_token=SecretStr(TOKEN),
            daily_budget_usd=10_000.0,
            price_per_read_usd=PRICE,
        )
        for strategy in ("batched", "sweep"):
            fake.reads_returned = 0
            fake.requests = 0
            started = time.perf_counter()
            result = await XSource(settings, strategy=strategy).measure(  # type: ignore[arg-type]
                refs, now, Budget(10_000.0)
            )
            elapsed = time.perf_counter() - started
            with_posts = {m.paper_id for m in result.measurements if m.metrics["posts"] > 0}
            complete = sum(1 for m in result.measurements)
            rows.append(
                {
                    "unrelated": unrelated,
                    "population": len(population),
                    "strategy": strategy,
                    "reads": fake.reads_returned,
                    "cost": fake.reads_returned * PRICE,
                    "requests": fake.requests,
                    "per_paper": fake.reads_returned / max(len(with_posts), 1),
                    "searched": f"{complete}/{papers}",
                    "found": f"{len(with_posts & truth)}/{len(truth)}",
                    "errors": len(result.errors),
                    "seconds": elapsed,
                }
            )
            print(rows[-1], flush=True)
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--papers", type=int, default=1500)
    parser.add_argument("--unrelated", default="0,5000,20000,60000")
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "x_reads.md")
    args = parser.parse_args()
    levels = [int(value) for value in args.unrelated.split(",") if value.strip()]
    rows: list[dict[str, object]] = []
    for level in levels:
        rows += asyncio.run(_run(args.papers, level, args.seed))

    command = " ".join(["bench/bench_x_reads.py", *sys.argv[1:]])
    lines = [
        "# X reads benchmark: batched vs sweep",
        "",
        f"Command: `.venv/bin/python {command}`",
        "",
        f"Machine: {_machine()}",
        "",
        f"Day: {args.papers:,} papers announced 20 h before the run; 30% of them linked by "
        "1-20 original posts (heavy-tailed), half of the originals retweeted 1-3 times, "
        "10% quoted (the quote links the paper), 5% posted again by the same author; "
        "abs/pdf/html links, 30% with a version. 'unrelated' = extra posts linking other "
        "arXiv papers spread over the 7-day window (40% of them retweets). Both strategies "
        "exclude retweets (`-is:retweet`) and start a day before the announcement. "
        f"Billed reads = posts returned (X bills ${PRICE} each), counted by FakeX. "
        "'searched' = papers whose search ran to the last page (measured, zeros included); "
        "'found' = papers with posts found / papers that have original posts.",
        "",
        "| unrelated arXiv posts | population | strategy | billed reads | cost | requests "
        "| reads per paper with posts | searched | found | errors | wall s (mostly FakeX) |",
        "|---:|---:|---|---:|---:|---:|---:|---|---|---:|---:|",
    ]
    for row in rows:
        lines.append(
            f"| {row['unrelated']:,} | {row['population']:,} | {row['strategy']} "
            f"| {row['reads']:,} | ${row['cost']:.2f} | {row['requests']:,} "
            f"| {row['per_paper']:.2f} | {row['searched']} | {row['found']} "
            f"| {row['errors']} | {row['seconds']:.1f} |"
        )
    lines += ["", "Sweep reads / batched reads (same posts found):", ""]
    for level in levels:
        pair = {row["strategy"]: row for row in rows if row["unrelated"] == level}
        batched, sweep = pair["batched"], pair["sweep"]
        ratio = int(str(sweep["reads"])) / max(int(str(batched["reads"])), 1)
        lines.append(
            f"* {level:,} unrelated arXiv posts: sweep reads {ratio:.2f}x as many posts "
            f"({sweep['reads']:,} vs {batched['reads']:,}) in {sweep['requests']} requests "
            f"vs {batched['requests']}"
        )
    lines += [
        "",
        "Batched reads exactly the original posts that link the papers, whatever else is "
        "posted about arXiv; the sweep pays for every arXiv-linking original in the window "
        "and only ties when nothing else links arXiv. Requests are not billed (the "
        "recent-search limit is 450 per 15 min per app), so `XSource.strategy` defaults "
        "to batched.",
        "",
    ]
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text("\n".join(lines), encoding="utf-8")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
