"""Deliver: each day's ranked papers to subscribed channels and DMs exactly once (the plan,
the run, the `Delivery` ledger), subscriptions and keywords; no Discord types. It may
import ranking, render, arxiv, storage, plumbing and the base modules.
"""

from __future__ import annotations

from hotpapers.delivery._ledger import STALE_CLAIM
from hotpapers.delivery._plan import digest_title, matching, plan
from hotpapers.delivery._run import DEFAULT_WORKERS, DeliveryReport, TargetReport, deliver
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
from hotpapers.delivery.subscriptions import pause_target, remove_target

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
