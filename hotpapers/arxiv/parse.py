"""Pure parsers from arXiv response bodies (bytes) to typed records; no I/O.

* `parse_atom` - the export API (`/api/query`) Atom feed.
* `parse_rss`  - the rss.arxiv.org RSS 2.0 announcement feed.
* `parse_oai`  - an OAI-PMH `ListRecords` page with metadataPrefix `arXivRaw`.

All three go through one hardened XML entry point (`_xml.parse_xml`). A body that is not the
XML we expect raises `FeedParseError`; the API's own error documents raise `ArxivAPIError`;
a single malformed entry is skipped, logged and counted in `FeedPage.skipped`.
"""

from __future__ import annotations

import dataclasses
import logging
import re
from typing import Any

from lxml import etree

from hotpapers.arxiv._xml import (
    dedupe,
    iso_datetime,
    parse_xml,
    rfc2822_datetime,
    split_authors,
    squash,
    to_int,
)
from hotpapers.arxiv.ids import split_id
from hotpapers.errors import ArxivAPIError, FeedParseError
from hotpapers.storage.records import ANNOUNCE_TYPES, FeedPage, PaperRecord, VersionRecord

log = logging.getLogger(__name__)

_ATOM = "{http://www.w3.org/2005/Atom}"
_ARXIV = "{http://arxiv.org/schemas/atom}"
_OS = "{http://a9.com/-/spec/opensearch/1.1/}"
_DC = "{http://purl.org/dc/elements/1.1/}"
_OAI = "{http://www.openarchives.org/OAI/2.0/}"
_RAW = "{http://arxiv.org/OAI/arXivRaw/}"

_A_FEED, _A_ENTRY, _A_ID, _A_TITLE = (f"{_ATOM}{t}" for t in ("feed", "entry", "id", "title"))
_A_SUMMARY, _A_NAME = f"{_ATOM}summary", f"{_ATOM}name"
_A_CATEGORY, _A_PUBLISHED = f"{_ATOM}category", f"{_ATOM}published"
_A_UPDATED, _A_LINK = f"{_ATOM}updated", f"{_ATOM}link"
_X_PRIMARY, _X_COMMENT = f"{_ARXIV}primary_category", f"{_ARXIV}comment"
_X_JOURNAL, _X_DOI = f"{_ARXIV}journal_ref", f"{_ARXIV}doi"

_A_AUTHOR = f"{_ATOM}author"
_ATOM_FIELDS: tuple[str, ...] = (_A_ID, _A_TITLE, _A_SUMMARY, _A_AUTHOR, _A_CATEGORY)
_ATOM_FIELDS += (_A_PUBLISHED, _A_UPDATED, _X_PRIMARY, _X_COMMENT, _X_JOURNAL, _X_DOI, _A_LINK)
"""The entry's children `_atom_entry` reads; lxml skips the rest in C. Only children: an
element nested deeper (an Atom <source>, a <contributor>) is not the entry's."""
_ERROR_ID = re.compile(r"^https?://arxiv\.org/api/errors")
_ABS_PREFIXES = ("http://arxiv.org/abs/", "https://arxiv.org/abs/")

_ANNOUNCE = {t: t for t in ANNOUNCE_TYPES} | {"absonly": "replace"}
"""RSS announce types to ours; 'absonly' (abstract-only change) counts as a replacement."""
_RSS_DESCRIPTION = re.compile(
    r"^\s*arXiv:(?P<id>\S+?)\s+Announce Type:\s*(?P<type>[\w-]+)\s*(?:Abstract:\s?(?P<abs>.*))?",
    re.DOTALL,
)
_OAI_VERSION = re.compile(r"^v?([0-9]+)$")


class _Malformed(ValueError):
    """One entry cannot become a record; the caller skips, logs and counts it."""


def _text(element: Any, tag: str) -> str | None:
    """Text of the first child `tag`, None when it is missing or blank."""
    text = element.findtext(tag)
    return text if text and not text.isspace() else None


def _clean(text: str | None) -> str | None:
    """Whitespace-collapsed text, None when blank."""
    return squash(text) or None if text else None


def _split_versioned(raw: str | None) -> tuple[str, int | None]:
    """(arxiv_id, version) from an id or URL, or _Malformed."""
    if not raw:
        raise _Malformed("no id")
    text = raw.strip()
    for prefix in _ABS_PREFIXES:
        if text.startswith(prefix):
            text = text[len(prefix) :]
            break
    parts = split_id(text)
    if parts is None:
        raise _Malformed(f"unparseable id {raw!r}")
    return parts


# --- export API (Atom) ------------------------------------------------------------------------


def parse_atom(data: bytes) -> FeedPage:
    """Parse an export-API Atom page; raise ArxivAPIError for the API's error document."""
    root = _root(data, "arXiv API", _A_FEED, "an Atom feed")
    page = FeedPage(
        total_results=to_int(root.findtext(f"{_OS}totalResults")),
        start_index=to_int(root.findtext(f"{_OS}startIndex")),
        items_per_page=to_int(root.findtext(f"{_OS}itemsPerPage")),
    )
    for entry in root.iterchildren(_A_ENTRY):
        try:
            page.entries.append(_atom_entry(entry))
        except _Malformed as exc:
            _raise_if_api_error(entry)
            _skip(page, "arXiv API", exc)
    return page


def _atom_entry(entry: Any) -> PaperRecord:
    """One Atom `<entry>` as a PaperRecord, from its own children in one pass."""
    texts: dict[str, str | None] = {}
    authors: list[str] = []
    categories: list[str] = []
    primary: str | None = None
    has_pdf = False
    for element in entry.iterchildren(_ATOM_FIELDS):
        tag = element.tag
        if tag == _A_LINK:
            has_pdf = has_pdf or element.get("title") == "pdf"
        elif tag == _A_AUTHOR:
            name = element.findtext(_A_NAME)
            if name and not name.isspace():
                authors.append(" ".join(name.split()))
        elif tag == _A_CATEGORY:
            term = element.get("term")
            # The API mixes ACM and MSC class codes (I.2.6, 68T05) into <category>.
            if term and not any(ch.isdigit() for ch in term):
                categories.append(term)
        elif tag == _X_PRIMARY:
            primary = (element.get("term") or "").strip() or None
        else:
            texts.setdefault(tag, element.text)  # the first, as `findtext` would
    raw_id = texts.get(_A_ID)
    arxiv_id, version = _split_versioned(raw_id)
    if version is None:
        raise _Malformed(f"id {raw_id!r} has no version")
    record = _atom_record(arxiv_id, version, texts, authors, categories, primary)
    return record if has_pdf else dataclasses.replace(record, has_pdf=False)


def _atom_record(
    arxiv_id: str,
    version: int,
    texts: dict[str, str | None],
    authors: list[str],
    categories: list[str],
    primary: str | None,
) -> PaperRecord:
    """Build the record from what `_atom_entry` collected; an entry without a title is malformed."""
    summary = texts.get(_A_SUMMARY)
    clean_title = _clean(texts.get(_A_TITLE))
    if clean_title is None:
        raise _Malformed(f"{arxiv_id} has no title")
    return PaperRecord(
        arxiv_id=arxiv_id,
        version=version,
        title=clean_title,
        abstract=squash(summary) if summary else "",
        authors=tuple(authors),
        categories=tuple(dict.fromkeys([primary, *categories] if primary else categories)),
        primary_category=primary,
        comment=_clean(texts.get(_X_COMMENT)),
        journal_ref=_clean(texts.get(_X_JOURNAL)),
        doi=_clean(texts.get(_X_DOI)),
        submitted=iso_datetime(texts.get(_A_PUBLISHED)),
        updated=iso_datetime(texts.get(_A_UPDATED)),
    )


def _raise_if_api_error(entry: Any) -> None:
    """The API reports a bad request as a feed whose one entry is titled 'Error'."""
    entry_id = entry.findtext(_A_ID) or ""
    if _ERROR_ID.match(entry_id.strip()) and (entry.findtext(_A_TITLE) or "").strip() == "Error":
        message = _clean(entry.findtext(_A_SUMMARY)) or entry_id.strip()
        raise ArxivAPIError(f"arXiv API error: {message}")


# --- rss.arxiv.org (RSS 2.0) ------------------------------------------------------------------


def parse_rss(data: bytes) -> FeedPage:
    """Parse an rss.arxiv.org RSS 2.0 feed; an empty channel is a valid, empty page."""
    channel = _root(data, "arXiv RSS", "rss", "an RSS 2.0 feed").find("channel")
    if channel is None:
        raise FeedParseError("The arXiv RSS body is an RSS document without a <channel>.")
    page = FeedPage(published=rfc2822_datetime(channel.findtext("pubDate")))
    for item in channel.iterchildren("item"):
        try:
            page.entries.append(_rss_item(item))
        except _Malformed as exc:
            _skip(page, "arXiv RSS", exc)
    return page


def _rss_item(item: Any) -> PaperRecord:
    """One RSS `<item>` as a PaperRecord (no primary category: RSS has no marker for it)."""
    description = item.findtext("description") or ""
    match = _RSS_DESCRIPTION.match(description)
    arxiv_id, version = _rss_id(item, match)
    title = _clean(item.findtext("title"))
    if title is None:
        raise _Malformed(f"{arxiv_id} has no title")
    announce = _text(item, f"{_ARXIV}announce_type") or (match and match.group("type")) or ""
    abstract = match.group("abs") if match else description
    return PaperRecord(
        arxiv_id=arxiv_id,
        version=version,
        title=title,
        abstract=squash(abstract or ""),
        authors=split_authors(item.findtext(f"{_DC}creator")),
        categories=dedupe([(c.text or "").strip() for c in item.iterchildren("category")]),
        primary_category=None,
        journal_ref=_clean(item.findtext(f"{_ARXIV}journal_reference")),
        doi=_clean(item.findtext(f"{_ARXIV}DOI")),
        announce_type=_ANNOUNCE.get(announce.strip().lower()),
    )


def _rss_id(item: Any, match: re.Match[str] | None) -> tuple[str, int]:
    """(id, version): the id from <link>, the version from <description>, else from <guid>."""
    sources = (item.findtext("link"), match and match.group("id"), item.findtext("guid"))
    found = [parts for parts in map(_try_split, sources) if parts]
    if not found:
        raise _Malformed(f"no arXiv id in link {sources[0]!r} or guid {sources[2]!r}")
    arxiv_id = found[0][0]
    version = next((v for i, v in found if i == arxiv_id and v is not None), None)
    if version is None:
        raise _Malformed(f"{arxiv_id} has no version in its description or guid")
    return arxiv_id, version


def _try_split(raw: str | None) -> tuple[str, int | None] | None:
    return split_id(raw) if raw else None


# --- OAI-PMH (arXivRaw) -----------------------------------------------------------------------


def parse_oai(data: bytes) -> FeedPage:
    """Parse an OAI-PMH ListRecords page (arXivRaw); noRecordsMatch is an empty page."""
    root = _root(data, "arXiv OAI-PMH", f"{_OAI}OAI-PMH", "an OAI-PMH response")
    page = FeedPage()
    if _oai_errors(root):
        return page
    listing = root.find(f"{_OAI}ListRecords")
    if listing is None:
        raise FeedParseError("The arXiv OAI-PMH body has neither <ListRecords> nor <error>.")
    for record in listing.iterchildren(f"{_OAI}record"):
        header = record.find(f"{_OAI}header")
        if header is not None and header.get("status") == "deleted":
            continue
        try:
            page.entries.append(_oai_record(record))
        except _Malformed as exc:
            _skip(page, "arXiv OAI-PMH", exc)
    _oai_paging(listing, page)
    return page


def _oai_errors(root: Any) -> bool:
    """True for noRecordsMatch (an empty result); ArxivAPIError for any other OAI error."""
    errors = [
        (e.get("code") or "unknown", squash(e.text or ""))
        for e in root.iterchildren(f"{_OAI}error")
    ]
    if not errors:
        return False
    if all(code == "noRecordsMatch" for code, _ in errors):
        return True
    detail = "; ".join(f"{code}: {text}" if text else code for code, text in errors)
    raise ArxivAPIError(f"arXiv OAI-PMH error: {detail}")


def _oai_paging(listing: Any, page: FeedPage) -> None:
    """resumptionToken (empty element = last page -> None), completeListSize and cursor."""
    token = listing.find(f"{_OAI}resumptionToken")
    if token is None:
        return
    page.resumption_token = (token.text or "").strip() or None
    page.total_results = to_int(token.get("completeListSize"))
    page.start_index = to_int(token.get("cursor"))


def _oai_record(record: Any) -> PaperRecord:
    """One `<record>` with arXivRaw metadata as a PaperRecord carrying its version history."""
    raw = record.find(f"{_OAI}metadata/{_RAW}arXivRaw")
    if raw is None:
        raise _Malformed("record without arXivRaw metadata")
    arxiv_id, _ = _split_versioned(raw.findtext(f"{_RAW}id"))
    title = _clean(raw.findtext(f"{_RAW}title"))
    if title is None:
        raise _Malformed(f"{arxiv_id} has no title")
    versions = _oai_versions(raw)
    if not versions:
        raise _Malformed(f"{arxiv_id} has no <version>")
    categories = dedupe((raw.findtext(f"{_RAW}categories") or "").split())
    return PaperRecord(
        arxiv_id=arxiv_id,
        version=versions[-1].version,
        title=title,
        abstract=squash(raw.findtext(f"{_RAW}abstract") or ""),
        authors=split_authors(raw.findtext(f"{_RAW}authors")),
        categories=categories,
        primary_category=categories[0] if categories else None,
        comment=_clean(raw.findtext(f"{_RAW}comments")),
        journal_ref=_clean(raw.findtext(f"{_RAW}journal-ref")),
        doi=_clean(raw.findtext(f"{_RAW}doi")),
        submitted=versions[0].created,
        updated=versions[-1].created,
        versions=versions,
    )


def _oai_versions(raw: Any) -> tuple[VersionRecord, ...]:
    """`<version version="v2"><date>...</date></version>` elements, sorted by number."""
    found: dict[int, VersionRecord] = {}
    for element in raw.iterchildren(f"{_RAW}version"):
        match = _OAI_VERSION.match((element.get("version") or "").strip())
        if match:
            number = int(match.group(1))
            created = rfc2822_datetime(element.findtext(f"{_RAW}date"))
            found[number] = VersionRecord(version=number, created=created)
    return tuple(found[number] for number in sorted(found))


# --- shared -----------------------------------------------------------------------------------


def _skip(page: FeedPage, source: str, exc: Exception) -> None:
    page.skipped += 1
    log.warning("Skipping a malformed %s entry: %s", source, exc)


def _root(data: bytes, what: str, tag: str, expected: str) -> Any:
    """The parsed root element, or FeedParseError when it is not `tag`."""
    root = parse_xml(data, what)
    if root.tag != tag:
        found = etree.QName(root).localname
        raise FeedParseError(f"The {what} body is XML but not {expected} (its root is <{found}>).")
    return root
