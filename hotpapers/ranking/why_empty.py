"""Why a day's ranking is empty, in one sentence that says what to run next.

An empty ranking has three different causes and only one of them is news: nothing of that
listing is in the database (collect it), nothing of it has been measured (measure signals), or
everything was measured and nothing reached the threshold (the classic post then has no papers,
as the original's 2020-12-07 post had none).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import Engine, func, select
from sqlmodel import Session

from hotpapers.errors import HotpapersError
from hotpapers.ranking.scoring import format_number
from hotpapers.storage.models import Announcement, SignalSnapshot

_ANNOUNCEMENT = Announcement.__table__.c  # type: ignore[attr-defined]
_SNAPSHOT = SignalSnapshot.__table__.c  # type: ignore[attr-defined]


class NothingToRank(HotpapersError):
    """The day cannot be ranked yet; the sentence names the command that fixes it."""


@dataclass(frozen=True)
class DayContents:
    announced: int  # papers of the listing in the database
    measured: int  # of those, papers with at least one signal snapshot


def day_contents(engine: Engine, day: date) -> DayContents:
    listed = select(_ANNOUNCEMENT.paper_id).where(_ANNOUNCEMENT.listing_date == day).distinct()
    measured = (
        select(_SNAPSHOT.paper_id)
        .where(_SNAPSHOT.paper_id.in_(listed.scalar_subquery()))
        .distinct()
    )
    with Session(engine) as session:
        announced = session.execute(select(func.count()).select_from(listed.subquery()))
        count = session.execute(select(func.count()).select_from(measured.subquery()))
        return DayContents(int(announced.scalar_one()), int(count.scalar_one()))


def require_rankable(engine: Engine, day: date) -> DayContents:
    """Raise NothingToRank when the day has not been collected or not been measured."""
    contents = day_contents(engine, day)
    if contents.announced == 0:
        raise NothingToRank(
            f"no paper of the {day} listing is in the database yet; "
            f"run `hotpapers collect --date {day}` first"
        )
    if contents.measured == 0:
        raise NothingToRank(
            f"none of the {contents.announced} papers of the {day} listing has been measured "
            "yet; run `hotpapers signals` first (and enable a source under [signals.*])"
        )
    return contents


def below_threshold(day: date, contents: DayContents, threshold: float) -> str:
    return (
        f"{day}: none of the {contents.measured} measured papers (of {contents.announced} "
        f"listed) reached the ranking threshold of {format_number(threshold)}"
    )
