"""How many processes share the bot right now, so each can take its share of Discord's limit.

Discord's global limit (50 requests/s) is per bot, however many processes run it. Each
process holds a *shared* PostgreSQL advisory lock on a dedicated session while it runs; the
number of holders is the number of live processes. A process that dies drops out with its
session: nothing to clean up, no heartbeat to expire. On SQLite there is one process.
"""

from __future__ import annotations

import logging

from sqlalchemy import Connection, Engine, text

from hotpapers.cluster._session import discard, open_with
from hotpapers.storage.db import is_postgres

log = logging.getLogger(__name__)

# The membership lock is the leader's key in PostgreSQL's other advisory key space: the two
# 32-bit halves as (int4, int4), which pg_locks tells apart (objsubid 2, not 1), so it can
# never be any deployment's leader lock.
_HOLDERS = text(
    "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted"
    " AND mode = 'ShareLock' AND objsubid = 2"
    " AND ((classid::bigint << 32) | objid::bigint) = :key"
)


def _int4(value: int) -> int:
    """32 bits as PostgreSQL's signed int4 (it stores them as an unsigned oid)."""
    return value - (1 << 32) if value >= 1 << 31 else value


def members_key(leader_lock_key: int) -> tuple[int, int]:
    """The (int4, int4) key of the membership lock."""
    unsigned = leader_lock_key & 0xFFFF_FFFF_FFFF_FFFF
    return _int4(unsigned >> 32), _int4(unsigned & 0xFFFF_FFFF)


class Membership:
    """This process's presence among the processes of one deployment (blocking calls: run
    them in a thread)."""

    def __init__(self, engine: Engine, leader_lock_key: int) -> None:
        self.engine = engine
        self.key = leader_lock_key  # pg_locks' halves put together again (a signed bigint)
        self._halves = dict(zip(("high", "low"), members_key(leader_lock_key), strict=True))
        self._connection: Connection | None = None

    def join(self) -> None:
        """Hold the shared lock on a dedicated session (again, if that session was lost)."""
        if not is_postgres(self.engine) or self._connection is not None:
            return
        lock = text("SELECT pg_advisory_lock_shared(:high, :low)")
        self._connection, _ = open_with(self.engine, lock, self._halves)

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
            connection.execute(text("SELECT pg_advisory_unlock_shared(:high, :low)"), self._halves)
        except Exception:  # the session is gone, and its lock with it
            log.debug("advisory unlock failed", exc_info=True)
        self._drop()

    def _drop(self) -> None:
        connection, self._connection = self._connection, None
        discard(connection)
