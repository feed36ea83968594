"""The spend ledger: what paid APIs cost, per service and UTC day, shared by every process.

Money is kept in whole micro-dollars (`Spend.amount_micros`), so sums are exact; the config
speaks US dollars and is converted once (`to_micros`).

Every paid request first *reserves* its largest possible cost against the day's cap, in one
committed statement that every other process sees (`reserve`: a conditional UPDATE ... WHERE
amount + cost <= cap; on SQLite inside BEGIN IMMEDIATE, on PostgreSQL under the row lock the
UPDATE takes), then *settles* to what it really cost (`settle`), giving back the rest. Two
processes can therefore never spend the same dollar twice.

A process that dies between reserve and settle leaves its reservation counted as spent:
the ledger may then over-count (the cap is reached a little early), never under-count (X
may well have billed the request whose answer was lost). The next UTC day starts afresh.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

from sqlalchemy import Engine, select, text, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session, col

from hotpapers.storage.db import transaction
from hotpapers.storage.models import Spend

__all__ = [
    "MICROS_PER_USD",
    "Budget",
    "LedgerBudget",
    "add",
    "reserve",
    "settle",
    "spent",
    "to_micros",
    "to_usd",
]

MICROS_PER_USD = 1_000_000
_TABLE = Spend.__table__  # type: ignore[attr-defined]


def to_micros(usd: float | Decimal) -> int:
    """US dollars (as the config writes them, e.g. 0.005) in whole micro-dollars."""
    exact = Decimal(str(usd)) * MICROS_PER_USD
    return int(exact.to_integral_value(rounding=ROUND_HALF_UP))


def to_usd(micros: int) -> float:
    return micros / MICROS_PER_USD


# --- the ledger ---------------------------------------------------------------------------------


def spent(session: Session, service: str, day: date) -> tuple[int, int]:
    """The day's (micro-dollars, units) for `service`, reservations included."""
    query = select(col(Spend.amount_micros), col(Spend.units)).where(
        col(Spend.service) == service, col(Spend.day) == day
    )
    row = session.execute(query).first()
    return (int(row[0]), int(row[1])) if row else (0, 0)


def reserve(
    engine: Engine,
    service: str,
    day: date,
    amount: int,
    cap: int,
    *,
    units: int = 0,
    max_units: int | None = None,
) -> bool:
    """Take `amount` micro-dollars of the day's `cap` for `service`, all or nothing; with
    `max_units`, also `units` of that many per day (a requests cap), in the same statement.

    True when taken. Committed before returning, so every other process counts it from now.
    """
    if amount <= 0 and max_units is None:
        return True
    with _write_transaction(engine) as session:
        session.execute(_insert(session).values(service=service, day=day).on_conflict_do_nothing())
        amount_now, units_now = _TABLE.c.amount_micros, _TABLE.c.units
        statement = (
            update(_TABLE)
            .where(_TABLE.c.service == service, _TABLE.c.day == day)
            .where(amount_now + amount <= cap)
            .values(amount_micros=amount_now + amount)
        )
        if max_units is not None:
            statement = statement.where(units_now + units <= max_units).values(
                units=units_now + units
            )
        taken = session.execute(statement)
    return bool(taken.rowcount == 1)  # type: ignore[attr-defined]


def settle(
    session: Session, service: str, day: date, *, reserved: int, used: int, units: int
) -> None:
    """Replace a reservation of `reserved` by what the request really cost (`used`, which X
    may bill beyond the reservation) and count its `units`, in the caller's transaction."""
    add(session, service, day, used - reserved, units)


def add(session: Session, service: str, day: date, amount: int, units: int) -> None:
    """Add to the day's figures in one statement (no read-modify-write, so no lost update)."""
    if amount == 0 and units == 0:
        return
    statement = _insert(session).values(service=service, day=day, amount_micros=amount, units=units)
    session.execute(
        statement.on_conflict_do_update(
            index_elements=["service", "day"],
            set_={
                "amount_micros": _TABLE.c.amount_micros + statement.excluded.amount_micros,
                "units": _TABLE.c.units + statement.excluded.units,
            },
        )
    )


def _insert(session: Session) -> postgresql.Insert | sqlite.Insert:
    if session.get_bind().dialect.name == "postgresql":
        return postgresql.insert(_TABLE)
    return sqlite.insert(_TABLE)


@contextmanager
def _write_transaction(engine: Engine) -> Iterator[Session]:
    """A transaction holding SQLite's write lock from its first statement: the row insert
    and the conditional update then run with no other writer in between. (PostgreSQL
    needs nothing more: the UPDATE re-checks its WHERE on the row version it locks.)"""
    with transaction(engine) as session:
        if engine.dialect.name == "sqlite":
            session.execute(text("BEGIN IMMEDIATE"))
        yield session


# --- a paid source's budget for one run -------------------------------------------------------


class Budget:
    """Money one run of a paid source may spend: `reserve` the most a request can cost before
    sending it, `settle` to what it cost once answered. This one lives in memory, for one
    process alone (tests, benchmarks, a source used on its own); `LedgerBudget` shares the
    day's cap with every other process through the ledger."""

    def __init__(self, remaining_usd: float) -> None:
        self.remaining = to_micros(remaining_usd)
        self.spent = 0  # micro-dollars this run's requests cost
        self.units = 0  # what X bills per unit: posts read

    @property
    def spent_usd(self) -> float:
        return to_usd(self.spent)

    async def available(self) -> int:
        """Micro-dollars a request could still reserve now (others may take them first)."""
        return self.remaining

    async def reserve(self, amount: int) -> bool:
        if amount > self.remaining:
            return False
        self.remaining -= amount
        return True

    async def settle(self, reserved: int, used: int, units: int) -> None:
        self.remaining += reserved - used
        self._count(used, units)

    def _count(self, used: int, units: int) -> None:
        self.spent += used
        self.units += units


class LedgerBudget(Budget):
    """The day's cap of `service` in the spend ledger, shared by every process on the
    database. The calls run in a worker thread: waiting for SQLite's write lock or a
    PostgreSQL row lock must not stall the other sources on the event loop."""

    def __init__(self, engine: Engine, service: str, day: date, cap_usd: float) -> None:
        super().__init__(cap_usd)  # `remaining` unused: the ledger holds what is left
        self.engine, self.service, self.day = engine, service, day
        self.cap = to_micros(cap_usd)

    async def available(self) -> int:
        return max(0, self.cap - (await asyncio.to_thread(self._spent)))

    async def reserve(self, amount: int) -> bool:
        return await asyncio.to_thread(
            reserve, self.engine, self.service, self.day, amount, self.cap
        )

    async def settle(self, reserved: int, used: int, units: int) -> None:
        if used != reserved or units:
            await asyncio.to_thread(self._settle, reserved, used, units)
        self._count(used, units)

    def _spent(self) -> int:
        with Session(self.engine) as session:
            return spent(session, self.service, self.day)[0]

    def _settle(self, reserved: int, used: int, units: int) -> None:
        with transaction(self.engine) as session:
            settle(session, self.service, self.day, reserved=reserved, used=used, units=units)
