"""Logging set-up: one line per event on stderr; tracebacks only when asked for (--verbose).

Lines can carry `job`, `service` and `outcome` (pass them with `extra=`): the formatter
appends them as `key=value` so every event says which job, which service, what happened.
Whatever is printed goes through `redact`: passwords in URLs, bearer tokens and the
configured secrets never reach the log.
"""

from __future__ import annotations

import logging
import re
import sys
from collections.abc import Iterable, Iterator
from contextlib import contextmanager

from pydantic import BaseModel, SecretStr
from rich.console import Console
from rich.logging import RichHandler

# Fields a record may carry (via `extra=`), appended as key=value in this order.
FIELDS = ("job", "service", "outcome")

_URL_PASSWORD = re.compile(r"(?P<head>[a-z][a-z0-9+.-]*://[^:/@\s]*:)(?P<secret>[^@/\s]+)(?=@)")
# Authorization header values ("Bearer <token>", Discord's "Bot <token>"); tokens are long.
_BEARER = re.compile(r"\b([Bb]earer|Bot)\s+[A-Za-z0-9._~+/=-]{16,}")
# Libraries that print request headers or bodies (bearer tokens, passwords) at DEBUG.
LEAKY_LOGGERS = ("tweepy", "httpx", "httpcore", "atproto", "atproto_client")
# Libraries that chatter (a line per request, per job run, per heartbeat): the level each
# keeps unless --verbose. Discord's INFO lines (connected, resumed) are worth keeping.
QUIET_LOGGERS = {
    "aiohttp.access": "WARNING",
    "alembic": "WARNING",
    "sqlalchemy.engine": "WARNING",
    "apscheduler": "WARNING",
    "asyncio": "WARNING",
    "httpx": "WARNING",
    "httpcore": "WARNING",
    "discord.gateway": "INFO",
    "discord.http": "INFO",
    "discord.client": "INFO",
}
_MASK = "***"
_secrets: set[str] = set()


def register_secrets(values: Iterable[str | None]) -> None:
    """Mask these exact values wherever they would appear in a log line."""
    # Very short values would mask ordinary words; real credentials are long.
    _secrets.update(value for value in values if value and len(value) >= 6)


def redact(text: str) -> str:
    """`text` with URL passwords, bearer/bot tokens and registered secrets masked."""
    text = _URL_PASSWORD.sub(rf"\g<head>{_MASK}", text)
    text = _BEARER.sub(lambda match: f"{match.group(1)} {_MASK}", text)
    for secret in _secrets:
        if secret in text:
            text = text.replace(secret, _MASK)
    return text


def mask_url(url: str) -> str:
    """A URL for messages: its password (if any) replaced by ***."""
    return _URL_PASSWORD.sub(rf"\g<head>{_MASK}", url)


class _Console(logging.Formatter):
    def __init__(self, verbose: bool) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s: %(message)s", "%Y-%m-%d %H:%M:%S")
        self.verbose = verbose

    def formatException(self, ei) -> str:  # type: ignore[no-untyped-def]
        return super().formatException(ei) if self.verbose else ""

    def format(self, record: logging.LogRecord) -> str:
        text = super().format(record)
        text = text if self.verbose else text.rstrip()
        return redact(text + _fields(record, record.getMessage()))


def _fields(record: logging.LogRecord, message: str) -> str:
    """` job=... service=... outcome=...` for the fields set and not already in the message."""
    pairs = [
        f"{name}={value}"
        for name in FIELDS
        if (value := getattr(record, name, None)) is not None and f"{name}=" not in message
    ]
    return " " + " ".join(pairs) if pairs else ""


class _Rich(_Console):
    """For rich's handler, which prints the time and level itself."""

    def __init__(self, verbose: bool) -> None:
        logging.Formatter.__init__(self, "%(name)s: %(message)s")
        self.verbose = verbose


@contextmanager
def logging_on(console: Console) -> Iterator[None]:
    """While a progress bar is live on `console`, log lines go through rich on that console,
    so they print above the bar instead of through it; the plain handler comes back after."""
    root = logging.getLogger()
    saved = root.handlers[:]
    verbose = any(isinstance(h.formatter, _Console) and h.formatter.verbose for h in saved)
    handler = RichHandler(
        console=console, show_path=False, markup=False, log_time_format="%Y-%m-%d %H:%M:%S"
    )
    handler.setFormatter(_Rich(verbose))
    # Only our own console handler is swapped: others (a test's capture, say) stay put.
    root.handlers[:] = [handler if _is_ours(h) else h for h in saved]
    try:
        yield
    finally:
        root.handlers[:] = saved


def _is_ours(handler: logging.Handler) -> bool:
    return isinstance(handler.formatter, _Console) and not isinstance(handler, RichHandler)


def setup_logging(
    level: str = "INFO", *, verbose: bool = False, secrets: Iterable[str | None] = ()
) -> None:
    """Log to stderr at `level`; `secrets` are masked in every line."""
    register_secrets(secrets)
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(_Console(verbose))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel("DEBUG" if verbose else level)
    # Library chatter stays out of the way unless debugging.
    for name, quiet in QUIET_LOGGERS.items():
        logging.getLogger(name).setLevel("DEBUG" if verbose else quiet)
    # These log request headers and bodies (credentials) at DEBUG: never that low.
    for leaky in LEAKY_LOGGERS:
        quiet = QUIET_LOGGERS.get(leaky, "INFO")
        logging.getLogger(leaky).setLevel("INFO" if verbose else quiet)


def secret_values(model: BaseModel) -> list[str]:
    """Every SecretStr in a settings tree, plus the password of any URL in it (to mask)."""
    found: list[str] = []
    for name in type(model).model_fields:
        value = getattr(model, name)
        if isinstance(value, SecretStr):
            found.append(value.get_secret_value())
        elif isinstance(value, BaseModel):
            found.extend(secret_values(value))
        elif isinstance(value, str) and (match := _URL_PASSWORD.search(value)):
            found.append(match.group("secret"))
    return found
