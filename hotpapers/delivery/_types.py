"""What delivery plans, the errors a courier raises, and the Courier protocol itself."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Protocol

from hotpapers.ranking.scoring import RankedPaper

FORBIDDEN_REASON = "the bot lost permission to post in this channel"
DM_FORBIDDEN_REASON = "the bot can no longer send you direct messages"
GONE_REASON = "Discord said twice, a day apart, that this channel no longer exists"
# A channel answering 404 is paused only when it still does this long after the first 404
# (one 404 may be a hiccup; deleting what users set up is irreversible). A day apart: the
# next day's delivery, even when it starts a little earlier in the day than this one did.
GONE_CONFIRM_AFTER = timedelta(hours=23)


class DeliveryError(Exception):
    """Base of the errors a courier raises; the message is one sentence for the logs."""


class TargetForbidden(DeliveryError):
    """The bot may not post to the target any more (HTTP 403): its subscriptions are paused."""


class TargetGone(DeliveryError):
    """The channel itself (or the user) answered 404: noted, and once it still does a day
    later its subscriptions are paused (never deleted)."""


class ThreadGone(DeliveryError):
    """The day's thread (or forum post) was deleted but its channel exists: a new one is
    started for the papers not yet delivered."""


class Transient(DeliveryError):
    """Rate limits, 5xx, network trouble: the paper stays claimed and is retried next run."""


class MessageRejected(DeliveryError):
    """Discord refused this one message (HTTP 400): the paper is marked failed, not retried."""


class MessageGone(DeliveryError):
    """The message to edit was deleted by someone: nothing to edit."""


@dataclass(frozen=True)
class Update:
    """A paper already delivered to a target and now announced again in a newer version."""

    ranked: RankedPaper
    version: int


@dataclass(frozen=True)
class TargetPlan:
    """One target's digest for one listing: new papers in rank order, edits to make."""

    target: str  # "channel:<id>" or "dm:<user id>"
    listing_date: date
    style: str  # thread | forum | dm
    title: str  # "Hot Papers 2021-03-15 · cs.CV, cs.LG"
    papers: tuple[RankedPaper, ...] = ()
    updates: tuple[Update, ...] = ()
    # "Rising from earlier days" (each with its `rise`), posted after the day's papers
    rising: tuple[RankedPaper, ...] = ()
    # paper id -> the subscription that asked for it (the first one, by id)
    subscription_for: dict[str, int] = field(default_factory=dict)
    # when the target first answered 404 (None: it never did, or it answered since)
    missing_since: datetime | None = None
    kind: str = "day"  # day | week (the weekly digest's thread, hotpapers/delivery/_week.py)

    @property
    def ledger(self) -> str:
        """The target as the ledger (Delivery, DeliveryThread) keys it: a week's thread and
        papers are recorded apart from the same day's daily digest ("channel:1/week")."""
        return self.target if self.kind == "day" else f"{self.target}/{self.kind}"


class Courier(Protocol):
    """How the core talks to Discord. Ids are strings; errors are the DeliveryError family."""

    async def start_digest(self, target: str, title: str, style: str) -> tuple[str, str | None]:
        """Post the header (and open its thread or forum post); (header id, thread id or None)."""
        ...

    async def find_digest(
        self, target: str, title: str, style: str
    ) -> tuple[str, str | None] | None:
        """A header of ours with this title already in the target (its thread opened now if
        it has none): what start_digest returns, or None."""
        ...

    async def send_paper(
        self, target: str, thread_id: str | None, ranked: RankedPaper
    ) -> tuple[str, str]:
        """Post one paper into the thread (or the DM); (channel id, message id).

        ThreadGone when the thread was deleted, TargetGone only when its channel was too."""
        ...

    async def finish_digest(self, target: str, thread_id: str | None, title: str) -> None:
        """Post the closing message (how to subscribe) after the papers of a run."""
        ...

    async def find_paper_message(
        self, target: str, thread_id: str | None, arxiv_id: str
    ) -> tuple[str, str] | None:
        """A message of ours already showing `arxiv_id` in the thread (or DM), if any;
        ThreadGone / TargetGone as for send_paper."""
        ...

    async def edit_paper(
        self, channel_id: str, message_id: str, ranked: RankedPaper, note: str
    ) -> None:
        """Replace a paper message's embed (e.g. with `note` = "updated to v2")."""
        ...
