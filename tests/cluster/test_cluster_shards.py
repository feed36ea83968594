"""Sharding split across processes by configuration: each bot gets only its shards' servers."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from contextlib import AsyncExitStack

import aiohttp
import discord
import pytest
from sqlalchemy import Engine

from bot.client import HotpapersBot, ShardedHotpapersBot, shard_options
from hotpapers.config import DiscordSettings, Settings
from hotpapers.errors import ConfigError
from hotpapers.fakes.discord import FakeDiscord
from hotpapers.storage.db import make_engine
from tests.bot.discord_support import bot_settings, running_fake

SHARD_0_GUILD = 2000  # (2000 >> 22) % 2 == 0
SHARD_1_GUILD = 1 << 22  # (4194304 >> 22) % 2 == 1


@pytest.fixture
async def fake() -> AsyncIterator[FakeDiscord]:
    fake = FakeDiscord()
    fake.other_guilds.append(SHARD_1_GUILD)
    async with running_fake(fake) as running:
        yield running


@pytest.fixture
def sqlite_engine(tmp_path) -> Iterator[Engine]:
    engine = make_engine(f"sqlite:///{tmp_path / 'shards.db'}")
    yield engine
    engine.dispose()


def sharded(fake: FakeDiscord, ids: list[int] | None, count: int | None) -> Settings:
    settings = bot_settings(fake)
    settings.discord.shard_count = count
    settings.discord.shard_ids = ids
    return settings


def record_interactions(bot: HotpapersBot) -> list[int | None]:
    """The server ids of the interactions `bot` receives."""
    seen: list[int | None] = []

    async def on_interaction(interaction: discord.Interaction) -> None:
        seen.append(interaction.guild_id)

    bot.add_listener(on_interaction)
    return seen


async def test_two_processes_with_one_shard_each_see_only_their_servers(
    fake: FakeDiscord, sqlite_engine: Engine
) -> None:
    """Shard 0 and shard 1 of 2 (as two processes would run them) each get their servers only."""
    async with AsyncExitStack() as stack:
        session = await stack.enter_async_context(aiohttp.ClientSession())
        bots, seen, tasks = [], [], []
        for shard in (0, 1):
            settings = sharded(fake, [shard], 2)
            bot = HotpapersBot(
                settings, sqlite_engine, session, guild_ready_timeout=0.05,
                schedule_deliveries=False,
            )  # fmt: skip
            assert type(bot) is HotpapersBot and bot.shard_id == shard
            seen.append(record_interactions(bot))
            tasks.append(asyncio.create_task(bot.start("fake-token")))
            stack.push_async_callback(bot.close)
            await asyncio.wait_for(bot.wait_until_ready(), 10)
            bots.append(bot)
        assert [i["shard"] for i in fake.identifies] == [[0, 2], [1, 2]]
        assert [[g.id for g in bot.guilds] for bot in bots] == [[SHARD_0_GUILD], [SHARD_1_GUILD]]

        for guild in (SHARD_0_GUILD, SHARD_1_GUILD, SHARD_1_GUILD, SHARD_0_GUILD):
            result = await fake.send_interaction("help", guild_id=guild)
            assert result.embeds  # answered, by whichever shard got it
        assert seen == [[SHARD_0_GUILD, SHARD_0_GUILD], [SHARD_1_GUILD, SHARD_1_GUILD]]
    await asyncio.gather(*tasks, return_exceptions=True)


async def test_several_shards_in_one_process_use_the_auto_sharded_client(
    fake: FakeDiscord, sqlite_engine: Engine
) -> None:
    """shard_ids [0, 1] in one process: discord.py's AutoShardedBot, both servers, one bot."""
    async with aiohttp.ClientSession() as session:
        bot = HotpapersBot(
            sharded(fake, None, 2), sqlite_engine, session, guild_ready_timeout=0.05,
            schedule_deliveries=False,
        )  # fmt: skip
        assert isinstance(bot, ShardedHotpapersBot)
        assert isinstance(bot, discord.AutoShardedClient)
        bot.before_identify_hook = _no_identify_wait  # type: ignore[method-assign]
        task = asyncio.create_task(bot.start("fake-token"))
        try:
            await asyncio.wait_for(bot.wait_until_ready(), 20)
            assert sorted(bot.shards) == [0, 1]
            assert sorted(g.id for g in bot.guilds) == [SHARD_0_GUILD, SHARD_1_GUILD]
            seen = record_interactions(bot)
            for guild in (SHARD_1_GUILD, SHARD_0_GUILD):
                await fake.send_interaction("help", guild_id=guild)
            assert seen == [SHARD_1_GUILD, SHARD_0_GUILD]
        finally:
            await bot.close()
            await asyncio.gather(task, return_exceptions=True)


async def _no_identify_wait(shard_id: int | None, *, initial: bool = False) -> None:
    """The fake has no IDENTIFY rate limit: skip discord.py's 5 s wait between shards."""


@pytest.mark.parametrize(
    ("count", "ids", "message"),
    [
        (None, [0], "shard_ids needs discord.shard_count"),
        (2, [2], "shard 2 does not exist with discord.shard_count = 2"),
        (2, [-1], "shard -1 does not exist"),
        (4, [1, 1], "each shard this process runs, once"),
        (4, [], "each shard this process runs, once"),
    ],
)
def test_impossible_shard_settings_are_a_config_error(
    count: int | None, ids: list[int], message: str
) -> None:
    """Shard ids outside 0..count-1 (or without a count) stop the bot with one sentence."""
    settings = Settings(discord=DiscordSettings(shard_count=count, shard_ids=ids))
    with pytest.raises(ConfigError, match=message):
        shard_options(settings.discord)


async def test_the_bot_refuses_to_start_with_impossible_shards(
    fake: FakeDiscord, sqlite_engine: Engine
) -> None:
    """The check runs when the bot is made, before any connection."""
    async with aiohttp.ClientSession() as session:
        with pytest.raises(ConfigError, match="valid ids are 0 to 2"):
            HotpapersBot(sharded(fake, [0, 3], 3), sqlite_engine, session)
    assert fake.identifies == []


def test_no_sharding_configured_means_one_plain_connection() -> None:
    """Without shard settings the bot connects as before: no shard field, one client."""
    assert shard_options(DiscordSettings()) == {}
    assert shard_options(DiscordSettings(shard_count=3, shard_ids=[2])) == {
        "shard_id": 2,
        "shard_count": 3,
    }
