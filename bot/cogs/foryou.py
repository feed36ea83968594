"""/foryou (recent papers picked from what you liked) and /forget-me; both answer privately.

The likes are recorded elsewhere in the bot: stars by the ⭐ under /paper (bot/stars.py),
reactions by the reactions cog (bot/reactions.py). This cog only reads and deletes them,
through `hotpapers.foryou`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import discord
from discord import app_commands
from discord.ext import commands
from sqlmodel import Session

from bot.render import Field, build_embed, clip, readable, safe
from bot.stars import StarButton
from bot.views import links
from hotpapers import foryou as core

if TYPE_CHECKING:
    from bot.client import HotpapersBot

log = logging.getLogger(__name__)

NOT_YOURS = "Only the person who ran /forget-me can answer it."
KEPT = "Nothing was deleted."


def picks_embed(found: core.ForYou) -> discord.Embed:
    """The picks, one field each: the title, then the reason and links."""
    fields = [
        Field(
            f"{number}. {clip(readable(pick.title), 230)}",
            f"{safe(pick.reason)}\n`{pick.primary_category}` · {links(pick.arxiv_id)}",
        )
        for number, pick in enumerate(found.picks, start=1)
    ]
    how = {
        "linear": "a model trained on what you liked",
        "profile": "closeness to what you liked",
        "subscriptions": "your subscriptions",
    }[found.model]
    return build_embed(
        title=f"For you · new in the last {found.days} days",
        fields=fields,
        footer=f"Picked by {how}. Only you can see this; /forget-me deletes what I know.",
    )


def _plural(count: int, one: str, many: str) -> str:
    return f"{count} {one if count == 1 else many}"


def stored_parts(found: core.Forgotten) -> list[str]:
    """`3 stars`, `1 reaction`, ... for each kind of data there is."""
    parts = []
    if found.stars:
        parts.append(_plural(found.stars, "star", "stars"))
    if found.reactions:
        parts.append(_plural(found.reactions, "reaction", "reactions"))
    if found.subscriptions:
        parts.append(_plural(found.subscriptions, "DM subscription", "DM subscriptions"))
    if found.deliveries:
        parts.append(
            _plural(
                found.deliveries, "record of a paper sent to you", "records of papers sent to you"
            )
        )
    return parts


def _listed(parts: Sequence[str]) -> str:
    return parts[0] if len(parts) == 1 else f"{', '.join(parts[:-1])} and {parts[-1]}"


def question(found: core.Forgotten) -> str:
    """What /forget-me would delete, as one question."""
    sentence = f"Delete your {_listed(stored_parts(found))}?" if stored_parts(found) else ""
    if found.channel_subscriptions:
        kept = _plural(found.channel_subscriptions, "channel subscription", "channel subscriptions")
        sentence += f" The {kept} you set up will stay for the channel, without your name."
    return sentence.strip()


def deleted(found: core.Forgotten) -> str:
    """What /forget-me deleted, in one sentence."""
    parts = stored_parts(found)
    sentence = f"Deleted your {_listed(parts)}." if parts else "There was nothing left to delete."
    if found.channel_subscriptions:
        kept = _plural(found.channel_subscriptions, "channel subscription", "channel subscriptions")
        sentence += f" Your name is off the {kept} you set up."
    return sentence


class ForgetView(discord.ui.View):
    """Delete / Keep under /forget-me's question; only the user who asked may answer."""

    def __init__(self, bot: HotpapersBot, owner_id: int, timeout: float = 300) -> None:
        super().__init__(timeout=timeout)
        self.bot = bot
        self.owner_id = owner_id
        self.origin: discord.Interaction | None = None

    async def interaction_check(self, interaction: discord.Interaction) -> bool:
        if interaction.user.id == self.owner_id:
            return True
        await interaction.response.send_message(NOT_YOURS, ephemeral=True)
        return False

    async def on_timeout(self) -> None:
        if self.origin is not None:
            with contextlib.suppress(discord.HTTPException):
                await self.origin.edit_original_response(content=KEPT, view=None)

    @discord.ui.button(
        label="Delete it all", style=discord.ButtonStyle.danger, custom_id="hp:forget:yes"
    )
    async def confirm(
        self, interaction: discord.Interaction, button: discord.ui.Button[Any]
    ) -> None:
        found = await asyncio.to_thread(core.forget, self.bot.engine, self.owner_id)
        log.info("forgot a user on request: %s", found)  # counts only, never the user's id
        self.stop()
        await interaction.response.edit_message(content=deleted(found), view=None)

    @discord.ui.button(
        label="Keep it", style=discord.ButtonStyle.secondary, custom_id="hp:forget:no"
    )
    async def keep(self, interaction: discord.Interaction, button: discord.ui.Button[Any]) -> None:
        self.stop()
        await interaction.response.edit_message(content=KEPT, view=None)


class ForYouCog(commands.Cog):
    def __init__(self, bot: HotpapersBot) -> None:
        self.bot = bot

    async def cog_load(self) -> None:
        self.bot.add_dynamic_items(StarButton)  # ⭐ under /paper, also after a restart

    async def cog_unload(self) -> None:
        self.bot.remove_dynamic_items(StarButton)

    @app_commands.command(
        name="foryou",
        description="New papers picked for you from what you starred, reacted to and follow.",
    )
    async def foryou(self, interaction: discord.Interaction) -> None:
        await interaction.response.defer(ephemeral=True, thinking=True)
        found = await asyncio.to_thread(self._recommend, interaction.user.id)
        if found.likes.empty:
            await interaction.edit_original_response(content=core.NO_HISTORY)
        elif not found.picks:
            await interaction.edit_original_response(content=core.nothing_new(found.days))
        else:
            await interaction.edit_original_response(embed=picks_embed(found))

    def _recommend(self, user_id: int) -> core.ForYou:
        with Session(self.bot.engine) as session:
            return core.recommend(session, user_id, self.bot.clock(), vectors=self.bot.vectors)

    @app_commands.command(
        name="forget-me", description="Delete everything this bot stores about you (asks first)."
    )
    async def forget_me(self, interaction: discord.Interaction) -> None:
        found = await asyncio.to_thread(self._stored, interaction.user.id)
        if found.nothing:
            await interaction.response.send_message(
                "I store nothing about you: no stars, reactions or DM subscriptions.",
                ephemeral=True,
            )
            return
        view = ForgetView(self.bot, interaction.user.id)
        await interaction.response.send_message(question(found), view=view, ephemeral=True)
        view.origin = interaction

    def _stored(self, user_id: int) -> core.Forgotten:
        with Session(self.bot.engine) as session:
            return core.what_would_be_forgotten(session, user_id)


async def setup(bot: HotpapersBot) -> None:
    await bot.add_cog(ForYouCog(bot))
