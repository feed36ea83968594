"""Benchmark: measuring a week of papers on all four signal sources, each at its real pace.

Generates `--papers` recent arXiv ids (default 10,000) spread over the last 7 listing dates,
stores them (papers + announcements) in a fresh SQLite database, populates the local fakes
with realistic data for them and runs `hotpapers.signals.measure.measure` with the four real
sources (tweepy X, aiohttp HN and HF, atproto Bluesky), each paced at or below its published
limit:

* X recent search: 450 requests / 15 min, enforced by FakeX's `x-rate-limit-*` headers
  (the source waits for the window to reset when it is spent);
* Hacker News (Algolia): 10,000 requests / hour -> 2.7 requests/s;
* Hugging Face: ~500 requests / 5 min -> 1.667 requests/s;
* Bluesky: a conservative 3,000 requests / 5 min -> 10 requests/s.

HN and Bluesky choose per-paper or sweep mode by the batch size (`mode="auto"`); with
`--per-paper-estimate` the table also gives what one search per paper would cost at the same
pace. Reports wall time and requests per source, the total, peak RSS of the process (fakes
included: they run in the same process) and X posts read (billed).

    .venv/bin/python bench/bench_signals_sweep.py [--papers 10000] [--out PATH]

Writes the table, with the command and the machine, to bench/results/signals_sweep.md.
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import os
import platform
import random
import resource
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import aiohttp  # noqa: E402
from pydantic import SecretStr  # noqa: E402

from hotpapers.arxiv import calendar  # noqa: E402
from hotpapers.config import (  # noqa: E402
    BlueskySettings,
    DatabaseSettings,
    HackerNewsSettings,
    HuggingFaceSettings,
    RankingSettings,
    Settings,
    SignalsSettings,
    XSignalSettings,
)
from hotpapers.fakes.social import (  # noqa: E402
    FakeBluesky,
    FakeHF,
    FakeHN,
    generate_bluesky_posts,
    generate_hf_daily,
    generate_hn_stories,
)
from hotpapers.fakes.x import FakeX, generate_posts  # noqa: E402
from hotpapers.signals.base import Budget, PaperRef, SourceResult  # noqa: E402
from hotpapers.signals.bluesky import BlueskySource  # noqa: E402
from hotpapers.signals.hf import HFSource  # noqa: E402
from hotpapers.signals.hn import HNSource  # noqa: E402
from hotpapers.signals.measure import SourceReport, measure  # noqa: E402
from hotpapers.signals.x import XSource  # noqa: E402
from hotpapers.storage import migrate  # noqa: E402
from hotpapers.storage.db import make_engine, transaction  # noqa: E402
from hotpapers.storage.records import PaperRecord  # noqa: E402
from hotpapers.storage.store import record_announcements, upsert_papers  # noqa: E402

LAST_LISTING = date(2026, 11, 23)
LISTINGS = 7
CATEGORIES = ["cs.LG", "cs.CV", "cs.CL", "cs.AI", "stat.ML"]
TOKEN = "bench-token"
HANDLE, PASSWORD = "bench.bsky.social", "bench-app-password"
SEED = 2026

# Published limits (see docs and /work/shared/reference/API-NOTES.md section 2)
X_LIMIT, X_WINDOW = 450, 900.0
HN_RATE = 2.7  # 10,000 / hour = 2.78/s
HF_RATE = 500 / 300
BLUESKY_RATE = 3000 / 300

# How much of the week is talked about on each platform (shares of our papers), and how
# much arXiv traffic about *other* papers falls in the window (a sweep reads it too).
X_LINKED = 0.3
X_UNRELATED = 20_000
HN_SHARE = 0.08  # -> ~1.4 stories each: ~1,100 arXiv stories for 10,000 papers
HN_OTHER = 300  # older papers discussed on HN this week
BLUESKY_SHARE = 0.3
BLUESKY_OTHER = 1500
HF_PER_DAY = 50  # papers featured on Daily Papers per day


HEADER = """# Signals benchmark: all four sources on a week of papers, at the real rate limits

`bench/bench_signals_sweep.py` stores N new papers (ids 2611.00001..) spread evenly over
the 7 listing dates up to 2026-11-23 in a fresh SQLite database and runs
`hotpapers.signals.measure.measure` 13 h after the last announcement with the four real
sources (tweepy X, aiohttp Hacker News and Hugging Face, atproto Bluesky) against local
fakes, each fake in its own process. Pacing: X by FakeX's rate-limit headers at the real
450 requests / 15 min; HN 2.7 requests/s (limit 10,000/hour); HF 1.67/s (~500 / 5 min);
Bluesky 10/s (a conservative 3,000 / 5 min).

Data (realistic shares, not "every paper is talked about everywhere"): X - 30% of the
papers linked by 1-20 originals (heavy-tailed) with retweets, quotes and repeats, plus
20,000 posts linking other arXiv papers; HN - 8% of the papers with 0-3 stories each
(abs/pdf/html links) plus decoys, and stories about 300 older papers in the window;
Bluesky - 30% of the papers with 0-4 posts, self-threads, quote posts and decoys, plus
posts about 1,500 older papers; HF - 50 papers featured per day. Every story / post is
created after the announcement of the paper it links (and inside the window).

HN and Bluesky pick their mode by batch size (`mode="auto"`, sweep above 200 papers);
"one search per paper would be" is what the per-paper mode costs at the same pace.
"""


@dataclass(slots=True)
class Timing:
    start: float = 0.0
    end: float = 0.0


class Timed:
    """A SignalSource wrapper recording the wall time of its `measure`."""

    def __init__(self, source: object) -> None:
        self.source = source
        self.name: str = source.name  # type: ignore[attr-defined]
        self.timing = Timing()

    def problem(self) -> str | None:
        return self.source.problem()  # type: ignore[attr-defined, no-any-return]

    async def measure(
        self, papers: Sequence[PaperRef], now: datetime, budget: Budget | None = None
    ) -> SourceResult:
        self.timing.start = time.perf_counter()
        try:
            return await self.source.measure(papers, now, budget)  # type: ignore[attr-defined, no-any-return]
        finally:
            self.timing.end = time.perf_counter()


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    ram = "?"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal"):
                ram = f"{int(line.split()[1]) / 1024 / 1024:.1f} GiB"
                break
    except OSError:
        pass
    return (
        f"{cpu}, nproc {os.cpu_count()}, RAM {ram}, {platform.system()} {platform.release()}, "
        f"Python {platform.python_version()} ({platform.python_implementation()})"
    )


def listing_dates() -> list[date]:
    dates = [LAST_LISTING]
    while len(dates) < LISTINGS:
        dates.append(calendar.previous_listing_date(dates[-1]))
    return sorted(dates)


def make_papers(count: int, dates: list[date]) -> dict[date, list[PaperRecord]]:
    """`count` new papers with increasing November ids, spread evenly over `dates`."""
    rng = random.Random(SEED)
    by_date: dict[date, list[PaperRecord]] = {d: [] for d in dates}
    for n in range(count):
        day = dates[n * len(dates) // count]
        arxiv_id = f"2611.{n + 1:05d}"
        primary = rng.choice(CATEGORIES)
        by_date[day].append(
            PaperRecord(
                arxiv_id=arxiv_id,
                version=1,
                title=f"Paper {n + 1} on {rng.choice(['scaling', 'agents', 'diffusion'])}",
                abstract="We study things.",
                authors=("Ada Lovelace", "Alan Turing"),
                categories=(primary,),
                primary_category=primary,
                announce_type="new",
            )
        )
    return by_date


@dataclass
class World:
    """The week being measured: papers by listing date, and when each was announced."""

    count: int
    dates: list[date]
    now: datetime
    by_date: dict[date, list[PaperRecord]]

    @classmethod
    def make(cls, count: int) -> World:
        dates = listing_dates()
        now = calendar.announced_at(LAST_LISTING) + timedelta(hours=13)
        return cls(count, dates, now, make_papers(count, dates))

    @property
    def ids(self) -> list[str]:
        return [r.arxiv_id for records in self.by_date.values() for r in records]

    @property
    def first(self) -> datetime:
        return calendar.announced_at(self.dates[0])


def build_fake(kind: str, world: World) -> tuple[Any, dict[str, int]]:
    """One fake, populated with realistic data for `world`, and a summary of that data."""
    rng = random.Random(f"{SEED}-{kind}")
    ids, now, window = world.ids, world.now, world.first - timedelta(days=1)
    if kind == "hn":
        hn_ids = set(rng.sample(ids, int(world.count * HN_SHARE)))
        stories = []
        for day, records in world.by_date.items():  # stories come after the announcement
            day_ids = [r.arxiv_id for r in records if r.arxiv_id in hn_ids]
            since = calendar.announced_at(day)
            stories += generate_hn_stories(day_ids, seed=day.toordinal(), since=since, until=now)
        others = [f"2610.{n:05d}" for n in range(1, HN_OTHER + 1)]
        stories += generate_hn_stories(others, seed=SEED, since=window, until=now)
        arxiv = sum(1 for s in stories if s["url"] and "arxiv.org" in s["url"])
        return FakeHN(stories), {"HN arXiv stories": arxiv, "HN stories": len(stories)}
    if kind == "bluesky":
        bsky_ids = set(rng.sample(ids, int(world.count * BLUESKY_SHARE)))
        bsky = FakeBluesky({HANDLE: PASSWORD})
        for day, records in world.by_date.items():  # posts come after the announcement
            day_ids = [r.arxiv_id for r in records if r.arxiv_id in bsky_ids]
            since = calendar.announced_at(day)
            bsky.add(
                *generate_bluesky_posts(
                    day_ids, seed=SEED + day.toordinal(), since=since, until=now
                )
            )
        others = [f"2610.{n:05d}" for n in range(1, BLUESKY_OTHER + 1)]
        bsky.add(*generate_bluesky_posts(others, seed=SEED, since=window, until=now))
        return bsky, {"Bluesky posts linking arXiv": len(bsky.posts)}
    if kind == "hf":
        hf = FakeHF()
        for day, records in world.by_date.items():
            featured = rng.sample([r.arxiv_id for r in records], min(HF_PER_DAY, len(records)))
            featured_on = calendar.announced_at(day).date()  # the UTC date HFSource reads
            hf.add_daily(featured_on, *generate_hf_daily(featured, featured_on, seed=SEED))
        return hf, {"HF featured papers": sum(len(v) for v in hf.daily.values())}
    posts = generate_posts(
        ids, seed=SEED, now=now, since=world.first, linked_fraction=X_LINKED, unrelated=X_UNRELATED
    )
    fake = FakeX(posts, bearer_token=TOKEN, now=now, rate_limit=X_LIMIT, rate_window=X_WINDOW)
    return fake, {"X posts (originals, retweets, quotes, other arXiv)": len(posts)}


def serve(kind: str, world: World, conn: Connection) -> None:
    """Child process: build and serve one fake until told to stop, then report its counters."""
    asyncio.run(_serve(kind, world, conn))


async def _serve(kind: str, world: World, conn: Connection) -> None:
    fake, data = build_fake(kind, world)
    await fake.start()
    if isinstance(fake, FakeX):
        conn.send({"api_url": fake.api_url, "oembed_url": fake.oembed_url, "data": data})
    else:
        conn.send({"api_url": fake.base_url, "data": data})
    await asyncio.get_running_loop().run_in_executor(None, conn.recv)  # the stop signal
    counters = {"requests": len(fake.requests) if isinstance(fake.requests, list) else 0}
    if isinstance(fake, FakeX):
        counters = {
            "requests": fake.requests,
            "reads": fake.reads_returned,
            "rate_limited": fake.rate_limited,
        }
    counters["peak_mib"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024
    conn.send(counters)
    await fake.close()


def settings_for(db: Path, urls: dict[str, dict[str, Any]]) -> Settings:
    return Settings.model_construct(
        database=DatabaseSettings(url=f"sqlite:///{db}"),
        signals=SignalsSettings(
            source_timeout=3600.0,
            x=XSignalSettings(
                enabled=True,
                api_url=urls["x"]["api_url"],
                oembed_url=urls["x"]["oembed_url"],
                bearer_token=SecretStr(TOKEN),
                daily_budget_usd=1000.0,
            ),
            hn=HackerNewsSettings(enabled=True, api_url=urls["hn"]["api_url"]),
            hf=HuggingFaceSettings(enabled=True, api_url=urls["hf"]["api_url"]),
            bluesky=BlueskySettings(
                enabled=True,
                api_url=urls["bluesky"]["api_url"],
                handle=HANDLE,
                app_password=SecretStr(PASSWORD),
            ),
        ),
        ranking=RankingSettings(measure_days=12),  # 7 listing dates span 11 days
    )


KINDS = ("x", "hn", "hf", "bluesky")


async def _measure(
    world: World, urls: dict[str, dict[str, Any]], setup_start: float
) -> tuple[list[SourceReport], list[Timed], float, float]:
    with tempfile.TemporaryDirectory() as tmp:
        settings = settings_for(Path(tmp) / "bench.db", urls)
        migrate.upgrade(settings.database.url)
        engine = make_engine(settings.database.url)
        with transaction(engine) as session:
            for day, records in world.by_date.items():
                upsert_papers(session, records)
                record_announcements(session, day, records, CATEGORIES)
        setup = time.perf_counter() - setup_start
        async with aiohttp.ClientSession() as http:
            sources = [
                Timed(XSource(settings.signals.x, http)),
                Timed(HNSource(settings.signals.hn, http, rate=HN_RATE)),
                Timed(HFSource(settings.signals.hf, http, rate=HF_RATE)),
                Timed(BlueskySource(settings.signals.bluesky, rate=BLUESKY_RATE)),
            ]
            started = time.perf_counter()
            reports = await measure(settings, engine, sources, now=world.now)  # type: ignore[arg-type]
            total = time.perf_counter() - started
        engine.dispose()
    return reports, sources, total, setup


def run(count: int) -> tuple[list[str], dict[str, object]]:
    """Fork one process per fake (so a busy fake never slows the sources down), then measure."""
    setup_start = time.perf_counter()
    world = World.make(count)
    context = multiprocessing.get_context("fork")
    pipes: dict[str, Connection] = {}
    children = []
    for kind in KINDS:
        parent, child = context.Pipe()
        process = context.Process(target=serve, args=(kind, world, child), daemon=True)
        process.start()
        pipes[kind] = parent
        children.append(process)
    try:
        urls = {kind: pipe.recv() for kind, pipe in pipes.items()}
        reports, sources, total, setup = asyncio.run(_measure(world, urls, setup_start))
    finally:
        counters = {}
        for kind, pipe in pipes.items():
            pipe.send("stop")
            counters[kind] = pipe.recv()
        for process in children:
            process.join(timeout=30)
    announced = {
        r.arxiv_id: calendar.announced_at(d) for d, rs in world.by_date.items() for r in rs
    }
    ids = world.ids
    data: dict[str, int] = {}
    for kind in KINDS:
        data.update(urls[kind]["data"])
    peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    fake_peak = max(int(c["peak_mib"]) for c in counters.values())
    fake_requests = {kind: int(counters[kind]["requests"]) for kind in KINDS}
    rows = []
    paces = {
        "x": "450 / 15 min (headers)",
        "hn": f"{HN_RATE:g}/s",
        "hf": f"{HF_RATE:.3g}/s",
        "bluesky": f"{BLUESKY_RATE:g}/s",
    }
    for source, report in zip(sources, reports, strict=True):
        wall = source.timing.end - source.timing.start
        mode = ""
        if isinstance(source.source, HNSource | BlueskySource):
            mode = (
                "sweep" if source.source.plan([PaperRef(i, "", announced[i]) for i in ids]) else ""
            )
            mode = mode or "per paper"
        elif isinstance(source.source, XSource):
            mode = source.source.strategy
        elif isinstance(source.source, HFSource):
            mode = "daily lists"
        per_paper = ""
        if isinstance(source.source, HNSource):
            per_paper = f"{count:,} req, {count / HN_RATE:,.0f} s"
        elif isinstance(source.source, BlueskySource):
            per_paper = f"{count:,} req, {count / BLUESKY_RATE:,.0f} s"
        rows.append(
            f"| {report.source} | {mode} | {paces[report.source]} | "
            f"{report.measured:,}/{report.papers_asked:,} | {report.posts:,} | "
            f"{report.requests:,} | {fake_requests[report.source]:,} | {wall:,.1f} | "
            f"{per_paper or '-'} | {len(report.errors)} |"
        )
    summary = {
        "setup_s": setup,
        "total_s": total,
        "peak_mib": peak_mib,
        "fake_peak_mib": fake_peak,
        "x_reads": counters["x"]["reads"],
        "x_rate_limited": counters["x"]["rate_limited"],
        "data": data,
        "reports": [r.sentence() for r in reports],
    }
    return rows, summary


def write(count: int, command: str, rows: list[str], summary: dict[str, object]) -> str:
    data = summary["data"]
    assert isinstance(data, dict)
    lines = [
        f"## {count:,} papers",
        "",
        f"Command: `{command}`",
        "",
        f"Machine: {machine()}",
        "",
        "Data: " + "; ".join(f"{k}: {v:,}" for k, v in data.items()) + ".",
        "",
        "| source | mode | pace | measured | posts stored | requests (source) | requests "
        "(fake) | wall s | one search per paper would be | errors |",
        "|---|---|---|---:|---:|---:|---:|---:|---|---:|",
        *rows,
        "",
        "* total wall time of `measure()` (sources run concurrently): "
        f"**{summary['total_s']:,.1f} s** (setup: generating data, starting fakes, storing "
        f"papers: {summary['setup_s']:,.1f} s)",
        f"* peak RSS (ru_maxrss) of the measuring process (the four sources, SQLite, the "
        f"papers): **{summary['peak_mib']:,.0f} MiB**; largest fake process (each fake runs "
        f"in its own process with its data): {summary['fake_peak_mib']:,} MiB",
        f"* X posts read (billed): **{summary['x_reads']:,}**; 429 answers from FakeX: "
        f"{summary['x_rate_limited']}",
        "",
        "Source reports:",
        "",
        *[f"* {sentence}" for sentence in summary["reports"]],  # type: ignore[attr-defined]
        "",
    ]
    text = "\n".join(lines)
    return text


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--papers", type=int, default=10_000)
    parser.add_argument("--out", type=Path, default=ROOT / "bench/results/signals_sweep.md")
    parser.add_argument(
        "--append", action="store_true", help="add this run's section to the results file"
    )
    args = parser.parse_args()
    command = ".venv/bin/python bench/bench_signals_sweep.py " + " ".join(sys.argv[1:])
    rows, summary = run(args.papers)
    section = write(args.papers, command.strip(), rows, summary)
    print(section)
    header = HEADER
    existing = args.out.read_text() if args.append and args.out.exists() else header
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(existing.rstrip("\n") + "\n\n" + section)


if __name__ == "__main__":
    main()
