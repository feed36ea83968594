"""One exception hierarchy for the core; the CLI maps each to one plain sentence.

HotpapersError
├── ConfigError            bad configuration value or unreadable file (exit 2)
├── InputError             bad command-line argument (exit 2)
├── DatabaseError          the database cannot be reached or written
├── ArxivError             anything that went wrong talking to arXiv
│   ├── ArxivHTTPError     a non-retryable HTTP status, or retries exhausted
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


class ArxivAPIError(ArxivError):
    pass


class FeedParseError(ArxivError):
    pass


class RunTimeExceeded(ArxivError):
    pass


class PublishError(HotpapersError):
    """A destination (X) refused or failed a post; the ledger says what is left to post."""
