"""Small pure text helpers shared by parsers, storage and rendering."""

from __future__ import annotations

from anyascii import anyascii


def collapse_ws(text: str) -> str:
    """Runs of whitespace (arXiv wraps titles and abstracts) become one space; ends trimmed."""
    return " ".join(text.split())


def fold(text: str) -> str:
    """Case- and accent-insensitive search key, in ASCII: 'Krähenbühl' and 'krahenbuhl' fold
    alike, and so do letters that do not decompose ('Łukasz', 'Søren', 'Straße', 'Işık').

    Transliterated by anyascii (maintained tables for every script) rather than NFKD, which
    leaves 'ł', 'ø', 'æ', 'ı', 'ß' and 'đ' as they are."""
    if not text.isascii():
        text = anyascii(text)
    return " ".join(text.lower().split())
