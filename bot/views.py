"""Embeds for papers and lists of papers, and a paginator only its invoker can turn."""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from datetime import date

import discord

from bot.render import (
    FIELD_VALUE_LIMIT,
    Field,
    author_list,
    build_embed,
    clip,
    readable,
    safe,
)
from hotpapers.arxiv.ids import abs_url, pdf_url
from hotpapers.arxiv.taxonomy import category_name
from hotpapers.ranking.scoring import RankedPaper
from hotpapers.service.lookup import PaperScore
from hotpapers.storage.queries import PaperDetail, PaperSummary

PAPERS_PER_PAGE = 5
NOT_YOURS = "Only the person who ran this command can turn its pages; run it yourself to browse."


def _number(value: float) -> str:
    return f"{value:,.0f}" if float(value).is_integer() else f"{value:,.1f}"


def score_breakdown(ranked: RankedPaper) -> str:
    """`123 (x: 100 retweets, 23 likes · hn: 40 points)` style text."""
    parts = []
    for source, metrics in sorted(ranked.signals.items()):
        shown = ", ".join(
            f"{_number(value)} {safe(metric)}"
            for metric, value in metrics.items()
            if value and metric != "posts"
        )
        if shown:
            parts.append(f"{safe(source)}: {shown}")
    detail = f" ({' · '.join(parts)})" if parts else ""
    return clip(f"**{_number(ranked.score)}**{detail}", FIELD_VALUE_LIMIT)


def links(arxiv_id: str) -> str:
    return f"[abs]({abs_url(arxiv_id)}) · [pdf]({pdf_url(arxiv_id)})"


def categories_text(categories: Sequence[str]) -> str:
    return ", ".join(f"`{c}` {safe(category_name(c))}" for c in categories) or "none"


def tldr_line(tldr: str) -> str:
    """A model's one sentence, labelled as the daily thread labels it (bot/render.py)."""
    return f"**TL;DR:** {safe(tldr)}"


def paper_embed(
    paper: PaperDetail, score: PaperScore | None, tldr: str | None = None
) -> discord.Embed:
    """One paper in full: title linking to its abs page, authors, abstract (after its cached
    TL;DR, as in the daily thread), links, score."""
    url = abs_url(paper.arxiv_id)
    fields = [
        Field("Authors", author_list(paper.authors)),
        Field("Links", links(paper.arxiv_id), inline=True),
        Field(
            "Categories",
            categories_text(paper.categories or (paper.primary_category,)),
            inline=True,
        ),
    ]
    if score is not None:
        name = f"Score (#{score.ranked.rank} on the {score.listing_date:%Y-%m-%d} listing)"
        fields.append(Field(name, score_breakdown(score.ranked)))
    else:
        fields.append(Field("Score", "not ranked (no measured attention above the threshold)"))
    footer = f"arXiv:{paper.arxiv_id}v{paper.latest_version}"
    if paper.submitted:
        footer += f" · submitted {paper.submitted:%Y-%m-%d}"
    description = readable(paper.abstract)
    if tldr:
        description = f"{tldr_line(tldr)}\n\n{description}"
    return build_embed(
        title=readable(paper.title),
        url=url,
        description=description,
        fields=fields,
        footer=footer,
    )


def summary_line(paper: PaperSummary) -> str:
    return (
        f"{author_list(paper.authors, 300)} · `{paper.primary_category}` · {links(paper.arxiv_id)}"
    )


def list_embed(title: str, papers: Sequence[PaperSummary], footer: str = "") -> discord.Embed:
    """Up to 10 papers, one field each: the title as name, authors and links as value."""
    fields = [
        Field(f"{index}. {clip(readable(paper.title), 240)}", summary_line(paper))
        for index, paper in enumerate(papers[:10], start=1)
    ]
    return build_embed(title=title, fields=fields, footer=footer)


def ranked_pages(
    ranked: Sequence[RankedPaper], listing_date: date, scope: str
) -> list[discord.Embed]:
    """The ranking as pages of five papers each."""
    chunks = [ranked[i : i + PAPERS_PER_PAGE] for i in range(0, len(ranked), PAPERS_PER_PAGE)]
    pages = []
    for number, chunk in enumerate(chunks, start=1):
        fields = [
            Field(
                f"#{item.rank} · {clip(readable(item.paper.title), 230)}",
                f"{author_list(item.paper.authors, 300)}\n"
                + (f"{tldr_line(item.tldr)}\n" if item.tldr else "")
                + f"Score {score_breakdown(item)}\n{links(item.paper.arxiv_id)}",
            )
            for item in chunk
        ]
        footer = f"Page {number}/{len(chunks)} · listing of {listing_date:%Y-%m-%d}"
        title = f"Hot papers · {scope} · {listing_date:%Y-%m-%d}"
        pages.append(build_embed(title=title, fields=fields, footer=footer))
    return pages


async def show_pages(
    interaction: discord.Interaction, pages: Sequence[discord.Embed], timeout: float
) -> None:
    """Replace the "thinking..." placeholder with the first page; Previous/Next when more."""
    if len(pages) == 1:
        await interaction.edit_original_response(embed=pages[0])
        return
    view = Paginator(pages, owner_id=interaction.user.id, origin=interaction, timeout=timeout)
    await interaction.edit_original_response(embed=pages[0], view=view)


class Paginator(discord.ui.View):
    """Previous/Next through a list of embeds; only `owner_id` may press the buttons."""

    def __init__(
        self,
        pages: Sequence[discord.Embed],
        owner_id: int,
        *,
        origin: discord.Interaction | None = None,
        timeout: float = 600,
    ) -> None:
        super().__init__(timeout=timeout)
        self.pages = list(pages)
        self.owner_id = owner_id
        self.origin = origin  # the command's interaction, to grey the buttons out at the end
        self.index = 0
        self._sync_buttons()

    async def on_timeout(self) -> None:
        for item in self.children:
            if isinstance(item, discord.ui.Button):
                item.disabled = True
        if self.origin is not None:
            with contextlib.suppress(discord.HTTPException):
                await self.origin.edit_original_response(view=self)

    def _sync_buttons(self) -> None:
        self.previous.disabled = self.index == 0
        self.next.disabled = self.index >= len(self.pages) - 1

    @property
    def page(self) -> discord.Embed:
        return self.pages[self.index]

    async def interaction_check(self, interaction: discord.Interaction) -> bool:
        if interaction.user.id == self.owner_id:
            return True
        await interaction.response.send_message(NOT_YOURS, ephemeral=True)
        return False

    async def _turn(self, interaction: discord.Interaction, step: int) -> None:
        self.index = max(0, min(self.index + step, len(self.pages) - 1))
        self._sync_buttons()
        await interaction.response.edit_message(embed=self.page, view=self)

    @discord.ui.button(label="Previous", style=discord.ButtonStyle.secondary, custom_id="hp:prev")
    async def previous(
        self, interaction: discord.Interaction, button: discord.ui.Button[Paginator]
    ) -> None:
        await self._turn(interaction, -1)

    @discord.ui.button(label="Next", style=discord.ButtonStyle.primary, custom_id="hp:next")
    async def next(
        self, interaction: discord.Interaction, button: discord.ui.Button[Paginator]
    ) -> None:
        await self._turn(interaction, 1)
