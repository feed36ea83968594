"""The core's Courier protocol implemented with discord.py (`deliver_day`, which runs it for
the CLI, is in bot/runner.py: the courier is handed a client and never makes the bot).

Every message goes out with `AllowedMentions.none()`: a paper title saying "@everyone" pings
nobody. Discord's errors become the core's: 403 -> TargetForbidden, 429 / 5xx / network ->
Transient, 400 -> MessageRejected (discord.py already retries 429s). A 404 is TargetGone only
when it is the channel itself (or the DM's user) that Discord does not know; a deleted thread
is ThreadGone (the core starts a new one), a deleted message is not the channel's fault.

Every REST request of the bot passes one `RequestPacer` (`pacer_for(client)`, bot/pacer.py),
which keeps it under Discord's global limit of 50 requests/s per bot.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator, Iterator, Sequence
from contextlib import contextmanager
from typing import Literal

import aiohttp
import discord

from bot.pacer import pacer_for
from bot.render import (
    BUTTONS_PER_ROW,
    LinkButton,
    clip,
    clip_content,
    footer_content,
    header_content,
    paper_message,
)
from hotpapers.arxiv.ids import abs_url
from hotpapers.delivery import (
    MessageGone,
    MessageRejected,
    TargetForbidden,
    TargetGone,
    ThreadGone,
    Transient,
)
from hotpapers.plumbing.text import collapse_ws
from hotpapers.ranking.scoring import RankedPaper

log = logging.getLogger(__name__)

NO_PINGS = discord.AllowedMentions.none()
THREAD_NAME_LIMIT = 100
HISTORY_LIMIT = 200  # how far back to look for a message a crashed run may have sent
AUTO_ARCHIVE_MINUTES: Literal[60, 1440, 4320, 10080] = 1440
# Discord's JSON error codes of a 404 that mean the target itself does not exist.
UNKNOWN_CHANNEL = 10003
UNKNOWN_USER = 10013


def parse_target(target: str) -> tuple[str, int]:
    """ "channel:123" -> ("channel", 123); "dm:7" -> ("dm", 7)."""
    kind, _, ident = target.partition(":")
    if kind not in {"channel", "dm"} or not ident.isdigit():
        raise TargetGone(f"not a delivery target: {target!r}")
    return kind, int(ident)


def paper_message_embed(ranked: RankedPaper, note: str = "") -> discord.Embed:
    """One delivered paper's embed (`bot.render.paper_message`)."""
    return paper_message(ranked, note).embed


def link_view(buttons: Sequence[LinkButton]) -> discord.ui.View:
    """URL buttons in rows of five; nothing to dispatch, so no state is kept for it."""
    view = discord.ui.View(timeout=None)
    for index, button in enumerate(buttons[: BUTTONS_PER_ROW * 5]):
        view.add_item(
            discord.ui.Button(
                style=discord.ButtonStyle.link,
                label=button.label,
                url=button.url,
                row=index // BUTTONS_PER_ROW,
            )
        )
    return view


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
        # Not the target itself (a message, say): that is checked where it is fetched.
        raise Transient(f"{what}: {exc}") from exc
    except (discord.RateLimited, discord.DiscordServerError) as exc:
        raise Transient(f"{what}: {exc}") from exc
    except discord.HTTPException as exc:
        if exc.status == 429 or exc.status >= 500:
            raise Transient(f"{what}: {exc}") from exc
        raise MessageRejected(f"{what}: {exc}") from exc
    except (aiohttp.ClientError, TimeoutError, OSError) as exc:
        raise Transient(f"{what}: {exc.__class__.__name__}: {exc}") from exc


class DiscordCourier:
    """Posts digests with a logged-in client (a gateway connection is not needed).

    Any number of couriers and concurrent deliveries may share one client: they share its
    pacer (`pacer_for`), so together they stay under the global limit.
    """

    def __init__(self, client: discord.Client) -> None:
        self.client = client
        self.pacer = pacer_for(client)

    async def _channel(self, channel_id: int) -> object:
        """The target channel (from the cache if there); TargetGone when it does not exist."""
        return self.client.get_channel(channel_id) or await self._fetch_channel(channel_id)

    async def _fetch_channel(self, channel_id: int) -> object:
        """The target channel as Discord has it now; TargetGone when it does not exist."""
        try:
            return await self.client.fetch_channel(channel_id)
        except discord.NotFound as exc:
            if exc.code == UNKNOWN_CHANNEL:
                raise TargetGone(f"channel {channel_id}: {exc}") from exc
            raise

    async def _dm(self, user_id: int) -> discord.DMChannel:
        """The DM channel with a user; TargetGone when Discord does not know the user."""
        try:
            return await self.client.create_dm(discord.Object(id=user_id))
        except discord.NotFound as exc:
            if exc.code in (UNKNOWN_USER, UNKNOWN_CHANNEL):
                raise TargetGone(f"user {user_id}: {exc}") from exc
            raise

    @contextlib.asynccontextmanager
    async def _guarded(
        self, what: str, target: str, thread_id: str | None = None
    ) -> AsyncIterator[None]:
        """Discord's errors as the core's (`_translated`), a 404 Unknown Channel checked
        first: TargetGone only when Discord, asked afresh (not the cache), does not know the
        target channel; ThreadGone when it is only the day's thread that is gone."""
        with _translated(what):
            try:
                yield
            except discord.NotFound as exc:
                kind, ident = parse_target(target)
                if kind == "channel" and exc.code == UNKNOWN_CHANNEL:
                    await self._fetch_channel(ident)
                    if thread_id is not None:
                        raise ThreadGone(f"{what}: the digest thread was deleted") from exc
                raise

    async def _where(self, target: str, thread_id: str | None) -> discord.abc.Messageable:
        kind, ident = parse_target(target)
        if thread_id is not None:
            return self.client.get_partial_messageable(int(thread_id))
        if kind == "dm":
            return await self._dm(ident)
        return self.client.get_partial_messageable(ident)

    async def start_digest(self, target: str, title: str, style: str) -> tuple[str, str | None]:
        kind, ident = parse_target(target)
        content, name = _header_text(title)
        async with self._guarded(f"starting the digest in {target}", target):
            if kind == "dm":
                dm = await self._dm(ident)
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
            return str(header.id), str(await _open_thread(header, name))

    async def find_digest(
        self, target: str, title: str, style: str
    ) -> tuple[str, str | None] | None:
        kind, ident = parse_target(target)
        content, name = _header_text(title)
        me = self.client.user.id if self.client.user else None
        async with self._guarded(f"looking for the digest header in {target}", target):
            if kind == "dm":
                dm = await self._dm(ident)
                header = await _find_message(dm, me, content)
                return (str(header.id), None) if header else None
            channel = await self._channel(ident)
            if isinstance(channel, discord.ForumChannel):
                guild = await self.client.fetch_guild(channel.guild.id)
                for thread in await guild.active_threads():
                    if (thread.parent_id, thread.owner_id, thread.name) == (channel.id, me, name):
                        return str(thread.id), str(thread.id)  # the starter shares the id
                return None
            if not isinstance(channel, discord.TextChannel):
                return None
            header = await _find_message(channel, me, content)
            if header is None:
                return None
            try:  # a thread started from a message has the message's id
                thread_id = (await self.client.fetch_channel(header.id)).id
            except discord.NotFound:  # the run died before opening it
                thread_id = await _open_thread(header, name)
            return str(header.id), str(thread_id)

    async def send_paper(
        self, target: str, thread_id: str | None, ranked: RankedPaper
    ) -> tuple[str, str]:
        async with self._guarded(f"posting {ranked.paper.arxiv_id} to {target}", target, thread_id):
            where = await self._where(target, thread_id)
            built = paper_message(ranked)
            message = await where.send(
                embed=built.embed, view=link_view(built.buttons), allowed_mentions=NO_PINGS
            )
            return str(message.channel.id), str(message.id)

    async def finish_digest(self, target: str, thread_id: str | None, title: str) -> None:
        async with self._guarded(f"closing the digest in {target}", target, thread_id):
            where = await self._where(target, thread_id)
            await where.send(content=footer_content(title), allowed_mentions=NO_PINGS)

    async def find_paper_message(
        self, target: str, thread_id: str | None, arxiv_id: str
    ) -> tuple[str, str] | None:
        me = self.client.user.id if self.client.user else None
        url = abs_url(arxiv_id)
        async with self._guarded(f"looking for {arxiv_id} in {target}", target, thread_id):
            where = await self._where(target, thread_id)
            async for message in where.history(limit=HISTORY_LIMIT):
                if message.author.id == me and any(e.url == url for e in message.embeds):
                    return str(message.channel.id), str(message.id)
        return None

    async def edit_paper(
        self, channel_id: str, message_id: str, ranked: RankedPaper, note: str
    ) -> None:
        channel = self.client.get_partial_messageable(int(channel_id))
        built = paper_message(ranked, note)
        with _translated(f"editing message {message_id} in {channel_id}", editing=True):
            await channel.get_partial_message(int(message_id)).edit(
                content=clip_content(note[:1].upper() + note[1:]),
                embed=built.embed,
                view=link_view(built.buttons),
                allowed_mentions=NO_PINGS,
            )


def _header_text(title: str) -> tuple[str, str]:
    """The header message's content and its thread's name, for a digest title."""
    return header_content(title), clip(collapse_ws(title), THREAD_NAME_LIMIT) or "Hot Papers"


async def _open_thread(header: discord.Message, name: str) -> int:
    try:
        thread = await header.create_thread(name=name, auto_archive_duration=AUTO_ARCHIVE_MINUTES)
    except discord.HTTPException:
        # No thread, no digest: take the header back so a retry starts clean.
        with contextlib.suppress(discord.HTTPException):
            await header.delete()
        raise
    return thread.id


async def _find_message(
    where: discord.abc.Messageable, author_id: int | None, content: str
) -> discord.Message | None:
    """Our latest message with exactly this content, among the last HISTORY_LIMIT."""
    async for message in where.history(limit=HISTORY_LIMIT):
        if message.author.id == author_id and message.content == content:
            return message
    return None
