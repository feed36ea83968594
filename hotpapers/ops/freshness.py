"""Is the data as new as arXiv's calendar says it should be?

A collect can "succeed" for days while fetching nothing new (a feed that stopped moving,
a category typo): the job status looks fine, the site and posts go stale. The calendar
knows which listing should be held by now; /healthz compares the newest stored one.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import date, datetime, timedelta

from sqlalchemy import Engine, func
from sqlmodel import Session, col, select

from hotpapers.arxiv.calendar import current_listing_date
from hotpapers.storage.models import Announcement


def newest_listing(engine: Engine) -> date | None:
    """The newest listing date with any announcement stored, or None before the first."""
    with Session(engine) as session:
        return session.execute(select(func.max(col(Announcement.listing_date)))).scalar()


def stale_listing(
    newest: date | None, now: datetime, holidays: Collection[date], grace_hours: float
) -> str | None:
    """Why the data is stale (one sentence), or None. A listing is expected once
    `grace_hours` have passed since its announcement; an empty database is not stale
    (nothing has been collected yet, the job statuses say so)."""
    if newest is None:
        return None
    expected = current_listing_date(now - timedelta(hours=grace_hours), holidays)
    if newest >= expected:
        return None
    return (
        f"the newest listing is {newest}, but arXiv announced the listing of {expected} "
        f"more than {grace_hours:g} hours ago"
    )
