"""/trending [week|month] [category]: the papers that gained the most attention lately."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.ext import commands

from bot.cogs._input import BadInput, parse_category
from bot.cogs.papers import category_choices, refuse
from bot.render import Field, author_list, build_embed, clip, readable
from bot.views import PAPERS_PER_PAGE, links, score_breakdown, show_pages
from hotpapers.ranking.trending import (
    MONTH,
    WEEK,
    TrendingPaper,
    Window,
    find_trending,
    nothing_sentence,
    title,
    window,
)

if TYPE_CHECKING:
    from bot.client import HotpapersBot

SHOWN = 10  # two pages of five, like /hot's default


def trending_pages(
    found: Sequence[TrendingPaper], span: Window, categories: Sequence[str] | None
) -> list[discord.Embed]:
    """Pages of five: /hot's fields, with each paper's listing date beside its rank."""
    chunks = [found[i : i + PAPERS_PER_PAGE] for i in range(0, len(found), PAPERS_PER_PAGE)]
    pages = []
    for number, chunk in enumerate(chunks, start=1):
        fields = [
            Field(
                f"#{item.ranked.rank} · {clip(readable(item.ranked.paper.title), 200)}",
                f"Listed {item.listed:%Y-%m-%d} · {author_list(item.ranked.paper.authors, 300)}\n"
                f"Gained {score_breakdown(item.ranked)}\n{links(item.ranked.paper.arxiv_id)}",
            )
            for item in chunk
        ]
        footer = f"Page {number}/{len(chunks)} · attention gained in the window"
        pages.append(build_embed(title=title(span, categories), fields=fields, footer=footer))
    return pages


class TrendingCog(commands.Cog):
    def __init__(self, bot: HotpapersBot) -> None:
        self.bot = bot

    @app_commands.command(
        name="trending", description="The papers that gained the most attention this week/month."
    )
    @app_commands.describe(
        period="week (the last 7 days, default) or month (the last 30 days)",
        category="An arXiv category such as cs.LG, primary or cross-list (default: all)",
    )
    @app_commands.choices(
        period=[
            app_commands.Choice(name="week", value=WEEK),
            app_commands.Choice(name="month", value=MONTH),
        ]
    )
    async def trending(
        self,
        interaction: discord.Interaction,
        period: app_commands.Choice[str] | None = None,
        category: str | None = None,
    ) -> None:
        try:
            chosen = parse_category(category)
        except BadInput as exc:
            await refuse(interaction, str(exc))
            return
        categories = [chosen] if chosen else None
        now = self.bot.clock()
        span = window(period.value if period else WEEK, now.date(), now)
        await interaction.response.defer(thinking=True)
        found = await asyncio.to_thread(
            find_trending,
            self.bot.engine,
            self.bot.settings.ranking,
            span,
            top=SHOWN,
            categories=categories,
        )
        if not found:
            hint = (
                "try `/trending period:month`."
                if span.period == WEEK
                else "attention is measured in a paper's first days after its listing."
            )
            if categories:
                hint = "try another category, or none."
            sentence = nothing_sentence(span, categories, hint)
            await interaction.edit_original_response(content=sentence)
            return
        pages = trending_pages(found, span, categories)
        await show_pages(interaction, pages, self.bot.paginator_timeout)

    @trending.autocomplete("category")
    async def _trending_category(
        self, interaction: discord.Interaction, current: str
    ) -> list[app_commands.Choice[str]]:
        return category_choices(current)


async def setup(bot: HotpapersBot) -> None:
    await bot.add_cog(TrendingCog(bot))
