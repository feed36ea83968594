"""Which arXiv categories are collected: the configured ones, and those subscriptions need.

A channel subscribed to a category no configured collection covers would be told it is
subscribed and then get nothing. So collection (the collect use-case, shared by the CLI and
the scheduler) also takes every category an active subscription asks for, up to
`arxiv.max_subscribed_categories` more; /subscribe refuses one beyond that with one sentence.
Each extra category makes every collection longer (more papers to complete from the API, and
for past days from OAI-PMH perhaps one more set): `hotpapers status` shows what it costs.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from sqlalchemy import Engine, func
from sqlmodel import Session, col, select

from hotpapers.arxiv.sources import _oai_set as oai_set  # the set a category is in
from hotpapers.config import ArxivSettings
from hotpapers.errors import InputError
from hotpapers.storage.models import Announcement, Subscription


@dataclass(frozen=True)
class Collection:
    """The categories one collection asks arXiv for, and why."""

    configured: tuple[str, ...]
    extra: tuple[str, ...] = ()  # asked for by subscriptions, within the maximum
    over: tuple[str, ...] = ()  # asked for beyond the maximum: not collected
    subscriptions: dict[str, int] = field(default_factory=dict)  # extra/over -> how many

    @property
    def categories(self) -> list[str]:
        return [*self.configured, *self.extra]


def _subscribed(session: Session) -> list[tuple[str, int]]:
    """(category, active subscriptions) by the oldest subscription first."""
    query = (
        select(Subscription.value, func.count(), func.min(Subscription.id))
        .where(col(Subscription.kind) == "category", col(Subscription.status) == "active")
        .group_by(col(Subscription.value))
        .order_by(func.min(Subscription.id))
    )
    return [(value, int(count)) for value, count, _ in session.exec(query)]


def collection(arxiv: ArxivSettings, session: Session) -> Collection:
    """What to collect: the configured categories, then the subscribed ones (oldest first)
    up to the maximum; the rest are listed as over it (/subscribe keeps that from happening,
    short of two at once or a lowered maximum)."""
    configured = tuple(arxiv.categories)
    wanted = [(c, n) for c, n in _subscribed(session) if c not in configured]
    cap = arxiv.max_subscribed_categories
    return Collection(
        configured=configured,
        extra=tuple(c for c, _ in wanted[:cap]),
        over=tuple(c for c, _ in wanted[cap:]),
        subscriptions=dict(wanted),
    )


def collected_categories(arxiv: ArxivSettings, engine: Engine) -> list[str]:
    with Session(engine) as session:
        return collection(arxiv, session).categories


def require_collectable(arxiv: ArxivSettings, session: Session, category: str) -> None:
    """InputError unless `category` is collected already or may be added within the maximum."""
    found = collection(arxiv, session)
    if category in found.categories or len(found.extra) < arxiv.max_subscribed_categories:
        return
    raise InputError(
        f"This bot already collects the most extra categories it may "
        f"({arxiv.max_subscribed_categories}) for other subscriptions, so it cannot follow "
        f"{category}; choose one it collects ({', '.join(found.categories)}) or ask its "
        "operator to raise arxiv.max_subscribed_categories."
    )


# -- what it costs, for `hotpapers status` ----------------------------------------------


@dataclass(frozen=True)
class _Share:
    """One category's papers in its newest collected listing, next to the others'."""

    papers: int  # announced in the category
    only: int  # of those, in no other collected category (what it adds)
    others: int  # announced in the other collected categories


def _share(session: Session, category: str, others: list[str]) -> _Share | None:
    """The category's share of its newest collected listing (None: never collected)."""
    newest = session.exec(
        select(func.max(Announcement.listing_date)).where(col(Announcement.category) == category)
    ).one()
    if newest is None:
        return None
    rows = session.exec(
        select(Announcement.paper_id, Announcement.category).where(
            col(Announcement.listing_date) == newest
        )
    ).all()
    mine = {paper for paper, cat in rows if cat == category}
    theirs = {paper for paper, cat in rows if cat in others}
    return _Share(papers=len(mine), only=len(mine - theirs), others=len(theirs))


def _count(n: int, one: str, many: str | None = None) -> str:
    """`1 paper`, `2 papers`; `many` replaces the last word of `one` in the plural."""
    if n == 1:
        return f"{n} {one}"
    head = one.rpartition(" ")[0]
    plural = f"{head} {many}".strip() if many else f"{one}s"
    return f"{n} {plural}"


def status_lines(arxiv: ArxivSettings, engine: Engine) -> list[str]:
    """Sentences on what is collected and what the subscribed extra categories cost."""
    with Session(engine) as session:
        found = collection(arxiv, session)
        cap = arxiv.max_subscribed_categories
        lines = [
            f"Collecting {_count(len(found.configured), 'configured category', 'categories')}: "
            f"{', '.join(found.configured)}."
        ]
        if not found.extra and not found.over:
            lines.append(f"No subscription needs another category (up to {cap} may be added).")
            return lines
        lines.append(
            f"And {len(found.extra)} more that subscriptions need (at most {cap}), "
            "each making every collection longer:"
        )
        configured_sets = {oai_set(c) for c in found.configured}
        for category in found.extra:
            lines.append(_cost_line(session, arxiv, category, found, configured_sets))
        if found.over:
            lines.append(
                f"Not collected, over the maximum of {cap}: {', '.join(found.over)} "
                "(their subscribers get nothing until it is raised)."
            )
    return lines


def _cost_line(
    session: Session,
    arxiv: ArxivSettings,
    category: str,
    found: Collection,
    configured_sets: set[str],
) -> str:
    who = _count(found.subscriptions.get(category, 0), "subscription")
    share = _share(session, category, [c for c in found.categories if c != category])
    if share is None:
        cost = "not collected yet"
    else:
        # The feed's papers are completed from the API in batches shared by all categories.
        size = arxiv.batch_size
        more = math.ceil((share.others + share.only) / size) - math.ceil(share.others / size)
        cost = (
            f"{_count(share.papers, 'paper')} in its last listing ({share.only} in no other "
            f"collected category), about {_count(more, 'more API request')} a day"
        )
    if arxiv.backfill_source == "oai" and oai_set(category) not in configured_sets:
        cost += f", and for past days one more OAI-PMH set ({oai_set(category)})"
    return f"  {category}: {who}; {cost}."
