"""Alembic environment: the URL comes from hotpapers' settings or the caller, not alembic.ini."""

from __future__ import annotations

from alembic import context
from sqlmodel import SQLModel

import hotpapers.storage.models  # noqa: F401  (registers every table on SQLModel.metadata)
from hotpapers.storage.db import make_engine
from hotpapers.storage.fulltext import include_object  # the full-text objects are not in the models

config = context.config
target_metadata = SQLModel.metadata


def _url() -> str:
    url = config.attributes.get("url") or config.get_main_option("sqlalchemy.url")
    if not url:
        from hotpapers.config import load_settings

        url = load_settings().database.url
    return str(url)


def run_migrations_offline() -> None:
    context.configure(url=_url(), target_metadata=target_metadata, literal_binds=True,
                      render_as_batch=True, include_object=include_object)  # fmt: skip
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    engine = make_engine(_url())
    with engine.connect() as connection:
        _run(connection)
    engine.dispose()


def _run(connection) -> None:  # type: ignore[no-untyped-def]
    # Batch mode lets later migrations alter columns on SQLite too.
    context.configure(connection=connection, target_metadata=target_metadata,
                      render_as_batch=True, include_object=include_object)  # fmt: skip
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
