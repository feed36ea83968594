"""What every `hotpapers` command group shares: the global options, the consoles, settings
and engine loading, error-to-sentence mapping and date parsing.

The main CLI (`hotpapers.cli.app`) and the command groups (the other `hotpapers.cli` modules,
the bot's `bot.cli`) all import from here, so no group imports the main CLI: no circle.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import typer
from rich.console import Console
from rich.markup import escape

from hotpapers.config import Settings, load_settings
from hotpapers.errors import HotpapersError, InputError, printable, quoted
from hotpapers.logs import secret_values, setup_logging

if TYPE_CHECKING:
    from sqlalchemy import Engine

log = logging.getLogger("hotpapers")
out = Console(soft_wrap=True)
err = Console(stderr=True, soft_wrap=True)

F = TypeVar("F", bound=Callable[..., Any])


class CliState:
    """The global options (`--config`, `--verbose`), set by the main CLI's callback."""

    config: Path | None = None
    verbose: bool = False


state = CliState()


def friendly(func: F) -> F:
    """Turn HotpapersError into one sentence on stderr and its exit code; log the rest."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except HotpapersError as exc:
            log.debug("command failed", exc_info=True)
            # printable(): whatever a message embeds, no control character reaches the terminal
            sentence = escape(printable(str(exc)))
            err.print(f"[red]error:[/red] {sentence}", highlight=False, soft_wrap=True)
            raise typer.Exit(exc.exit_code) from None
        except KeyboardInterrupt:
            err.print("interrupted; nothing half-written was kept.")
            raise typer.Exit(130) from None

    return wrapper  # type: ignore[return-value]


def cli_settings() -> Settings:
    """The settings the global options point at, with logging set up (secrets masked)."""
    settings = load_settings(state.config)
    secrets = secret_values(settings)
    setup_logging(settings.logging.level, verbose=state.verbose, secrets=secrets)
    return settings


def cli_engine(settings: Settings) -> Engine:
    """An engine on an up-to-date schema (migrations are idempotent and quick)."""
    # Imported here: commands that never touch the database start without SQLAlchemy/Alembic.
    from hotpapers.storage import migrate
    from hotpapers.storage.db import check_connection, make_engine

    engine = make_engine(settings.database.url, echo=settings.database.echo)
    check_connection(engine)
    migrate.upgrade(settings.database.url)
    return engine


def parse_date(text: str | None, option: str = "--date") -> date | None:
    """A `YYYY-MM-DD` option value as a date (None stays None); InputError otherwise."""
    if text is None:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise InputError(
            f"{option}: {quoted(text)} is not a date; use YYYY-MM-DD, e.g. 2021-03-15"
        ) from None
