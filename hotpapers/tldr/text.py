"""The prompt for one paper, and the checks an answer must pass to be shown (pure functions).

A model may wrap its sentence in Markdown, prefix it with "TL;DR:", quote it, answer with
several sentences or an essay, or nothing at all. What is shown is one plain sentence of at
most `MAX_CHARS` characters; anything else is refused (`Refused`, a clause for the log), so
readers see no TL;DR rather than a bad one.
"""

from __future__ import annotations

import re
import unicodedata

MAX_CHARS = 300
MIN_CHARS = 20
# arXiv abstracts are at most 1,920 characters; a longer stored one is cut for the prompt.
ABSTRACT_LIMIT = 3000
SYSTEM_PROMPT = (
    "You summarise research papers for busy readers. Answer with exactly one plain sentence "
    "of at most 40 words saying what the paper does and finds. No Markdown, no preamble, "
    "no quotation marks."
)

_LINK = re.compile(r"\[([^\]]*)\]\([^)]*\)")
_EMPHASIS = re.compile(r"(\*\*|__|\*|`|~~)")
_LEADING_MARKS = re.compile(r"^(?:[#>*•\-]+\s+)+")  # a heading, quote or list item
_PREFIX = re.compile(r"^(?:tl;?dr|summary|one[- ]sentence summary)\s*[:.\-–—]\s*", re.I)
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z0-9(\"“])")
_QUOTES = "\"'“”‘’"
_QUOTED = re.compile(r"“[^”]*”|\"[^\"]*\"")


class Refused(Exception):
    """An answer that is not one usable sentence; `str()` says why, for the log."""


def user_prompt(title: str, abstract: str) -> str:
    """The paper as the model sees it: title and abstract, whitespace collapsed."""
    flat_abstract = " ".join(abstract.split())[:ABSTRACT_LIMIT]
    return f"Title: {' '.join(title.split())}\n\nAbstract: {flat_abstract}"


def estimated_prompt_tokens(title: str, abstract: str) -> int:
    """An upper estimate of the prompt's tokens (English runs ~4 characters a token; 3 keeps
    the reservation on the safe side), to reserve its cost before asking."""
    return (len(SYSTEM_PROMPT) + len(user_prompt(title, abstract))) // 3 + 20


def plain(text: str) -> str:
    """`text` without Markdown, a "TL;DR:" label, surrounding quotes, control characters."""
    text = "".join(ch if unicodedata.category(ch)[0] != "C" else " " for ch in text)
    text = _LINK.sub(r"\1", text)
    text = _EMPHASIS.sub("", text)
    text = " ".join(text.split())
    text = _PREFIX.sub("", _LEADING_MARKS.sub("", text))
    while len(text) > 1 and text[0] in _QUOTES and text[-1] in _QUOTES:
        text = text[1:-1].strip()
    return text


def checked(answer: str) -> str:
    """The sentence to show, or Refused saying what is wrong with `answer`."""
    if len(answer) > 4 * MAX_CHARS:  # an essay: not worth cleaning
        raise Refused(f"the answer is {len(answer):,} characters long, not one sentence")
    text = plain(answer)
    if not text:
        raise Refused("the answer is empty")
    # A quoted title may hold its own "?" or "!": it does not end the sentence around it.
    sentences = _SENTENCE_END.split(_QUOTED.sub("Q", text))
    if len(sentences) > 1:
        raise Refused(f"the answer is {len(sentences)} sentences, not one")
    if len(text) > MAX_CHARS:
        raise Refused(f"the sentence is {len(text):,} characters long (at most {MAX_CHARS})")
    if len(text) < MIN_CHARS:
        raise Refused(f"the answer {text!r} is too short to be a summary")
    return text if text[-1] in ".!?" else text + "."
