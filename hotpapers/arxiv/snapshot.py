"""Kaggle `arxiv-metadata-oai-snapshot.json` (JSON Lines) records to PaperRecords.

One line is one paper: `id` (version-less, new `2103.06902` or old `hep-th/9901001`),
`authors` (one string), `authors_parsed` (`[[last, first, suffix], ...]`), `title`,
`abstract`, `categories` (space-separated, primary first), `comments`, `journal-ref`, `doi`
and `versions` (`[{"version": "v1", "created": "Sun, 1 Dec 2019 18:22:14 GMT"}, ...]`).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any

from hotpapers.storage.names import is_suffix
from hotpapers.storage.records import PaperRecord, VersionRecord

_fast_loads: Callable[[bytes | str], Any]
try:  # optional: about 2.5x faster than json.loads on these lines
    from orjson import loads as _fast_loads
except ImportError:  # pragma: no cover
    _fast_loads = json.loads

__all__ = ["parse_snapshot_line", "parse_version_date"]

# ASCII digits only ([0-9], not \d, which takes any script's digits).
_ID_RE = re.compile(r"^(?:[0-9]{4}\.[0-9]{4,5}|[a-z][a-z\-]*(?:\.[A-Z]{2})?/[0-9]{7})$")
_MONTHS = {
    name: number
    for number, name in enumerate(
        ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"), 1
    )
}
# Column sizes (models.py): a longer value would make PostgreSQL reject the whole batch.
_MAX_NAME, _MAX_CATEGORY, _MAX_DOI = 300, 40, 200
# "authors" strings separate names by commas and a final " and ".
_AUTHOR_SPLIT = re.compile(r",\s*(?:and\s+)?|\s+and\s+")


def parse_snapshot_line(line: bytes | str) -> PaperRecord:
    """Parse one snapshot line; ValueError if it is not a usable paper record."""
    try:
        data = _fast_loads(line)
    except ValueError:
        # orjson refuses a few things json accepts (NaN, huge integers, lone surrogates):
        # json decides, so what is accepted does not depend on orjson being installed.
        try:
            data = json.loads(line)
        except (ValueError, UnicodeDecodeError) as exc:
            raise ValueError(f"not JSON: {exc}") from None
    if not isinstance(data, dict):
        raise ValueError("not a JSON object")
    arxiv_id = data.get("id")
    if not isinstance(arxiv_id, str) or not arxiv_id.strip():
        raise ValueError("missing id")
    arxiv_id = arxiv_id.strip()
    if _ID_RE.match(arxiv_id) is None:
        raise ValueError(f"bad id {arxiv_id!r}")
    title = _text(data.get("title"))
    if not title:
        raise ValueError(f"{arxiv_id}: missing title")
    categories = tuple(dict.fromkeys(_str(data.get("categories")).split()))
    if not categories:
        raise ValueError(f"{arxiv_id}: no categories")
    if any(len(category) > _MAX_CATEGORY for category in categories):
        raise ValueError(f"{arxiv_id}: category longer than {_MAX_CATEGORY} characters")
    authors = _authors(data.get("authors_parsed"), data.get("authors"))
    if any(len(author) > _MAX_NAME for author in authors):
        raise ValueError(f"{arxiv_id}: author name longer than {_MAX_NAME} characters")

    versions = _versions(data.get("versions"), arxiv_id)
    if versions:
        latest = versions[-1]
        version, submitted, updated = latest.version, versions[0].created, latest.created
    else:
        version, submitted, updated = 1, None, None
    record = PaperRecord(
        arxiv_id=arxiv_id,
        version=version,
        title=title,
        abstract=_text(data.get("abstract")),
        authors=authors,
        categories=categories,
        primary_category=categories[0],
        comment=_text(data.get("comments")) or None,
        journal_ref=_text(data.get("journal-ref")) or None,
        doi=_doi(data.get("doi")),
        submitted=submitted,
        updated=updated,
        versions=versions,
    )
    if _has_risky_escape(line):
        _check_storable(record)
    return record


# A NUL or a lone surrogate can only come from a JSON escape (as raw bytes either makes the
# line invalid): lines without one of these (nearly all) skip `_check_storable`.
_RISKY_ESCAPES = ("\\u0000", "\\ud", "\\uD")
_RISKY_ESCAPE_BYTES = tuple(escape.encode() for escape in _RISKY_ESCAPES)


def _has_risky_escape(line: bytes | str) -> bool:
    if isinstance(line, str):
        return any(escape in line for escape in _RISKY_ESCAPES)
    return any(escape in line for escape in _RISKY_ESCAPE_BYTES)


def _check_storable(record: PaperRecord) -> None:
    """ValueError for text no database can take: a lone surrogate (JSON `"\\ud800"`; not
    encodable as UTF-8) or a NUL character (PostgreSQL refuses it in text). Either would fail
    the whole batch it is written in, so the line is refused here instead."""
    texts = [record.title, record.abstract, record.comment or "", record.journal_ref or ""]
    joined = "".join([*texts, record.doi or "", *record.authors, *record.categories])
    if "\x00" in joined:
        raise ValueError(f"{record.arxiv_id}: text with a NUL character")
    if not joined.isascii():
        try:
            joined.encode("utf-8")
        except UnicodeEncodeError:
            raise ValueError(f"{record.arxiv_id}: text with a lone surrogate") from None


def _ascii_digits(text: str) -> bool:
    return text.isascii() and text.isdigit()


def parse_version_date(text: str) -> datetime:
    """'Sun, 1 Dec 2019 18:22:14 GMT' -> aware UTC datetime (fast path, RFC 2822 fallback)."""
    parts = text.split()
    try:
        hour, minute, second = parts[4].split(":")
        return datetime(
            int(parts[3]),
            _MONTHS[parts[2]],
            int(parts[1]),
            int(hour),
            int(minute),
            int(second),
            tzinfo=UTC,
        )
    except (IndexError, KeyError, ValueError):
        pass
    try:
        moment = parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        raise ValueError(f"bad version date {text!r}") from None
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def _str(value: Any) -> str:
    return value if isinstance(value, str) else ""


def _text(value: Any) -> str:
    """Whitespace collapsed (same result as text.collapse_ws: both use str.isspace)."""
    return " ".join(value.split()) if isinstance(value, str) else ""


def _doi(value: Any) -> str | None:
    """The DOI; some records list several, space-separated: keep the first if all are too long."""
    doi = _text(value)
    if len(doi) > _MAX_DOI:
        doi = doi.split(" ", 1)[0]
    return doi if doi and len(doi) <= _MAX_DOI else None


def _versions(raw: Any, arxiv_id: str) -> tuple[VersionRecord, ...]:
    if not isinstance(raw, list):
        return ()
    found: dict[int, datetime | None] = {}
    for item in raw:
        if not isinstance(item, dict):
            continue
        label = item.get("version")
        if not isinstance(label, str) or label[:1] not in "vV" or not _ascii_digits(label[1:]):
            raise ValueError(f"{arxiv_id}: bad version {label!r}")
        created = item.get("created")
        found[int(label[1:])] = parse_version_date(created) if isinstance(created, str) else None
    if len(found) == 1:
        ((number, created),) = found.items()
        return (VersionRecord(number, created),)
    return tuple(VersionRecord(number, found[number]) for number in sorted(found))


def _authors(parsed: Any, raw: Any) -> tuple[str, ...]:
    names: list[str] = []
    if isinstance(parsed, list):
        for parts in parsed:
            if not isinstance(parts, list):
                continue
            # [last, first, suffix] -> "First Last Suffix"; non-strings count as empty.
            pieces = [p if type(p) is str else "" for p in (*parts[1:2], *parts[:1], *parts[2:3])]
            name = " ".join(" ".join(pieces).split())
            if name:
                names.append(name)
    elif isinstance(raw, str):
        for piece in _AUTHOR_SPLIT.split(raw):
            name = " ".join(piece.split())
            if name and names and is_suffix(name):  # "John Martin, Jr., ...": one name
                names[-1] = f"{names[-1]} {name}"
            elif name:
                names.append(name)
    return tuple(names)
