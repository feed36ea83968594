"""What the multi-process test and the scale-out benchmark share: a schema, a seeded day due
now, `hotpapers bot run` processes pointed at the fake Discord, and reading the fake's history
as (channel, paper) deliveries. No tests here."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from sqlalchemy import Engine, text
from sqlmodel import SQLModel

from hotpapers.arxiv.calendar import announced_at
from hotpapers.cluster import queue
from hotpapers.delivery._schedule import SETTLE, due_at, open_listings
from hotpapers.fakes.discord import FakeDiscord
from hotpapers.storage import migrate
from hotpapers.storage.db import make_engine, transaction
from hotpapers.storage.models import GuildSettings, SocialPost, Subscription
from hotpapers.storage.records import PaperRecord
from hotpapers.storage.store import record_announcements, upsert_papers

REPO = Path(__file__).resolve().parents[2]
GUILD = 2000
FIRST_CHANNEL = 5000
CATEGORIES = ["cs.LG"]
SUBMITTED = datetime(2026, 11, 20, tzinfo=UTC)


def fresh_schema(url: str) -> None:
    """An empty database at `url`, migrated to the current schema (as `hotpapers` would)."""
    import hotpapers.storage.models  # noqa: F401  (registers the tables)

    engine = make_engine(url)
    SQLModel.metadata.drop_all(engine)
    with engine.begin() as connection:
        connection.execute(text("DROP TABLE IF EXISTS alembic_version"))
    engine.dispose()
    migrate.upgrade(url)


def channel_ids(count: int) -> list[int]:
    return [FIRST_CHANNEL + n for n in range(count)]


def make_fake(channels: int, **options: object) -> FakeDiscord:
    """A fake Discord whose one server has `channels` text channels."""
    names = {channel: f"papers-{channel}" for channel in channel_ids(channels)}
    return FakeDiscord(channels=names, **options)  # type: ignore[arg-type]


def paper_ids(papers: int) -> list[str]:
    return [f"2611.{9000 + n:05d}" for n in range(papers)]


@dataclass
class Seeded:
    listing_date: date
    targets: list[str]
    papers: list[str]
    queued_by_test: bool  # no listing open at the real time: the test queued the tasks


def seed(engine: Engine, channels: int, papers: int, now: datetime) -> Seeded:
    """`papers` hot papers on a listing and `channels` channels subscribed to them, due now.

    The processes run on the real clock, so the listing is the one open now and the server's
    post time is set to make it due. On a weekend or holiday no listing is open: the day is
    then queued here directly, as the leader would have done.
    """
    days = open_listings(now)
    day = days[0] if days else date(2026, 11, 23)
    ready = announced_at(day) + SETTLE
    post_time = (ready + timedelta(seconds=59)).astimezone(UTC).strftime("%H:%M")
    due_now = bool(days) and due_at(day, "UTC", post_time) <= now
    ids = paper_ids(papers)
    records = [
        PaperRecord(
            arxiv_id=arxiv_id, version=1, title=f"Scale-out paper {n}", abstract="Fan-out.",
            authors=("Ada Lovelace",), categories=tuple(CATEGORIES), primary_category="cs.LG",
            submitted=SUBMITTED, updated=SUBMITTED,
        )
        for n, arxiv_id in enumerate(ids)
    ]  # fmt: skip
    targets = [f"channel:{channel}" for channel in channel_ids(channels)]
    with transaction(engine) as session:
        upsert_papers(session, records)
        record_announcements(session, day, records, CATEGORIES)
        for n, arxiv_id in enumerate(ids):
            session.add(
                SocialPost(
                    source="x", post_id=f"post-{arxiv_id}", paper_id=arxiv_id,
                    author_id=f"fan-{n}", likes=1000 - n, created_at=now - timedelta(hours=1),
                )
            )  # fmt: skip
        session.add(GuildSettings(guild_id=str(GUILD), timezone="UTC", post_time=post_time))
        for target in targets:
            session.add(
                Subscription(
                    target=target, guild_id=str(GUILD), channel_id=target.split(":")[1],
                    user_id="7", kind="category", value="cs.LG", top_n=papers,
                )
            )  # fmt: skip
    if not due_now:
        queue.enqueue(engine, targets, day, now)
    return Seeded(day, targets, ids, queued_by_test=not due_now)


def deliveries(fake: FakeDiscord) -> Counter[tuple[str, str]]:
    """(channel id, arXiv id) -> how many paper messages the fake holds, threads counted
    under the channel they were started in."""
    parent = {thread["id"]: thread["parent_id"] for thread in fake.threads}
    found: Counter[tuple[str, str]] = Counter()
    for message in fake.channel_messages:
        embeds = message.get("embeds") or []
        if embeds and embeds[0].get("url"):
            channel = parent.get(message["channel_id"], message["channel_id"])
            found[(channel, embeds[0]["url"].rsplit("/", 1)[1])] += 1
    return found


def headers(fake: FakeDiscord) -> Counter[str]:
    """Digest headers (threads started) per channel."""
    return Counter(thread["parent_id"] for thread in fake.threads)


@dataclass
class BotProcess:
    """One `hotpapers bot run` process with its own log file."""

    name: str
    log_path: Path
    process: asyncio.subprocess.Process | None = None
    started: float = 0.0
    env: dict[str, str] = field(default_factory=dict)

    async def start(self, env: dict[str, str], cwd: Path) -> None:
        self.env = env
        log = self.log_path.open("wb")
        self.process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "hotpapers", "bot", "run",
            env=env, cwd=cwd, stdout=log, stderr=log,
        )  # fmt: skip
        log.close()

    def log(self) -> str:
        return self.log_path.read_text(encoding="utf-8", errors="replace")

    def leads(self) -> bool:
        return f"{self.name} is now the leader" in self.log()

    def kill(self) -> None:
        """SIGKILL: no goodbye, no cleanup (its connections drop, its leases expire)."""
        if self.process is not None and self.process.returncode is None:
            self.process.send_signal(signal.SIGKILL)

    async def stop(self) -> int | None:
        if self.process is None:
            return None
        if self.process.returncode is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                await asyncio.wait_for(self.process.wait(), 15)
            except TimeoutError:
                self.process.kill()
                await self.process.wait()
        return self.process.returncode

    def cpu_seconds(self) -> float:
        """User + system CPU seconds so far (Linux /proc), 0 when gone."""
        if self.process is None:
            return 0.0
        try:
            fields = Path(f"/proc/{self.process.pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            return 0.0
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def process_env(
    fake: FakeDiscord,
    url: str,
    name: str,
    *,
    lock_key: int,
    lease_seconds: float = 3.0,
    poll_seconds: float = 0.5,
    rate: float = 45.0,
    workers: int = 50,
) -> dict[str, str]:
    """The environment of one bot process: the fake's URLs, the database, cluster timings."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("HOTPAPERS_")}
    env.update(
        {
            "PYTHONPATH": str(REPO),
            "HOTPAPERS_CONFIG": os.devnull,
            "HOTPAPERS_DATABASE__URL": url,
            "HOTPAPERS_DISCORD__TOKEN": "fake-token",
            "HOTPAPERS_DISCORD__API_URL": fake.api_url,
            "HOTPAPERS_DISCORD__GATEWAY_URL": fake.gateway_url,
            "HOTPAPERS_DISCORD__DELIVERY_WORKERS": str(workers),
            "HOTPAPERS_DISCORD__MAX_REQUESTS_PER_SECOND": str(rate),
            "HOTPAPERS_CLUSTER__PROCESS_NAME": name,
            "HOTPAPERS_CLUSTER__LEADER_LOCK_KEY": str(lock_key),
            "HOTPAPERS_CLUSTER__LEADER_POLL_SECONDS": str(poll_seconds),
            "HOTPAPERS_CLUSTER__TASK_LEASE_SECONDS": str(lease_seconds),
            "HOTPAPERS_OPS__PORT": "0",
            "HOTPAPERS_LOGGING__LEVEL": "INFO",
        }
    )
    return env


async def wait_for(
    check: Callable[[], bool], timeout: float, what: str, interval: float = 0.1
) -> None:
    """Poll `check()` until true; AssertionError naming `what` after `timeout` seconds."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not check():
        if loop.time() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(interval)
