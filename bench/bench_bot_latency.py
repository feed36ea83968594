"""Latency of the bot's read commands: the real discord.py bot against FakeDiscord.

    python bench/bench_bot_latency.py --papers 100000 --db sqlite|postgresql [--runs 300]
                                      [--pg-admin URL] [--max-seconds 1200]

The database (SQLite bench/data/bot_N.db, PostgreSQL `hp_bot_N`) is built once and reused:
the generated snapshot bench/data/snapshot_N.jsonl (bench/gen_snapshot.py, made if missing)
imported with `hotpapers.arxiv.importer.import_snapshot`, then one listing (the newest 1,500
papers, announced on 2026-11-20 in their configured categories) and social posts for 600 of
them so /hot has a ranking. The bot and the fake run in this process, as in the tests.

Measured per invocation (sequential): from the fake sending INTERACTION_CREATE to the bot's
interaction callback reaching the fake ("callback"), and to the visible answer ("answer",
the same unless the bot deferred and edited later). Arguments are drawn with a fixed seed.
Each command gets an equal share of --max-seconds; fewer runs are reported when it runs out.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import os
import platform
import random
import statistics
import sys
import time
import unicodedata
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import aiohttp  # noqa: E402
import discord  # noqa: E402
import psutil  # noqa: E402
from sqlalchemy import Engine, bindparam, create_engine, delete, insert, text  # noqa: E402
from sqlmodel import SQLModel, col  # noqa: E402

import hotpapers.storage.models  # noqa: E402, F401  (the tables, and the full-text index with them)
from bot.client import HotpapersBot  # noqa: E402
from hotpapers.arxiv.importer import import_snapshot  # noqa: E402
from hotpapers.config import DiscordSettings, Settings  # noqa: E402
from hotpapers.fakes.discord import FakeDiscord  # noqa: E402
from hotpapers.storage.db import make_engine  # noqa: E402
from hotpapers.storage.models import Announcement, SocialPost  # noqa: E402

DATA = ROOT / "bench" / "data"
PG_ADMIN = os.environ.get(
    "HOTPAPERS_BENCH_PG_ADMIN", "postgresql://postgres@127.0.0.1:5432/postgres"
)
LISTING = date(2026, 11, 20)
NOW = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)
LISTED = 1500  # papers announced on LISTING
WITH_POSTS = 600  # of which this many have social posts


def machine() -> str:
    mem_kib = 0
    with open("/proc/meminfo") as meminfo:
        for line in meminfo:
            if line.startswith("MemTotal:"):
                mem_kib = int(line.split()[1])
    return (
        f"{os.cpu_count()} CPUs (nproc), {mem_kib / 1024 / 1024:.1f} GiB RAM, "
        f"Python {platform.python_version()}, {platform.platform()}"
    )


def rss_mb() -> float:
    return psutil.Process().memory_info().rss / 1e6


# -- the database ----------------------------------------------------------------------------


def _admin(admin_url: str) -> Engine:
    url = admin_url.replace("postgresql://", "postgresql+psycopg://", 1)
    return create_engine(url, isolation_level="AUTOCOMMIT")


def database_url(db: str, papers: int, admin_url: str) -> str:
    if db == "sqlite":
        return f"sqlite:///{DATA / f'bot_{papers}.db'}"
    return admin_url.rsplit("/", 1)[0] + f"/hp_bot_{papers}"


def _ready_marker(db: str, papers: int) -> Path:
    return DATA / f"bot_{papers}.{db}.ready"


def prepare_database(db: str, papers: int, admin_url: str) -> str:
    """The URL of a database with `papers` papers, a ranked listing and posts (built once)."""
    url = database_url(db, papers, admin_url)
    if _ready_marker(db, papers).exists():
        return url
    imported = DATA / f"bot_{papers}.{db}.imported"
    if imported.exists():
        engine = make_engine(url)
        add_listing(engine)
        engine.dispose()
        _ready_marker(db, papers).touch()
        return url
    DATA.mkdir(parents=True, exist_ok=True)
    snapshot = DATA / f"snapshot_{papers}.jsonl"
    if not snapshot.exists():
        print(f"generating {snapshot} ...", flush=True)
        script = ROOT / "bench" / "gen_snapshot.py"
        import subprocess

        subprocess.run([sys.executable, str(script), str(papers), str(snapshot)], check=True)
    if db == "sqlite":
        for suffix in ("", "-wal", "-shm"):
            Path(f"{DATA / f'bot_{papers}.db'}{suffix}").unlink(missing_ok=True)
    else:
        admin = _admin(admin_url)
        with admin.connect() as connection:
            name = f"hp_bot_{papers}"
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            connection.execute(text(f'CREATE DATABASE "{name}"'))
        admin.dispose()
    engine = make_engine(url)
    SQLModel.metadata.create_all(engine)
    print(f"importing {snapshot} into {db} ...", flush=True)
    report = import_snapshot(engine, snapshot)
    print(f"imported {report.imported} papers in {report.elapsed:.1f} s", flush=True)
    imported.touch()
    add_listing(engine)
    engine.dispose()
    _ready_marker(db, papers).touch()
    return url


def add_listing(engine: Engine) -> None:
    """Announce the newest LISTED papers on LISTING; give WITH_POSTS of them social posts."""
    categories = list(Settings().arxiv.categories)
    rng = random.Random(7)
    cats: Any = bindparam("cats", expanding=True)
    with engine.begin() as connection:
        connection.execute(delete(Announcement).where(col(Announcement.listing_date) == LISTING))
        connection.execute(delete(SocialPost))
        newest = list(
            connection.execute(
                text(
                    "SELECT DISTINCT paper_id FROM paper_category"
                    " WHERE category IN :cats ORDER BY paper_id DESC LIMIT :n"
                ).bindparams(cats),
                {"cats": categories, "n": LISTED},
            ).scalars()
        )
        rows = connection.execute(
            text(
                "SELECT paper_id, category, position FROM paper_category"
                " WHERE paper_id IN :ids AND category IN :cats"
            ).bindparams(bindparam("ids", expanding=True), cats),
            {"ids": newest, "cats": categories},
        ).all()
        connection.execute(
            insert(Announcement),
            [
                {
                    "listing_date": LISTING,
                    "category": category,
                    "paper_id": paper_id,
                    "announce_type": "new" if position == 0 else "cross",
                    "version": 1,
                }
                for paper_id, category, position in rows
            ],
        )
        posts = []
        for number, paper_id in enumerate(rng.sample(newest, WITH_POSTS)):
            for k in range(rng.randint(1, 5)):
                posts.append(
                    SocialPost(
                        source="x",
                        post_id=f"{paper_id}-{k}",
                        paper_id=paper_id,
                        author_id=f"user{number}-{k}",
                        author_handle=f"@user{number}_{k}",
                        text=f"read https://arxiv.org/abs/{paper_id}",
                        url=f"https://x.com/user{number}/status/{k}",
                        created_at=datetime(2026, 11, 21, tzinfo=UTC)
                        + timedelta(minutes=rng.randint(0, 2000)),
                        taken_at=datetime(2026, 11, 22, tzinfo=UTC),
                        reposts=rng.randint(0, 50),
                        likes=rng.randint(0, 500),
                    ).model_dump(exclude={"id"})
                )
        connection.execute(insert(SocialPost), posts)


# -- arguments ------------------------------------------------------------------------------


def _strip_accents(name: str) -> str:
    decomposed = unicodedata.normalize("NFKD", name)
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def author_arguments(engine: Engine, count: int, rng: random.Random) -> list[str]:
    """Prefixes of real names: last name or full name, 4-8 characters, half of them with the
    accents stripped and the case changed (the command must still find them)."""
    with engine.connect() as connection:
        names = list(connection.execute(text("SELECT name FROM author ORDER BY name")).scalars())
    picked = []
    accented = [n for n in names if _strip_accents(n) != n]
    for index in range(count):
        pool = accented if index % 2 == 0 and accented else names
        name = rng.choice(pool)
        word = name.split()[-1] if rng.random() < 0.5 else name
        prefix = word[: rng.randint(4, 8)]
        if index % 2 == 0:
            prefix = (
                _strip_accents(prefix).upper() if rng.random() < 0.5 else _strip_accents(prefix)
            )
        picked.append(prefix)
    return picked


def search_arguments(engine: Engine, count: int, rng: random.Random) -> list[str]:
    """One or two words from real titles (so most searches find something)."""
    with engine.connect() as connection:
        titles = list(
            connection.execute(
                text("SELECT title FROM paper ORDER BY id DESC LIMIT 3000")
            ).scalars()
        )
    picked = []
    for _ in range(count):
        words = [w.strip(".,:;()").lower() for w in rng.choice(titles).split()]
        words = [w for w in words if len(w) > 3] or ["model"]
        picked.append(" ".join(rng.sample(words, min(len(words), rng.randint(1, 2)))))
    return picked


def missing_arguments(searches: list[str]) -> list[str]:
    """Searches that find nothing: a made-up word, alone or after real ones (the words every
    matching paper must also have); the old LIKE scan read the whole table for these."""
    return [
        f"{words} zq{index}xv" if index % 2 else f"zq{index}xv"
        for index, words in enumerate(searches)
    ]


# -- the measurement ------------------------------------------------------------------------


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(share * len(ordered)) - 1))]


async def measure(
    fake: FakeDiscord,
    command: str,
    make_options: Callable[[int], dict[str, Any]],
    runs: int,
    deadline: float,
    *,
    focused: str | None = None,
    label: str = "",
) -> dict[str, Any]:
    callbacks: list[float] = []
    answers: list[float] = []
    deferred = empty = 0
    for index in range(-10, runs):  # ten warm-up calls first
        if time.monotonic() > deadline:
            break
        result = await fake.send_interaction(
            command, make_options(index % runs), focused=focused, timeout=30
        )
        if index < 0:
            continue
        assert result.dispatched_at and result.callback_at and result.settled_at
        callbacks.append((result.callback_at - result.dispatched_at) * 1000)
        answers.append((result.settled_at - result.dispatched_at) * 1000)
        deferred += result.deferred
        empty += result.ephemeral or (focused is not None and not result.choices)
        fake.interactions.clear()
        fake.messages.clear()
    return {
        "command": command + (" (autocomplete)" if focused else "") + label,
        "runs": len(callbacks),
        "cb_p50": statistics.median(callbacks),
        "cb_p99": percentile(callbacks, 0.99),
        "cb_max": max(callbacks),
        "ans_p50": statistics.median(answers),
        "ans_p99": percentile(answers, 0.99),
        "deferred": deferred,
        "empty": empty,
    }


async def run(
    url: str, runs: int, max_seconds: float, only: set[str], gc_freeze: bool = False
) -> tuple[list[dict[str, Any]], float]:
    engine = make_engine(url)
    rng = random.Random(1)
    authors = author_arguments(engine, runs, rng)
    searches = search_arguments(engine, runs, rng)
    missing = missing_arguments(searches)
    saved = discord.http.Route.BASE, discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY
    rows: list[dict[str, Any]] = []
    try:
        async with FakeDiscord() as fake, aiohttp.ClientSession() as http:
            settings = Settings(
                discord=DiscordSettings(
                    token="fake-token",  # type: ignore[arg-type]
                    api_url=fake.api_url,
                    gateway_url=fake.gateway_url,
                )
            )
            client = HotpapersBot(
                settings, engine, http, clock=lambda: NOW, guild_ready_timeout=0.05
            )
            task = asyncio.create_task(client.start("fake-token"))
            try:
                await fake.wait_ready(timeout=30)
                await asyncio.wait_for(client.wait_until_ready(), 30)
                await asyncio.sleep(1.0)
                idle = rss_mb()
                if gc_freeze:  # the proposal for bot start-up: see bench/results/bot.md
                    gc.collect()
                    gc.freeze()
                plans: list[tuple[str, Callable[[int], dict[str, Any]], str | None, str]] = [
                    ("hot", lambda i: {"date": LISTING.isoformat(), "limit": 10}, None, ""),
                    ("author", lambda i: {"name": authors[i]}, None, ""),
                    ("author", lambda i: {"name": authors[i]}, "name", ""),
                    ("search", lambda i: {"words": searches[i]}, None, ""),
                    ("search", lambda i: {"words": missing[i]}, None, " (no match)"),
                ]
                plans = [plan for plan in plans if _selector(plan) in only]
                for command, options, focused, label in plans:
                    deadline = time.monotonic() + max_seconds / len(plans)  # each its share
                    row = await measure(
                        fake, command, options, runs, deadline, focused=focused, label=label
                    )
                    rows.append(row)
                    print(_line(row), flush=True)
            finally:
                await client.close()
                await asyncio.wait_for(task, 30)
    finally:
        discord.http.Route.BASE, discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = saved
        engine.dispose()
    return rows, idle


def _selector(plan: tuple[str, Any, str | None, str]) -> str:
    """The name --commands uses for a plan: hot, author, autocomplete, search, nomatch."""
    command, _, focused, label = plan
    if focused is not None:
        return "autocomplete"
    return "nomatch" if label else command


def _line(row: dict[str, Any]) -> str:
    return (
        f"| `/{row['command']}` | {row['runs']} | {row['cb_p50']:.1f} | **{row['cb_p99']:.1f}** "
        f"| {row['cb_max']:.1f} | {row['ans_p50']:.1f} | {row['ans_p99']:.1f} "
        f"| {row['deferred']} | {row['empty']} |"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--papers", type=int, default=100_000)
    parser.add_argument("--db", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--runs", type=int, default=300)
    parser.add_argument("--pg-admin", default=PG_ADMIN)
    parser.add_argument(
        "--max-seconds", type=float, default=1200.0, help="split evenly between the commands"
    )
    parser.add_argument(
        "--commands",
        default="hot,author,autocomplete,search,nomatch",
        help="comma-separated subset",
    )
    parser.add_argument(
        "--gc-freeze",
        action="store_true",
        help="gc.freeze() once the bot is ready (start-up objects out of full collections)",
    )
    args = parser.parse_args()
    url = prepare_database(args.db, args.papers, args.pg_admin)
    print(machine())
    only = set(args.commands.split(","))
    rows, idle = asyncio.run(run(url, args.runs, args.max_seconds, only, args.gc_freeze))
    print(f"\n{args.papers:,} papers, {args.db}, {args.runs} sequential invocations each")
    print(
        "| command | runs | callback p50 ms | callback p99 ms | max ms | answer p50 ms "
        "| answer p99 ms | deferred | empty/refused |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    for row in rows:
        print(_line(row))
    print(f"RSS (bot + fake, one process) idle after READY: {idle:.0f} MB")


if __name__ == "__main__":
    main()
