"""Dedicated database sessions for session-level advisory locks (leader, membership).

A session that holds (or may hold) an advisory lock must never go back to the pool: another
caller would inherit the lock. So it is opened outside the pool's normal use and discarded
(invalidated) rather than returned.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, Engine, TextClause


def open_with(
    engine: Engine, statement: TextClause, params: dict[str, Any]
) -> tuple[Connection, Any]:
    """A fresh AUTOCOMMIT session and the scalar result of `statement` run on it first. If that
    fails the session is discarded and the error raised."""
    connection = engine.connect().execution_options(isolation_level="AUTOCOMMIT")
    try:
        return connection, connection.execute(statement, params).scalar_one()
    except BaseException:
        discard(connection)
        raise


def discard(connection: Connection | None) -> None:
    """Close a session for good (its locks freed by the server), never back to the pool."""
    if connection is not None:
        connection.invalidate()
        connection.close()
