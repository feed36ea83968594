"""Small pure text helpers shared by parsers, storage and rendering."""

from __future__ import annotations

import unicodedata


def collapse_ws(text: str) -> str:
    """Runs of whitespace (arXiv wraps titles and abstracts) become one space; ends trimmed."""
    return " ".join(text.split())


def fold(text: str) -> str:
    """Case- and accent-insensitive search key: 'Krähenbühl' and 'krahenbuhl' fold alike."""
    decomposed = unicodedata.normalize("NFKD", text)
    stripped = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return collapse_ws(stripped.casefold())


def folded_last_name(name: str) -> str:
    """The folded last word of a name, so 'krah' finds 'Philipp Krähenbühl'."""
    parts = fold(name).split(" ")
    return parts[-1] if parts else ""
