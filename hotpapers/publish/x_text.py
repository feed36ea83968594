"""The daily X summary as text: titles and scores that fit X's 280 weighted characters.

X counts a post the twitter-text (v3) way: the text in NFC, each code point weighing 1 in the
Latin and general-punctuation ranges below and 2 elsewhere (CJK, emoji, ...), and each link
weighing 23 whatever its length. `weighted_length` counts the same way with two safe
simplifications, so it is never below X's count: an emoji sequence counts every code point
(X counts the sequence as 2), and a link that X might not shorten counts its full length.

Titles and author names are made inert before they are counted (`inert`):

* `@name` and `#tag` get a WORD JOINER (U+2060, invisible) after the sign, so X links no
  account - nobody is notified - and no hashtag;
* so do `://` and a dot between a word and a letter, so no title becomes a link: each summary
  holds exactly one link, the day's archive page (which also decides what the post costs);
* bidirectional controls, control characters and the code points X rejects (U+FEFF,
  U+FFFE, U+FFFF) are dropped, so a title cannot reverse the rest of the post, and runs of
  whitespace become one space.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from urllib.parse import urlsplit

from hotpapers.render.tex import to_unicode

__all__ = [
    "MAX_WEIGHT",
    "SummaryItem",
    "compose",
    "inert",
    "truncate",
    "weighted_length",
]

MAX_WEIGHT = 280
LINK_WEIGHT = 23
ELLIPSIS = "…"
WORD_JOINER = "\u2060"
# twitter-text v3: these code point ranges weigh 1, everything else 2.
_LIGHT_RANGES = ((0, 4351), (8192, 8205), (8208, 8223), (8242, 8247))
_LINK_RE = re.compile(r"https?://\S+", re.IGNORECASE)
_SIGIL_RE = re.compile(r"([@＠#＃])(?=\w)")
_DOMAIN_DOT_RE = re.compile(r"(?<=\w)\.(?=[^\W\d_])")
_DROPPED_RE = re.compile(
    "[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069\ufeff\ufffe\uffff]"
)
_SPACE_RE = re.compile(r"\s+")
MIN_TITLE_WEIGHT = 32  # below this a title says nothing: list fewer papers in the head


@dataclass(frozen=True, slots=True)
class SummaryItem:
    """One ranked paper as the summary shows it."""

    rank: int
    arxiv_id: str
    title: str
    score: float
    authors: tuple[str, ...] = ()


def _char_weight(char: str) -> int:
    point = ord(char)
    return 1 if any(low <= point <= high for low, high in _LIGHT_RANGES) else 2


def _plain_weight(text: str) -> int:
    return sum(_char_weight(char) for char in text)


def _link_weight(url: str) -> int:
    """23 for a link X shortens (a host with a dotted name), else its own length."""
    host = urlsplit(url).hostname or ""
    top_level = host.rsplit(".", 1)[-1] if "." in host else ""
    if top_level.isalpha() and len(top_level) >= 2:
        return LINK_WEIGHT
    return max(LINK_WEIGHT, _plain_weight(url))


def weighted_length(text: str) -> int:
    """The post's length as X counts it (never less): see the module docstring."""
    text = unicodedata.normalize("NFC", text)
    total, position = 0, 0
    for match in _LINK_RE.finditer(text):
        total += _plain_weight(text[position : match.start()]) + _link_weight(match.group())
        position = match.end()
    return total + _plain_weight(text[position:])


def inert(text: str) -> str:
    """`text` on one line that mentions nobody, tags nothing and links nowhere on X."""
    text = unicodedata.normalize("NFC", text)
    text = _DROPPED_RE.sub("", text)
    text = _SPACE_RE.sub(" ", text).strip()
    text = _SIGIL_RE.sub(lambda m: m.group(1) + WORD_JOINER, text)
    text = text.replace("://", ":/" + WORD_JOINER + "/")
    return _DOMAIN_DOT_RE.sub("." + WORD_JOINER, text)


def truncate(text: str, budget: int) -> str:
    """`text`, or its longest prefix plus "…" that weighs at most `budget`."""
    if weighted_length(text) <= budget:
        return text
    room = budget - _plain_weight(ELLIPSIS)
    kept, weight = [], 0
    for char in text:
        weight += _char_weight(char)
        if weight > room:
            break
        kept.append(char)
    # Never end on a joiner or space: it would glue to (or float before) the ellipsis.
    prefix = "".join(kept).rstrip(" \u200d" + WORD_JOINER)
    return prefix + ELLIPSIS if room >= 0 else ""


def format_score(score: float) -> str:
    """Whole numbers with thousands separators; one decimal for small fractional scores."""
    if score >= 100 or float(score).is_integer():
        return f"{score:,.0f}"
    return f"{score:.1f}"


def _title(item: SummaryItem) -> str:
    """The title as X shows it: TeX as Unicode (counted as X counts it), then made inert."""
    return inert(to_unicode(item.title))


def _allot(weights: Sequence[int], budget: int) -> list[int]:
    """Share `budget` among titles: short ones keep their length, long ones split the rest."""
    allowance = [0] * len(weights)
    order = sorted(range(len(weights)), key=lambda n: weights[n])
    left = budget
    for position, index in enumerate(order):
        share = left // (len(order) - position)
        allowance[index] = min(weights[index], share)
        left -= allowance[index]
    return allowance


def _head(
    items: Sequence[SummaryItem], listing_date: date, link: str, more: int, thread: bool
) -> str | None:
    """The summary listing `items`, or None if their titles would get too little room."""
    header = f"Hot on arXiv, listing of {listing_date.isoformat()}:"
    footer = f"+{more} more: {link}" if more else link
    if thread:
        footer = f"{footer}\nDetails in the replies."
    titles = [_title(item) for item in items]
    frames = [(f"{item.rank}. ", f" ({format_score(item.score)})") for item in items]
    fixed = weighted_length("\n".join([header, *(a + b for a, b in frames), footer]))
    budget = MAX_WEIGHT - fixed
    allowance = _allot([weighted_length(title) for title in titles], budget)
    if any(
        room < min(MIN_TITLE_WEIGHT, weighted_length(title))
        for room, title in zip(allowance, titles, strict=True)
    ):
        return None
    lines = [
        before + truncate(title, room) + after
        for (before, after), title, room in zip(frames, titles, allowance, strict=True)
    ]
    return "\n".join([header, *lines, footer])


def _reply(item: SummaryItem, total: int, listing_date: date) -> str:
    """One paper of the thread: rank, date, title, score, arXiv id and the first authors."""
    first = f"{item.rank}/{total} · {listing_date.isoformat()}"
    last = f"Score {format_score(item.score)} · arXiv:{item.arxiv_id}"
    names = [inert(name) for name in item.authors[:3]]
    if names:
        more = " et al." if len(item.authors) > 3 else ""
        authors = truncate(", ".join(names) + more, 60)
        last = f"{last}\n{authors}"
    fixed = weighted_length(f"{first}\n\n{last}")
    title = truncate(_title(item), MAX_WEIGHT - fixed)
    return f"{first}\n{title}\n{last}"


def compose(
    items: Sequence[SummaryItem], listing_date: date, link: str, *, thread: bool = False
) -> list[str]:
    """The posts for the day, in order: the summary (the one link), then one reply per paper
    when `thread`. Each fits X's 280 weighted characters; no items, no posts."""
    if not items:
        return []
    head = None
    for shown in range(len(items), 0, -1):
        head = _head(items[:shown], listing_date, link, len(items) - shown, thread)
        if head is not None:
            break
    if head is None:  # even one paper has no room (a very long link): its title is cut hard
        head = truncate(_title(items[0]), MAX_WEIGHT - LINK_WEIGHT - 1) + "\n" + link
    posts = [head] if not thread else [head, *(_reply(i, len(items), listing_date) for i in items)]
    if any(weighted_length(post) > MAX_WEIGHT for post in posts):
        raise ValueError(f"the link {link!r} leaves no room for the summary in one X post")
    return posts
