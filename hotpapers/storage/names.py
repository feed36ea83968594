"""How a person's name is folded, and which keys find it: the one rule for collection, import,
author look-up, autocomplete and author subscriptions.

A name is read as given names, then a surname, then maybe a suffix: "Laurens van der Maaten"
has the surname "van der Maaten" (its particles belong to it), "John Martin Jr." the surname
"Martin". The surname is the last word plus the particle words just before it (so a name that
is only a surname, "van der Maaten", stays whole). Each author is stored with three keys
(`Author.folded_name`, `folded_surname`, `folded_last`), and found by a prefix of any:

* `full`: the whole name, folded ("laurens van der maaten");
* `surname`: the surname with its particles, letters and digits only ("vandermaaten"), so
  "van der Maaten", "vanderm" and "de Haas" find their names, and "Le Cun" and "LeCun" are
  one surname ("lecun"): arXiv has both spellings for the same people;
* `last`: the last word of the name, suffix left out ("maaten", "cun", "martin"), so the last
  name alone finds them too.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import NamedTuple

from hotpapers.plumbing.text import fold

__all__ = [
    "KEY_LENGTH",
    "NameKeys",
    "author_matches",
    "is_suffix",
    "name_keys",
    "query_keys",
]

KEY_LENGTH = 200  # the search-key columns (models.SearchKey); a longer key is cut

# Words that start a surname when they come right before it (lowercase, folded).
_PARTICLES = frozenset(
    {
        *("von", "vom", "zu", "zum", "zur", "van", "der", "den", "ter", "ten", "te"),
        *("de", "del", "della", "delle", "dello", "degli", "dei", "di", "da", "das", "dos"),
        *("do", "du", "des", "la", "le", "lo", "bin", "ibn", "binti", "al", "el", "abu"),
        *("af", "av"),
    }
)
_SUFFIXES = frozenset({"jr", "sr", "ii", "iii", "iv"})
_NOT_ALNUM = re.compile(r"[^a-z0-9]+")


class NameKeys(NamedTuple):  # a tuple: the importer makes hundreds of thousands
    full: str  # Author.folded_name
    last: str  # Author.folded_last
    surname: str  # Author.folded_surname


def is_suffix(word: str) -> bool:
    """'Jr.', 'Sr', 'II', 'III', 'IV': a generational suffix, not a name of its own."""
    return fold(word).rstrip(".") in _SUFFIXES


def _words(folded: str) -> list[str]:
    """The words of a folded name without a trailing suffix (unless it is the only word)."""
    words = folded.replace(",", " ").split()
    if len(words) > 1 and words[-1].rstrip(".") in _SUFFIXES:
        words.pop()
    return words


def _compact(words: list[str]) -> str:
    joined = "".join(words)
    return joined if joined.isalnum() else _NOT_ALNUM.sub("", joined)  # fold() gives ASCII


def name_keys(name: str) -> NameKeys:
    """The keys an author's name is stored with (see the module docstring)."""
    full = fold(name)
    words = _words(full)
    if not words:
        return NameKeys(full[:KEY_LENGTH], "", "")  # no words: only spaces or commas
    start = len(words) - 1
    while start > 0 and words[start - 1] in _PARTICLES:
        start -= 1
    return NameKeys(full[:KEY_LENGTH], words[-1][:KEY_LENGTH], _compact(words[start:])[:KEY_LENGTH])


# Delivery compares every subscription with the same few thousand authors of a day.
_cached_name_keys = lru_cache(maxsize=16384)(name_keys)


def query_keys(typed: str) -> NameKeys:
    """The keys a typed name or name prefix is looked up by: the whole of it as a full name,
    as a surname with particles ("van der m", "le cun", "Martin Jr.") and as a last name."""
    full = fold(typed)[:KEY_LENGTH]
    words = _words(full)
    return NameKeys(full, " ".join(words)[:KEY_LENGTH], _compact(words)[:KEY_LENGTH])


def author_matches(wanted: str, name: str) -> bool:
    """Whether the author `name` is the one an author subscription for `wanted` asks for:
    the same full name, or `wanted` is their surname (with or without its particles)."""
    query, keys = query_keys(wanted), _cached_name_keys(name)
    if not query.full:
        return False
    if query.surname and query.surname in (keys.surname, _compact(_words(keys.full))):
        return True
    return query.full in (keys.full, keys.last)
