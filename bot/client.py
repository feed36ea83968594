"""The bot: a discord.py client with slash commands, minimal intents and no pings by default."""

from __future__ import annotations

import asyncio
import gc
import logging
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import aiohttp
import discord
import yarl
from discord import app_commands
from discord.ext import commands
from sqlalchemy import Engine

from bot.pace import share_pace
from bot.pacer import pacer_for
from bot.render import clip_content
from hotpapers.cluster import AlwaysLeader, LeaderElection, process_name
from hotpapers.cluster.members import Membership
from hotpapers.config import DiscordSettings, Settings
from hotpapers.errors import ConfigError, HotpapersError
from hotpapers.foryou import VectorLookup
from hotpapers.similar import vectors_for
from hotpapers.storage.db import is_postgres

log = logging.getLogger(__name__)

INTERNAL_ERROR = (
    "Something went wrong on our side while answering; it has been logged. Please try again later."
)


def point_at(discord_settings: DiscordSettings) -> None:
    """Send discord.py's REST calls and gateway connection to the configured URLs.

    discord.py keeps both as class attributes, so this applies to the whole process.
    """
    discord.http.Route.BASE = discord_settings.api_url.rstrip("/")
    gateway = discord_settings.gateway_url.rstrip("/") + "/"
    discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(gateway)


def bot_intents() -> discord.Intents:
    """Guilds and guild reactions only: no privileged intent (no members, presences, content)."""
    intents = discord.Intents.none()
    intents.guilds = True
    intents.guild_reactions = True
    return intents


class HotpapersTree(app_commands.CommandTree):
    """A command tree that answers any unexpected failure with one ephemeral sentence."""

    async def on_error(
        self, interaction: discord.Interaction, error: app_commands.AppCommandError
    ) -> None:
        command = interaction.command.name if interaction.command else "?"
        cause = getattr(error, "original", error)
        if isinstance(cause, HotpapersError):
            # The core's errors are sentences meant for people (database down, bad date, ...).
            log.warning("command /%s failed: %s", command, cause)
            sentence = clip_content(str(cause))
        else:
            log.error("command /%s failed", command, exc_info=error)
            sentence = INTERNAL_ERROR
        response = interaction.response
        try:
            if not response.is_done():
                await response.send_message(sentence, ephemeral=True)
            elif response.type == discord.InteractionResponseType.deferred_channel_message:
                # Replace the "thinking..." placeholder rather than leave it spinning.
                await interaction.edit_original_response(content=sentence, embed=None, view=None)
            else:
                await interaction.followup.send(sentence, ephemeral=True)
        except discord.HTTPException:
            log.warning("could not tell the user about the failure of /%s", command)


def guard_gateway_parsers(state: Any) -> None:
    """Make each gateway event parser drop a malformed payload with a log line.

    discord.py parses DISPATCH payloads without validation; a payload missing a field raises
    inside its reader and the bot stops answering. One bad event must cost only itself.
    """

    def guarded(event: str, parser: Callable[[Any], Any]) -> Callable[[Any], Any]:
        def parse(data: Any) -> Any:
            try:
                return parser(data)
            except (KeyError, TypeError, ValueError, AttributeError):
                log.warning("ignored a malformed %s payload from Discord", event, exc_info=True)
                return None

        return parse

    for event, parser in list(state.parsers.items()):
        state.parsers[event] = guarded(event, parser)


def shard_options(discord_settings: DiscordSettings) -> dict[str, Any]:
    """discord.py's sharding arguments for this process, or a ConfigError for a bad combination.

    No `shard_count`: one unsharded connection. `shard_count` alone: every shard here.
    `shard_ids` too: only those (each process of a deployment runs its own share). Discord
    sends a server's events to shard `(guild_id >> 22) % shard_count`.
    """
    count, ids = discord_settings.shard_count, discord_settings.shard_ids
    if count is None:
        if ids is not None:
            raise ConfigError("discord.shard_ids needs discord.shard_count (the total shards)")
        return {}
    if ids is None:
        ids = list(range(count))
    wrong = [shard for shard in ids if not 0 <= shard < count]
    if wrong:
        raise ConfigError(
            f"discord.shard_ids: shard {wrong[0]} does not exist with discord.shard_count = "
            f"{count} (valid ids are 0 to {count - 1})"
        )
    if not ids or len(set(ids)) != len(ids):
        raise ConfigError("discord.shard_ids must list each shard this process runs, once")
    if len(ids) == 1:
        return {"shard_id": ids[0], "shard_count": count}
    return {"shard_ids": sorted(ids), "shard_count": count}


class HotpapersBot(commands.Bot):
    """The hotpapers Discord bot.

    `settings` and `engine` are the core's; `session` is an aiohttp session the caller owns,
    for any HTTP the bot itself does (discord.py keeps its own for Discord). `clock` gives
    "now" for ranking (tests fix it); `guild_ready_timeout` is how long discord.py waits for
    more guilds before READY (tests shorten it).

    `leader` decides which process of a deployment queues the scheduled digests; the caller
    that passes one owns it (starts and stops it). Without one the bot makes its own: on
    PostgreSQL an advisory-lock election it campaigns in once connected, on SQLite (one
    process) a leader from the start.

    Sharding follows `discord.shard_count` / `shard_ids`: one shard per process runs on this
    class; several shards in one process get `ShardedHotpapersBot` (discord.py's
    AutoShardedBot), chosen here so callers construct `HotpapersBot` either way.
    """

    def __new__(cls, settings: Settings, *args: Any, **kwargs: Any) -> HotpapersBot:
        if cls is HotpapersBot and "shard_ids" in shard_options(settings.discord):
            cls = ShardedHotpapersBot
        return super().__new__(cls)

    def __init__(
        self,
        settings: Settings,
        engine: Engine,
        session: aiohttp.ClientSession,
        *,
        clock: Callable[[], datetime] | None = None,
        guild_ready_timeout: float = 2.0,
        schedule_deliveries: bool = True,
        leader: LeaderElection | None = None,
    ) -> None:
        sharding = shard_options(settings.discord)  # a bad combination stops here
        point_at(settings.discord)
        # The bot has no voice features: no warnings about missing voice libraries.
        discord.VoiceClient.warn_nacl = discord.VoiceClient.warn_dave = False
        super().__init__(
            command_prefix=commands.when_mentioned,
            intents=bot_intents(),
            allowed_mentions=discord.AllowedMentions.none(),
            help_command=None,
            tree_cls=HotpapersTree,
            max_ratelimit_timeout=60.0,
            guild_ready_timeout=guild_ready_timeout,
            **sharding,
        )
        self.settings = settings
        self.engine = engine
        self.http_session = session
        self.clock = clock or (lambda: datetime.now(UTC))
        self.schedule_deliveries = schedule_deliveries  # post digests at their post times
        # Seconds the Previous/Next buttons of a listing keep working (< the 15-minute token).
        self.paginator_timeout = 600.0
        # Seconds a look-up may take before the answer is deferred (Discord allows 3).
        self.thinking_after = 2.0
        # /foryou reads paper vectors through this (None: it picks by subscriptions alone).
        self.vectors: VectorLookup | None = vectors_for
        self._owns_leader = leader is None
        self.leader = leader or _own_leader(settings, engine)
        guard_gateway_parsers(self._connection)
        pacer_for(self)  # before login, so every REST request (login, sync) is paced too
        self._frozen = False
        self._pace_task: asyncio.Task[None] | None = None

    async def campaign(self) -> None:
        """Start the bot's own leader election (a leader given by the caller is the caller's)."""
        if self._owns_leader:
            await self.leader.start()

    async def close(self) -> None:
        if self._pace_task is not None:
            self._pace_task.cancel()
            await asyncio.gather(self._pace_task, return_exceptions=True)
            self._pace_task = None
        if self._owns_leader:
            await self.leader.stop()
        await super().close()

    def _share_pace(self) -> None:
        """Several processes on PostgreSQL: pace at this process's share (bot/pace.py)."""
        if self._pace_task is not None or not is_postgres(self.engine):
            return
        cluster = self.settings.cluster
        budget = self.settings.discord.max_requests_per_second
        membership = Membership(self.engine, cluster.leader_lock_key)
        sharing = share_pace(pacer_for(self), membership, budget, cluster.leader_poll_seconds)
        self._pace_task = asyncio.create_task(sharing, name="share-pace")

    async def setup_hook(self) -> None:
        from bot.cogs.help import HelpCog
        from bot.cogs.papers import PapersCog

        self._share_pace()

        await self.add_cog(PapersCog(self))
        await self.add_cog(HelpCog(self))
        await self.load_extension("bot.cogs.similar")
        await self.load_extension("bot.reactions")
        await self.load_extension("bot.cogs.subscriptions")
        await self.load_extension("bot.cogs.trending")
        await self.load_extension("bot.cogs.foryou")
        if self.schedule_deliveries:
            await self.load_extension("bot.scheduler")

    async def on_ready(self) -> None:
        log.info("logged in as %s in %d guild(s)", self.user, len(self.guilds))
        if not self._frozen:
            # The start-up objects (guild cache, commands, modules) live as long as the bot:
            # moving them out of the collector's sight keeps full collections short, which
            # was the bulk of /hot's and /author's p99 (bench/results/bot.md).
            gc.collect()
            gc.freeze()
            self._frozen = True


class ShardedHotpapersBot(HotpapersBot, commands.AutoShardedBot):
    """The bot running several shards in one process (made by `HotpapersBot(...)`)."""


def _own_leader(settings: Settings, engine: Engine) -> LeaderElection:
    name = process_name(settings)
    if not is_postgres(engine):
        return AlwaysLeader(name)  # SQLite: one process by design
    cluster = settings.cluster
    return LeaderElection(
        engine, key=cluster.leader_lock_key, name=name, poll_seconds=cluster.leader_poll_seconds
    )
