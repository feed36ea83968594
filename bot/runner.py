"""Running the bot, syncing its slash commands, its invite link, and one day's delivery.

This is the bot's `main()` (discord.py's advanced_startup pattern): it makes the aiohttp
session and the bot, and owns their lifetimes. It sits at the top of `bot/`: the bot class,
the cogs, the courier and the pacer never import it.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime

import aiohttp
import discord
from sqlalchemy import Engine
from sqlmodel import Session

from bot.client import HotpapersBot
from bot.courier import DiscordCourier
from bot.pacer import pacer_for
from hotpapers.config import Settings
from hotpapers.delivery import DeliveryReport, TargetPlan, deliver, plan
from hotpapers.delivery._week import plan_week, unlisted_week_day
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
    from hotpapers.storage.db import make_engine

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


async def deliver_day(
    settings: Settings,
    engine: Engine,
    listing_date: date | None = None,
    *,
    now: datetime | None = None,
) -> DeliveryReport:
    """Log in over REST, deliver one listing to every subscribed target, log out.

    On the weekly digest's day the week's threads go too (their reports' targets are the
    ledger keys, "channel:N/week"), also when that day has no listing (a holiday, a weekend
    weekday): by default such a day, once come, is taken over the older listing before it."""
    from hotpapers.ranking.week import is_weekly_day
    from hotpapers.service.use_cases import no_listing, resolve_listing_date

    now = now or datetime.now(UTC)
    week_day = unlisted_week_day(settings, now)  # no listing that day: newer than the newest
    if week_day is not None and listing_date in (None, week_day):
        day = week_day
    else:
        day = resolve_listing_date(settings, listing_date, now)
    reason = no_listing(settings, day, "nothing to deliver")
    if reason is not None and not is_weekly_day(settings, day):
        log.info("%s", reason)  # whatever is stored under that date, it was never announced
        return DeliveryReport(day)
    plans = await asyncio.to_thread(_plan, settings, engine, day, now)
    if not plans:
        return DeliveryReport(day)
    token = require_token(settings)
    async with (
        aiohttp.ClientSession() as http,
        HotpapersBot(settings, engine, http) as client,
    ):
        pacer = pacer_for(client)  # before login: every request of this client is paced
        # One sentence for a refusal, an unreadable answer or no answer in time; discord.py's
        # session has no timeout of its own.
        with discord_failures(settings):
            async with asyncio.timeout(settings.discord.request_timeout):
                await client.login(token)
        workers = settings.discord.delivery_workers
        report = await deliver(engine, DiscordCourier(client), plans, day, now, workers=workers)
        for target_plan, result in zip(plans, report.targets, strict=True):
            result.target = target_plan.ledger  # a channel's week thread apart from its digest
        log.info(
            "Discord requests: %d (%d failed, 429s: %d global, %d route)",
            pacer.requests,
            pacer.failed,
            pacer.global_429,
            pacer.route_429,
        )
        return report


def _plan(settings: Settings, engine: Engine, day: date, now: datetime) -> list[TargetPlan]:
    """The day's digests (none on a day without a listing), then the week's threads."""
    with Session(engine) as session:
        return plan(session, settings, day, now) + plan_week(session, settings, day, now)
