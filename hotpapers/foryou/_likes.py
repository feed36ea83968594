"""What one user liked (stars, reactions, their own subscriptions), and forgetting all of it.

A user's data here: their stars (`paper_star`), their reactions on the bot's paper messages
(`paper_reaction`), their direct-message subscriptions and the DM delivery ledger that names
them. Channel subscriptions they set up belong to the channel: forgetting a user keeps those
(other people read them) but removes the user's id from them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Engine, Executable, delete, or_, update
from sqlmodel import Session, col, select

from hotpapers.delivery.subscriptions import dm_target
from hotpapers.storage.db import insert_once, transaction
from hotpapers.storage.models import (
    Delivery,
    DeliveryTask,
    DeliveryThread,
    PaperReaction,
    PaperStar,
    Subscription,
)

STARRED, REACTED = "starred", "reacted to"


@dataclass(frozen=True, slots=True)
class Interest:
    """One of the user's subscriptions, as /foryou reads it."""

    kind: str  # category | author | keyword
    value: str
    excludes: tuple[str, ...] = ()
    primary_only: bool = False


@dataclass(frozen=True, slots=True)
class Likes:
    """Everything /foryou learns from for one user."""

    papers: dict[str, str]  # liked paper id -> how ("starred" / "reacted to"), newest first
    interests: tuple[Interest, ...]

    @property
    def empty(self) -> bool:
        return not self.papers and not self.interests


@dataclass(frozen=True, slots=True)
class Forgotten:
    """What `forget` removed (and the channel subscriptions it kept without the user's id)."""

    stars: int
    reactions: int
    subscriptions: int
    deliveries: int
    channel_subscriptions: int

    @property
    def nothing(self) -> bool:
        return not (self.stars or self.reactions or self.subscriptions or self.deliveries) and (
            not self.channel_subscriptions
        )


def toggle_star(engine: Engine, user_id: int | str, paper_id: str, now: datetime) -> bool:
    """Star the paper for the user, or take the star back if it was there; True if starred."""
    with transaction(engine) as session:
        found = session.get(PaperStar, (str(user_id), paper_id))
        if found is not None:
            session.delete(found)
            return False
    # Not there when looked at: star it. A second press of the same button at the same moment
    # (a double click) may star it first; the paper is starred either way.
    insert_once(engine, PaperStar(user_id=str(user_id), paper_id=paper_id, starred_at=now))
    return True


def record_reaction(
    engine: Engine, user_id: int | str, message_id: int | str, emoji: str, now: datetime
) -> str | None:
    """Remember the user's reaction if the message is one of our paper messages; its paper."""
    with transaction(engine) as session:
        query = select(Delivery.paper_id).where(Delivery.message_id == str(message_id))
        paper_id = session.exec(query).first()
        if paper_id is None:
            return None
        key = (str(user_id), str(message_id), emoji[:100])
        if session.get(PaperReaction, key) is None:
            session.add(
                PaperReaction(
                    user_id=key[0],
                    message_id=key[1],
                    emoji=key[2],
                    paper_id=paper_id,
                    reacted_at=now,
                )
            )
        return paper_id


def remove_reaction(engine: Engine, user_id: int | str, message_id: int | str, emoji: str) -> bool:
    """Forget one reaction the user took back; whether there was one."""
    with transaction(engine) as session:
        found = session.get(PaperReaction, (str(user_id), str(message_id), emoji[:100]))
        if found is None:
            return False
        session.delete(found)
        return True


def likes_of(session: Session, user_id: int | str) -> Likes:
    """The user's stars and reactions (newest first) and their own subscriptions."""
    user = str(user_id)
    papers: dict[str, str] = {}
    stars = session.exec(
        select(PaperStar.paper_id)
        .where(PaperStar.user_id == user)
        .order_by(col(PaperStar.starred_at).desc())
    ).all()
    for paper_id in stars:
        papers.setdefault(paper_id, STARRED)
    reactions = session.exec(
        select(PaperReaction.paper_id)
        .where(PaperReaction.user_id == user)
        .order_by(col(PaperReaction.reacted_at).desc())
    ).all()
    for paper_id in reactions:
        papers.setdefault(paper_id, REACTED)
    return Likes(papers=papers, interests=tuple(_interests(session, user)))


def _interests(session: Session, user: str) -> list[Interest]:
    """The subscriptions the user made (by DM or for a channel), each value once."""
    rows = session.exec(
        select(Subscription)
        .where(or_(col(Subscription.user_id) == user, col(Subscription.target) == dm_target(user)))
        .order_by(col(Subscription.id))
    ).all()
    seen: dict[tuple[str, str], Interest] = {}
    for row in rows:
        interest = Interest(row.kind, row.value, tuple(row.excludes or ()), row.primary_only)
        seen.setdefault((row.kind, row.value.casefold()), interest)
    return list(seen.values())


def what_would_be_forgotten(session: Session, user_id: int | str) -> Forgotten:
    """The counts `forget` would report, without changing anything (for the confirmation)."""
    user, target = str(user_id), dm_target(user_id)
    return Forgotten(
        stars=_count(session, select(PaperStar).where(PaperStar.user_id == user)),
        reactions=_count(session, select(PaperReaction).where(PaperReaction.user_id == user)),
        subscriptions=_count(session, select(Subscription).where(Subscription.target == target)),
        deliveries=_count(session, select(Delivery).where(Delivery.target == target)),
        channel_subscriptions=_count(
            session,
            select(Subscription).where(Subscription.user_id == user, Subscription.target != target),
        ),
    )


def _count(session: Session, query: object) -> int:
    return len(session.exec(query).all())  # type: ignore[call-overload]


def forget(engine: Engine, user_id: int | str) -> Forgotten:
    """Delete everything stored per this user, in one transaction; what was removed."""
    user, target = str(user_id), dm_target(user_id)
    with transaction(engine) as session:
        stars = _deleted(session, delete(PaperStar).where(col(PaperStar.user_id) == user))
        reactions = _deleted(
            session, delete(PaperReaction).where(col(PaperReaction.user_id) == user)
        )
        subscriptions = _deleted(
            session, delete(Subscription).where(col(Subscription.target) == target)
        )
        deliveries = _deleted(session, delete(Delivery).where(col(Delivery.target) == target))
        _deleted(session, delete(DeliveryThread).where(col(DeliveryThread.target) == target))
        _deleted(session, delete(DeliveryTask).where(col(DeliveryTask.target) == target))
        # A channel keeps its subscriptions (others read them); they stop naming the user.
        kept = _deleted(
            session,
            update(Subscription).where(col(Subscription.user_id) == user).values(user_id=""),
        )
    return Forgotten(stars, reactions, subscriptions, deliveries, kept)


def _deleted(session: Session, statement: Executable) -> int:
    return int(session.execute(statement).rowcount)  # type: ignore[attr-defined]
