"""Discord-specific text shaping: escaping and Discord's limits, respected by construction.

Every function here returns something Discord accepts, whatever the input: long text is cut
with an ellipsis (and a link where one helps), never rejected.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import discord

from hotpapers.arxiv.ids import abs_url, pdf_url
from hotpapers.arxiv.taxonomy import category_name
from hotpapers.delivery._week import WEEK_TITLE
from hotpapers.plumbing.text import collapse_ws
from hotpapers.ranking.rising import TITLE as RISING_TITLE
from hotpapers.ranking.scoring import RankedPaper, format_number
from hotpapers.render.tex import to_unicode

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


# -- the daily thread: header, one message per paper, footer ----------------------------------
# Pure functions of their arguments (no client, no I/O): the courier sends what they build and
# the demo renders the same payloads from the fake Discord's record.

AUTHORS_SHOWN = 3
AUTHOR_NAME_LIMIT = 80  # one absurd "name" must not crowd out the rest of the line
TEASER_LIMIT = 600  # the abstract's opening, cut at a sentence end
BUTTONS_PER_ROW = 5
BUTTON_LABEL_LIMIT = 80
BUTTON_URL_LIMIT = 512
HTML_URL = "https://arxiv.org/html/{}"
HF_PAPER_URL = "https://huggingface.co/papers/{}"

# The headline figure per source for the score line, in this order; other sources follow
# with all their numbers summed.
SOURCE_FIGURES: dict[str, tuple[str, tuple[str, ...]]] = {
    "x": ("X", ("retweets", "likes")),
    "hn": ("HN", ("points",)),
    "hf": ("HF", ("upvotes",)),
    "bluesky": ("Bluesky", ("reposts", "likes")),
    "discord": ("🔥", ("reactions",)),
}
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z0-9(\[\"'])")
_REPO = re.compile(
    r"(?:https?://)?(?:www\.)?((?:github\.com|gitlab\.com)/[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+)"
)


@dataclass(frozen=True)
class LinkButton:
    label: str
    url: str


@dataclass(frozen=True)
class PaperMessage:
    """One paper of the daily thread: its embed and its link buttons (rows of at most 5)."""

    embed: discord.Embed
    buttons: tuple[LinkButton, ...]

    def components(self) -> list[dict[str, object]]:
        """The buttons as Discord's JSON: action rows of URL buttons (type 2, style 5)."""
        return link_rows(self.buttons)


def link_rows(buttons: Sequence[LinkButton]) -> list[dict[str, object]]:
    rows = [buttons[i : i + BUTTONS_PER_ROW] for i in range(0, len(buttons), BUTTONS_PER_ROW)]
    return [
        {
            "type": 1,
            "components": [
                {"type": 2, "style": 5, "label": button.label, "url": button.url} for button in row
            ],
        }
        for row in rows[:5]
    ]


def short_authors(authors: Sequence[str]) -> str:
    """The first three authors, then "et al." when there are more."""
    names = [clip(safe(name), AUTHOR_NAME_LIMIT) for name in authors[:AUTHORS_SHOWN]]
    if not names:
        return "unknown"
    more = " et al." if len(authors) > AUTHORS_SHOWN else ""
    return ", ".join(names) + more


def categories_line(primary: str, categories: Sequence[str]) -> str:
    """`**cs.LG** Machine Learning · also cs.AI, stat.ML`: the primary, then the cross-lists."""
    main = primary or (categories[0] if categories else "")
    if not main:
        return "none"
    line = f"**{safe(main)}** {safe(category_name(main))}".rstrip()
    others = [safe(c) for c in categories if c != main]
    return line + (f" · also {', '.join(others)}" if others else "")


def _figure(value: float) -> str:
    return f"{value:,.0f}" if float(value).is_integer() else f"{value:,.1f}"


def score_line(score: float, signals: dict[str, dict[str, float]]) -> str:
    """`**1,002** · X 812 · HN 140 · HF 35 · 🔥 12`: the score, then each source's headline."""
    parts = [f"**{_figure(score)}**"]
    order = [s for s in SOURCE_FIGURES if s in signals]
    order += sorted(s for s in signals if s not in SOURCE_FIGURES)
    for source in order:
        label, metrics = SOURCE_FIGURES.get(source, (safe(source), ()))
        values = signals[source]
        picked = metrics or tuple(m for m in values if m != "posts")
        total = sum(values.get(metric, 0.0) for metric in picked)
        if total:
            parts.append(f"{label} {_figure(total)}")
    return clip(" · ".join(parts), FIELD_VALUE_LIMIT)


def teaser(abstract: str, limit: int = TEASER_LIMIT) -> str:
    """The abstract's opening sentences within `limit` characters (made readable), with an
    ellipsis when cut; a first sentence longer than that is clipped."""
    text = readable(abstract)
    if len(text) <= limit:
        return text
    kept = ""
    for sentence in _SENTENCE_END.split(text):
        candidate = f"{kept} {sentence}" if kept else sentence
        if len(candidate) + 2 > limit:
            break
        kept = candidate
    return f"{kept} {ELLIPSIS}" if kept else clip(text, limit)


def code_url(ranked: RankedPaper) -> str | None:
    """The paper's repository, as Hugging Face lists it or as its abstract names it."""
    texts = [post.text for post in ranked.discussions if post.source == "hf"]
    for text in [*texts, ranked.paper.abstract]:
        found = _REPO.search(text)
        if found:
            return "https://" + found.group(1).rstrip(".")
    return None


def paper_buttons(ranked: RankedPaper) -> tuple[LinkButton, ...]:
    """abs, PDF, HTML, code, and the discussions the signals found (never a guessed link)."""
    arxiv_id = ranked.paper.arxiv_id
    buttons = [LinkButton("abs", abs_url(arxiv_id))]
    if ranked.paper.has_pdf:
        buttons.append(LinkButton("PDF", pdf_url(arxiv_id)))
    buttons.append(LinkButton("HTML", HTML_URL.format(arxiv_id)))
    if (repo := code_url(ranked)) is not None:
        buttons.append(LinkButton("Code", repo))
    stories = [post for post in ranked.discussions if post.source == "hn"]
    if stories:  # the most upvoted story's thread
        buttons.append(LinkButton("Hacker News", stories[0].url))
    if "hf" in ranked.signals:  # Hugging Face listed it: its page exists
        buttons.append(LinkButton("Hugging Face", HF_PAPER_URL.format(arxiv_id)))
    return tuple(b for b in buttons if len(b.url) <= BUTTON_URL_LIMIT)


def paper_message(ranked: RankedPaper, note: str = "") -> PaperMessage:
    """One paper of the daily thread; its embed's title links to the abs page (the marker a
    rerun looks for)."""
    paper = ranked.paper
    fields = [
        Field("Authors", short_authors(paper.authors)),
        Field("Categories", categories_line(paper.primary_category, paper.categories), True),
        Field("Score", score_line(ranked.score, ranked.signals), inline=True),
    ]
    place = f"#{ranked.rank}"
    if ranked.rise is not None:  # a late riser, after the day's papers
        rise = ranked.rise
        growth = f"up {format_number(round(rise.growth, 1))} since last shown"
        fields.append(Field(RISING_TITLE, f"Listed {rise.listed:%Y-%m-%d} · {growth}"))
        place = f"rising from earlier days #{ranked.rank}"
    elif ranked.listed is not None:  # a week's paper: which of the week's listings
        fields.append(Field("Listed", f"{ranked.listed:%Y-%m-%d}", inline=True))
    footer = f"arXiv:{paper.arxiv_id} · {place}" + (f" · {note}" if note else "")
    description = teaser(paper.abstract)
    if ranked.tldr:  # a model's one sentence, first: what to read the abstract for
        description = f"**TL;DR:** {safe(ranked.tldr)}\n\n{description}"
    embed = build_embed(
        title=readable(paper.title),
        url=abs_url(paper.arxiv_id),
        description=description,
        fields=fields,
        footer=footer,
    )
    return PaperMessage(embed, paper_buttons(ranked))


def header_content(title: str) -> str:
    """The message that opens a digest: what it is (the title has the date and the
    categories) and how it is ranked. A function of the title alone: a rerun finds it."""
    if title.startswith(WEEK_TITLE):  # the weekly digest (hotpapers/delivery/_week.py)
        return clip_content(
            f"**{safe(title)}**\n"
            "The papers whose social attention grew most this week: X reposts and likes, "
            "Hacker News points, Hugging Face upvotes and 🔥 reactions here. Best first."
        )
    return clip_content(
        f"**{safe(title)}**\n"
        "New arXiv papers ranked by social attention: X reposts and likes, Hacker News points, "
        "Hugging Face upvotes and 🔥 reactions here. One message per paper, best first."
    )


def footer_content(title: str) -> str:
    """The message that closes a digest: how to get more, fewer or other papers."""
    return clip_content(
        f"That's all for {safe(title)}.\n"
        "`/subscribe` adds a category, author or keyword here · `/subscriptions` lists them · "
        "`/unsubscribe` stops one · `/hot` shows any day's ranking. "
        "React to a paper you like: reactions count toward its score."
    )
