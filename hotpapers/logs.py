"""Logging set-up: one line per event on stderr; tracebacks only when asked for (--verbose)."""

from __future__ import annotations

import logging
import sys


class _Console(logging.Formatter):
    def __init__(self, verbose: bool) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s: %(message)s", "%Y-%m-%d %H:%M:%S")
        self.verbose = verbose

    def formatException(self, ei) -> str:  # type: ignore[no-untyped-def]
        return super().formatException(ei) if self.verbose else ""

    def format(self, record: logging.LogRecord) -> str:
        text = super().format(record)
        return text if self.verbose else text.rstrip()


def setup_logging(level: str = "INFO", *, verbose: bool = False) -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(_Console(verbose))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel("DEBUG" if verbose else level)
    # Library chatter stays out of the way unless debugging.
    for noisy in ("aiohttp.access", "alembic", "sqlalchemy.engine"):
        logging.getLogger(noisy).setLevel("DEBUG" if verbose else "WARNING")
