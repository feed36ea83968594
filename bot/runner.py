"""Running the bot, syncing its slash commands, and its invite link."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterator
from contextlib import contextmanager

import aiohttp
import discord
from sqlalchemy import Engine

from bot.client import HotpapersBot
from hotpapers.config import Settings
from hotpapers.errors import ConfigError, HotpapersError

log = logging.getLogger(__name__)

MISSING_TOKEN = (
    "discord.token is not set; put it in the environment as HOTPAPERS_DISCORD__TOKEN "
    "or in the secrets file named by HOTPAPERS_SECRETS_FILE"
)


def required_permissions() -> discord.Permissions:
    """Exactly what the bot needs in a channel, nothing more."""
    return discord.Permissions(
        view_channel=True,
        send_messages=True,
        send_messages_in_threads=True,
        create_public_threads=True,
        embed_links=True,
        read_message_history=True,
        add_reactions=True,
    )


def invite_url(application_id: int | str) -> str:
    """The OAuth2 link that adds the bot (with slash commands) to a server."""
    return discord.utils.oauth_url(
        application_id,
        permissions=required_permissions(),
        scopes=("bot", "applications.commands"),
    )


def require_token(settings: Settings) -> str:
    """The bot token, or a ConfigError that says where to put it."""
    token = settings.discord.token
    if token is None or not token.get_secret_value().strip():
        raise ConfigError(MISSING_TOKEN)
    return token.get_secret_value().strip()


@contextmanager
def discord_failures(settings: Settings) -> Iterator[None]:
    """Discord unreachable, refusing us or answering nonsense: one sentence; the detail goes
    to the log."""
    where = settings.discord.api_url
    try:
        yield
    except discord.LoginFailure as exc:
        raise ConfigError(f"Discord refused the token: {exc}") from None
    except TimeoutError:
        log.debug("Discord did not answer in time", exc_info=True)
        raise HotpapersError(
            f"cannot reach Discord at {where}: no answer within "
            f"{settings.discord.request_timeout:g} s (discord.request_timeout)"
        ) from None
    except aiohttp.ClientConnectionError:
        log.debug("Discord unreachable", exc_info=True)
        raise HotpapersError(
            f"cannot reach Discord at {where}: the connection failed; "
            "check the network or discord.api_url"
        ) from None
    except discord.HTTPException as exc:
        log.debug("Discord refused a request", exc_info=True)
        raise HotpapersError(
            f"Discord answered HTTP {exc.status} ({exc.text or 'no detail'})"
        ) from None
    except (ValueError, TypeError, KeyError):
        # discord.py hands a body it cannot decode on as text or raises while decoding it:
        # not Discord's JSON (an HTML page, a cut-off or empty body, a proxy's answer).
        log.error("Discord sent an answer that is not its JSON", exc_info=True)
        raise HotpapersError(
            f"Discord at {where} sent an answer that is not Discord's JSON; "
            "check discord.api_url and any proxy in between"
        ) from None


async def run_bot(settings: Settings, engine: Engine) -> None:
    """Log in and serve slash commands until stopped; closes the session and the engine."""
    token = require_token(settings)
    try:
        async with (
            aiohttp.ClientSession() as session,
            HotpapersBot(settings, engine, session) as bot,
        ):
            with discord_failures(settings):
                await bot.start(token)
    finally:
        engine.dispose()


async def sync_commands(settings: Settings, guild_id: int | None = None) -> list[str]:
    """Publish the slash commands, globally or to one guild (instant; for testing); their names.

    Only the REST API is used: no gateway connection, no database connection.
    """
    from hotpapers.db import make_engine

    token = require_token(settings)
    engine = make_engine(settings.database.url)
    try:
        async with (
            aiohttp.ClientSession() as session,
            HotpapersBot(settings, engine, session) as bot,
        ):
            # discord.py's own HTTP session has no timeout: bound each step here, so a body
            # that trickles in forever ends with a sentence instead of a hang.
            bound = settings.discord.request_timeout
            with discord_failures(settings):
                async with asyncio.timeout(bound):
                    await bot.login(token)
                if guild_id is None:
                    async with asyncio.timeout(bound):
                        synced = await bot.tree.sync()
                else:
                    guild = discord.Object(id=guild_id)
                    bot.tree.copy_global_to(guild=guild)
                    async with asyncio.timeout(bound):
                        synced = await bot.tree.sync(guild=guild)
            return [command.name for command in synced]
    finally:
        engine.dispose()
