"""Latency of /foryou's ranking at 1,000,000 papers (issue #13 §4).

    python bench/bench_foryou.py --url sqlite:////work/data/foryou_1m.db [--days 7,60]
                                 [--requests 60] [--users 12] [--solvers]

Works on a copy of the shared 1M database (it migrates it and writes stars and vectors):
SQLite `cp bench/data/bench_1000000.db /work/data/foryou_1m.db`; PostgreSQL
`CREATE DATABASE foryou_1m TEMPLATE hp_bench_1000000`. "Now" is the newest paper's submission
time; the window's papers and the liked papers get /similar's vectors first (embedding is
timed apart, it happens at collect time in production). Each request is what the bot does:
a fresh session, `foryou.recommend` with the stored vectors. Side by side: the floor every
request pays (the window's papers and their stored vectors, read and nothing else), the
profile model (1 star), the linear model (5 stars) and the linear model with a keyword and an
author subscription. `--solvers`: the ranking models alone on the first window's vectors,
the linear model by conjugate gradients beside its closed form.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402
from alembic import command  # noqa: E402
from sqlalchemy import bindparam, inspect, text  # noqa: E402
from sqlmodel import Session  # noqa: E402
from sqlmodel.sql.sqltypes import UTCDateTime  # noqa: E402

from hotpapers import foryou  # noqa: E402
from hotpapers.delivery import subscriptions as subs  # noqa: E402
from hotpapers.foryou._candidates import recent_papers  # noqa: E402
from hotpapers.foryou._rank import (  # noqa: E402
    RIDGE_ALPHA,
    linear_scores,
    profile_scores,
    unit_rows,
)
from hotpapers.similar import embed_missing, vectors_for  # noqa: E402
from hotpapers.storage import migrate  # noqa: E402
from hotpapers.storage.db import make_engine  # noqa: E402

FIRST_USER = 9_000_000_000


def _utc(value: object) -> datetime:
    moment = datetime.fromisoformat(value) if isinstance(value, str) else value
    assert isinstance(moment, datetime)
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment


def percentiles(samples: list[float]) -> tuple[float, float]:
    ordered = sorted(samples)
    p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]
    return statistics.median(ordered) * 1000, p99 * 1000


def prepare(engine, now: datetime, days: int, users: int, rng: random.Random) -> list[int]:  # type: ignore[no-untyped-def]
    """Users with 1 or 5 stars on older papers (and two with subscriptions); vectors for the
    window and the stars. Returns the user ids (the first half: one star; the rest: five)."""
    since = now - timedelta(days=days)
    with Session(engine) as session:
        window = [c.arxiv_id for c in recent_papers(session, since, now)]
        older = (
            session.execute(
                text(
                    "SELECT id FROM paper WHERE submitted < :since"
                    " ORDER BY submitted DESC LIMIT 3000"
                ).bindparams(bindparam("since", type_=UTCDateTime())),
                {"since": since},
            )
            .scalars()
            .all()
        )
    ids = list(range(FIRST_USER, FIRST_USER + users))
    liked: list[str] = []
    for number, user in enumerate(ids):
        foryou.forget(engine, user)
        for paper_id in rng.sample(list(older), 1 if number < users // 2 else 5):
            foryou.toggle_star(engine, user, paper_id, now)
            liked.append(paper_id)
    for user in ids[-2:]:
        subs.subscribe(
            engine,
            target=subs.dm_target(user),
            guild_id=None,
            channel_id=None,
            user_id=user,
            kind="keyword",
            value="learning",
        )
        subs.subscribe(
            engine,
            target=subs.dm_target(user),
            guild_id=None,
            channel_id=None,
            user_id=user,
            kind="author",
            value="Wang",
        )
    with Session(engine) as session:
        have = vectors_for(session, [*window, *liked])
    missing = [key for key in dict.fromkeys([*window, *liked]) if key not in have]
    started = time.perf_counter()
    report = embed_missing(engine, missing) if missing else "all had vectors already"
    took = time.perf_counter() - started
    print(
        f"  window {days} d: {len(window):,} papers; embedded {len(missing):,} "
        f"in {took:.1f} s ({report})",
        flush=True,
    )
    return ids


def timed(requests: int, call: Callable[[], object]) -> list[float]:
    samples = []
    for _ in range(requests):
        started = time.perf_counter()
        call()
        samples.append(time.perf_counter() - started)
    return samples


def upgrade(url: str) -> None:
    """The shared data is main's schema (0009) made without Alembic: stamp it, then migrate."""
    engine = make_engine(url)
    with engine.connect() as connection:
        stamped = bool(
            "alembic_version" in inspect(connection).get_table_names()
            and connection.execute(text("SELECT count(*) FROM alembic_version")).scalar()
        )
    engine.dispose()
    if not stamped:
        command.stamp(migrate.alembic_config(url), "0009")
    migrate.upgrade(url)


def run(url: str, days_list: list[int], requests: int, users: int) -> None:
    upgrade(url)
    engine = make_engine(url)
    with engine.connect() as connection:
        newest = connection.execute(text("SELECT max(submitted) FROM paper")).scalar()
    now = _utc(newest) + timedelta(seconds=1)
    rng = random.Random(13)
    print(f"{url.split('://')[0]}, now = {now:%Y-%m-%d %H:%M}, load {os.getloadavg()}")
    rows = []
    for days in days_list:
        ids = prepare(engine, now, days, users, rng)
        one, five, subscribed = ids[0], ids[users // 2], ids[-1]

        def floor(days: int = days) -> object:
            with Session(engine) as session:
                found = recent_papers(session, now - timedelta(days=days), now)
                return vectors_for(session, [c.arxiv_id for c in found])

        def ask(user: int, days: int = days) -> Callable[[], object]:
            def request() -> object:
                with Session(engine) as session:
                    return foryou.recommend(session, user, now, vectors=vectors_for, days=days)

            return request

        with Session(engine) as session:
            models = {
                u: foryou.recommend(session, u, now, vectors=vectors_for, days=days).model
                for u in (one, five, subscribed)
            }
        cases = {
            "floor: window papers + their vectors": floor,
            f"1 star ({models[one]})": ask(one),
            f"5 stars ({models[five]})": ask(five),
            f"5 stars + keyword + author ({models[subscribed]})": ask(subscribed),
        }
        for name, call in cases.items():
            call()  # warm: the first call loads the model's caches
            p50, p99 = percentiles(timed(requests, call))
            rows.append((days, name, p50, p99))
            print(f"  {days:>3} d | {name:<45} | p50 {p50:7.1f} ms | p99 {p99:7.1f} ms", flush=True)
    print(f"load average after: {os.getloadavg()}")
    for user in range(FIRST_USER, FIRST_USER + users):
        foryou.forget(engine, user)
    engine.dispose()


def closed_form_scores(candidates: np.ndarray, liked: np.ndarray) -> np.ndarray:
    """The same classifier by its normal equations (X'WX + P) c = X'Wy with a BLAS matrix
    product and a LAPACK solve: the baseline of `linear_scores`' conjugate gradients."""
    x = np.vstack([unit_rows(liked), unit_rows(candidates)]).astype(np.float64)
    x = np.hstack([x, np.ones((len(x), 1))])
    positives, negatives = len(liked), len(candidates)
    y = np.concatenate([np.ones(positives), -np.ones(negatives)])
    w = np.concatenate([np.full(positives, 0.5 / positives), np.full(negatives, 0.5 / negatives)])
    penalty = np.eye(x.shape[1]) * RIDGE_ALPHA / len(x)
    penalty[-1, -1] = 0.0
    coef = np.linalg.solve((x * w[:, None]).T @ x + penalty, (x * w[:, None]).T @ y)
    return x[positives:] @ coef


def solvers(url: str, days: int, requests: int) -> None:
    """The linear model alone on the window's stored vectors: conjugate gradients (ours)
    against the closed form, in the same run; and the profile model."""
    engine = make_engine(url)
    with engine.connect() as connection:
        newest = connection.execute(text("SELECT max(submitted) FROM paper")).scalar()
    now = _utc(newest) + timedelta(seconds=1)
    with Session(engine) as session:
        ids = [c.arxiv_id for c in recent_papers(session, now - timedelta(days=days), now)]
        found = vectors_for(session, ids)
    matrix = np.vstack([found[key] for key in ids if key in found])
    liked = matrix[:5] + 0.1  # five likes near the first papers
    rows = {
        "profile (cosine to the mean)": lambda: profile_scores(matrix, liked),
        "linear, conjugate gradients": lambda: linear_scores(matrix, liked),
        "linear, closed form (BLAS + LAPACK)": lambda: closed_form_scores(matrix, liked),
    }
    print(f"{len(matrix):,} window vectors, load {os.getloadavg()}")
    for name, call in rows.items():
        call()
        p50, p99 = percentiles(timed(requests, call))
        print(f"  {name:<38} | p50 {p50:7.1f} ms | p99 {p99:7.1f} ms", flush=True)
    engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", required=True)
    parser.add_argument("--days", default="7,60")
    parser.add_argument("--requests", type=int, default=60)
    parser.add_argument("--users", type=int, default=12)
    parser.add_argument("--solvers", action="store_true", help="the models alone, side by side")
    args = parser.parse_args()
    days = [int(d) for d in args.days.split(",")]
    if args.solvers:
        solvers(args.url, days[0], args.requests)
    else:
        run(args.url, days, args.requests, args.users)


if __name__ == "__main__":
    main()
