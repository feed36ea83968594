"""What the bot tests share: settings pointing at the fake Discord, and a running fake that
leaves discord.py's process-wide API and gateway URLs as it found them."""

from __future__ import annotations

import random
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import TypeVar

import discord

from hotpapers.config import ClusterSettings, DiscordSettings, Settings
from hotpapers.fakes.discord import FakeDiscord

F = TypeVar("F", bound=FakeDiscord)


def bot_settings(fake: FakeDiscord) -> Settings:
    """Settings whose Discord URLs are the fake's."""
    discord_settings = DiscordSettings(
        token="fake-token",  # type: ignore[arg-type]
        api_url=fake.api_url,
        gateway_url=fake.gateway_url,
    )
    # A leader-election key of its own: advisory locks are per database, the PostgreSQL test
    # database is shared by the whole run, and a lingering session elsewhere must not lead.
    cluster = ClusterSettings(leader_lock_key=random.randrange(1, 2**31))
    return Settings(discord=discord_settings, cluster=cluster)


@asynccontextmanager
async def running_fake(fake: F) -> AsyncIterator[F]:
    """Start `fake`; afterwards restore discord.py's base URLs (the bot points them at it)."""
    saved = discord.http.Route.BASE, discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY
    await fake.start()
    try:
        yield fake
    finally:
        await fake.close()
        discord.http.Route.BASE, discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = saved
