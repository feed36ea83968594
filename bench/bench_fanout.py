"""Fan-out of one day's digest to many channels against a rate-limiting fake Discord.

    python bench/bench_fanout.py --channels 1000 --papers 10 [--mode sequential|concurrent]
                                 [--concurrency 25] [--max-seconds 600]

The fake (FakeDiscord with `global_rate_limit=50, route_buckets=True`: 50 requests/s per bot
token, 5 messages / 5 s per channel or thread, real X-RateLimit-* headers) runs in a child
process; its GUILD_CREATE lists all the channels. This process runs the real bot (gateway
login, so channels come from the cache) and delivers through `DiscordCourier` and
`hotpapers.delivery.deliver`:

* `--mode sequential`: the core's `deliver(...)` as it is (one target at a time);
* `--mode concurrent`: the same `deliver(...)` called for one target at a time by
  `--concurrency` workers (bench-only; the core is unchanged), to show what the limit allows;
  `--pace N` adds a client-side limiter (at most N request starts in any second, interaction
  routes exempt) in front of discord.py's HTTP client, since discord.py only reacts to global
  429s (each of which counts against Discord's invalid-request limit).

Bounded: the delivery is cancelled after --max-seconds and what got through is reported. The
database is a fresh SQLite file under bench/data/. RSS is this (the bot's) process's: idle
after READY, and the peak sampled every 50 ms during the fan-out.
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import multiprocessing.connection
import os
import sys
import threading
import time
from collections import Counter, deque
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

    import hotpapers.models  # noqa: F401
    from hotpapers.db import make_engine, transaction
    from hotpapers.models import SocialPost, Subscription
    from hotpapers.records import PaperRecord
    from hotpapers.store import record_announcements, upsert_papers

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


class Pacer:
    """At most `rate` request starts in any one-second window (a sliding window)."""

    def __init__(self, rate: int) -> None:
        self.rate = rate
        self.starts: deque[float] = deque()
        self.lock = asyncio.Lock()

    async def wait(self) -> None:
        async with self.lock:
            while True:
                now = time.monotonic()
                while self.starts and self.starts[0] <= now - 1.0:
                    self.starts.popleft()
                if len(self.starts) < self.rate:
                    self.starts.append(now)
                    return
                await asyncio.sleep(self.starts[0] + 1.0 - now)


def pace(client: Any, rate: int) -> None:
    """Put a Pacer in front of the client's REST calls (bench-only)."""
    pacer = Pacer(rate)
    original = client.http.request

    async def paced(route: Any, **kwargs: Any) -> Any:
        if not route.path.startswith(("/interactions", "/webhooks")):
            await pacer.wait()
        return await original(route, **kwargs)

    client.http.request = paced


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


async def run_bot(
    api_url: str,
    gateway_url: str,
    db_path: Path,
    mode: str,
    concurrency: int,
    max_seconds: float,
    rate: int,
) -> dict[str, Any]:
    import aiohttp
    import psutil
    from sqlmodel import Session

    from bot.client import HotpapersBot
    from bot.courier import DiscordCourier
    from hotpapers.config import DiscordSettings, Settings
    from hotpapers.db import make_engine
    from hotpapers.delivery import DeliveryReport, deliver, plan

    engine = make_engine(f"sqlite:///{db_path}")
    settings = Settings(
        discord=DiscordSettings(
            token="fake-token",  # type: ignore[arg-type]
            api_url=api_url,
            gateway_url=gateway_url,
        )
    )
    out: dict[str, Any] = {}
    async with aiohttp.ClientSession() as http:
        client = HotpapersBot(settings, engine, http, clock=lambda: NOW, guild_ready_timeout=2.0)
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
            if rate:
                pace(client, rate)
            reports: list[DeliveryReport] = []

            async def sequential() -> None:
                reports.append(DeliveryReport(DAY))
                report = await deliver(engine, courier, plans, DAY, NOW)
                reports[0] = report

            async def concurrent() -> None:
                queue = list(reversed(plans))

                async def worker() -> None:
                    while queue:
                        one = queue.pop()
                        reports.append(await deliver(engine, courier, [one], DAY, NOW))

                await asyncio.gather(*(worker() for _ in range(concurrency)))

            started = time.monotonic()
            with RssSampler() as sampler:
                job = sequential() if mode == "sequential" else concurrent()
                try:
                    await asyncio.wait_for(job, max_seconds)
                    out["finished"] = True
                except TimeoutError:
                    out["finished"] = False
            out["wall"] = time.monotonic() - started
            out["rss_peak_mb"] = sampler.peak / 1e6
            outcomes: Counter[str] = Counter()
            sent = 0
            for report in reports:
                for target in report.targets:
                    outcomes[target.outcome] += 1
                sent += report.sent
            out["outcomes"] = dict(outcomes)
            out["sent"] = sent
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
    parser.add_argument("--mode", choices=["sequential", "concurrent"], default="sequential")
    parser.add_argument("--concurrency", type=int, default=25)
    parser.add_argument("--global-limit", type=int, default=50)
    parser.add_argument("--max-seconds", type=float, default=600.0)
    parser.add_argument("--pace", type=int, default=0, help="client-side requests/s; 0: off")
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
                args.concurrency,
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
    mode = args.mode + (f" ×{args.concurrency}" if args.mode == "concurrent" else "")
    mode += f", paced at {args.pace}/s" if args.pace else ""
    print(machine())
    print(
        f"mode {mode}: {args.channels} channels × {args.papers} papers, global limit "
        f"{args.global_limit}/s; finished: {bot['finished']} in {bot['wall']:.1f} s"
    )
    print(f"bot: targets planned {bot['targets']}, outcomes {bot['outcomes']}, sent {bot['sent']}")
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
    if not bot["finished"] and done:
        projected = bot["wall"] * args.channels / done
        print(f"projected for all {args.channels} channels at this pace: {projected:.0f} s")


if __name__ == "__main__":
    main()
