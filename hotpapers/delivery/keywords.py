"""Keyword subscriptions: which papers a keyword (and its exclude words) asks for.

A keyword matches whole words, never parts of words ("GAN" is not in "organ", "RL" not in
"world"), case- and accent-insensitively (`text.fold`). A keyword of several words is a phrase:
the words in that order, next to each other, whatever separates them in the paper ("self
supervised" finds "self-supervised"); quotes around it change nothing. A word also finds its
plural in 's' ("GAN" finds "GANs", "diffusion model" finds "diffusion models"). Exclude words
follow the same rule.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable
from functools import lru_cache

from hotpapers.plumbing.text import fold

__all__ = ["Words", "phrase", "wanted"]

_WORD = re.compile(r"[a-z0-9]+")  # fold() gives ASCII


@lru_cache(maxsize=4096)
def phrase(text: str) -> tuple[str, ...]:
    """The folded words of a keyword (quotes and other punctuation only separate words)."""
    return tuple(_WORD.findall(fold(text)))


class Words:
    """The folded words of one text, indexed once, for any number of keywords."""

    __slots__ = ("_at", "_words")

    def __init__(self, text: str) -> None:
        self._words = _WORD.findall(fold(text))
        self._at: dict[str, list[int]] = defaultdict(list)
        for position, word in enumerate(self._words):
            self._at[word].append(position)

    def _is(self, position: int, word: str) -> bool:
        if position >= len(self._words):
            return False
        found = self._words[position]
        return found == word or found == word + "s"

    def has(self, words: tuple[str, ...]) -> bool:
        """Whether the text has these words, in this order, next to each other."""
        if not words:
            return False
        first, rest = words[0], words[1:]
        for start in (*self._at.get(first, ()), *self._at.get(first + "s", ())):
            if all(self._is(start + 1 + offset, word) for offset, word in enumerate(rest)):
                return True
        return False


def wanted(words: Words, keyword: str, excludes: Iterable[str]) -> bool:
    """Whether a paper with these `words` is what the keyword subscription asks for."""
    if not words.has(phrase(keyword)):
        return False
    return not any(words.has(phrase(word)) for word in excludes)
