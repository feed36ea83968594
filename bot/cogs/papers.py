"""/hot, /paper, /author, /category and /search."""

from __future__ import annotations

import asyncio
import contextlib
import io
import logging
from collections.abc import Callable, Sequence
from datetime import date
from typing import TYPE_CHECKING, TypeVar

import discord
from discord import app_commands
from discord.ext import commands
from sqlalchemy import Engine
from sqlmodel import Session

from bot.cogs._input import (
    BadInput,
    clean,
    echo,
    parse_arxiv_id,
    parse_category,
    parse_date,
    require_text,
)
from bot.cogs.similar import SimilarButton
from bot.render import CHOICES_LIMIT, choice_name, clip_content, safe
from bot.stars import StarButton
from bot.views import list_embed, paper_embed, ranked_pages, show_pages
from hotpapers.arxiv.taxonomy import CATEGORIES
from hotpapers.errors import HotpapersError, InputError
from hotpapers.ranking.candidates import rank_listing
from hotpapers.ranking.scoring import RankedPaper
from hotpapers.service import lookup
from hotpapers.service import use_cases as jobs
from hotpapers.storage import queries, search
from hotpapers.storage.search_query import parse_search

if TYPE_CHECKING:
    from bot.client import HotpapersBot

log = logging.getLogger(__name__)

LIST_SIZE = 10
ATTENTION_FILE = "attention.png"  # /paper's chart, shown as the embed's image
T = TypeVar("T")


async def refuse(interaction: discord.Interaction, sentence: str) -> None:
    """Answer with one ephemeral sentence, also after a (public) "thinking..." deferral."""
    sentence = clip_content(sentence)
    response = interaction.response
    if not response.is_done():
        await response.send_message(sentence, ephemeral=True)
        return
    if response.type == discord.InteractionResponseType.deferred_channel_message:
        # The placeholder is public; replace it with a private sentence.
        with contextlib.suppress(discord.HTTPException):
            await interaction.delete_original_response()
    await interaction.followup.send(sentence, ephemeral=True)


async def answer(
    interaction: discord.Interaction, embed: discord.Embed, view: discord.ui.View | None = None
) -> None:
    """Show `embed` (and buttons) publicly, as the reply or in place of "thinking..."."""
    if interaction.response.is_done():
        await interaction.edit_original_response(embed=embed, view=view)
    elif view is not None:
        await interaction.response.send_message(embed=embed, view=view)
    else:
        await interaction.response.send_message(embed=embed)


def category_choices(
    typed: str, among: Sequence[str] | None = None
) -> list[app_commands.Choice[str]]:
    """Up to 25 categories (of `among`, default all) whose id or name matches what is typed;
    id-prefix matches first."""
    key = clean(typed).casefold()
    ranked: list[tuple[int, str]] = []
    for category_id in among if among is not None else CATEGORIES:
        name = CATEGORIES.get(category_id, category_id)
        ident, label = category_id.casefold(), name.casefold()
        if not key or ident.startswith(key):
            ranked.append((0, category_id))
        elif key in ident or label.startswith(key):
            ranked.append((1, category_id))
        elif key in label:
            ranked.append((2, category_id))
    ranked.sort()
    return [
        app_commands.Choice(name=choice_name(f"{cid} · {CATEGORIES.get(cid, cid)}"), value=cid)
        for _, cid in ranked[:CHOICES_LIMIT]
    ]


class PapersCog(commands.Cog):
    def __init__(self, bot: HotpapersBot) -> None:
        self.bot = bot

    async def read(
        self, interaction: discord.Interaction, query: Callable[..., T], *args: object
    ) -> T:
        """Run a `hotpapers.storage.queries` function off the event loop, in a short session.

        Discord wants an answer within 3 seconds: when the query takes longer than
        `bot.thinking_after`, the answer is deferred (the user sees "thinking...").
        """

        def run() -> T:
            with Session(self.bot.engine) as session:
                return query(session, *args)

        task = asyncio.ensure_future(asyncio.to_thread(run))
        done, _ = await asyncio.wait({task}, timeout=self.bot.thinking_after)
        if not done and not interaction.response.is_done():
            await interaction.response.defer(thinking=True)
        return await task

    # -- /hot ------------------------------------------------------------------------------

    @app_commands.command(
        name="hot", description="The papers people talk about most, for one listing day."
    )
    @app_commands.describe(
        category="An arXiv category such as cs.LG (default: all configured ones)",
        date="The listing date, YYYY-MM-DD (default: the newest listing)",
        limit="How many papers (1-50, default 10)",
    )
    async def hot(
        self,
        interaction: discord.Interaction,
        category: str | None = None,
        date: str | None = None,
        limit: app_commands.Range[int, 1, 50] = 10,
    ) -> None:
        settings = self.bot.settings
        try:
            chosen = parse_category(category)
            day = jobs.resolve_listing_date(settings, parse_date(date), self.bot.clock())
        except (BadInput, HotpapersError) as exc:
            await refuse(interaction, str(exc))
            return
        if (no_listing := jobs.no_listing(settings, day, "pick another date")) is not None:
            await refuse(interaction, no_listing)
            return
        collected = settings.arxiv.categories
        if chosen is not None and chosen not in collected:
            await refuse(
                interaction,
                f"This bot ranks only the categories it collects ({', '.join(collected)}); "
                f"`{chosen}` is not one of them. Try `/category {chosen}` for its latest papers.",
            )
            return
        top = max(1, min(int(limit), 50))
        await interaction.response.defer(thinking=True)
        ranked = await asyncio.to_thread(self._rank, day, top, [chosen] if chosen else None)
        scope = chosen or "all collected categories"
        if not ranked:
            await interaction.edit_original_response(
                content=f"No paper of the {day:%Y-%m-%d} listing ({scope}) has enough attention "
                "to rank yet; try an earlier date with `/hot date:YYYY-MM-DD`."
            )
            return
        pages = ranked_pages(ranked, day, scope)
        await show_pages(interaction, pages, self.bot.paginator_timeout)

    def _rank(self, day: date, top: int, categories: list[str] | None) -> list[RankedPaper]:
        """What `jobs.rank` returns, reading the text of the shown papers only (faster), with
        their cached TL;DRs."""
        settings = self.bot.settings
        with Session(self.bot.engine) as session:
            ranked = rank_listing(
                session, settings.ranking, day, self.bot.clock(), top=top, categories=categories
            )
            return lookup.with_cached_tldrs(session, settings, ranked)

    @hot.autocomplete("category")
    async def _hot_category(
        self, interaction: discord.Interaction, current: str
    ) -> list[app_commands.Choice[str]]:
        return category_choices(current, self.bot.settings.arxiv.categories)

    # -- /paper ----------------------------------------------------------------------------

    @app_commands.command(
        name="paper", description="One paper: title, authors, abstract, links and score."
    )
    @app_commands.describe(
        id="An arXiv id or link, such as 2401.12345 or https://arxiv.org/abs/2401.12345"
    )
    async def paper(self, interaction: discord.Interaction, id: str) -> None:
        try:
            arxiv_id = parse_arxiv_id(id)
        except BadInput as exc:
            await refuse(interaction, str(exc))
            return
        found = await self.read(interaction, queries.get_paper, arxiv_id)
        if found is None:
            await refuse(
                interaction,
                f"arXiv:{arxiv_id} is not in the database yet (only collected listings are); "
                f"it may still be on https://arxiv.org/abs/{arxiv_id}",
            )
            return
        if not interaction.response.is_done():
            await interaction.response.defer(thinking=True)  # ranking a listing takes a moment
        # The score and the chart are both CPU and database work: in threads, side by side.
        score, chart = await asyncio.gather(
            asyncio.to_thread(
                lookup.paper_score,
                self.bot.settings,
                self.bot.engine,
                found.arxiv_id,
                now=self.bot.clock(),
            ),
            asyncio.to_thread(_attention_chart, self.bot.engine, found.arxiv_id),
        )
        tldr = await self.read(interaction, lookup.paper_tldr, self.bot.settings, found.arxiv_id)
        embed = paper_embed(found, score, tldr)
        view = paper_buttons(found.arxiv_id)
        if chart is None:  # never measured anywhere: no picture to show
            await answer(interaction, embed, view)
            return
        embed.set_image(url=f"attachment://{ATTENTION_FILE}")
        picture = discord.File(io.BytesIO(chart), ATTENTION_FILE)
        await interaction.edit_original_response(embed=embed, attachments=[picture], view=view)

    # -- /author ---------------------------------------------------------------------------

    @app_commands.command(name="author", description="The newest papers by an author.")
    @app_commands.describe(name="The author's name; pick a suggestion as you type")
    async def author(self, interaction: discord.Interaction, name: str) -> None:
        try:
            typed = require_text(name, "an author's name", "/author Yann LeCun")
        except BadInput as exc:
            await refuse(interaction, str(exc))
            return
        papers = await self.read(interaction, queries.papers_by_author, typed, LIST_SIZE)
        if not papers:
            await refuse(
                interaction,
                f"No author named “{echo(typed)}” in the database; pick one of the suggestions "
                "while typing the name.",
            )
            return
        names = await self.read(interaction, queries.author_names, typed, 2)
        who = names[0] if len(names) == 1 else f"authors named “{typed}…”"
        title = f"Newest papers by {echo(who)}"
        await answer(interaction, list_embed(title, papers))

    @author.autocomplete("name")
    async def _author_name(
        self, interaction: discord.Interaction, current: str
    ) -> list[app_commands.Choice[str]]:
        typed = clean(current)[:100]
        names = await asyncio.to_thread(self._author_names, typed)
        return [
            app_commands.Choice(name=choice_name(found), value=found[:100])
            for found in names
            if found.strip()
        ]

    def _author_names(self, typed: str) -> list[str]:
        with Session(self.bot.engine) as session:
            return queries.author_names(session, typed, CHOICES_LIMIT)

    # -- /category -------------------------------------------------------------------------

    @app_commands.command(name="category", description="The latest papers in an arXiv category.")
    @app_commands.describe(category="An arXiv category id or name, such as cs.LG")
    async def category(self, interaction: discord.Interaction, category: str) -> None:
        try:
            chosen = parse_category(require_text(category, "a category", "/category cs.LG"))
        except BadInput as exc:
            await refuse(interaction, str(exc))
            return
        assert chosen is not None
        papers = await self.read(interaction, queries.latest_in_category, chosen, LIST_SIZE)
        if not papers:
            await refuse(interaction, f"No papers in `{chosen}` are in the database yet.")
            return
        title = f"Latest in {chosen} · {CATEGORIES.get(chosen, chosen)}"
        await answer(interaction, list_embed(title, papers))

    @category.autocomplete("category")
    async def _category_name(
        self, interaction: discord.Interaction, current: str
    ) -> list[app_commands.Choice[str]]:
        return category_choices(current)

    # -- /search ---------------------------------------------------------------------------

    @app_commands.command(
        name="search", description="Papers whose title or abstract match the words, best first."
    )
    @app_commands.describe(
        words='Words, "a phrase", -excluded, category:cs.LG, author:LeCun, since:2024-01-31'
    )
    async def search(self, interaction: discord.Interaction, words: str) -> None:
        try:
            query = parse_search(clean(words))  # the same reading and limits as the CLI's
        except InputError as exc:
            await refuse(interaction, safe(str(exc)))
            return
        try:
            papers = await self.read(interaction, search.search_papers, query, LIST_SIZE)
        except HotpapersError as exc:  # no search index in this database, no such author
            await refuse(interaction, safe(str(exc)))
            return
        if not papers:
            await refuse(interaction, f"No stored paper matches “{echo(query.text)}”.")
            return
        title = f"Papers matching “{echo(query.text)}”"
        await answer(interaction, list_embed(title, papers))


def _attention_chart(engine: Engine, paper_id: str) -> bytes | None:
    """The paper's attention chart, or None; a chart that fails to draw never costs the answer.

    matplotlib is imported on first use: it adds ~40 MB the bot needn't carry until then.
    """
    from hotpapers.render.charts import attention_chart_png

    try:
        return attention_chart_png(engine, paper_id)
    except Exception:
        log.exception("could not draw the attention chart of %s", paper_id)
        return None


def paper_buttons(paper_id: str) -> discord.ui.View:
    """The row under /paper's answer: Similar (a private list), ⭐ Star (for /foryou).
    Both are persistent dynamic items, so they answer after a restart (no timeout)."""
    view = discord.ui.View(timeout=None)
    view.add_item(SimilarButton(paper_id))
    view.add_item(StarButton(paper_id))
    return view
