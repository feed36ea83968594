"""Discord-specific text shaping: escaping and Discord's limits, respected by construction.

Every function here returns something Discord accepts, whatever the input: long text is cut
with an ellipsis (and a link where one helps), never rejected.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import discord

from hotpapers.render.tex import to_unicode
from hotpapers.text import collapse_ws

CONTENT_LIMIT = 2000
TITLE_LIMIT = 256
DESCRIPTION_LIMIT = 4096
FIELDS_LIMIT = 25
FIELD_NAME_LIMIT = 256
FIELD_VALUE_LIMIT = 1024
FOOTER_LIMIT = 2048
AUTHOR_LIMIT = 256
EMBED_TOTAL_LIMIT = 6000
EMBEDS_LIMIT = 10
CHOICES_LIMIT = 25
CHOICE_LIMIT = 100

ELLIPSIS = "…"
EMPTY = "\u200b"  # Discord refuses empty field names and values


def safe(text: str) -> str:
    """User- or arXiv-supplied text made inert: Markdown escaped, mentions broken, one line."""
    escaped = discord.utils.escape_markdown(collapse_ws(text))
    return discord.utils.escape_mentions(escaped)


def readable(text: str) -> str:
    """A title or abstract for Discord: its TeX as Unicode (α, x², ℝⁿ), then made inert."""
    return safe(to_unicode(text))


def clip(text: str, limit: int, *, more_url: str | None = None) -> str:
    """`text` if it fits in `limit` characters, else cut with an ellipsis (and a link)."""
    if len(text) <= limit:
        return text
    tail = f"{ELLIPSIS} [more]({more_url})" if more_url else ELLIPSIS
    if len(tail) >= limit:
        tail = ELLIPSIS
    cut = text[: max(0, limit - len(tail))].rstrip()
    # Never leave a lone escaping backslash that would swallow the ellipsis.
    while cut.endswith("\\"):
        cut = cut[:-1]
    return cut + tail


def clip_content(text: str) -> str:
    return clip(text, CONTENT_LIMIT)


def choice_name(text: str) -> str:
    """An autocomplete choice name (1-100 characters)."""
    return clip(collapse_ws(text), CHOICE_LIMIT) or "?"


@dataclass(frozen=True)
class Field:
    name: str
    value: str
    inline: bool = False


def embed_size(embed: discord.Embed) -> int:
    """The characters Discord counts against the 6,000 per-message embed budget."""
    total = len(embed.title or "") + len(embed.description or "")
    total += len(embed.footer.text or "") + len(embed.author.name or "")
    return total + sum(len(f.name or "") + len(f.value or "") for f in embed.fields)


def build_embed(
    *,
    title: str,
    url: str | None = None,
    description: str = "",
    fields: Sequence[Field] = (),
    footer: str = "",
    budget: int = EMBED_TOTAL_LIMIT,
    colour: int = 0xB31B1B,
) -> discord.Embed:
    """An embed that fits every limit and `budget` characters in total.

    Title, footer and fields come first (each clipped to its own limit; fields past 25 are
    dropped); the description gets what is left of the budget and is cut with a link to
    `url` when it does not fit.
    """
    budget = max(0, min(budget, EMBED_TOTAL_LIMIT))
    title_text = clip(title, min(TITLE_LIMIT, budget)) or None
    used = len(title_text or "")
    footer_text = clip(footer, min(FOOTER_LIMIT, max(0, budget - used - 1)))
    used += len(footer_text)
    embed = discord.Embed(title=title_text, url=url, colour=colour)
    for item in list(fields)[:FIELDS_LIMIT]:
        name = clip(item.name, FIELD_NAME_LIMIT) or EMPTY
        room = budget - used - len(name) - 1
        if room < 20:
            break
        value = clip(item.value, min(FIELD_VALUE_LIMIT, room), more_url=url) or EMPTY
        embed.add_field(name=name, value=value, inline=item.inline)
        used += len(name) + len(value)
    room = min(DESCRIPTION_LIMIT, budget - used)
    if description and room > 0:
        embed.description = clip(description, room, more_url=url)
    if footer_text:
        embed.set_footer(text=footer_text)
    return embed


def fit_embeds(embeds: Iterable[discord.Embed]) -> list[discord.Embed]:
    """At most 10 embeds whose combined size stays within 6,000 characters (extra ones dropped)."""
    kept: list[discord.Embed] = []
    used = 0
    for embed in embeds:
        size = embed_size(embed)
        if len(kept) == EMBEDS_LIMIT or used + size > EMBED_TOTAL_LIMIT:
            break
        kept.append(embed)
        used += size
    return kept


def join_lines(lines: Iterable[str], limit: int, *, more: str = "") -> str:
    """Whole lines joined with newlines, as many as fit in `limit`, then `more` if cut."""
    out: list[str] = []
    used = 0
    items = list(lines)
    for index, line in enumerate(items):
        extra = len(line) + (1 if out else 0)
        reserve = len(more) + 1 if more and index < len(items) - 1 else 0
        if used + extra + reserve > limit:
            if more:
                out.append(more)
            elif not out:
                out.append(clip(line, limit))
            break
        out.append(line)
        used += extra
    return "\n".join(out)


def author_list(authors: Sequence[str], limit: int = FIELD_VALUE_LIMIT) -> str:
    """Authors separated by commas, cut as `… and N more` to fit `limit`."""
    names = [safe(name) for name in authors]
    if not names:
        return "unknown"
    text = ", ".join(names)
    if len(text) <= limit:
        return text
    for shown in range(len(names) - 1, 0, -1):
        candidate = ", ".join(names[:shown]) + f" {ELLIPSIS} and {len(names) - shown} more"
        if len(candidate) <= limit:
            return candidate
    return clip(names[0], limit)
