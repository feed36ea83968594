"""Leader election: exactly one process of a deployment runs the scheduled jobs.

PostgreSQL: the leader holds a session-level advisory lock (`pg_try_advisory_lock(key)`) on a
dedicated connection for as long as it leads. The lock belongs to the server session, so when
the process dies its connection closes and the lock frees at once: a follower, retrying every
`poll_seconds`, takes over within one poll. The leader checks its connection every poll and
steps down when it is gone (the server has freed the lock by then, so another may hold it).

SQLite: one process by design (a file database, no shared server), so the only process leads
at once. Running several processes needs PostgreSQL.

Between a lost connection and the next check, two processes may both believe they lead for at
most one poll; everything the leader does is idempotent (unique constraints on the queue and
the delivery ledger), so that window can repeat work but never duplicate a message.
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
from collections.abc import Callable

from sqlalchemy import Connection, Engine, text

from hotpapers.cluster._session import discard, open_with
from hotpapers.config import Settings
from hotpapers.storage.db import is_postgres

log = logging.getLogger(__name__)


def process_name(settings: Settings) -> str:
    """This process's name in logs and the work queue: the configured one, else host:pid."""
    return settings.cluster.process_name or f"{socket.gethostname()}:{os.getpid()}"


class LeaderElection:
    """Campaign for leadership in the background; report gains and losses to callbacks."""

    def __init__(self, engine: Engine, *, key: int, name: str, poll_seconds: float = 5.0) -> None:
        self.engine = engine
        self.key = key
        self.name = name
        self.poll_seconds = poll_seconds
        self._connection: Connection | None = None
        self._leading = asyncio.Event()
        self._callbacks: list[Callable[[bool], None]] = []
        self._task: asyncio.Task[None] | None = None

    @property
    def is_leader(self) -> bool:
        """Whether this process leads right now."""
        return self._leading.is_set()

    def on_change(self, callback: Callable[[bool], None]) -> None:
        """Call `callback(True)` when leadership is gained and `callback(False)` when lost."""
        self._callbacks.append(callback)

    async def start(self) -> None:
        """Begin campaigning in a background task; returns at once."""
        if self._task is not None:
            return
        if not is_postgres(self.engine):
            self._set_leading(True)  # SQLite: single process, nobody to compete with
            return
        self._task = asyncio.create_task(self._campaign(), name=f"leader-election:{self.name}")

    async def stop(self) -> None:
        """Stop campaigning and release the lock if held."""
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
        self._set_leading(False)  # step down before the lock frees: never two leaders here
        await asyncio.to_thread(self._release)

    async def wait_until_leader(self) -> None:
        """Return once this process leads (at once if it already does)."""
        await self._leading.wait()

    async def _campaign(self) -> None:
        while True:
            try:
                if self.is_leader:
                    if not await asyncio.to_thread(self._still_holding):
                        # Campaign again only after a poll: a healthy follower goes first.
                        log.warning("%s lost the leader connection; stepping down", self.name)
                        self._set_leading(False)
                elif await asyncio.to_thread(self._try_acquire):
                    log.info("%s is now the leader (lock key %d)", self.name, self.key)
                    self._set_leading(True)
            except Exception:  # a failed attempt is retried next poll; the loop must live
                log.warning("leader election attempt failed", exc_info=True)
            await asyncio.sleep(self.poll_seconds)

    def _try_acquire(self) -> bool:
        """One attempt at the lock on a fresh dedicated connection (kept only if we won)."""
        attempt = text("SELECT pg_try_advisory_lock(:key)")
        connection, won = open_with(self.engine, attempt, {"key": self.key})
        if not won:
            connection.close()
            return False
        self._connection = connection
        return True

    def _still_holding(self) -> bool:
        """Whether the leader's session is alive and still holds the lock."""
        connection = self._connection
        if connection is None:
            return False
        try:
            held = connection.execute(
                text(
                    "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted"
                    " AND pid = pg_backend_pid() AND objsubid = 1"
                    " AND ((classid::bigint << 32) | objid::bigint) = :key"
                ),
                {"key": self.key},
            ).scalar_one()
        except Exception:
            log.debug("leader connection check failed", exc_info=True)
            self._drop_connection()
            return False
        if not held:
            self._drop_connection()
        return bool(held)

    def _release(self) -> None:
        connection = self._connection
        if connection is None:
            return
        try:
            connection.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": self.key})
        except Exception:  # the session is gone, and its lock with it
            log.debug("advisory unlock failed", exc_info=True)
        self._drop_connection()

    def _drop_connection(self) -> None:
        connection, self._connection = self._connection, None
        discard(connection)

    def _set_leading(self, leading: bool) -> None:
        if leading == self.is_leader:
            return
        if leading:
            self._leading.set()
        else:
            self._leading.clear()
        for callback in list(self._callbacks):
            try:
                callback(leading)
            except Exception:
                log.exception("leadership callback failed")


class AlwaysLeader(LeaderElection):
    """A trivial election for a single process: leads from the start, never campaigns."""

    def __init__(self, name: str = "single") -> None:
        self.engine = None  # type: ignore[assignment]
        self.key = 0
        self.name = name
        self.poll_seconds = 0.0
        self._connection = None
        self._leading = asyncio.Event()
        self._leading.set()
        self._callbacks = []
        self._task = None

    async def start(self) -> None:
        """Nothing to campaign for."""

    async def stop(self) -> None:
        """Nothing to release."""
