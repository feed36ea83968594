"""What a person types into /search or `hotpapers search`, read into a SearchQuery.

The grammar is small and forgiving: words (all required), "phrases in quotes" (words next to
each other, in that order), -word or -"a phrase" (must not occur), and the filters
`category:cs.LG`, `author:LeCun` (or `author:"Yann LeCun"`) and `since:2024-01-01`. Anything
else that is not a letter or digit separates words, so no user text ever reaches a database as
query syntax. Both the bot and the CLI go through `parse_search`: one length limit, one set of
sentences.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from datetime import date

from hotpapers.config import require_category
from hotpapers.errors import InputError, quoted

__all__ = ["MAX_SEARCH_CHARS", "MAX_SEARCH_WORDS", "SearchQuery", "parse_search"]

MAX_SEARCH_CHARS = 200  # Discord's /search box and the CLI alike
MAX_SEARCH_WORDS = 10
_WORD = re.compile(r"[^\W_]+")  # letters and digits: what both indexes call a word
# One token: an optional "-", an optional filter name, then a "quoted phrase" or a bare run.
_TOKEN = re.compile(r'(-?)(?:(category|author|since):)?(?:"([^"]*)"?|(\S+))', re.IGNORECASE)

# English stop words (PostgreSQL's `english` list, which drops them from the index): words
# nearly every abstract has, so alone they find everything and next to other words nothing.
_STOP_WORDS = """a about above after again against all am an and any are as at be because been
    before
    being below between both but by can did do does doing down during each few for from further
    had has have having he her here hers herself him himself his how i if in into is it its
    itself just me more most my myself no nor not now of off on once only or other our ours
    ourselves out over own same she should so some such than that the their theirs them
    themselves then there these they this those through to too under until up very was we were
    what when where which while who whom why will with you your yours yourself yourselves"""
STOP_WORDS = frozenset(_STOP_WORDS.split())


@dataclass(frozen=True, slots=True)
class SearchQuery:
    words: tuple[str, ...] = ()  # lowercase, each must occur (stemmed by the index)
    phrases: tuple[tuple[str, ...], ...] = ()  # each must occur as adjacent words
    excluded: tuple[tuple[str, ...], ...] = ()  # a word or phrase that must not occur
    category: str | None = None
    author: str | None = None
    since: date | None = None
    text: str = field(default="", compare=False)  # as typed (cleaned), for answers


def words_of(text: str) -> tuple[str, ...]:
    """Letters-and-digits words of `text`, lowercase, one-character words dropped."""
    found = _WORD.findall(unicodedata.normalize("NFC", text))
    return tuple(word.lower() for word in found if len(word) > 1)


def parse_search(typed: str) -> SearchQuery:
    """The query in `typed`; InputError (one sentence) when it cannot find anything useful."""
    text = " ".join(typed.split())
    if len(text) > MAX_SEARCH_CHARS:
        raise InputError(
            f"Searches can be up to {MAX_SEARCH_CHARS} characters long, and this one has "
            f"{len(text):,}; keep the few words that matter most."
        )
    words: list[str] = []
    phrases: list[tuple[str, ...]] = []
    excluded: list[tuple[str, ...]] = []
    filters: dict[str, str] = {}
    for match in _TOKEN.finditer(text):
        minus, name, phrase, bare = match.groups()
        value = phrase if phrase is not None else bare
        if name:
            filters[name.lower()] = value.strip()
            continue
        found = words_of(value)
        if not found:
            continue
        if minus:
            excluded.append(found)
        elif phrase is not None and len(found) > 1 and not STOP_WORDS.issuperset(found):
            phrases.append(found)
        else:  # a one-word or stop-words-only "phrase" is just words
            words.extend(found)
    category, author, since = _filters(filters)
    query = SearchQuery(
        words=tuple(dict.fromkeys(word for word in words if word not in STOP_WORDS)),
        phrases=tuple(dict.fromkeys(phrases)),
        excluded=tuple(dict.fromkeys(excluded)),
        category=category,
        author=author,
        since=since,
        text=text,
    )
    _check(query, words)
    return query


def _filters(filters: dict[str, str]) -> tuple[str | None, str | None, date | None]:
    category = author = since = None
    if "category" in filters:
        try:
            category = require_category(filters["category"])
        except ValueError:
            raise InputError(
                f"{quoted(filters['category'])} is not an arXiv category; "
                "write it like category:cs.LG or category:math.PR."
            ) from None
    if "author" in filters:
        if not words_of(filters["author"]):
            raise InputError(
                'author: needs a name, for example author:LeCun or author:"Yann LeCun".'
            )
        author = filters["author"]
    if "since" in filters:
        try:
            since = date.fromisoformat(filters["since"])
        except ValueError:
            raise InputError(
                f"{quoted(filters['since'])} is not a date; write since:YYYY-MM-DD, "
                "for example since:2024-01-31."
            ) from None
    return category, author, since


def _check(query: SearchQuery, typed_words: list[str]) -> None:
    count = len(query.words) + sum(len(p) for p in (*query.phrases, *query.excluded))
    if count > MAX_SEARCH_WORDS:
        raise InputError(
            f"Searches can have up to {MAX_SEARCH_WORDS} words, and this one has {count}; "
            "keep the few that matter most."
        )
    wanted = {*((word,) for word in query.words), *query.phrases}
    both = [item for item in query.excluded if item in wanted]
    if both:
        raise InputError(
            f"{quoted(' '.join(both[0]))} is both wanted and excluded (-), so no paper can "
            "match; drop one of the two."
        )
    if query.words or query.phrases:
        return
    if typed_words:  # all of them stop words (a phrase of only stop words counts as words)
        raise InputError(
            f"Words like {', '.join(quoted(w) for w in typed_words[:3])} are in nearly every "
            "paper, so they cannot pick any out; add a word about the topic, such as "
            "“diffusion” or “graph”, or put a phrase in quotes."
        )
    if query.excluded:
        raise InputError(
            "A search needs at least one word to look for besides the -excluded ones, "
            "for example: diffusion -video."
        )
    if query.category or query.author or query.since:
        raise InputError(
            "Add a word to look for next to the filters, for example: "
            "diffusion category:cs.LG; to list a category or an author, use category or author."
        )
    raise InputError("Please give some words to look for, for example: diffusion transformer.")
