"""Planning one listing's delivery: which papers each subscribed target gets, and edits."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from datetime import date, datetime

from sqlalchemy import Engine
from sqlmodel import Session, col, select

from hotpapers.config import Settings
from hotpapers.delivery._types import TargetPlan, Update
from hotpapers.delivery.keywords import Words, wanted
from hotpapers.ranking.candidates import load_candidates
from hotpapers.ranking.rising import DISCORD, record_shown, rising_papers
from hotpapers.ranking.scoring import RankedPaper, rank_papers
from hotpapers.storage.db import transaction
from hotpapers.storage.models import Announcement, Delivery, GuildSettings, Subscription
from hotpapers.storage.names import author_matches
from hotpapers.tldr.store import with_tldrs

NEW_TYPES = frozenset({"new", "cross"})
REPLACE_TYPES = frozenset({"replace", "replace-cross"})

# One listing is at most a few thousand papers; rank all of them, filter per subscription.
_GENEROUS_TOP = 100_000


def plan(
    session: Session, settings: Settings, listing_date: date, now: datetime
) -> list[TargetPlan]:
    """Per target with active subscriptions, the papers of `listing_date` it should get.

    No plan for a day without announcements, and none for a target with nothing to post.
    """
    announced = _announcements(session, listing_date)
    if not announced:
        return []
    query = select(Subscription).where(Subscription.status == "active")
    subscriptions = session.exec(query.order_by(col(Subscription.id))).all()
    if not subscriptions:
        return []
    ranking = _day_ranking(session, settings, listing_date, now)
    by_id = {item.paper.arxiv_id: item for item in ranking}
    hot = [item for item in ranking if item.score >= settings.ranking.threshold]
    replaced = {
        paper_id: max(version for _, kind, version in rows if kind in REPLACE_TYPES)
        for paper_id, rows in announced.items()
        if any(kind in REPLACE_TYPES for _, kind, _ in rows)
    }
    by_target: dict[str, list[Subscription]] = defaultdict(list)
    for subscription in subscriptions:
        by_target[subscription.target].append(subscription)
    shown = settings.tldr.enabled  # where a TL;DR was made (hotpapers/tldr/), it is shown
    risers = with_tldrs(session, _risers(session, settings, listing_date, now), enabled=shown)
    hot = with_tldrs(session, hot, enabled=shown)
    plans = []
    texts: dict[str, Words] = {}  # each paper's text is read once, for every subscription
    for target, subs in by_target.items():
        chosen: dict[str, int] = {}
        for subscription in subs:
            found = matching(subscription, hot, announced, texts)
            for item in found[: max(subscription.top_n, 0)]:
                chosen.setdefault(item.paper.arxiv_id, subscription.id or 0)
        papers = tuple(item for item in hot if item.paper.arxiv_id in chosen)
        updates = _updates(session, target, listing_date, replaced, by_id)
        rising = _rising_for(subs, risers, chosen, texts)
        if not papers and not updates and not rising:
            continue
        plans.append(
            TargetPlan(
                target=target,
                listing_date=listing_date,
                style=_style(session, subs[0]),
                title=digest_title(listing_date, subs),
                papers=papers,
                updates=updates,
                subscription_for=chosen,
                rising=rising,
                missing_since=min((s.gone_since for s in subs if s.gone_since), default=None),
            )
        )
    _remember_shown(session, listing_date, plans, now)
    return plans


def _risers(session: Session, settings: Settings, day: date, now: datetime) -> list[RankedPaper]:
    """Discord's "Rising from earlier days" of `day`: chosen by the first plan of the day
    (recorded at once, so every later plan, in any process, gets the same papers)."""
    if not settings.rising.discord:
        return []
    with transaction(_engine(session)) as writer:
        return rising_papers(writer, settings, DISCORD, day, now)


def _rising_for(
    subscriptions: Sequence[Subscription],
    risers: Sequence[RankedPaper],
    chosen: dict[str, int],
    texts: dict[str, Words],
) -> tuple[RankedPaper, ...]:
    """The risers a target asked for (as a subscription asks for a day's papers), in order."""
    found = []
    for item in risers:
        for subscription in subscriptions:
            if item.paper.arxiv_id in chosen or item.score < subscription.min_score:
                continue
            if _wanted(subscription, item, texts) and _rising_in(subscription, item):
                chosen.setdefault(item.paper.arxiv_id, subscription.id or 0)
                found.append(item)
                break
    return tuple(found)


def _rising_in(subscription: Subscription, item: RankedPaper) -> bool:
    """A category subscription gets the risers of its category (primary only if it says so)."""
    if subscription.kind != "category":
        return True
    if subscription.primary_only:
        return item.paper.primary_category == subscription.value
    return subscription.value in item.paper.categories


def _remember_shown(
    session: Session, day: date, plans: Sequence[TargetPlan], now: datetime
) -> None:
    """What Discord shows of `day` and the scores then: the baseline of later Rising sections
    (the first plan's scores stay: re-plans do not move it)."""
    shown = {item.paper.arxiv_id: item for p in plans for item in p.papers}
    if shown:
        with transaction(_engine(session)) as writer:
            record_shown(writer, DISCORD, day, shown.values(), now)


def _engine(session: Session) -> Engine:
    bind = session.get_bind()
    return bind if isinstance(bind, Engine) else bind.engine


def matching(
    subscription: Subscription,
    ranking: Sequence[RankedPaper],
    announced: dict[str, list[tuple[str, str, int]]],
    texts: dict[str, Words] | None = None,
) -> list[RankedPaper]:
    """The papers of `ranking` (in its order) newly announced that `subscription` asks for.

    `texts`: the papers' words by id, filled as needed (pass one dict for many subscriptions)."""
    found = []
    texts = {} if texts is None else texts
    for item in ranking:
        rows = announced.get(item.paper.arxiv_id, [])
        if item.score < subscription.min_score or not _is_new(subscription, rows):
            continue
        if _wanted(subscription, item, texts):
            found.append(item)
    return found


def _is_new(subscription: Subscription, rows: Iterable[tuple[str, str, int]]) -> bool:
    """Announced today as a new paper (a cross-list counts unless the subscription says no)."""
    kinds = {"new"} if subscription.primary_only else NEW_TYPES
    if subscription.kind == "category":
        return any(cat == subscription.value and kind in kinds for cat, kind, _ in rows)
    return any(kind in kinds for _, kind, _ in rows)


def _wanted(subscription: Subscription, item: RankedPaper, texts: dict[str, Words]) -> bool:
    if subscription.kind == "category":
        return True
    if subscription.kind == "author":
        return any(author_matches(subscription.value, name) for name in item.paper.authors)
    if subscription.kind == "keyword":
        paper = item.paper
        words = texts.get(paper.arxiv_id)
        if words is None:
            words = texts[paper.arxiv_id] = Words(f"{paper.title} {paper.abstract}")
        return wanted(words, subscription.value, subscription.excludes)
    return False


def digest_title(listing_date: date, subscriptions: Sequence[Subscription]) -> str:
    """ "Hot Papers 2021-03-15 · cs.CV, cs.LG" (authors and keywords follow the categories)."""
    order = {"category": 0, "author": 1, "keyword": 2}
    labels = [
        f"“{sub.value}”" if sub.kind == "keyword" else sub.value
        for sub in sorted(subscriptions, key=lambda s: (order.get(s.kind, 9), s.value))
    ]
    title = f"Hot Papers {listing_date:%Y-%m-%d}"
    return f"{title} · {', '.join(dict.fromkeys(labels))}" if labels else title


def _announcements(session: Session, day: date) -> dict[str, list[tuple[str, str, int]]]:
    """paper id -> [(category, announce type, version)] for one listing date."""
    query = select(
        Announcement.paper_id,
        Announcement.category,
        Announcement.announce_type,
        Announcement.version,
    ).where(Announcement.listing_date == day)  # type: ignore[arg-type]
    found: dict[str, list[tuple[str, str, int]]] = defaultdict(list)
    for paper_id, category, kind, version in session.exec(query):
        found[paper_id].append((category, kind, version))
    return found


def _day_ranking(
    session: Session, settings: Settings, day: date, now: datetime
) -> list[RankedPaper]:
    """Every paper of the day, ranked (also those under the threshold: edits need them)."""
    ranking = settings.ranking
    return rank_papers(
        # Replaced papers too: edits of earlier messages need their ranking; `matching`
        # keeps replacements out of the day's new papers.
        load_candidates(session, day, None, now, include_replaced=True),
        weights=ranking.weights,
        threshold=float("-inf"),
        top=_GENEROUS_TOP,
        now=now,
        decay_hours=ranking.decay_hours,
    )


def _updates(
    session: Session,
    target: str,
    day: date,
    replaced: dict[str, int],
    by_id: dict[str, RankedPaper],
) -> tuple[Update, ...]:
    """Earlier deliveries to `target` of papers announced today in a newer version."""
    if not replaced:
        return ()
    query = select(Delivery).where(
        Delivery.target == target,
        Delivery.state == "sent",
        col(Delivery.listing_date) < day,
        col(Delivery.paper_id).in_(list(replaced)),
    )
    updates = []
    for row in session.exec(query.order_by(col(Delivery.id))):
        version = replaced[row.paper_id]
        if row.version < version and row.paper_id in by_id:
            updates.append(Update(by_id[row.paper_id], version))
    return tuple(updates)


def _style(session: Session, subscription: Subscription) -> str:
    if subscription.target.startswith("dm:"):
        return "dm"
    if subscription.guild_id:
        settings = session.get(GuildSettings, subscription.guild_id)
        if settings is not None and settings.post_style == "forum":
            return "forum"
    return "thread"
