"""arXiv identifiers: every form (abs/pdf/html URL, with or without version) to one canonical id."""

from __future__ import annotations

import re

# [0-9], not \d: \d also matches other scripts' digits (٢١٠٣), which no arXiv id has.
_NEW = r"[0-9]{4}\.[0-9]{4,5}"
_OLD = r"[a-z][a-z\-]*(?:\.[A-Z]{2})?/[0-9]{7}"
_ID_RE = re.compile(rf"^(?P<id>{_NEW}|{_OLD})(?:v(?P<version>[0-9]+))?$")
_URL_RE = re.compile(
    rf"(?<![\w-])arxiv\.org/(?:abs|pdf|html|format)/(?P<id>{_NEW}|{_OLD})(?:v(?P<version>[0-9]+))?",
    re.IGNORECASE,
)
_PREFIX_RE = re.compile(r"^(?:arxiv:|oai:arxiv\.org:)", re.IGNORECASE)


def split_id(text: str) -> tuple[str, int | None] | None:
    """(canonical id, version or None) for an id, `arXiv:` id or arXiv URL; None if not one."""
    text = _PREFIX_RE.sub("", text.strip())
    match = _ID_RE.match(text) or _URL_RE.search(text)
    if match is None:
        return None
    version = match.group("version")
    return match.group("id"), int(version) if version else None


def canonical_id(text: str) -> str | None:
    """The version-less id for any form of arXiv reference, or None."""
    parts = split_id(text)
    return parts[0] if parts else None


def find_ids(text: str) -> list[str]:
    """Every arXiv paper linked in free text (abs, pdf, html URLs), canonical and deduplicated."""
    seen: dict[str, None] = {}
    for match in _URL_RE.finditer(text):
        seen.setdefault(match.group("id"), None)
    return list(seen)


def abs_url(arxiv_id: str) -> str:
    return f"https://arxiv.org/abs/{arxiv_id}"


def pdf_url(arxiv_id: str) -> str:
    return f"https://arxiv.org/pdf/{arxiv_id}"
