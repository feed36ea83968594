"""Delivering each day's ranked papers to subscribed Discord channels and DMs, exactly once.

The core never talks to Discord directly: it plans (`plan`), then hands papers to a `Courier`
(the bot implements it with discord.py; tests with a recording class). The `Delivery` table is
the ledger: a row is *claimed* before a paper is sent and *completed* with the message id after,
so a run that dies mid-way is finished by the next one without duplicates or gaps. `deliver`
works on many targets at once (`workers`), each target's papers in order.
"""

from __future__ import annotations

from hotpapers.delivery._plan import digest_title, matching, plan
from hotpapers.delivery._run import (
    DEFAULT_WORKERS,
    STALE_CLAIM,
    DeliveryReport,
    TargetReport,
    deliver,
)
from hotpapers.delivery._schedule import due_targets
from hotpapers.delivery._types import (
    DM_FORBIDDEN_REASON,
    FORBIDDEN_REASON,
    GONE_REASON,
    Courier,
    DeliveryError,
    MessageGone,
    MessageRejected,
    TargetForbidden,
    TargetGone,
    TargetPlan,
    ThreadGone,
    Transient,
    Update,
)
from hotpapers.subscriptions import pause_target, remove_target

__all__ = [
    "DEFAULT_WORKERS",
    "DM_FORBIDDEN_REASON",
    "FORBIDDEN_REASON",
    "GONE_REASON",
    "STALE_CLAIM",
    "Courier",
    "DeliveryError",
    "DeliveryReport",
    "MessageGone",
    "MessageRejected",
    "TargetForbidden",
    "TargetGone",
    "TargetPlan",
    "TargetReport",
    "ThreadGone",
    "Transient",
    "Update",
    "deliver",
    "digest_title",
    "due_targets",
    "matching",
    "pause_target",
    "plan",
    "remove_target",
]
