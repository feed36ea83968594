"""The core's Courier protocol implemented with discord.py, and `deliver_day` for the CLI.

Every message goes out with `AllowedMentions.none()`: a paper title saying "@everyone" pings
nobody. Discord's errors become the core's: 403 -> TargetForbidden, 404 -> TargetGone,
429 / 5xx / network -> Transient, 400 -> MessageRejected (discord.py already retries 429s).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime
from typing import Literal

import aiohttp
import discord
from sqlalchemy import Engine
from sqlmodel import Session

from bot.render import Field, author_list, build_embed, clip, clip_content, safe
from bot.views import categories_text, links, score_breakdown
from hotpapers.arxiv.ids import abs_url
from hotpapers.config import Settings
from hotpapers.delivery import (
    DeliveryReport,
    MessageGone,
    MessageRejected,
    TargetForbidden,
    TargetGone,
    TargetPlan,
    Transient,
    deliver,
    plan,
)
from hotpapers.errors import ConfigError
from hotpapers.ranking import RankedPaper
from hotpapers.text import collapse_ws

log = logging.getLogger(__name__)

NO_PINGS = discord.AllowedMentions.none()
THREAD_NAME_LIMIT = 100
HISTORY_LIMIT = 200  # how far back to look for a message a crashed run may have sent
AUTO_ARCHIVE_MINUTES: Literal[60, 1440, 4320, 10080] = 1440


def parse_target(target: str) -> tuple[str, int]:
    """ "channel:123" -> ("channel", 123); "dm:7" -> ("dm", 7)."""
    kind, _, ident = target.partition(":")
    if kind not in {"channel", "dm"} or not ident.isdigit():
        raise TargetGone(f"not a delivery target: {target!r}")
    return kind, int(ident)


def paper_message_embed(ranked: RankedPaper, note: str = "") -> discord.Embed:
    """One delivered paper: title linking to its abs page (the marker a rerun looks for)."""
    paper = ranked.paper
    fields = [
        Field("Authors", author_list(paper.authors)),
        Field("Links", links(paper.arxiv_id), inline=True),
        Field("Categories", categories_text(paper.categories), inline=True),
        Field(f"Score (#{ranked.rank})", score_breakdown(ranked)),
    ]
    footer = f"arXiv:{paper.arxiv_id} · #{ranked.rank}" + (f" · {note}" if note else "")
    return build_embed(
        title=safe(paper.title),
        url=abs_url(paper.arxiv_id),
        description=safe(paper.abstract),
        fields=fields,
        footer=footer,
    )


@contextmanager
def _translated(what: str, *, editing: bool = False) -> Iterator[None]:
    """discord.py's exceptions as the core's delivery errors."""
    try:
        yield
    except discord.Forbidden as exc:
        raise TargetForbidden(f"{what}: {exc}") from exc
    except discord.NotFound as exc:
        if editing:
            raise MessageGone(f"{what}: {exc}") from exc
        raise TargetGone(f"{what}: {exc}") from exc
    except (discord.RateLimited, discord.DiscordServerError) as exc:
        raise Transient(f"{what}: {exc}") from exc
    except discord.HTTPException as exc:
        if exc.status == 429 or exc.status >= 500:
            raise Transient(f"{what}: {exc}") from exc
        raise MessageRejected(f"{what}: {exc}") from exc
    except (aiohttp.ClientError, TimeoutError, OSError) as exc:
        raise Transient(f"{what}: {exc.__class__.__name__}: {exc}") from exc


class DiscordCourier:
    """Posts digests with a logged-in client (a gateway connection is not needed)."""

    def __init__(self, client: discord.Client) -> None:
        self.client = client

    async def _channel(self, channel_id: int) -> object:
        return self.client.get_channel(channel_id) or await self.client.fetch_channel(channel_id)

    async def _where(self, target: str, thread_id: str | None) -> discord.abc.Messageable:
        kind, ident = parse_target(target)
        if thread_id is not None:
            return self.client.get_partial_messageable(int(thread_id))
        if kind == "dm":
            return await self.client.create_dm(discord.Object(id=ident))
        return self.client.get_partial_messageable(ident)

    async def start_digest(self, target: str, title: str, style: str) -> tuple[str, str | None]:
        kind, ident = parse_target(target)
        content = clip_content(safe(title))
        name = clip(collapse_ws(title), THREAD_NAME_LIMIT) or "Hot Papers"
        with _translated(f"starting the digest in {target}"):
            if kind == "dm":
                dm = await self.client.create_dm(discord.Object(id=ident))
                header = await dm.send(content=content, allowed_mentions=NO_PINGS)
                return str(header.id), None
            channel = await self._channel(ident)
            if isinstance(channel, discord.ForumChannel):
                post = await channel.create_thread(
                    name=name,
                    content=content,
                    allowed_mentions=NO_PINGS,
                    auto_archive_duration=AUTO_ARCHIVE_MINUTES,
                )
                return str(post.message.id), str(post.thread.id)
            if not isinstance(channel, discord.TextChannel):
                raise TargetForbidden(f"{target} is not a text or forum channel")
            header = await channel.send(content=content, allowed_mentions=NO_PINGS)
            try:
                thread = await header.create_thread(
                    name=name, auto_archive_duration=AUTO_ARCHIVE_MINUTES
                )
            except discord.HTTPException:
                # No thread, no digest: take the header back so a retry starts clean.
                with contextlib.suppress(discord.HTTPException):
                    await header.delete()
                raise
            return str(header.id), str(thread.id)

    async def send_paper(
        self, target: str, thread_id: str | None, ranked: RankedPaper
    ) -> tuple[str, str]:
        with _translated(f"posting {ranked.paper.arxiv_id} to {target}"):
            where = await self._where(target, thread_id)
            try:
                message = await where.send(
                    embed=paper_message_embed(ranked), allowed_mentions=NO_PINGS
                )
            except discord.NotFound:
                if thread_id is not None:
                    await self._parent_exists(target)
                raise
            return str(message.channel.id), str(message.id)

    async def _parent_exists(self, target: str) -> None:
        """A 404 in the thread: TargetGone only when the channel itself is gone too."""
        kind, ident = parse_target(target)
        if kind == "channel":
            await self.client.fetch_channel(ident)  # NotFound here: the channel is gone
            raise Transient(f"the digest thread in {target} was deleted")

    async def find_paper_message(
        self, target: str, thread_id: str | None, arxiv_id: str
    ) -> tuple[str, str] | None:
        me = self.client.user.id if self.client.user else None
        url = abs_url(arxiv_id)
        with _translated(f"looking for {arxiv_id} in {target}"):
            where = await self._where(target, thread_id)
            async for message in where.history(limit=HISTORY_LIMIT):
                if message.author.id == me and any(e.url == url for e in message.embeds):
                    return str(message.channel.id), str(message.id)
        return None

    async def edit_paper(
        self, channel_id: str, message_id: str, ranked: RankedPaper, note: str
    ) -> None:
        channel = self.client.get_partial_messageable(int(channel_id))
        with _translated(f"editing message {message_id} in {channel_id}", editing=True):
            await channel.get_partial_message(int(message_id)).edit(
                content=clip_content(note[:1].upper() + note[1:]),
                embed=paper_message_embed(ranked, note),
                allowed_mentions=NO_PINGS,
            )


async def deliver_day(
    settings: Settings,
    engine: Engine,
    listing_date: date | None = None,
    *,
    now: datetime | None = None,
) -> DeliveryReport:
    """Log in over REST, deliver one listing to every subscribed target, log out."""
    from bot.client import HotpapersBot
    from bot.runner import require_token
    from hotpapers.jobs import resolve_listing_date

    now = now or datetime.now(UTC)
    day = resolve_listing_date(settings, listing_date, now)
    plans = await asyncio.to_thread(_plan, settings, engine, day, now)
    if not plans:
        return DeliveryReport(day)
    token = require_token(settings)
    async with (
        aiohttp.ClientSession() as http,
        HotpapersBot(settings, engine, http) as client,
    ):
        try:
            await client.login(token)
        except discord.LoginFailure as exc:
            raise ConfigError(f"Discord refused the token: {exc}") from None
        return await deliver(engine, DiscordCourier(client), plans, day, now)


def _plan(settings: Settings, engine: Engine, day: date, now: datetime) -> list[TargetPlan]:
    with Session(engine) as session:
        return plan(session, settings, day, now)
