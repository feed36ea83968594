"""Benchmark `import_snapshot` on a generated snapshot into a fresh database.

    python bench/bench_import.py --records 1000000 --db sqlite|postgresql [--batch-size 5000]
                                 [--keep] [--pg-admin URL] [--no-fulltext] [--incremental]
                                 [--name NAME] [--loader hotpapers|plain|both] [--runs N]

The snapshot is generated (in a child process) under bench/data/ if it is not there yet. The
import runs in this process; peak RSS is this process's `ru_maxrss`. SQLite writes
bench/data/bench_N.db; PostgreSQL creates the private database `hp_bench_N` through the
`postgres` database and drops it afterwards unless --keep (bench_queries.py reuses it).
The schema includes the full-text search objects of migration 0003 (FTS5 table and triggers on
SQLite, generated tsvector column and GIN index on PostgreSQL) unless --no-fulltext. The import
into the fresh database takes the bulk path unless --incremental.

`--loader both` runs the importer and its baseline, the plain loader of bench/plain_loader.py
(one process, the same rows into the same schema), alternately into fresh databases of the
same name, and prints each run's wall time and CPU seconds: the importing process, the parser
process and the PostgreSQL server process. `--name`: use a database other than the shared
`hp_bench_N` / `bench_N.db` (other benchmarks read those).
"""

from __future__ import annotations

import argparse
import logging
import os
import platform
import resource
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sqlalchemy import create_engine, text  # noqa: E402
from sqlmodel import SQLModel  # noqa: E402

import hotpapers.storage.models  # noqa: E402, F401  (registers the tables)
from hotpapers.arxiv.importer import ImportProgress, import_snapshot  # noqa: E402
from hotpapers.storage.db import make_engine  # noqa: E402
from hotpapers.storage.fulltext import SQLITE_DROP, VECTOR_COLUMN  # noqa: E402

sys.path.insert(0, str(ROOT / "bench"))
import plain_loader  # noqa: E402

DATA = ROOT / "bench" / "data"
TABLES = (
    "paper",
    "paper_version",
    "author",
    "paper_author",
    "paper_category",
    "announcement",
)
PG_ADMIN = os.environ.get(
    "HOTPAPERS_BENCH_PG_ADMIN", "postgresql://postgres@127.0.0.1:5432/postgres"
)


def snapshot_file(records: int) -> Path:
    path = DATA / f"snapshot_{records}.jsonl"
    if not path.exists():
        print(f"generating {path} ...", flush=True)
        script = ROOT / "bench" / "gen_snapshot.py"
        subprocess.run([sys.executable, str(script), str(records), str(path)], check=True)
    return path


def pg_admin_engine(admin_url: str):  # type: ignore[no-untyped-def]
    url = admin_url.replace("postgresql://", "postgresql+psycopg://", 1)
    return create_engine(url, isolation_level="AUTOCOMMIT")


def database_url(db: str, name: str, admin_url: str, *, fresh: bool) -> str:
    if db == "sqlite":
        path = DATA / f"{name}.db"
        if fresh:
            for suffix in ("", "-wal", "-shm", "-journal"):
                Path(f"{path}{suffix}").unlink(missing_ok=True)
        return f"sqlite:///{path}"
    if fresh:
        admin = pg_admin_engine(admin_url)
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            connection.execute(text(f'CREATE DATABASE "{name}"'))
        admin.dispose()
    return admin_url.rsplit("/", 1)[0] + f"/{name}"


def drop_fulltext(engine) -> None:  # type: ignore[no-untyped-def]
    """Remove what hotpapers.storage.fulltext adds to the schema (the GIN index goes with its
    column)."""
    with engine.begin() as connection:
        if engine.dialect.name == "sqlite":
            for statement in SQLITE_DROP:
                connection.exec_driver_sql(statement)
        else:
            connection.exec_driver_sql(f"ALTER TABLE paper DROP COLUMN {VECTOR_COLUMN}")


def drop_pg(name: str, admin_url: str) -> None:
    admin = pg_admin_engine(admin_url)
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def backend_pid(engine) -> int | None:  # type: ignore[no-untyped-def]
    """The PostgreSQL server process of the pooled connection the import will check out."""
    if engine.dialect.name != "postgresql":
        return None
    with engine.connect() as connection:
        return int(connection.execute(text("SELECT pg_backend_pid()")).scalar_one())


def process_cpu(pid: int | None) -> float:
    """user + system CPU seconds of a local process (0 if unknown)."""
    if pid is None:
        return 0.0
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


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


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=1_000_000)
    parser.add_argument("--db", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--batch-size", type=int, default=5000)
    parser.add_argument(
        "--name",
        help="database name (PostgreSQL) or file stem under bench/data (SQLite); "
        "default hp_bench_N / bench_N. Another name leaves the shared databases alone.",
    )
    parser.add_argument(
        "--loader",
        choices=("hotpapers", "plain", "both", "plain-without-listings"),
        default="hotpapers",
        help="the importer, the plain loader of bench/plain_loader.py, or both alternately; "
        "plain-without-listings: the plain loader without announcement rows (their cost)",
    )
    parser.add_argument("--runs", type=int, default=1, help="runs of each loader")
    parser.add_argument("--keep", action="store_true", help="keep the PostgreSQL database")
    parser.add_argument("--pg-admin", default=PG_ADMIN)
    parser.add_argument(
        "--no-fulltext", action="store_true", help="schema without the full-text search objects"
    )
    parser.add_argument(
        "--incremental", action="store_true", help="one transaction per batch, not the bulk path"
    )
    args = parser.parse_args()
    if args.name is None:
        args.name = f"{'hp_bench' if args.db == 'postgresql' else 'bench'}_{args.records}"
    return args


def fresh_engine(args: argparse.Namespace):  # type: ignore[no-untyped-def]
    engine = make_engine(database_url(args.db, args.name, args.pg_admin, fresh=True))
    SQLModel.metadata.create_all(engine)  # with the full-text objects (hotpapers.storage.fulltext)
    if args.no_fulltext:
        drop_fulltext(engine)
    return engine


def cpu_now(server: int | None) -> tuple[float, float, float]:
    """CPU seconds so far: this process, its waited-for children, the PostgreSQL backend."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return (
        own.ru_utime + own.ru_stime,
        children.ru_utime + children.ru_stime,
        process_cpu(server),
    )


def run_once(args: argparse.Namespace, path: Path, loader: str) -> str:
    """One load into a fresh database; its result line."""
    engine = fresh_engine(args)
    last = [0.0]

    def progress(p: ImportProgress) -> None:
        if p.elapsed - last[0] >= 10:
            last[0] = p.elapsed
            print(f"  {p.imported:>9,} papers  {p.imported / p.elapsed:8,.0f}/s", flush=True)

    server = backend_pid(engine)
    before = cpu_now(server)
    started = time.perf_counter()
    if loader.startswith("plain"):
        announce = loader == "plain"
        papers = plain_loader.load(engine, path, announce)
        how = "plain loader" if announce else "plain, no first listings"
    else:
        report = import_snapshot(
            engine,
            path,
            batch_size=args.batch_size,
            on_progress=progress,
            bulk=not args.incremental,
        )
        papers = report.imported
        how = f"hotpapers ({'bulk' if report.bulk else 'incremental'})"
    elapsed = time.perf_counter() - started
    own, child, srv = (after - b for after, b in zip(cpu_now(server), before, strict=True))
    with engine.connect() as connection:
        counts = {
            table: connection.execute(text(f"SELECT count(*) FROM {table}")).scalar_one()
            for table in TABLES
        }
    engine.dispose()
    total = own + child + srv
    return (
        f"{how:<26} {papers:>9,} papers {elapsed:7.1f} s {papers / elapsed:8,.0f}/s  "
        f"CPU {own:6.1f} + {child:5.1f} + {srv:6.1f} = {total:6.1f} s "
        f"({total / papers * 1e6:,.0f} CPU-s per 1M)  load {os.getloadavg()[0]:.1f}\n"
        f"{'':<26} rows: {', '.join(f'{t} {n:,}' for t, n in counts.items())}"
    )


def main() -> None:
    args = parse_args()
    logging.basicConfig(level=logging.WARNING, format="  %(asctime)s %(message)s")
    path = snapshot_file(args.records)
    loaders = ["hotpapers", "plain"] if args.loader == "both" else [args.loader]
    print(f"command: python bench/bench_import.py {' '.join(sys.argv[1:])}")
    print(f"machine: {machine()}")
    print(f"file: {path.name} ({path.stat().st_size / 1e6:,.0f} MB); database {args.name}")
    print("CPU = importing process + parser process + PostgreSQL server process")
    for _ in range(args.runs):
        for loader in loaders:
            print(run_once(args, path, loader), flush=True)
    if args.db == "postgresql" and not args.keep:
        drop_pg(args.name, args.pg_admin)


if __name__ == "__main__":
    main()
