"""Category validation with a helpful suggestion for near misses."""

from __future__ import annotations

import difflib

from hotpapers.arxiv._taxonomy_data import ALIASES, ARCHIVES, CATEGORIES

__all__ = ["ARCHIVES", "CATEGORIES", "category_name", "normalize_category", "suggest_category"]

_BY_LOWER = {name.lower(): name for name in (*CATEGORIES, *ARCHIVES, *ALIASES)}


def normalize_category(text: str) -> str | None:
    """The canonical category id for `text` (case-tolerant, aliases resolved), or None."""
    found = _BY_LOWER.get(text.strip().lower())
    if found is None:
        return None
    return ALIASES.get(found, found)


def suggest_category(text: str) -> str | None:
    """The closest valid category id, for 'did you mean' messages."""
    matches = difflib.get_close_matches(text.strip().lower(), list(_BY_LOWER), n=1, cutoff=0.5)
    return _BY_LOWER[matches[0]] if matches else None


def category_name(category: str) -> str:
    return CATEGORIES.get(category, category)
