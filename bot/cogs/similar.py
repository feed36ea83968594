"""/similar and the "Similar" button under /paper's answer: papers like one paper."""

from __future__ import annotations

import asyncio
import contextlib
import re
from typing import TYPE_CHECKING, Any

import discord
from discord import app_commands
from discord.ext import commands

from bot.cogs._input import BadInput, parse_arxiv_id
from bot.render import Field, build_embed, clip, clip_content, readable
from bot.views import summary_line
from hotpapers.similar import SimilarResult, similar_to

if TYPE_CHECKING:
    from bot.client import HotpapersBot

SIMILAR_COUNT = 5


def similar_embed(result: SimilarResult) -> discord.Embed:
    """The neighbours, best first, each with its similarity (cosine of the two vectors)."""
    assert result.paper is not None
    fields = [
        Field(
            f"{place}. {clip(readable(summary.title), 230)}",
            f"{summary_line(summary)} · similarity {score:.2f}",
        )
        for place, (summary, score) in enumerate(result.neighbours, start=1)
    ]
    return build_embed(
        title=clip(
            f"Papers like arXiv:{result.paper.arxiv_id}: {readable(result.paper.title)}", 250
        ),
        fields=fields,
        footer="By title and abstract (WordLlama embeddings).",
    )


class SimilarButton(
    discord.ui.DynamicItem[discord.ui.Button[Any]], template=r"hp:similar:(?P<paper>\S{1,40})"
):
    """A button that works on any message it is on, also after the bot restarts."""

    def __init__(self, paper_id: str) -> None:
        super().__init__(
            discord.ui.Button(
                label="Similar",
                style=discord.ButtonStyle.secondary,
                custom_id=f"hp:similar:{paper_id}",
            )
        )
        self.paper_id = paper_id

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction, item: discord.ui.Item[Any], match: re.Match[str]
    ) -> SimilarButton:
        return cls(match["paper"])

    async def callback(self, interaction: discord.Interaction) -> None:
        bot: HotpapersBot = interaction.client  # type: ignore[assignment]
        # Only the person who pressed it sees the answer: a button press should not post.
        # Deferred at once: the first search of a process loads every vector.
        await interaction.response.defer(ephemeral=True, thinking=True)
        result = await asyncio.to_thread(similar_to, bot.engine, self.paper_id, SIMILAR_COUNT)
        if result.sentence is not None:
            await interaction.edit_original_response(content=clip_content(result.sentence))
            return
        await interaction.edit_original_response(embed=similar_embed(result))


class SimilarCog(commands.Cog):
    def __init__(self, bot: HotpapersBot) -> None:
        self.bot = bot

    async def cog_load(self) -> None:
        self.bot.add_dynamic_items(SimilarButton)

    async def cog_unload(self) -> None:
        self.bot.remove_dynamic_items(SimilarButton)

    @app_commands.command(
        name="similar", description="Papers like one paper, by title and abstract."
    )
    @app_commands.describe(
        id="An arXiv id or link, such as 2401.12345 or https://arxiv.org/abs/2401.12345"
    )
    async def similar(self, interaction: discord.Interaction, id: str) -> None:
        try:
            arxiv_id = parse_arxiv_id(id)
        except BadInput as exc:
            await interaction.response.send_message(clip_content(str(exc)), ephemeral=True)
            return
        await interaction.response.defer(thinking=True)  # the first search loads the vectors
        result = await asyncio.to_thread(similar_to, self.bot.engine, arxiv_id, SIMILAR_COUNT)
        if result.sentence is None:
            await interaction.edit_original_response(embed=similar_embed(result))
            return
        # The "thinking..." placeholder is public: replace it with a private sentence.
        with contextlib.suppress(discord.HTTPException):
            await interaction.delete_original_response()
        await interaction.followup.send(clip_content(result.sentence), ephemeral=True)


async def setup(bot: HotpapersBot) -> None:
    await bot.add_cog(SimilarCog(bot))
