"""Private helpers for the arXiv parsers: the one hardened XML entry point and value converters.

Every body from arXiv goes through `parse_xml`, which owns the security policy: a size cap,
no DTDs (so no entity expansion and no external entities), no network, no huge trees and no
recovery from broken markup (a truncated body is an error, never a partial result).
"""

from __future__ import annotations

import re
import threading
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

from lxml import etree

from hotpapers.errors import FeedParseError

MAX_BODY_BYTES = 50 * 1024 * 1024
"""Largest body we parse; a 2,000-entry API page is about 5 MB."""

_DOCTYPE = b"<!DOCTYPE"
_HTML_START = re.compile(rb"^\s*(?:<\?xml[^>]*>\s*)?<(?:!doctype\s+html|html)\b", re.IGNORECASE)


def _make_parser() -> etree.XMLParser:
    return etree.XMLParser(
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        dtd_validation=False,
        huge_tree=False,
        recover=False,
        remove_blank_text=True,
        collect_ids=False,
        remove_comments=True,
        remove_pis=True,
    )


_LOCAL = threading.local()


def _parser() -> etree.XMLParser:
    """One parser per thread, so concurrent parses (e.g. in worker threads) share no state."""
    parser: etree.XMLParser | None = getattr(_LOCAL, "parser", None)
    if parser is None:
        parser = _LOCAL.parser = _make_parser()
    return parser


def parse_xml(data: bytes, what: str) -> etree._Element:
    """Parse `data` (a `what` body) into its root element, or raise FeedParseError."""
    if not isinstance(data, bytes | bytearray | memoryview):
        raise FeedParseError(f"The {what} body must be bytes, not {type(data).__name__}.")
    data = bytes(data)
    if len(data) > MAX_BODY_BYTES:
        raise FeedParseError(
            f"The {what} body is {len(data):,} bytes, over the {MAX_BODY_BYTES:,}-byte limit."
        )
    if not data or data.isspace():
        raise FeedParseError(f"The {what} body is empty.")
    if _HTML_START.match(data[:512]):
        raise FeedParseError(f"The {what} body is an HTML page, not XML.")
    if _DOCTYPE in data:
        raise FeedParseError(
            f"The {what} body has a DOCTYPE; document type declarations are not allowed."
        )
    try:
        root = etree.fromstring(data, parser=_parser())
    except etree.XMLSyntaxError as exc:
        raise FeedParseError(f"The {what} body is not well-formed XML ({exc}).") from exc
    if root.getroottree().docinfo.doctype:
        # A DOCTYPE hidden from the byte scan by a non-ASCII-compatible encoding.
        raise FeedParseError(
            f"The {what} body has a DOCTYPE; document type declarations are not allowed."
        )
    return root


def to_int(text: str | None) -> int | None:
    """An integer from element text, or None when absent or not a number."""
    if text is None:
        return None
    try:
        return int(text.strip())
    except ValueError:
        return None


def iso_datetime(text: str | None) -> datetime | None:
    """An RFC 3339 timestamp ('2017-07-27T08:18:33Z') as an aware UTC datetime, or None."""
    if not text:
        return None
    try:
        value = datetime.fromisoformat(text.strip())
    except ValueError:
        return None
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


def rfc2822_datetime(text: str | None) -> datetime | None:
    """An e-mail style date ('Mon, 2 Apr 2007 19:18:42 GMT') as an aware UTC datetime, or None."""
    if not text:
        return None
    try:
        value = parsedate_to_datetime(text.strip())
    except (TypeError, ValueError, IndexError):
        return None
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


_AUTHOR_SEP = re.compile(r",|;|\s+and\s+")


def strip_parenthesised(text: str) -> str:
    """Remove every parenthesised group, nested ones included: 'A (X, (Y)), B' -> 'A , B'."""
    if "(" not in text:
        return text
    out: list[str] = []
    depth = 0
    for char in text:
        if char == "(":
            depth += 1
        elif char == ")":
            depth = max(depth - 1, 0)
        elif depth == 0:
            out.append(char)
    return "".join(out)


def split_authors(text: str | None) -> tuple[str, ...]:
    """Authors from one string: 'A (X, Y), B and C' -> ('A', 'B', 'C'), affiliations dropped."""
    if not text:
        return ()
    plain = strip_parenthesised(text)
    names = (" ".join(part.split()) for part in _AUTHOR_SEP.split(plain))
    return tuple(name for name in names if name)


_ASCII_WS_MARKS = ("  ", "\n", "\t", "\r", "\x0b", "\x0c", "\x1c", "\x1d", "\x1e", "\x1f")
"""What makes an ASCII string need collapsing (str.isspace() is true for all of these)."""


def squash(text: str) -> str:
    """Same result as `hotpapers.plumbing.text.collapse_ws`, faster: clean ASCII (most of arXiv's
    titles and abstracts) is returned as is after a few C-level scans."""
    if text.isascii() and text and not (text[0].isspace() or text[-1].isspace()):
        for mark in _ASCII_WS_MARKS:
            if mark in text:
                break
        else:
            return text
    return " ".join(text.split())


def dedupe(values: list[str]) -> tuple[str, ...]:
    """Values in first-seen order without repeats or blanks."""
    return tuple(dict.fromkeys(value for value in values if value))
