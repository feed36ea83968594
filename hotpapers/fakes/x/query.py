"""The recent-search query language the project uses (`url:`, `is:retweet`, `is:quote`,
`has:links`, keywords, `-`, `OR`, parentheses), parsed into predicates over posts."""

from __future__ import annotations

import re
from collections.abc import Callable

from hotpapers.fakes.x.model import FakeTweet, padded_tokens

Predicate = Callable[[FakeTweet], bool]


class QueryError(ValueError):
    pass


_QUERY_TOKEN_RE = re.compile(r'\(|\)|-?[a-z_]+:"[^"]*"|-?"[^"]*"|-?[^\s()]+', re.IGNORECASE)


def parse_query(text: str) -> Predicate:
    """A predicate for the supported subset of X's search language."""
    tokens = _QUERY_TOKEN_RE.findall(text)
    if not tokens:
        raise QueryError("empty query")
    predicate, rest = _parse_or(tokens)
    if rest:
        raise QueryError(f"unexpected '{rest[0]}'")
    return predicate


def _parse_or(tokens: list[str]) -> tuple[Predicate, list[str]]:
    first, rest = _parse_and(tokens)
    options = [first]
    while rest and rest[0] == "OR":
        option, rest = _parse_and(rest[1:])
        options.append(option)
    if len(options) == 1:
        return first, rest
    return (lambda tweet: any(option(tweet) for option in options)), rest


def _parse_and(tokens: list[str]) -> tuple[Predicate, list[str]]:
    parts: list[Predicate] = []
    rest = tokens
    while rest and rest[0] not in ("OR", ")"):
        atom, rest = _parse_atom(rest)
        parts.append(atom)
    if not parts:
        raise QueryError("empty group")
    if len(parts) == 1:
        return parts[0], rest
    return (lambda tweet: all(part(tweet) for part in parts)), rest


def _parse_atom(tokens: list[str]) -> tuple[Predicate, list[str]]:
    head = tokens[0]
    if head == "(":
        inner, rest = _parse_or(tokens[1:])
        if not rest or rest[0] != ")":
            raise QueryError("missing ')'")
        return inner, rest[1:]
    if head == ")":
        raise QueryError("unexpected ')'")
    return _term(head), tokens[1:]


def _term(token: str) -> Predicate:
    negate = token.startswith("-")
    body = token[1:] if negate else token
    name, colon, value = body.partition(":")
    value = value.strip('"')
    predicate: Predicate
    if colon and name.lower() == "url":
        wanted = padded_tokens(value)
        if wanted == "  ":
            raise QueryError("empty url: operand")

        def predicate(tweet: FakeTweet) -> bool:
            return any(wanted in padded_tokens(url) for url in tweet.urls)

    elif colon and name.lower() == "is":
        kind = value.lower()
        if kind == "retweet":
            predicate = _is_retweet
        elif kind == "quote":
            predicate = _is_quote
        else:
            raise QueryError(f"unsupported operator is:{value}")
    elif colon and name.lower() == "has" and value.lower() == "links":
        predicate = _has_links
    elif colon and name.lower() == "from":
        wanted = value.lower().lstrip("@")

        def predicate(tweet: FakeTweet) -> bool:
            return tweet.author.username.lower() == wanted

    elif colon and not body.startswith('"'):
        raise QueryError(f"unsupported operator {name}:")
    else:
        needle = body.strip('"').lower()

        def predicate(tweet: FakeTweet) -> bool:
            return needle in tweet.text.lower()

    if negate:
        positive = predicate
        return lambda tweet: not positive(tweet)
    return predicate


def _is_retweet(tweet: FakeTweet) -> bool:
    return tweet.is_retweet


def _is_quote(tweet: FakeTweet) -> bool:
    return tweet.is_quote


def _has_links(tweet: FakeTweet) -> bool:
    return bool(tweet.urls)
