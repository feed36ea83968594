"""Fan-out of one day's digest to many channels against a rate-limiting fake Discord.

    python bench/bench_fanout.py --channels 1000 --papers 10 [--mode product|sequential]
                                 [--workers 50] [--pace 45] [--max-seconds 600]

The fake (FakeDiscord with `global_rate_limit=50, route_buckets=True`: 50 requests/s per bot
token, 5 messages / 5 s per channel or thread, real X-RateLimit-* headers) runs in a child
process; its GUILD_CREATE lists all the channels. This process runs the real bot (gateway
login, so channels come from the cache) and delivers through `DiscordCourier` and
`hotpapers.delivery.deliver`:

* `--mode product`: the product path as the bot runs it: `deliver(..., workers=N)` (settings
  `discord.delivery_workers`, `--workers`) with the bot's `RequestPacer` at
  `discord.max_requests_per_second` (`--pace`) on every REST request;
* `--mode sequential`: the same with one worker (one target at a time: how the core delivered
  before), the peer for comparison.

Bounded: the delivery is cancelled after --max-seconds and what got through is reported. The
database is a fresh SQLite file under bench/data/. RSS is this (the bot's) process's: idle
after READY, and the peak sampled every 50 ms during the fan-out. Also during the fan-out:
the event loop's lag (how late a 50-ms sleep wakes: a blocked loop would stall the gateway
heartbeat), the heartbeats the fake received (it asks for one every 5 s), CPU seconds of the
bot and of the fake process, and the load average.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import multiprocessing
import multiprocessing.connection
import os
import sys
import threading
import time
from collections import Counter
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from hotpapers.fakes.discord import FakeDiscord  # noqa: E402

DAY = date(2026, 11, 20)
NOW = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)
GUILD = 2000
FIRST_CHANNEL = 500_000


# -- the fake, in a child process -------------------------------------------------------------


class FanoutFake(FakeDiscord):
    """FakeDiscord with many text channels and a summary of what each channel received."""

    def summary(self, expected: list[str]) -> dict[str, Any]:
        thread_parent = {t["id"]: t["parent_id"] for t in self.threads}
        headers: Counter[str] = Counter()
        papers: dict[str, list[str]] = {}
        for message in self.channel_messages:
            channel = message["channel_id"]
            if channel in thread_parent:
                url = message["embeds"][0]["url"] if message["embeds"] else ""
                papers.setdefault(thread_parent[channel], []).append(url.rsplit("/", 1)[-1])
            else:
                headers[channel] += 1
        channels = [str(c) for c in self.channels if c >= FIRST_CHANNEL]
        exact = sum(1 for c in channels if sorted(papers.get(c, [])) == sorted(expected))
        duplicates = sum(
            1 for c in channels if len(papers.get(c, [])) != len(set(papers.get(c, [])))
        )
        log = self.log or []
        ok = sorted(t for t, _m, _p, status in log if status != 429)
        # Most requests (answered or not) the fake saw in any one-second window.
        times = sorted(t for t, *_ in log)
        busiest = 0
        start = 0
        for end, moment in enumerate(times):
            while times[start] <= moment - 1.0:
                start += 1
            busiest = max(busiest, end - start + 1)
        kinds: Counter[str] = Counter()
        for _t, method, path, status in log:
            if status == 429:
                continue
            if path.endswith("/threads"):
                kinds["create thread"] += 1
            elif method == "POST" and path.endswith("/messages"):
                kinds["post message"] += 1
            else:
                kinds[f"{method} other"] += 1
        return {
            "requests": self.stats.requests,
            "global_429": self.stats.global_429,
            "route_429": self.stats.route_429,
            "first": self.stats.first,
            "last": self.stats.last,
            "answered_first": ok[0] if ok else None,
            "answered_last": ok[-1] if ok else None,
            "answered": len(ok),
            "busiest_second": busiest,
            "kinds": dict(kinds),
            "channels": len(channels),
            "channels_with_header": sum(1 for c in channels if headers[c] == 1),
            "channels_exact": exact,
            "channels_with_duplicates": duplicates,
            "papers_posted": sum(len(v) for v in papers.values()),
            "cpu_seconds": time.process_time(),
            "heartbeats": self.heartbeats,
        }


def serve_fake(
    conn: multiprocessing.connection.Connection, channels: int, limit: int, expected_ids: list[str]
) -> None:
    async def main() -> None:
        names = {FIRST_CHANNEL + i: f"papers-{i}" for i in range(channels)}
        fake = FanoutFake(
            guild_id=GUILD,
            channels=names,
            global_rate_limit=limit,
            route_buckets=True,
            keep_log=True,
            heartbeat_interval_ms=5000,
        )
        await fake.start()
        conn.send((fake.api_url, fake.gateway_url))
        loop = asyncio.get_running_loop()
        await loop.run_in_executor(None, conn.recv)  # "stop"
        conn.send(fake.summary(expected_ids))
        await fake.close()

    asyncio.run(main())


# -- the database --------------------------------------------------------------------------------


def make_database(path: Path, channels: int, papers: int) -> list[str]:
    """A fresh SQLite database: `papers` + 2 ranked papers in cs.LG on DAY, every channel
    subscribed to cs.LG (top 10 by default: the top `papers` are delivered)."""
    from sqlmodel import SQLModel

    import hotpapers.storage.models  # noqa: F401
    from hotpapers.storage.db import make_engine, transaction
    from hotpapers.storage.models import SocialPost, Subscription
    from hotpapers.storage.records import PaperRecord
    from hotpapers.storage.store import record_announcements, upsert_papers

    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    engine = make_engine(f"sqlite:///{path}")
    SQLModel.metadata.create_all(engine)
    records = [
        PaperRecord(
            arxiv_id=f"2611.{10100 + n:05d}",
            version=1,
            title=f"Paper {n}: scaling something in the fan-out benchmark",
            abstract=("We study how a digest reaches many channels at once. " * 12).strip(),
            authors=("Ada Lovelace", "Philipp Krähenbühl", f"Author {n}"),
            categories=("cs.LG", "cs.AI"),
            primary_category="cs.LG",
            submitted=datetime(2026, 11, 19, tzinfo=UTC),
        )
        for n in range(papers + 2)
    ]
    with transaction(engine) as session:
        upsert_papers(session, records)
        record_announcements(session, DAY, records, ["cs.LG"])
        for n, item in enumerate(records):
            session.add(
                SocialPost(
                    source="x",
                    post_id=f"{item.arxiv_id}-1",
                    paper_id=item.arxiv_id,
                    author_id=f"fan-{n}",
                    likes=1000 - 10 * n,
                    created_at=datetime(2026, 11, 21, tzinfo=UTC),
                    taken_at=datetime(2026, 11, 22, tzinfo=UTC),
                )
            )
        for i in range(channels):
            channel = str(FIRST_CHANNEL + i)
            session.add(
                Subscription(
                    target=f"channel:{channel}",
                    guild_id=str(GUILD),
                    channel_id=channel,
                    user_id="7",
                    kind="category",
                    value="cs.LG",
                    top_n=papers,
                )
            )
    engine.dispose()
    return [r.arxiv_id for r in records[:papers]]


# -- the bot -----------------------------------------------------------------------------------


class RssSampler:
    """Peak RSS of this process, sampled every 50 ms in a thread."""

    def __init__(self) -> None:
        import psutil

        self._process = psutil.Process()
        self.peak = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.wait(0.05):
            self.peak = max(self.peak, self._process.memory_info().rss)

    def __enter__(self) -> RssSampler:
        self.peak = self._process.memory_info().rss
        self._thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._stop.set()
        self._thread.join(1)


class LoopWatch:
    """How late the event loop wakes a 50-ms sleep: its lag."""

    def __init__(self) -> None:
        self.lags: list[float] = []
        self._task: asyncio.Task[None] | None = None

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            before = loop.time()
            await asyncio.sleep(0.05)
            self.lags.append(loop.time() - before - 0.05)

    def __enter__(self) -> LoopWatch:
        self._task = asyncio.get_running_loop().create_task(self._run())
        return self

    def __exit__(self, *_exc: object) -> None:
        if self._task is not None:
            self._task.cancel()

    def summary(self) -> tuple[float, float]:
        """(p99, max) lag in ms."""
        if not self.lags:
            return 0.0, 0.0
        ordered = sorted(self.lags)
        return ordered[int(0.99 * (len(ordered) - 1))] * 1000, ordered[-1] * 1000


async def run_bot(
    api_url: str,
    gateway_url: str,
    db_path: Path,
    mode: str,
    workers: int,
    max_seconds: float,
    rate: float,
) -> dict[str, Any]:
    import aiohttp
    import psutil
    from sqlmodel import Session

    from bot.client import HotpapersBot
    from bot.courier import DiscordCourier
    from bot.pacer import pacer_for
    from hotpapers.config import DiscordSettings, Settings
    from hotpapers.delivery import deliver, plan
    from hotpapers.storage.db import make_engine

    engine = make_engine(f"sqlite:///{db_path}")
    settings = Settings(
        discord=DiscordSettings(
            token="fake-token",  # type: ignore[arg-type]
            api_url=api_url,
            gateway_url=gateway_url,
            delivery_workers=workers if mode == "product" else 1,
            max_requests_per_second=rate,
        )
    )
    out: dict[str, Any] = {}
    async with aiohttp.ClientSession() as http:
        client = HotpapersBot(
            settings,
            engine,
            http,
            clock=lambda: NOW,
            guild_ready_timeout=2.0,
            schedule_deliveries=False,
        )
        pacer = pacer_for(client)  # before login, as the bot does it
        task = asyncio.create_task(client.start("fake-token"))
        try:
            await asyncio.wait_for(client.wait_until_ready(), 60)
            await asyncio.sleep(2.0)
            out["cached_channels"] = sum(1 for _ in client.get_all_channels())
            out["rss_idle_mb"] = psutil.Process().memory_info().rss / 1e6
            with Session(engine) as session:
                plans = plan(session, settings, DAY, NOW)
            out["targets"] = len(plans)
            courier = DiscordCourier(client)
            workers_used = settings.discord.delivery_workers
            job = deliver(engine, courier, plans, DAY, NOW, workers=workers_used)
            job_task = asyncio.ensure_future(job)
            load_before = Path("/proc/loadavg").read_text().split()[:3]
            cpu_before = time.process_time()
            started = time.monotonic()
            with RssSampler() as sampler, LoopWatch() as watch:
                done, _pending = await asyncio.wait([job_task], timeout=max_seconds)
                out["finished"] = bool(done)
                if not done:
                    job_task.cancel()
                    with contextlib.suppress(asyncio.CancelledError):
                        await job_task
            out["wall"] = time.monotonic() - started
            out["cpu_seconds"] = time.process_time() - cpu_before
            out["load"] = (load_before, Path("/proc/loadavg").read_text().split()[:3])
            out["rss_peak_mb"] = sampler.peak / 1e6
            out["lag_p99_ms"], out["lag_max_ms"] = watch.summary()
            out["pacer"] = (pacer.requests, pacer.global_429, pacer.route_429)
            outcomes: Counter[str] = Counter()
            if out["finished"]:
                report = job_task.result()
                outcomes.update(target.outcome for target in report.targets)
                out["sent"] = report.sent
            else:
                out["sent"] = "n/a (cancelled)"
            out["outcomes"] = dict(outcomes)
        finally:
            await client.close()
            await asyncio.wait_for(task, 30)
            engine.dispose()
    return out


def main() -> None:
    from bench_bot_latency import machine

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--channels", type=int, default=1000)
    parser.add_argument("--papers", type=int, default=10)
    parser.add_argument("--mode", choices=["product", "sequential"], default="product")
    parser.add_argument("--workers", type=int, default=50, help="targets in flight (product)")
    parser.add_argument("--global-limit", type=int, default=50)
    parser.add_argument("--max-seconds", type=float, default=600.0)
    parser.add_argument("--pace", type=float, default=45.0, help="the bot's requests/s")
    args = parser.parse_args()

    db_path = ROOT / "bench" / "data" / f"fanout_{args.channels}_{os.getpid()}.db"
    db_path.parent.mkdir(parents=True, exist_ok=True)
    expected = make_database(db_path, args.channels, args.papers)
    context = multiprocessing.get_context("spawn")
    parent, child = context.Pipe()
    fake = context.Process(
        target=serve_fake, args=(child, args.channels, args.global_limit, expected), daemon=True
    )
    fake.start()
    try:
        if not parent.poll(60):
            raise SystemExit("the fake did not start")
        api_url, gateway_url = parent.recv()
        bot = asyncio.run(
            run_bot(
                api_url,
                gateway_url,
                db_path,
                args.mode,
                args.workers,
                args.max_seconds,
                args.pace,
            )
        )
        parent.send("stop")
        if not parent.poll(120):
            raise SystemExit("the fake did not report")
        seen = parent.recv()
    finally:
        fake.join(30)
        if fake.is_alive():
            fake.terminate()
        for suffix in ("", "-wal", "-shm"):
            Path(f"{db_path}{suffix}").unlink(missing_ok=True)
    span = (seen["answered_last"] or 0) - (seen["answered_first"] or 0)
    rate = seen["answered"] / span if span > 0 else 0.0
    workers = args.workers if args.mode == "product" else 1
    mode = f"{args.mode}, {workers} worker(s), paced at {args.pace:g}/s"
    print(machine())
    print(
        f"mode {mode}: {args.channels} channels × {args.papers} papers, global limit "
        f"{args.global_limit}/s; finished: {bot['finished']} in {bot['wall']:.1f} s"
    )
    print(f"bot: targets planned {bot['targets']}, outcomes {bot['outcomes']}, sent {bot['sent']}")
    requests, global_429, route_429 = bot["pacer"]
    print(f"bot's pacer: requests {requests}, 429s global {global_429}, route {route_429}")
    print(
        f"fake: requests {seen['requests']} (answered {seen['answered']}, global 429 "
        f"{seen['global_429']}, route 429 {seen['route_429']}); by kind {seen['kinds']}"
    )
    done = seen["channels_with_header"]
    print(
        f"requests per channel (answered / channels with a header): "
        f"{seen['answered'] / max(done, 1):.2f}"
    )
    print(
        f"achieved {rate:.1f} answered requests/s = {rate / args.global_limit:.0%} of "
        f"{args.global_limit}/s (first to last answered request, {span:.1f} s); busiest 1-s "
        f"window {seen['busiest_second']} requests"
    )
    print(
        f"channels: {seen['channels']}, with one header {done}, with exactly the "
        f"{args.papers} papers once {seen['channels_exact']}, with duplicates "
        f"{seen['channels_with_duplicates']}; paper messages {seen['papers_posted']}"
    )
    print(
        f"bot RSS: idle after READY {bot['rss_idle_mb']:.0f} MB "
        f"({bot['cached_channels']} channels cached), peak during fan-out "
        f"{bot['rss_peak_mb']:.0f} MB"
    )
    print(
        f"event loop lag during the fan-out: p99 {bot['lag_p99_ms']:.1f} ms, max "
        f"{bot['lag_max_ms']:.1f} ms; gateway heartbeats the fake received (asked for every "
        f"5 s) {seen['heartbeats']}"
    )
    print(
        f"CPU seconds: bot {bot['cpu_seconds']:.1f} during the fan-out, fake process "
        f"{seen['cpu_seconds']:.1f} in all; load average before {' '.join(bot['load'][0])}, "
        f"after {' '.join(bot['load'][1])}"
    )
    if not bot["finished"] and done:
        projected = bot["wall"] * args.channels / done
        print(f"projected for all {args.channels} channels at this pace: {projected:.0f} s")


if __name__ == "__main__":
    main()
