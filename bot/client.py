"""The bot: a discord.py client with slash commands, minimal intents and no pings by default."""

from __future__ import annotations

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

from bot.render import clip_content
from hotpapers.config import DiscordSettings, Settings
from hotpapers.errors import HotpapersError

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


class HotpapersBot(commands.Bot):
    """The hotpapers Discord bot.

    `settings` and `engine` are the core's; `session` is an aiohttp session the caller owns,
    for any HTTP the bot itself does (discord.py keeps its own for Discord). `clock` gives
    "now" for ranking (tests fix it); `guild_ready_timeout` is how long discord.py waits for
    more guilds before READY (tests shorten it).
    """

    def __init__(
        self,
        settings: Settings,
        engine: Engine,
        session: aiohttp.ClientSession,
        *,
        clock: Callable[[], datetime] | None = None,
        guild_ready_timeout: float = 2.0,
        schedule_deliveries: bool = True,
    ) -> None:
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
        guard_gateway_parsers(self._connection)

    async def setup_hook(self) -> None:
        from bot.cogs.help import HelpCog
        from bot.cogs.papers import PapersCog

        await self.add_cog(PapersCog(self))
        await self.add_cog(HelpCog(self))
        await self.load_extension("bot.reactions")
        await self.load_extension("bot.cogs.subscriptions")
        if self.schedule_deliveries:
            await self.load_extension("bot.scheduler")

    async def on_ready(self) -> None:
        log.info("logged in as %s in %d guild(s)", self.user, len(self.guilds))
