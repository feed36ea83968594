"""One exception hierarchy for the core; the CLI maps each to one plain sentence.

HotpapersError
├── ConfigError            bad configuration value or unreadable file (exit 2)
├── InputError             bad command-line argument (exit 2)
├── DatabaseError          the database cannot be reached or written
├── ArxivError             anything that went wrong talking to arXiv
│   ├── ArxivHTTPError     a non-retryable HTTP status, or retries exhausted
│   ├── ArxivUnreachable   arXiv never answered (no network, wrong URL): given up early
│   ├── ArxivAPIError      the API answered with its error document (HTTP 400)
│   ├── FeedParseError     a body that is not the XML we expect
│   └── RunTimeExceeded    the per-run time bound was reached
└── PublishError           a destination (X) refused or failed a post
"""

from __future__ import annotations


class HotpapersError(Exception):
    """Base class: `str(error)` is the sentence shown to the user."""

    exit_code = 1


class ConfigError(HotpapersError):
    exit_code = 2


class InputError(HotpapersError):
    exit_code = 2


class DatabaseError(HotpapersError):
    pass


class ArxivError(HotpapersError):
    pass


class ArxivHTTPError(ArxivError):
    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


class ArxivUnreachable(ArxivError):
    pass


class ArxivAPIError(ArxivError):
    pass


class FeedParseError(ArxivError):
    pass


class RunTimeExceeded(ArxivError):
    pass


class PublishError(HotpapersError):
    """A destination (X) refused or failed a post; the ledger says what is left to post."""


QUOTED_LIMIT = 80


def quoted(value: object, limit: int = QUOTED_LIMIT, marks: str = "''") -> str:
    """`value` as an error message shows it: between `marks`, every character that is not
    printable escaped (`\\x1b`, `\\n`, `\\u202e`: no escape sequence, line break or bidi override
    reaches a terminal or a log line), at most `limit` characters in all, cut with "…"."""
    text = str(value)
    room = limit - len(marks) - 1  # the ellipsis, should the text be cut
    pieces: list[str] = []
    for char in text[:limit]:  # never more characters shown than `limit`
        piece = _printable_char(char)
        if len(piece) > room:
            break
        pieces.append(piece)
        room -= len(piece)
    ellipsis = "…" if len(pieces) < len(text) else ""
    return f"{marks[0]}{''.join(pieces)}{ellipsis}{marks[-1]}"


def printable(text: str) -> str:
    """`text` with every character that is not printable escaped, as `quoted` does."""
    return text if text.isprintable() else "".join(map(_printable_char, text))


def _printable_char(char: str) -> str:
    return char if char.isprintable() else char.encode("unicode_escape").decode("ascii")
