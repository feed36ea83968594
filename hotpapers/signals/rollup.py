"""The per-day roll-up of attention gained (`signal_gain_day`), written with the snapshots.

A row per (paper, source, UTC day) on which a numeric metric changed: the day's latest
snapshot minus the latest snapshot before that day (a missing metric counts as 0; the
difference may be negative). Trending sums a window's rows: the sum telescopes to "latest in
the window minus latest before it", the rule of hotpapers/ranking/trending.py, while reading a few
thousand rows instead of every snapshot. Rewriting a day's row from the snapshots makes the
write idempotent; the next measured day is rewritten too, as its base may have changed.
The weighted metrics of GAIN_COLUMNS are written twice: in `gains` and as columns.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import delete
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session, col, select

from hotpapers.storage.models import GAIN_COLUMNS, SignalGainDay, SignalSnapshot


def numbers(metrics: Mapping[str, object] | None) -> dict[str, float]:
    """The numeric metrics (booleans and text are not counts)."""
    return {
        name: float(value)
        for name, value in (metrics or {}).items()
        if isinstance(value, int | float) and not isinstance(value, bool)
    }


def day_gains(
    latest: Mapping[str, object] | None, before: Mapping[str, object] | None
) -> dict[str, float]:
    """Per metric of either, `latest` minus `before` (missing = 0), only the changed ones."""
    now, was = numbers(latest), numbers(before)
    changes = {name: now.get(name, 0.0) - was.get(name, 0.0) for name in now.keys() | was.keys()}
    return {name: change for name, change in changes.items() if change != 0}


def utc_day(moment: datetime) -> date:
    return (moment.astimezone(UTC) if moment.tzinfo else moment).date()


def _latest_before(session: Session, paper_id: str, source: str, moment: datetime) -> Any:
    query = (
        select(SignalSnapshot.metrics)
        .where(
            SignalSnapshot.paper_id == paper_id,
            SignalSnapshot.source == source,
            SignalSnapshot.taken_at < moment,
        )
        .order_by(col(SignalSnapshot.taken_at).desc(), col(SignalSnapshot.id).desc())
        .limit(1)
    )
    return session.exec(query).first()


def _next_day(session: Session, paper_id: str, source: str, after: datetime) -> date | None:
    query = (
        select(SignalSnapshot.taken_at)
        .where(
            SignalSnapshot.paper_id == paper_id,
            SignalSnapshot.source == source,
            SignalSnapshot.taken_at >= after,
        )
        .order_by(col(SignalSnapshot.taken_at))
        .limit(1)
    )
    found = session.exec(query).first()
    return utc_day(found) if found is not None else None


def rewrite_day(session: Session, paper_id: str, source: str, day: date) -> None:
    """Recompute the (paper, source, day) row from the snapshots: written, or removed when
    nothing changed that day."""
    start = datetime.combine(day, time(0), tzinfo=UTC)
    end = start + timedelta(days=1)
    gains = day_gains(
        _latest_before(session, paper_id, source, end),
        _latest_before(session, paper_id, source, start),
    )
    if not gains:
        session.execute(
            delete(SignalGainDay).where(
                col(SignalGainDay.paper_id) == paper_id,
                col(SignalGainDay.source) == source,
                col(SignalGainDay.day) == day,
            )
        )
        return
    # An upsert: two signal runs at once may write the same day (the later one wins).
    is_postgres = session.get_bind().dialect.name == "postgresql"
    statement = (postgresql.insert if is_postgres else sqlite.insert)(SignalGainDay.__table__)  # type: ignore[attr-defined]
    columns = {name: gains.get(name, 0.0) for name in GAIN_COLUMNS}
    statement = statement.values(paper_id=paper_id, source=source, day=day, gains=gains, **columns)
    written = ("gains", *GAIN_COLUMNS)
    session.execute(
        statement.on_conflict_do_update(
            index_elements=["paper_id", "source", "day"],
            set_={name: statement.excluded[name] for name in written},
        )
    )


def roll_up(session: Session, measured: Iterable[tuple[str, str, datetime]]) -> None:
    """Rewrite the rows the new snapshots (paper, source, taken_at) touch; the snapshots must
    be flushed already. Runs in the caller's transaction."""
    for paper_id, source, day in sorted({(p, s, utc_day(t)) for p, s, t in measured}):
        rewrite_day(session, paper_id, source, day)
        after = datetime.combine(day + timedelta(days=1), time(0), tzinfo=UTC)
        following = _next_day(session, paper_id, source, after)
        if following is not None:
            rewrite_day(session, paper_id, source, following)
    session.flush()
