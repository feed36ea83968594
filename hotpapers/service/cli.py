"""`hotpapers run`: the whole service until SIGTERM / Ctrl-C."""

from __future__ import annotations


def run() -> None:
    """Run the whole service: scheduled collect, signals, posts, Discord, site and /healthz."""
    raise NotImplementedError
