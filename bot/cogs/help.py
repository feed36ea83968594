"""/help: what each command does, with examples."""

from __future__ import annotations

from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.ext import commands

from bot.render import Field, build_embed

if TYPE_CHECKING:
    from bot.client import HotpapersBot

COMMANDS: tuple[tuple[str, str, str], ...] = (
    (
        "/hot [category] [date] [limit]",
        "The papers people talk about most for one arXiv listing day, ranked by social "
        "attention; turn pages with Previous/Next.",
        "/hot · /hot category:cs.LG · /hot date:2026-11-23 limit:20",
    ),
    (
        "/paper <id or link>",
        "One paper: title, authors, abstract, abs/pdf links, categories and its score.",
        "/paper id:2401.12345 · /paper id:https://arxiv.org/abs/2401.12345v2",
    ),
    (
        "/author <name>",
        "The newest papers by an author; suggestions appear as you type (accents optional).",
        "/author name:Krahenbuhl",
    ),
    (
        "/category <category>",
        "The latest papers in an arXiv category; type an id or a name.",
        "/category category:cs.CV · /category category:robotics",
    ),
    (
        "/search <words>",
        "Papers whose title or abstract match the words, most relevant first. Also "
        '"a phrase", -excluded, category:cs.LG, author:LeCun, since:2024-01-31.',
        '/search words:diffusion transformer · /search words:"flow matching" -audio',
    ),
    (
        "/similar <id>",
        "Papers like one paper, by title and abstract (also the Similar button under /paper).",
        "/similar id:2401.12345",
    ),
    (
        "/trending [week|month] [category]",
        "The papers that gained the most attention in the last 7 or 30 days, each once, "
        "with the day it was listed.",
        "/trending · /trending period:month category:cs.CV",
    ),
    (
        "/subscribe <kind> <value> [where] [options]",
        "Get the day's hot papers for a category, an author or a keyword, in this channel "
        "(needs Manage Channels) or by DM. Options: exclude words, minimum score, top N, "
        "primary category only.",
        "/subscribe kind:category value:cs.CV · /subscribe kind:keyword value:diffusion "
        "exclude:audio where:me",
    ),
    (
        "/subscriptions · /unsubscribe <id>",
        "List this server's subscriptions (or your DM ones) with Remove buttons; remove one.",
        "/subscriptions · /unsubscribe id:3",
    ),
    (
        "/settings [timezone] [post_time] [style]",
        "When and how the daily digest is posted in this server (needs Manage Server).",
        "/settings timezone:Europe/Paris post_time:08:30 style:thread",
    ),
    (
        "/foryou · /forget-me",
        "New papers of the last 7 days picked for you from the papers you starred (⭐ under "
        "/paper), the paper messages you reacted to and your subscriptions, each with why; "
        "only you see them. /forget-me deletes all of that (it asks first).",
        "/foryou · /forget-me",
    ),
    ("/help", "This message.", "/help"),
)


def help_embed() -> discord.Embed:
    fields = [Field(name, f"{what}\nExample: `{example}`") for name, what, example in COMMANDS]
    return build_embed(
        title="hotpapers: which new arXiv papers people are talking about",
        description="Scores count the attention papers get on social media (by default X "
        "retweets + likes of posts linking the paper).",
        fields=fields,
        footer="Only you can see this message.",
    )


class HelpCog(commands.Cog):
    def __init__(self, bot: HotpapersBot) -> None:
        self.bot = bot

    @app_commands.command(
        name="help", description="What each hotpapers command does, with examples."
    )
    async def help(self, interaction: discord.Interaction) -> None:
        await interaction.response.send_message(embed=help_embed(), ephemeral=True)
