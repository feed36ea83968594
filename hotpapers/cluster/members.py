"""How many processes share the bot right now, so each can take its share of Discord's limit.

Discord's global limit (50 requests/s) is per bot, however many processes run it. Each
process holds a *shared* PostgreSQL advisory lock on a dedicated session while it runs; the
number of holders is the number of live processes. A process that dies drops out with its
session: nothing to clean up, no heartbeat to expire. On SQLite there is one process.
"""

from __future__ import annotations

import logging

from sqlalchemy import Connection, Engine, text

from hotpapers.db import is_postgres

log = logging.getLogger(__name__)

# The membership key is the leader's lock key with bit 62 set: the same deployment, never
# the leader's own lock.
_MEMBERS_BIT = 1 << 62

_HOLDERS = text(
    "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted"
    " AND mode = 'ShareLock' AND objsubid = 1"
    " AND ((classid::bigint << 32) | objid::bigint) = :key"
)


def members_key(leader_lock_key: int) -> int:
    return leader_lock_key ^ _MEMBERS_BIT


class Membership:
    """This process's presence among the processes of one deployment (blocking calls: run
    them in a thread)."""

    def __init__(self, engine: Engine, leader_lock_key: int) -> None:
        self.engine = engine
        self.key = members_key(leader_lock_key)
        self._connection: Connection | None = None

    def join(self) -> None:
        """Hold the shared lock on a dedicated session (again, if that session was lost)."""
        if not is_postgres(self.engine) or self._connection is not None:
            return
        connection = self.engine.connect().execution_options(isolation_level="AUTOCOMMIT")
        try:
            connection.execute(text("SELECT pg_advisory_lock_shared(:key)"), {"key": self.key})
        except BaseException:
            connection.invalidate()
            connection.close()
            raise
        self._connection = connection

    def count(self) -> int:
        """The live processes, this one included (joining first if need be)."""
        if not is_postgres(self.engine):
            return 1
        self.join()
        assert self._connection is not None
        try:
            found = self._connection.execute(_HOLDERS, {"key": self.key}).scalar_one()
        except Exception:
            self._drop()  # the session is gone: join again next time
            raise
        return max(1, int(found))

    def leave(self) -> None:
        connection = self._connection
        if connection is None:
            return
        try:
            connection.execute(text("SELECT pg_advisory_unlock_shared(:key)"), {"key": self.key})
        except Exception:  # the session is gone, and its lock with it
            log.debug("advisory unlock failed", exc_info=True)
        self._drop()

    def _drop(self) -> None:
        # Invalidate rather than return to the pool: a pooled session must never carry the lock.
        connection, self._connection = self._connection, None
        if connection is not None:
            connection.invalidate()
            connection.close()
