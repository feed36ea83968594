"""Running Alembic from code: `hotpapers db upgrade` and the test that autogenerate is clean."""

from __future__ import annotations

from alembic import command
from alembic.config import Config


def alembic_config(url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", "hotpapers:migrations")
    config.attributes["url"] = url
    return config


def upgrade(url: str, revision: str = "head") -> None:
    """Bring the database at `url` to `revision` (creating it if empty)."""
    command.upgrade(alembic_config(url), revision)


def current_head() -> str | None:
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(alembic_config("sqlite://")).get_current_head()
