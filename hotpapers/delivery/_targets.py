"""What happens to a target's subscriptions when Discord says it is forbidden or gone.

(hotpapers.subscriptions did not exist when this was written; these are the few lines of SQL
delivery needs.)
"""

from __future__ import annotations

from sqlalchemy import Engine, delete, update
from sqlmodel import col

from hotpapers.db import transaction
from hotpapers.models import Subscription


def pause_target(engine: Engine, target: str, reason: str) -> int:
    """Pause every active subscription of `target` with `reason`; how many were paused."""
    with transaction(engine) as session:
        done = session.execute(
            update(Subscription)
            .where(col(Subscription.target) == target, col(Subscription.status) == "active")
            .values(status="paused", status_reason=reason[:300])
        )
        return int(done.rowcount)  # type: ignore[attr-defined]


def remove_target(engine: Engine, target: str) -> int:
    """Delete every subscription of `target` (its channel or user is gone); how many."""
    with transaction(engine) as session:
        done = session.execute(delete(Subscription).where(col(Subscription.target) == target))
        return int(done.rowcount)  # type: ignore[attr-defined]
