"""Latency of the read-side queries on the database bench_import.py left behind.

    python bench/bench_queries.py --db sqlite|postgresql [--records 1000000] [--queries 1000]
                                  [--drop] [--pg-admin URL] [--search-only] [--url URL]

SQLite: bench/data/bench_N.db. PostgreSQL: the database `hp_bench_N` (import with --keep);
--drop drops it at the end. --url measures another database instead (a copy of those).
Arguments are drawn with a fixed seed from the data itself: author prefixes are 4-8 leading
characters of a last name or full name as printed (accents, capitals), so they exercise the
case- and accent-insensitive range scans.
Searches come in mixes (see search_mixes): 1, 2 and 3 title words, a word found nowhere, a
phrase, each filter, an exclusion; --search-only measures those alone.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench_import import PG_ADMIN, database_url, drop_pg, machine, process_cpu  # noqa: E402
from sqlalchemy import text  # noqa: E402
from sqlmodel import Session  # noqa: E402

from hotpapers.arxiv._taxonomy_data import CATEGORIES  # noqa: E402
from hotpapers.errors import InputError  # noqa: E402
from hotpapers.storage.db import make_engine  # noqa: E402
from hotpapers.storage.queries import (  # noqa: E402
    author_names,
    get_paper,
    latest_in_category,
    papers_by_author,
)
from hotpapers.storage.search import search_papers  # noqa: E402
from hotpapers.storage.search_query import parse_search  # noqa: E402


def sample(session: Session, sql: str, size: int, rng: random.Random) -> list[Any]:
    """`size` values drawn (with a fixed seed) from all the values `sql` returns."""
    values = list(session.execute(text(sql)).scalars())
    return rng.sample(values, min(size, len(values)))


def author_prefixes(names: list[str], rng: random.Random) -> list[str]:
    prefixes = []
    for name in names:
        word = name.split()[-1] if rng.random() < 0.5 else name  # last name or full name
        prefixes.append(word[: rng.randint(4, 8)])
    return prefixes


def search_words(titles: list[str], rng: random.Random) -> list[str]:
    """1-3 words of a paper's title (4+ letters: not stop words), as someone would type."""
    queries = []
    for title in titles:
        words = [w for w in title.lower().split() if w.isalpha() and len(w) >= 4] or ["model"]
        queries.append(" ".join(rng.sample(words, min(len(words), rng.randint(1, 3)))))
    return queries


def search_mixes(
    titles: list[str], prefixes: list[str], categories: list[str], rng: random.Random
) -> list[tuple[str, list[str]]]:
    """(label, searches) per kind of search; words are title words of sampled papers."""
    words = [[w for w in t.lower().split() if w.isalpha() and len(w) >= 4] or ["model"]
             for t in titles]  # fmt: skip

    def some(count: int) -> list[str]:
        return [" ".join(rng.sample(w, min(len(w), count))) for w in words]

    def adjacent(title: str) -> str:
        pairs = [
            p
            for p in zip(title.split(), title.split()[1:], strict=False)
            if all(x.isalpha() and len(x) >= 4 for x in p)
        ] or [("neural", "network")]
        return '"' + " ".join(rng.choice(pairs)).lower() + '"'

    one, two = some(1), some(2)
    return [
        ("1 word", one),
        ("2 words", two),
        ("3 words", some(3)),
        ("a word in no paper", [f"{w} zq{rng.randint(10**5, 10**6)}x" for w in one]),
        ("a phrase", [adjacent(title) for title in titles]),
        ("1 word category:", [f"{w} category:{c}" for w, c in zip(one, categories, strict=False)]),
        ("1 word author:", [f'{w} author:"{a}"' for w, a in zip(one, prefixes, strict=False)]),
        ("1 word since: (last 6 months)", [f"{w} since:2026-04-01" for w in one]),
        ("2 words -1 word", [f"{w} -{rng.choice(x)}" for w, x in zip(two, words, strict=False)]),
    ]


def measure(
    session: Session, call: Callable[[Session, Any], Any], args: list[Any]
) -> tuple[list[float], list[float], int]:
    """Wall-clock and this thread's CPU milliseconds per call, and how many found something.
    (CPU does not include the PostgreSQL server's; on a loaded machine wall >> CPU.)"""
    for arg in args[:20]:  # warm-up
        call(session, arg)
    times, cpu, found = [], [], 0
    for arg in args:
        started, started_cpu = time.perf_counter(), time.thread_time()
        result = call(session, arg)
        times.append((time.perf_counter() - started) * 1000)
        cpu.append((time.thread_time() - started_cpu) * 1000)
        found += result is not None and result != []
    return times, cpu, found


def _parsed(searches: list[str]) -> list[str]:
    """The searches that read as one (an author prefix of punctuation only does not)."""
    kept = []
    for words in searches:
        try:
            parse_search(words)
        except InputError:
            continue
        kept.append(words)
    return kept


def _search(session: Session, words: str) -> Any:
    result = search_papers(session, words, 10)
    session.rollback()  # PostgreSQL: SET LOCAL ends with the transaction, as in the bot
    return result


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


EXPLAINED = [
    (
        "author prefix (both search keys)",
        "SELECT a.name FROM author a WHERE a.folded_name >= :key AND a.folded_name < :top"
        " UNION SELECT a.name FROM author a WHERE a.folded_last >= :key AND a.folded_last < :top",
        {"key": "wang", "top": "wang\U0010ffff"},
    ),
    (
        "latest in category",
        "SELECT pc.paper_id FROM paper_category pc WHERE pc.category = :c"
        " AND pc.submitted IS NOT NULL ORDER BY pc.submitted DESC LIMIT 20",
        {"c": "cs.CV"},
    ),
    ("paper by id", "SELECT title FROM paper WHERE id = :id", {"id": "2103.00001"}),
    (
        "papers of an author",
        "SELECT paper_id FROM paper_author WHERE author_name = :n",
        {"n": "Jane Doe"},
    ),
]


def explain(session: Session, dialect: str) -> list[str]:
    out = []
    prefix = "EXPLAIN QUERY PLAN " if dialect == "sqlite" else "EXPLAIN "
    for label, sql, params in EXPLAINED:
        rows = session.execute(text(prefix + sql), params).all()
        out.append(f"-- {label}")
        out += [f"   {row[-1]}" for row in rows]
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=1_000_000)
    parser.add_argument("--db", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--queries", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--drop", action="store_true", help="drop the PostgreSQL database after")
    parser.add_argument("--pg-admin", default=PG_ADMIN)
    parser.add_argument("--search-only", action="store_true", help="only the search mixes")
    parser.add_argument("--url", help="this database instead (a copy), of the --db kind")
    args = parser.parse_args()

    name = f"{'hp_bench' if args.db == 'postgresql' else 'bench'}_{args.records}"
    engine = make_engine(args.url or database_url(args.db, name, args.pg_admin, fresh=False))
    if args.db == "postgresql":
        with engine.begin() as connection:
            connection.execute(text("ANALYZE"))
    rng = random.Random(args.seed)
    lines = []
    with Session(engine) as session:
        papers = session.execute(text("SELECT count(*) FROM paper")).scalar_one()
        names = sample(session, "SELECT name FROM author ORDER BY name", args.queries, rng)
        ids = sample(session, "SELECT id FROM paper ORDER BY id", args.queries, rng)
        prefixes = author_prefixes(names, rng)
        categories = [rng.choice(sorted(CATEGORIES)) for _ in range(args.queries)]
        titles = sample(session, "SELECT title FROM paper ORDER BY id", args.queries, rng)
        searches = search_words(titles, rng)
        cases: list[tuple[str, Callable[[Session, Any], Any], list[Any]]] = [
            ("papers_by_author (prefix, limit 20)", papers_by_author, prefixes),
            ("author_names (prefix, limit 25)", author_names, prefixes),
            ("latest_in_category (limit 20)", latest_in_category, categories),
            ("get_paper", get_paper, ids),
            ("search_papers (1-3 title words, limit 10)", _search, searches),
        ]
        mixes = search_mixes(titles, prefixes, categories, rng)
        if args.search_only:
            cases = cases[-1:]
        cases += [(f"search: {label}", _search, _parsed(values)) for label, values in mixes]
        server = None
        if args.db == "postgresql":
            server = session.execute(text("SELECT pg_backend_pid()")).scalar_one()
        for label, call, values in cases:
            server_cpu = process_cpu(server)
            times, cpu, found = measure(session, call, values)
            # The server process's CPU over the calls (and their warm-up), per call.
            server_ms = (process_cpu(server) - server_cpu) * 1000 / (len(values) + 20)
            lines.append(
                f"| {label} | {len(times)} | {statistics.median(times):.2f} | "
                f"{percentile(times, 0.99):.2f} | {max(times):.2f} | "
                f"{statistics.median(cpu):.2f} / {percentile(cpu, 0.99):.2f} | "
                f"{f'{server_ms:.2f}' if server else '-'} | {found} |"
            )
        plans = explain(session, args.db)
    engine.dispose()
    if args.db == "postgresql" and args.drop and not args.url:
        drop_pg(name, args.pg_admin)

    print(f"command: python bench/bench_queries.py {' '.join(sys.argv[1:])}")
    print(f"machine: {machine()}")
    print(f"database: {args.db}, {papers:,} papers")
    print(f"load average (1 min, at the end): {os.getloadavg()[0]:.1f}")
    print(
        "| query | n | p50 ms | p99 ms | max ms | client CPU p50 / p99 ms"
        " | server CPU mean ms | non-empty |"
    )
    print("|---|---|---|---|---|---|---|---|")
    print("\n".join(lines))
    print("query plans:")
    print("\n".join(plans))


if __name__ == "__main__":
    main()
