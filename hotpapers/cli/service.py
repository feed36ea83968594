"""`hotpapers run`: the whole service until SIGTERM / Ctrl-C."""

from __future__ import annotations

import asyncio


def run() -> None:
    """Run the whole service: scheduled collect, signals, posts, Discord, site and /healthz."""
    from hotpapers.cli.common import cli_engine, cli_settings, friendly
    from hotpapers.service.app import Service

    @friendly
    def _run() -> None:
        settings = cli_settings()
        asyncio.run(Service(settings, cli_engine(settings)).run())

    _run()
