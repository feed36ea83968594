"""The ⭐ under /paper's reply: a persistent button (it works after a restart) that stars or
un-stars the paper for whoever presses it. Stars are what /foryou learns from."""

from __future__ import annotations

import asyncio
import re
from typing import TYPE_CHECKING, Any, cast

import discord

from hotpapers import foryou

if TYPE_CHECKING:
    from bot.client import HotpapersBot

# A canonical arXiv id (2401.12345, hep-th/9901001) inside the button's custom id.
STAR_TEMPLATE = r"hp:star:(?P<paper>[A-Za-z0-9.\-]{1,30}(?:/[0-9]{7})?)"


class StarButton(discord.ui.DynamicItem[discord.ui.Button[Any]], template=STAR_TEMPLATE):
    """⭐ Star: toggles the presser's star on one paper; the answer only they see."""

    def __init__(self, paper_id: str) -> None:
        super().__init__(
            discord.ui.Button(
                label="Star",
                emoji="⭐",
                style=discord.ButtonStyle.secondary,
                custom_id=f"hp:star:{paper_id}",
            )
        )
        self.paper_id = paper_id

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction, item: discord.ui.Item[Any], match: re.Match[str]
    ) -> StarButton:
        return cls(match["paper"])

    async def callback(self, interaction: discord.Interaction) -> None:
        bot = cast("HotpapersBot", interaction.client)
        starred = await asyncio.to_thread(
            foryou.toggle_star, bot.engine, interaction.user.id, self.paper_id, bot.clock()
        )
        if starred:
            sentence = (
                f"Starred arXiv:{self.paper_id}. /foryou picks new papers like the ones you "
                "star; press ⭐ again to take the star back."
            )
        else:
            sentence = f"Took your star back from arXiv:{self.paper_id}."
        await interaction.response.send_message(sentence, ephemeral=True)
