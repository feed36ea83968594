"""Checks of what users type, each failure one sentence they can act on."""

from __future__ import annotations

import re
import unicodedata
from datetime import date

from bot.render import clip, safe
from hotpapers.arxiv.ids import canonical_id
from hotpapers.arxiv.taxonomy import suggest_category
from hotpapers.config import require_category

MAX_TEXT = 200
_WORD = re.compile(r"\w", re.UNICODE)


class BadInput(ValueError):
    """User input we refuse; `str(error)` is the sentence to show (already safe for Discord)."""


def clean(text: str | None) -> str:
    """NFKC-normalized text without control or invisible format characters, spaces collapsed."""
    normalized = unicodedata.normalize("NFKC", text or "")
    kept = "".join(
        ch
        for ch in normalized
        if unicodedata.category(ch) not in {"Cc", "Cf", "Cs", "Co"} or ch in "\t\n "
    )
    return " ".join(kept.split())


def echo(text: str) -> str:
    """User text quoted back safely: escaped, no mentions, at most 80 characters."""
    return clip(safe(text), 80)


def require_text(text: str | None, what: str, example: str) -> str:
    value = clean(text)
    if not value:
        raise BadInput(f"Please give {what}, for example `{example}`.")
    if len(value) > MAX_TEXT:
        raise BadInput(
            f"{what[0].upper()}{what[1:]} can be up to {MAX_TEXT} characters long, "
            f"and this one has {len(value):,}."
        )
    if not _WORD.search(value):
        raise BadInput(f"“{echo(value)}” has no letters or digits; please give {what}.")
    return value


def parse_arxiv_id(text: str | None) -> str:
    value = require_text(text, "an arXiv id or link", "/paper 2401.12345")
    found = canonical_id(value)
    if found is None:
        raise BadInput(
            f"“{echo(value)}” is not an arXiv id or link; try `2401.12345`, `arXiv:2401.12345v2` "
            "or `https://arxiv.org/abs/2401.12345`."
        )
    return found


def parse_date(text: str | None) -> date | None:
    value = clean(text)
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise BadInput(
            f"“{echo(value)}” is not a date; use YYYY-MM-DD, for example `2026-11-23`."
        ) from None


def parse_category(text: str | None) -> str | None:
    value = clean(text)
    if not value:
        return None
    if len(value) > 60:
        raise BadInput("That is not an arXiv category; categories look like `cs.LG` or `math.PR`.")
    try:
        return require_category(value)
    except ValueError:
        hint = suggest_category(value)
        did_you_mean = f"; did you mean `{hint}`?" if hint else "."
        raise BadInput(
            f"“{echo(value)}” is not an arXiv category{did_you_mean} "
            "Start typing and pick one of the suggestions."
        ) from None
