"""What the bot tests share: settings pointing at the fake Discord, and a running fake that
leaves discord.py's process-wide API and gateway URLs as it found them."""

from __future__ import annotations

import asyncio
import random
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import datetime
from typing import TypeVar

import aiohttp
import discord
from sqlalchemy import Engine

from bot.client import HotpapersBot
from hotpapers.config import ClusterSettings, DiscordSettings, Settings
from hotpapers.fakes.discord import FakeDiscord

F = TypeVar("F", bound=FakeDiscord)
C = TypeVar("C", bound=discord.Client)


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


@asynccontextmanager
async def logged_in(client: C, fake: FakeDiscord) -> AsyncIterator[C]:
    """`client` connected to the fake over the gateway until READY; closed afterwards."""
    task = asyncio.create_task(client.start("fake-token"))
    try:
        await fake.wait_ready(timeout=10)
        await asyncio.wait_for(client.wait_until_ready(), 10)
        yield client
    finally:
        await client.close()
        await asyncio.wait_for(task, 10)


@asynccontextmanager
async def running_bot(
    fake: FakeDiscord,
    engine: Engine,
    settings: Settings | None = None,
    *,
    clock: Callable[[], datetime] | None = None,
    schedule_deliveries: bool = True,
) -> AsyncIterator[HotpapersBot]:
    """The real bot (settings: bot_settings(fake) by default), logged in to the fake;
    `schedule_deliveries=False` leaves its scheduler out (the test delivers by hand)."""
    async with aiohttp.ClientSession() as session:
        client = HotpapersBot(
            settings or bot_settings(fake),
            engine,
            session,
            clock=clock,
            guild_ready_timeout=0.05,
            schedule_deliveries=schedule_deliveries,
        )
        async with logged_in(client, fake):
            yield client
