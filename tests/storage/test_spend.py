"""The spend ledger (hotpapers/storage/spend.py) on real SQLite and PostgreSQL: reservations from
many
OS processes at once never take more than the cap, and no reservation or settlement is lost."""

from __future__ import annotations

import multiprocessing
import threading
from collections.abc import Iterator
from datetime import date

import pytest
from sqlalchemy import Engine, text
from sqlmodel import Session

from hotpapers.storage import migrate
from hotpapers.storage.db import make_engine, transaction
from hotpapers.storage.spend import Budget, LedgerBudget, add, reserve, settle, spent, to_micros

DAY = date(2026, 12, 6)
SERVICE = "x"
PROCESSES = 4
THREADS = 4  # concurrent reservations in each process
ATTEMPTS = 3  # reservations each thread tries, one after the other
AMOUNT = 20_000  # micro-dollars a request reserves; half the threads use it all, ...
PARTLY = 8_000  # ... the others only this much (the rest goes back)
# 10 cents: five reservations at a time, where 16 threads ask at once and again as the
# partly used ones give money back.
RACE_CAP = 100_000
CAP = 1_000_000  # $1, for the tests of one call at a time


def _reserve_and_settle(url: str, start: threading.Barrier, used: int) -> list[int]:
    """One thread: reserve, then settle each reservation taken. Returns what it recorded."""
    engine = make_engine(url)
    recorded = []
    start.wait()
    for _ in range(ATTEMPTS):
        if reserve(engine, SERVICE, DAY, AMOUNT, RACE_CAP):
            with transaction(engine) as session:
                settle(session, SERVICE, DAY, reserved=AMOUNT, used=used, units=1)
            recorded.append(used)
    engine.dispose()
    return recorded


def _worker(url: str, start: object, results: object) -> None:
    """One OS process: THREADS threads reserving at once, after every process is ready."""
    start.wait()  # type: ignore[attr-defined]
    gate = threading.Barrier(THREADS)
    found: list[list[int]] = []

    def run(used: int) -> None:
        found.append(_reserve_and_settle(url, gate, used))

    threads = [
        threading.Thread(target=run, args=(AMOUNT if n % 2 else PARTLY,)) for n in range(THREADS)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    results.put([amount for amounts in found for amount in amounts])  # type: ignore[attr-defined]


@pytest.fixture
def url(db_url: str, engine: Engine) -> Iterator[str]:
    """`db_url` with the tables created (by the `engine` fixture)."""
    yield db_url


def test_processes_reserving_at_once_never_pass_the_cap(url: str, engine: Engine) -> None:
    """PROCESSES x THREADS concurrent reservations: the ledger never holds more than the cap,
    and it holds exactly what the workers recorded (no lost update)."""
    context = multiprocessing.get_context("spawn")
    start, results = context.Barrier(PROCESSES), context.Queue()
    workers = [
        context.Process(target=_worker, args=(url, start, results)) for _ in range(PROCESSES)
    ]
    for worker in workers:
        worker.start()
    recorded = [amount for _ in workers for amount in results.get(timeout=120)]
    for worker in workers:
        worker.join()
        assert worker.exitcode == 0
    with Session(engine) as session:
        amount, units = spent(session, SERVICE, DAY)
    assert units == len(recorded) and amount == sum(recorded)
    assert amount <= RACE_CAP
    assert len(recorded) >= RACE_CAP // AMOUNT  # reservations were refused only at the cap


def test_reserve_is_all_or_nothing_at_the_cap(engine: Engine) -> None:
    assert reserve(engine, SERVICE, DAY, 600_000, CAP)
    assert not reserve(engine, SERVICE, DAY, 400_001, CAP)
    assert reserve(engine, SERVICE, DAY, 400_000, CAP)
    assert not reserve(engine, SERVICE, DAY, 1, CAP)
    assert reserve(engine, SERVICE, DAY, 0, CAP)  # a free request needs nothing
    with Session(engine) as session:
        assert spent(session, SERVICE, DAY) == (CAP, 0)
        assert spent(session, "x-post", DAY) == (0, 0)  # per service
        assert spent(session, SERVICE, date(2026, 12, 7)) == (0, 0)  # per UTC day


def test_settle_gives_back_what_a_request_did_not_use(engine: Engine) -> None:
    assert reserve(engine, SERVICE, DAY, 500_000, CAP)
    with transaction(engine) as session:
        settle(session, SERVICE, DAY, reserved=500_000, used=100_000, units=20)
    assert reserve(engine, SERVICE, DAY, 900_000, CAP)  # the 400_000 came back
    with Session(engine) as session:
        assert spent(session, SERVICE, DAY) == (CAP, 20)


def test_add_counts_exactly_in_micro_dollars(engine: Engine) -> None:
    """A thousand reads at $0.005 add up to $5 exactly (floats would drift)."""
    price = to_micros(0.005)
    with transaction(engine) as session:
        for _ in range(1000):
            add(session, SERVICE, DAY, price, 1)
    with Session(engine) as session:
        assert spent(session, SERVICE, DAY) == (5_000_000, 1000)


def test_to_micros_rounds_config_dollars_exactly() -> None:
    assert to_micros(0.005) == 5_000
    assert to_micros(0.1) + to_micros(0.2) == to_micros(0.3)
    assert to_micros(1.0) == 1_000_000 and to_micros(0) == 0


async def test_ledger_budget_shares_the_cap_between_runs(engine: Engine) -> None:
    """Two runs' budgets on one ledger: what one reserved, the other cannot."""
    first = LedgerBudget(engine, SERVICE, DAY, 0.6)
    second = LedgerBudget(engine, SERVICE, DAY, 0.6)
    assert await first.reserve(500_000)
    assert await second.available() == 100_000
    assert not await second.reserve(500_000)
    await first.settle(500_000, 450_000, 90)
    assert await second.reserve(150_000)
    await second.settle(150_000, 150_000, 30)
    assert (first.spent, first.units, second.spent, second.units) == (450_000, 90, 150_000, 30)
    with Session(engine) as session:
        assert spent(session, SERVICE, DAY) == (600_000, 120)


async def test_memory_budget_reserves_and_settles() -> None:
    budget = Budget(0.6)
    assert await budget.reserve(500_000)
    assert not await budget.reserve(200_000)
    await budget.settle(500_000, 400_000, 80)
    assert await budget.available() == 200_000 and budget.spent_usd == 0.4


def test_migration_converts_dollars_to_micro_dollars(db_url: str) -> None:
    """Figures written before 0004 (float dollars) arrive as whole micro-dollars."""
    migrate.upgrade(db_url, "0003")
    engine = make_engine(db_url)
    with engine.begin() as connection:
        connection.execute(
            text("INSERT INTO spend (service, day, amount_usd, units) VALUES ('x', :d, 0.255, 51)"),
            {"d": DAY},
        )
    migrate.upgrade(db_url)
    with Session(engine) as session:
        assert spent(session, SERVICE, DAY) == (255_000, 51)
    engine.dispose()
