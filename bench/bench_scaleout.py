"""Scale-out on PostgreSQL: one day's digest to many channels by one and by two bot processes,
and the time to fail over when the leader is killed.

    python bench/bench_scaleout.py --channels 5000 --papers 10 --processes 1 2
                                   [--failover-channels 1000] [--out bench/results/scaleout.md]

Each run gets a fresh private PostgreSQL database (migrated as `hotpapers` does), seeded with
one listing of `--papers` hot papers and `--channels` subscribed channels due now. This process
runs the fake Discord (`global_rate_limit=50, route_buckets=True`: ONE global limit of
50 requests/s for the bot token, shared by every process, and 5 messages / 5 s per channel or
thread) and starts N real `hotpapers bot run` processes (N = 1, 2) with
`discord.max_requests_per_second` = 45, the bot's budget, which the live processes split
between them by themselves (bot/pace.py). The leader queues the due targets; every process
drains the queue.

Reported per N: wall time from the first to the last request the fake saw, requests and
achieved requests/s, 429s by scope, paper messages (and whether every (channel, paper) pair
arrived exactly once), CPU seconds of each bot process and of this process (the fake), and
the load average sampled during the run.

Failover (`--failover-channels`): two processes with the default leader poll (5 s) and a
`--lease` (s) task lease; when delivery is under way the leader is SIGKILLed. Measured: kill ->
the survivor holds the advisory lock (polled in pg_locks), kill -> the survivor claims the
first task the dead leader held (its lease expired), and whether delivery stayed exactly-once.
The survivor keeps draining queued tasks all along: a work queue has no gap for those.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import resource
import sys
import time
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import Engine, create_engine, text  # noqa: E402
from sqlmodel import Session, col, func, select  # noqa: E402

from hotpapers.cluster import queue  # noqa: E402
from hotpapers.fakes.discord import FakeDiscord  # noqa: E402
from hotpapers.storage.db import make_engine  # noqa: E402
from hotpapers.storage.models import DeliveryTask  # noqa: E402
from tests.cluster.test_cluster_support import (  # noqa: E402
    BotProcess,
    deliveries,
    fresh_schema,
    headers,
    make_fake,
    process_env,
    seed,
)

ADMIN_URL = os.environ.get(
    "HOTPAPERS_TEST_PG_ADMIN", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)
PACE = 45.0


@dataclass
class RunResult:
    processes: int
    channels: int
    papers: int
    finished: bool = False
    wall: float = 0.0
    requests: int = 0
    global_429: int = 0
    route_429: int = 0
    messages: int = 0
    exactly_once: bool = False
    extra_headers: int = 0
    cpu: dict[str, float] = field(default_factory=dict)
    fake_cpu: float = 0.0
    load: list[float] = field(default_factory=list)
    share: dict[str, int] = field(default_factory=dict)  # tasks completed per process

    @property
    def rate(self) -> float:
        return self.requests / self.wall if self.wall else 0.0


@dataclass
class FailoverResult:
    channels: int
    lease: float
    poll: float
    to_leader: float | None = None
    to_takeover: float | None = None
    exactly_once: bool = False
    finished: bool = False
    taken_over: int = 0
    rate_before: float = 0.0  # answered requests/s, both processes, the 20 s before the kill
    rate_after: float = 0.0  # the survivor alone, 10-40 s after the kill


def answered_rate(fake: FakeDiscord, start: float, end: float) -> float:
    """Requests/s the fake answered (not 429) between two perf_counter times."""
    log = fake.log or []
    return sum(1 for at, _, _, status in log if start <= at < end and status != 429) / (end - start)


@asynccontextmanager
async def private_database() -> AsyncIterator[str]:
    name = f"hp_bench_{uuid.uuid4().hex[:10]}"
    admin = create_engine(ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def load1() -> float:
    return float(Path("/proc/loadavg").read_text().split()[0])


def fake_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


async def until(check: Callable[[], bool], limit: float, interval: float = 0.5) -> bool:
    deadline = time.monotonic() + limit
    while not check():
        if time.monotonic() > deadline:
            return False
        await asyncio.sleep(interval)
    return True


def done_by(engine: Engine) -> dict[str, int]:
    """Tasks per state (a finished task no longer names its holder)."""
    return queue.counts(engine)


def exactly_once(fake: FakeDiscord, targets: list[str], papers: list[str]) -> bool:
    found = deliveries(fake)
    wanted = {(t.split(":")[1], p) for t in targets for p in papers}
    return set(found) == wanted and all(n == 1 for n in found.values())


async def fan_out(
    processes: int, channels: int, papers: int, limit: float, logs: Path
) -> RunResult:
    result = RunResult(processes, channels, papers)
    async with private_database() as url:
        fresh_schema(url)
        engine = make_engine(url)
        seeded = seed(engine, channels, papers, datetime.now(UTC))
        fake = make_fake(channels, global_rate_limit=50, route_buckets=True, keep_log=True)
        await fake.start()
        key = random.randint(1, 2**62)
        bots = [
            BotProcess(f"bench-{n}", logs / f"fanout-{processes}-{n}.log") for n in range(processes)
        ]
        cpu_before = fake_cpu()
        try:
            for bot in bots:
                env = process_env(
                    fake, url, bot.name, lock_key=key, rate=PACE,
                    lease_seconds=300, poll_seconds=5.0,
                )  # fmt: skip
                await bot.start(env, logs)

            def finished() -> bool:
                result.load.append(load1())
                for bot in bots:
                    result.cpu[bot.name] = bot.cpu_seconds() or result.cpu.get(bot.name, 0.0)
                return done_by(engine) == {"done": channels}

            result.finished = await until(finished, limit, interval=2.0)
        finally:
            for bot in bots:
                await bot.stop()
            await fake.close()
        result.fake_cpu = fake_cpu() - cpu_before
        stats = fake.stats
        # The fan-out window: the first to the last POST (logins and cache fills excluded).
        posts = [at for at, method, _path, _status in fake.log or [] if method == "POST"]
        result.wall = max(posts) - min(posts) if posts else 0.0
        result.requests = sum(1 for at, *_ in fake.log or [] if posts and min(posts) <= at)
        result.global_429, result.route_429 = stats.global_429, stats.route_429
        result.messages = sum(deliveries(fake).values())
        result.exactly_once = exactly_once(fake, seeded.targets, seeded.papers)
        result.extra_headers = sum(n - 1 for n in headers(fake).values() if n > 1)
        for bot in bots:
            result.share[bot.name] = bot.log().count(" sent, ")
        engine.dispose()
    return result


def lock_holder(engine: Engine, key: int) -> int | None:
    """The backend pid holding the leader's advisory lock, if any."""
    with engine.connect() as connection:
        return connection.execute(
            text(
                "SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND granted"
                " AND ((classid::bigint << 32) | objid::bigint) = :key"
            ),
            {"key": key},
        ).scalar()


def takeovers(engine: Engine) -> int:
    with Session(engine) as session:
        return int(session.exec(select(func.count()).where(col(DeliveryTask.attempts) > 0)).one())


async def failover(
    channels: int, papers: int, lease: float, limit: float, logs: Path, rate: float = PACE
) -> FailoverResult:
    poll = 5.0
    result = FailoverResult(channels, lease, poll)
    async with private_database() as url:
        fresh_schema(url)
        engine = make_engine(url)
        seeded = seed(engine, channels, papers, datetime.now(UTC))
        fake = make_fake(channels, global_rate_limit=50, route_buckets=True, keep_log=True)
        await fake.start()
        key = random.randint(1, 2**62)
        bots = [BotProcess(f"fail-{n}", logs / f"failover-{n}.log") for n in range(2)]
        try:
            for bot in bots:
                env = process_env(
                    fake, url, bot.name, lock_key=key, rate=rate,
                    lease_seconds=lease, poll_seconds=poll,
                )  # fmt: skip
                await bot.start(env, logs)
                if bot is bots[0]:
                    await until(bot.leads, 60, 0.2)
            leader = bots[0]
            total = channels * papers
            await until(lambda: sum(deliveries(fake).values()) >= total // 4, limit)
            old = lock_holder(engine, key)
            leader.kill()
            killed = time.monotonic()
            killed_at = time.perf_counter()

            def leads() -> bool:
                holder = lock_holder(engine, key)
                return holder is not None and holder != old

            if await until(leads, 60, 0.05):
                result.to_leader = time.monotonic() - killed
            if await until(lambda: takeovers(engine) > 0, lease * 3 + 60, 0.05):
                result.to_takeover = time.monotonic() - killed
            result.finished = await until(lambda: done_by(engine) == {"done": channels}, limit, 1.0)
            result.rate_before = answered_rate(fake, killed_at - 20, killed_at)
            result.rate_after = answered_rate(fake, killed_at + 10, killed_at + 40)
        finally:
            for bot in bots:
                bot.kill() if bot is bots[0] else await bot.stop()
            await fake.close()
        result.exactly_once = exactly_once(fake, seeded.targets, seeded.papers)
        result.taken_over = takeovers(engine)
        engine.dispose()
    return result


def row(*cells: object) -> str:
    return "| " + " | ".join(str(cell) for cell in cells) + " |"


def yes(flag: bool) -> str:
    return "yes" if flag else "NO"


FAN_OUT_HEAD = (
    "processes", "channels × papers", "finished", "wall (first→last POST)", "requests",
    "req/s", "429 global / route", "paper messages", "exactly once", "CPU s per bot process",
    "CPU s fake", "load avg (min–max)",
)  # fmt: skip
FAILOVER_HEAD = (
    "kill → survivor holds the leader lock", "kill → first of the dead leader's tasks taken over",
    "tasks taken over", "all done", "exactly once",
    "req/s: 20 s before the kill (2 processes)", "req/s: 10-40 s after (the survivor)",
)  # fmt: skip


def render(runs: list[RunResult], fail: FailoverResult | None, started: str) -> str:
    lines = [
        "# Scale-out on PostgreSQL: fan-out by 1 and 2 processes, and fail-over",
        "",
        f"`.venv/bin/python bench/bench_scaleout.py {' '.join(sys.argv[1:])}` — started {started}.",
        "Fake Discord: ONE global limit of 50 requests/s for the bot token across processes,",
        "5 messages / 5 s per channel or thread. The processes split the bot's 45 requests/s.",
        "",
        row(*FAN_OUT_HEAD),
        row(*["---"] * len(FAN_OUT_HEAD)),
    ]
    for run in runs:
        lines.append(
            row(
                run.processes,
                f"{run.channels} × {run.papers}",
                yes(run.finished),
                f"{run.wall:.0f} s",
                f"{run.requests:,}",
                f"{run.rate:.1f}",
                f"{run.global_429} / {run.route_429}",
                f"{run.messages:,}",
                yes(run.exactly_once),
                ", ".join(f"{v:.0f}" for v in run.cpu.values()),
                f"{run.fake_cpu:.0f}",
                f"{min(run.load, default=0):.1f}–{max(run.load, default=0):.1f}",
            )
        )
    for run in runs:
        share = ", ".join(f"{name} {n}" for name, n in run.share.items())
        lines.append(f"\n{run.processes} process(es): targets delivered per process: {share}.")
    if fail is not None:
        lines += [
            "",
            "## Fail-over",
            "",
            f"Two processes, {fail.channels} channels; leader poll {fail.poll:.0f} s, task lease "
            f"{fail.lease:.0f} s; the leader SIGKILLed with a quarter of the messages out.",
            "",
            row(*FAILOVER_HEAD),
            row(*["---"] * len(FAILOVER_HEAD)),
            row(
                seconds(fail.to_leader),
                seconds(fail.to_takeover),
                fail.taken_over,
                yes(fail.finished),
                yes(fail.exactly_once),
                f"{fail.rate_before:.1f}",
                f"{fail.rate_after:.1f}",
            ),
        ]
    return "\n".join(lines) + "\n"


def seconds(value: float | None) -> str:
    return f"{value:.2f} s" if value is not None else "not reached"


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--channels", type=int, default=5000)
    parser.add_argument("--papers", type=int, default=10)
    parser.add_argument("--processes", type=int, nargs="*", default=[1, 2])
    parser.add_argument("--failover-channels", type=int, default=1000, help="0: skip")
    parser.add_argument("--lease", type=float, default=30.0, help="task lease (s), fail-over run")
    parser.add_argument(
        "--failover-pace",
        type=float,
        default=PACE,
        help="max_requests_per_second of each fail-over process (22.5: code before bot/pace.py)",
    )
    parser.add_argument("--max-seconds", type=float, default=2400.0, help="per run")
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args()
    logs = ROOT / "bench" / "data" / "scaleout"
    logs.mkdir(parents=True, exist_ok=True)
    started = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    runs: list[RunResult] = []
    fail: FailoverResult | None = None
    for count in args.processes:
        run = await fan_out(count, args.channels, args.papers, args.max_seconds, logs)
        runs.append(run)
        print(render(runs, None, started), flush=True)
    if args.failover_channels:
        fail = await failover(
            args.failover_channels,
            args.papers,
            args.lease,
            args.max_seconds,
            logs,
            args.failover_pace,
        )
    report = render(runs, fail, started)
    print(report)
    if args.out is not None:
        args.out.write_text(report, encoding="utf-8")


if __name__ == "__main__":
    asyncio.run(main())
