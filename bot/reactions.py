"""Reactions on our paper messages become a "discord" signal snapshot for that paper.

Read back from Discord when a reaction changes, over every message we delivered for the paper
(each channel's message has its own reactions). Reactions are counted per user, so one account
cannot push a paper: each person counts at most `discord.reactions_per_user` reactions per paper
(whatever the emojis and messages), and the bot's own reactions never count. The snapshot
holds `reactions` (the capped sum, what `discord.reactions` weighs) and `reactors` (people).

Each person's own reactions are also kept, per user, message and emoji, from the add and
remove events (not re-read from Discord, so /forget-me stays final for what it deleted):
/foryou counts them as likes.
"""

from __future__ import annotations

import asyncio
import logging
from collections import Counter
from typing import TYPE_CHECKING

import discord
from discord.ext import commands
from sqlalchemy import Engine
from sqlmodel import Session, col, select

from hotpapers import foryou
from hotpapers.signals.base import Measurement
from hotpapers.signals.store import save_measurements
from hotpapers.storage.db import transaction
from hotpapers.storage.models import Delivery

if TYPE_CHECKING:
    from bot.client import HotpapersBot

log = logging.getLogger(__name__)

SOURCE = "discord"
MAX_MESSAGES = 10  # a paper's messages read per reaction (the most recent deliveries)


class ReactionsCog(commands.Cog):
    def __init__(self, bot: HotpapersBot) -> None:
        self.bot = bot

    @commands.Cog.listener()
    async def on_raw_reaction_add(self, payload: discord.RawReactionActionEvent) -> None:
        me = self.bot.user.id if self.bot.user else None
        if payload.message_author_id is not None and payload.message_author_id != me:
            return  # not our message: no database look-up for every reaction in the server
        if payload.user_id != me:  # the person's own like, for their /foryou
            await asyncio.to_thread(
                foryou.record_reaction,
                self.bot.engine,
                payload.user_id,
                payload.message_id,
                str(payload.emoji),
                self.bot.clock(),
            )
        await self.record(payload.message_id)

    @commands.Cog.listener()
    async def on_raw_reaction_remove(self, payload: discord.RawReactionActionEvent) -> None:
        await asyncio.to_thread(
            foryou.remove_reaction,
            self.bot.engine,
            payload.user_id,
            payload.message_id,
            str(payload.emoji),
        )
        await self.record(payload.message_id)

    async def record(self, message_id: int) -> int | None:
        """Save the paper's reaction total if `message_id` is one of ours; the total."""
        found = await asyncio.to_thread(_messages_of_paper, self.bot.engine, str(message_id))
        if found is None:
            return None
        paper_id, messages = found
        per_user: Counter[int] = Counter()
        for channel_id, other_id in messages:
            try:
                per_user += await self._reactions_by_user(channel_id, other_id)
            except discord.HTTPException as exc:
                log.info("reactions of %s in %s unreadable: %s", other_id, channel_id, exc)
        total = capped_total(per_user, self.bot.settings.discord.reactions_per_user)
        measurement = Measurement(
            paper_id=paper_id,
            source=SOURCE,
            taken_at=self.bot.clock(),
            metrics={"reactions": float(total), "reactors": float(len(per_user))},
        )
        await asyncio.to_thread(_save, self.bot.engine, measurement)
        return total

    async def _reactions_by_user(self, channel_id: str, message_id: str) -> Counter[int]:
        """How many reactions each user (not us) left on one message, every emoji read."""
        channel = self.bot.get_partial_messageable(int(channel_id))
        message = await channel.fetch_message(int(message_id))
        me = self.bot.user.id if self.bot.user else None
        found: Counter[int] = Counter()
        for reaction in message.reactions:
            async for user in reaction.users():
                if user.id != me:
                    found[user.id] += 1
        return found


def capped_total(per_user: Counter[int], cap: int) -> int:
    """The reactions that count: at most `cap` per user."""
    return sum(min(count, cap) for count in per_user.values())


def _messages_of_paper(engine: Engine, message_id: str) -> tuple[str, list[tuple[str, str]]] | None:
    """The paper a delivered message shows, and its delivered messages (newest first)."""
    with Session(engine) as session:
        query = select(Delivery.paper_id).where(Delivery.message_id == message_id)
        paper_id = session.exec(query).first()
        if paper_id is None:
            return None
        rows = session.exec(
            select(Delivery.channel_id, Delivery.message_id)
            .where(Delivery.paper_id == paper_id, Delivery.state == "sent")
            .order_by(col(Delivery.id).desc())
            .limit(MAX_MESSAGES)
        ).all()
        messages = [(str(c), str(m)) for c, m in rows if c and m]
        if not any(m == message_id for _, m in messages):
            messages = messages[: MAX_MESSAGES - 1]
            messages += [(str(c), str(m)) for c, m in _one(session, message_id)]
        return paper_id, messages


def _one(session: Session, message_id: str) -> list[tuple[str | None, str | None]]:
    query = select(Delivery.channel_id, Delivery.message_id).where(
        Delivery.message_id == message_id
    )
    return [(c, m) for c, m in session.exec(query).all() if c and m]


def _save(engine: Engine, measurement: Measurement) -> None:
    with transaction(engine) as session:
        save_measurements(session, [measurement])


async def setup(bot: HotpapersBot) -> None:
    await bot.add_cog(ReactionsCog(bot))
