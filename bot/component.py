"""The Discord bot as a component of `hotpapers run` (the `hotpapers.components` entry point).

The service core never imports the bot: it loads `create` through the entry point and talks
to the result only through the Component protocol (`name`, `start`, `stop`, `health`).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any

import aiohttp
import discord
from sqlalchemy import Engine

from hotpapers.cluster.leader import LeaderElection
from hotpapers.config import Settings

log = logging.getLogger(__name__)

# Seconds discord.py gets to close its gateway and HTTP session after the grace time.
CLOSE_SECONDS = 10.0


class BotComponent:
    """Runs the bot on the service's loop, with the service's engine and leader election."""

    name = "discord"

    def __init__(self, settings: Settings, engine: Engine, leader: LeaderElection, token: str):
        self.settings = settings
        self.engine = engine
        self.leader = leader
        self._token = token
        self._session: aiohttp.ClientSession | None = None
        self._bot: Any = None
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        """Log in and connect in the background; returns at once."""
        from bot.client import HotpapersBot

        self._session = aiohttp.ClientSession()
        self._bot = HotpapersBot(self.settings, self.engine, self._session, leader=self.leader)
        self._task = asyncio.create_task(self._run(), name="discord-bot")

    async def _run(self) -> None:
        try:
            await self._bot.start(self._token)
        except discord.LoginFailure as exc:
            log.error("Discord refused the token (%s); the bot is not running", exc)
        except Exception:  # the bot failing must not take the scheduler down with it
            log.exception("the Discord bot stopped with an error")

    async def stop(self, grace: float) -> None:
        """Close the bot (its scheduler cog stops; a delivery in hand is retried exactly)."""
        if self._bot is not None and not self._bot.is_closed():
            try:
                await asyncio.wait_for(self._bot.close(), grace + CLOSE_SECONDS)
            except TimeoutError:
                log.warning("the Discord bot did not close within %.0fs", grace + CLOSE_SECONDS)
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        if self._session is not None:
            await self._session.close()

    def health(self) -> dict[str, Any]:
        """Whether the bot is connected, and to how many servers."""
        bot = self._bot
        if bot is None or bot.is_closed():
            return {"connected": False}
        return {"connected": bot.is_ready(), "guilds": len(bot.guilds) if bot.is_ready() else 0}


def create(settings: Settings, engine: Engine, leader: LeaderElection) -> BotComponent | None:
    """The bot component, or None (with an INFO line) when no Discord token is configured."""
    token = settings.discord.token
    value = token.get_secret_value().strip() if token is not None else ""
    if not value:
        log.info("Discord: no token, bot not started")
        return None
    return BotComponent(settings, engine, leader, value)
