"""A small world for the trending tests: papers listed on several days, measured over weeks."""

from __future__ import annotations

from datetime import UTC, date, datetime

from sqlalchemy import Engine

from hotpapers.signals.base import Measurement
from hotpapers.signals.store import save_measurements
from hotpapers.storage.db import transaction
from hotpapers.storage.records import PaperRecord
from hotpapers.storage.store import record_announcements, upsert_papers

TODAY = date(2026, 11, 27)  # a Friday
NOW = datetime(2026, 11, 27, 18, tzinfo=UTC)

OLD = "2609.00001"  # listed 2026-09-01, 500 likes by then; +120 likes this week: trends
WEEKLY = "2611.00002"  # listed 2026-11-24 (cs.CV, cross-listed to cs.LG), 300 retweets
MONTHLY = "2611.00003"  # listed 2026-11-03, 900 likes, all before this week: month only
QUIET = "2611.00004"  # listed 2026-11-24, measured at 0 all along: never trends
IMPORTED = "2611.00005"  # no announcement row (imported): never trends
REACTED = "2611.00006"  # listed 2026-11-25, 20 Discord reactions this week (weight 5)
FALLING = "2611.00007"  # listed 2026-10-20, likes went down this week: never trends

LISTINGS = {
    date(2026, 9, 1): [OLD],
    date(2026, 10, 20): [FALLING],
    date(2026, 11, 3): [MONTHLY],
    date(2026, 11, 24): [WEEKLY, QUIET],
    date(2026, 11, 25): [REACTED],
}


def record(arxiv_id: str) -> PaperRecord:
    categories = ("cs.CV", "cs.LG") if arxiv_id == WEEKLY else ("cs.LG",)
    return PaperRecord(
        arxiv_id=arxiv_id,
        version=1,
        title=f"Paper {arxiv_id}",
        abstract="An abstract.",
        authors=("Ada Lovelace",),
        categories=categories,
        primary_category=categories[0],
        announce_type="new",
    )


def at(day: date, hour: int = 12) -> datetime:
    return datetime(day.year, day.month, day.day, hour, tzinfo=UTC)


def x(likes: float, retweets: float = 0.0) -> dict[str, float]:
    return {"retweets": retweets, "likes": likes, "replies": 0.0, "quotes": 0.0, "posts": 1.0}


MEASURED = [
    (OLD, "x", at(date(2026, 9, 3)), x(500)),
    (OLD, "x", at(date(2026, 11, 26)), x(620)),
    (WEEKLY, "x", at(date(2026, 11, 25)), x(10, 100)),
    (WEEKLY, "x", at(date(2026, 11, 26)), x(40, 300)),
    (MONTHLY, "x", at(date(2026, 11, 5)), x(900)),
    (MONTHLY, "x", at(date(2026, 11, 10)), x(900)),
    (QUIET, "x", at(date(2026, 11, 25)), x(0)),
    (IMPORTED, "x", at(date(2026, 11, 26)), x(5000)),
    (REACTED, "discord", at(date(2026, 11, 26)), {"reactions": 20.0}),
    (FALLING, "x", at(date(2026, 10, 22)), x(400)),
    (FALLING, "x", at(date(2026, 11, 26)), x(350)),
]


def build(engine: Engine) -> Engine:
    with transaction(engine) as session:
        for day, ids in LISTINGS.items():
            records = [record(i) for i in ids]
            upsert_papers(session, records)
            record_announcements(session, day, records, ["cs.LG", "cs.CV"])
        upsert_papers(session, [record(IMPORTED)])
        save_measurements(
            session,
            [Measurement(pid, source, when, metrics) for pid, source, when, metrics in MEASURED],
        )
    return engine
