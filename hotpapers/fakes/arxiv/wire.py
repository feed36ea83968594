"""Wire formats of the fake arXiv: export-API Atom, rss.arxiv.org RSS 2.0 and OAI-PMH arXivRaw.

Built with lxml so every value is escaped; element names, namespaces and order follow the
real services' 2026 responses. Titles and abstracts are hard-wrapped with indentation in the
API and OAI bodies, as arXiv's are, so consumers must collapse whitespace.
"""

from __future__ import annotations

import hashlib
import textwrap
from collections.abc import Mapping, Sequence
from datetime import UTC, date, datetime, time
from email.utils import format_datetime
from typing import Any
from zoneinfo import ZoneInfo

from lxml import etree

from hotpapers.storage.records import PaperRecord, VersionRecord

ET = ZoneInfo("America/New_York")
ATOM_NS = "http://www.w3.org/2005/Atom"
OPENSEARCH_NS = "http://a9.com/-/spec/opensearch/1.1/"
ARXIV_NS = "http://arxiv.org/schemas/atom"
DC_NS = "http://purl.org/dc/elements/1.1/"
CONTENT_NS = "http://purl.org/rss/1.0/modules/content/"
OAI_NS = "http://www.openarchives.org/OAI/2.0/"
RAW_NS = "http://arxiv.org/OAI/arXivRaw/"
XSI_NS = "http://www.w3.org/2001/XMLSchema-instance"

_A = f"{{{ATOM_NS}}}"
_OS = f"{{{OPENSEARCH_NS}}}"
_X = f"{{{ARXIV_NS}}}"
_DC = f"{{{DC_NS}}}"
_OAI = f"{{{OAI_NS}}}"
_RAW = f"{{{RAW_NS}}}"

LICENSES = (
    "http://creativecommons.org/licenses/by/4.0/",
    "http://arxiv.org/licenses/nonexclusive-distrib/1.0/",
    "http://creativecommons.org/licenses/by-nc-sa/4.0/",
    "http://creativecommons.org/publicdomain/zero/1.0/",
)


def _iso(moment: datetime | None) -> str:
    value = (moment or datetime.now(UTC)).astimezone(UTC)
    return value.strftime("%Y-%m-%dT%H:%M:%SZ")


def _sub(parent: Any, tag: str, text: str | None = None, **attrib: str) -> Any:
    element = etree.SubElement(parent, tag, attrib)
    if text is not None:
        element.text = text
    return element


def _tostring(root: Any) -> bytes:
    etree.indent(root, space="  ")
    body: bytes = etree.tostring(root, xml_declaration=True, encoding="UTF-8")
    return body + b"\n"


def wrap_text(text: str, indent: str = "  ", width: int = 78) -> str:
    """Hard-wrap `text` the way arXiv's older bodies are: newline plus indentation."""
    lines = textwrap.wrap(text, width=width, break_long_words=False, break_on_hyphens=False)
    return f"\n{indent}".join(lines) if lines else text


def license_for(arxiv_id: str) -> str:
    return LICENSES[int(hashlib.sha1(arxiv_id.encode()).hexdigest(), 16) % len(LICENSES)]


def versions_of(record: PaperRecord) -> tuple[VersionRecord, ...]:
    """The record's version history, synthesised from submitted/updated when not given."""
    if record.versions:
        known = tuple(sorted(record.versions, key=lambda v: v.version))
        if known[-1].version < record.version:
            known += (VersionRecord(record.version, record.updated),)
        return known
    return tuple(
        VersionRecord(n, record.submitted if n == 1 else record.updated)
        for n in range(1, record.version + 1)
    )


# --- export API (Atom) -----------------------------------------------------------------------


def _atom_root() -> Any:
    nsmap = {"opensearch": OPENSEARCH_NS, "arxiv": ARXIV_NS, None: ATOM_NS}
    return etree.Element(f"{_A}feed", nsmap=nsmap)  # type: ignore[dict-item]


def atom_feed(
    entries: Sequence[tuple[PaperRecord, int]],
    *,
    query_string: str,
    total: int,
    start: int,
    items_per_page: int,
    now: datetime | None = None,
) -> bytes:
    """An API result page; `entries` pairs each record with the version to show."""
    root = _atom_root()
    digest = hashlib.sha1(query_string.encode()).hexdigest()[:27]
    _sub(root, f"{_A}id", f"https://arxiv.org/api/{digest}")
    _sub(root, f"{_A}title", f"arXiv Query: {query_string}")
    _sub(root, f"{_A}updated", _iso(now))
    _sub(
        root,
        f"{_A}link",
        href=f"https://arxiv.org/api/query?{query_string}",
        type="application/atom+xml",
    )
    _sub(root, f"{_OS}itemsPerPage", str(items_per_page))
    _sub(root, f"{_OS}totalResults", str(total))
    _sub(root, f"{_OS}startIndex", str(start))
    for record, version in entries:
        _atom_entry(root, record, version)
    return _tostring(root)


def _atom_entry(root: Any, record: PaperRecord, version: int) -> None:
    history = {v.version: v.created for v in versions_of(record)}
    published = history.get(1) or record.submitted
    updated = history.get(version) or record.updated or published
    vid = f"{record.arxiv_id}v{version}"
    entry = _sub(root, f"{_A}entry")
    _sub(entry, f"{_A}id", f"http://arxiv.org/abs/{vid}")
    _sub(entry, f"{_A}title", wrap_text(record.title))
    _sub(entry, f"{_A}updated", _iso(updated))
    _sub(entry, f"{_A}link", href=f"https://arxiv.org/abs/{vid}", rel="alternate", type="text/html")
    if record.has_pdf:  # a withdrawn paper has no PDF link
        _sub(
            entry,
            f"{_A}link",
            href=f"https://arxiv.org/pdf/{vid}",
            rel="related",
            type="application/pdf",
            title="pdf",
        )
    _sub(entry, f"{_A}summary", "  " + wrap_text(record.abstract) + "\n")
    for category in record.categories:
        _sub(entry, f"{_A}category", term=category, scheme=ARXIV_NS)
    _sub(entry, f"{_A}published", _iso(published))
    if record.comment:
        _sub(entry, f"{_X}comment", record.comment)
    primary = record.primary_category or (record.categories[0] if record.categories else "")
    _sub(entry, f"{_X}primary_category", term=primary)
    if record.journal_ref:
        _sub(entry, f"{_X}journal_ref", record.journal_ref)
    for name in record.authors:
        author = _sub(entry, f"{_A}author")
        _sub(author, f"{_A}name", name)
    if record.doi:
        _sub(entry, f"{_X}doi", record.doi)
        _sub(entry, f"{_A}link", rel="related", href=f"https://doi.org/{record.doi}", title="doi")


def atom_error(message: str, error_id: str, now: datetime | None = None) -> bytes:
    """The API's error document (sent with HTTP 400)."""
    root = _atom_root()
    _sub(root, f"{_A}id", "https://arxiv.org/")
    _sub(root, f"{_A}title", "arXiv Search Results")
    _sub(root, f"{_A}updated", _iso(now))
    _sub(root, f"{_OS}itemsPerPage", "1")
    _sub(root, f"{_OS}totalResults", "1")
    _sub(root, f"{_OS}startIndex", "0")
    entry = _sub(root, f"{_A}entry")
    url = f"https://arxiv.org/api/errors#{error_id}"
    _sub(entry, f"{_A}id", url)
    _sub(entry, f"{_A}title", "Error")
    _sub(entry, f"{_A}updated", _iso(now))
    _sub(entry, f"{_A}link", href=url, rel="alternate", type="text/html")
    _sub(entry, f"{_A}summary", message)
    author = _sub(entry, f"{_A}author")
    _sub(author, f"{_A}name", "arXiv api core")
    return _tostring(root)


# --- rss.arxiv.org (RSS 2.0) -----------------------------------------------------------------


def feed_pub_date(feed_date: date) -> str:
    """Midnight ET of the listing date, as the channel and items show it."""
    return format_datetime(datetime.combine(feed_date, time(0), tzinfo=ET))


def feed_build_date(feed_date: date) -> str:
    built = datetime.combine(feed_date, time(0), tzinfo=ET).astimezone(UTC)
    return format_datetime(built.replace(second=2))


def rss_feed(
    label: str,
    items: Sequence[PaperRecord],
    feed_date: date,
    base_url: str = "http://rss.arxiv.org",
) -> bytes:
    """The announcement feed of `label` (e.g. 'cs.LG+cs.CV') for `feed_date`."""
    nsmap = {"arxiv": ARXIV_NS, "dc": DC_NS, "atom": ATOM_NS, "content": CONTENT_NS}
    root = etree.Element("rss", nsmap=nsmap, version="2.0")  # type: ignore[arg-type]
    channel = _sub(root, "channel")
    link = f"{base_url}/rss/{label}"
    _sub(channel, "title", f"{label} updates on arXiv.org")
    _sub(channel, "link", link)
    _sub(channel, "description", f"{label} updates on the arXiv.org e-print archive.")
    _sub(channel, f"{_A}link", href=link, rel="self", type="application/rss+xml")
    _sub(channel, "docs", "http://www.rssboard.org/rss-specification")
    _sub(channel, "language", "en-us")
    _sub(channel, "lastBuildDate", feed_build_date(feed_date))
    _sub(channel, "managingEditor", "rss-help@arxiv.org")
    pub_date = feed_pub_date(feed_date)
    _sub(channel, "pubDate", pub_date)
    skip = _sub(channel, "skipDays")
    _sub(skip, "day", "Sunday")
    _sub(skip, "day", "Saturday")
    for record in items:
        vid = f"{record.arxiv_id}v{record.version}"
        item = _sub(channel, "item")
        _sub(item, "title", record.title)
        _sub(item, "link", f"https://arxiv.org/abs/{record.arxiv_id}")
        kind = record.announce_type or "new"
        _sub(
            item, "description", f"arXiv:{vid} Announce Type: {kind} \nAbstract: {record.abstract}"
        )
        _sub(item, "guid", f"oai:arXiv.org:{vid}", isPermaLink="false")
        for category in record.categories:
            _sub(item, "category", category)
        _sub(item, "pubDate", pub_date)
        _sub(item, f"{_X}announce_type", kind)
        _sub(item, f"{_DC}rights", license_for(record.arxiv_id))
        if record.doi:
            _sub(item, f"{_X}DOI", record.doi)
        if record.journal_ref:
            _sub(item, f"{_X}journal_reference", record.journal_ref)
        _sub(item, f"{_DC}creator", ", ".join(record.authors))
    return _tostring(root)


# --- OAI-PMH (arXivRaw) ----------------------------------------------------------------------


def _oai_root(request_params: Mapping[str, str], base_url: str, now: datetime | None) -> Any:
    root = etree.Element(f"{_OAI}OAI-PMH", nsmap={None: OAI_NS, "xsi": XSI_NS})  # type: ignore[dict-item]
    root.set(
        f"{{{XSI_NS}}}schemaLocation",
        f"{OAI_NS} http://www.openarchives.org/OAI/2.0/OAI-PMH.xsd",
    )
    _sub(root, f"{_OAI}responseDate", _iso(now))
    request = _sub(root, f"{_OAI}request", base_url)
    for key, value in request_params.items():
        request.set(key, value)
    return root


def oai_set_spec(category: str) -> str:
    """arXiv's OAI set of one category: cs.LG -> cs:cs:LG, hep-th -> physics:hep-th."""
    archive, _, sub = category.partition(".")
    groups = {"cs", "math", "stat", "q-bio", "q-fin", "econ", "eess"}
    if archive in groups:
        return f"{archive}:{archive}:{sub}" if sub else archive
    return f"physics:{archive}:{sub}" if sub else f"physics:{archive}"


def oai_list_records(
    records: Sequence[tuple[PaperRecord, date]],
    *,
    request_params: Mapping[str, str],
    base_url: str,
    token: str | None,
    cursor: int,
    complete_size: int,
    paged: bool,
    now: datetime | None = None,
) -> bytes:
    """One ListRecords page; `token` None with `paged` gives the empty last-page token."""
    root = _oai_root(request_params, base_url, now)
    listing = _sub(root, f"{_OAI}ListRecords")
    for record, datestamp in records:
        _oai_record(listing, record, datestamp)
    if paged:
        attrs = {"cursor": str(cursor), "completeListSize": str(complete_size)}
        _sub(listing, f"{_OAI}resumptionToken", token, **attrs)
    return _tostring(root)


def _oai_record(listing: Any, record: PaperRecord, datestamp: date) -> None:
    element = _sub(listing, f"{_OAI}record")
    header = _sub(element, f"{_OAI}header")
    _sub(header, f"{_OAI}identifier", f"oai:arXiv.org:{record.arxiv_id}")
    _sub(header, f"{_OAI}datestamp", datestamp.isoformat())
    for spec in dict.fromkeys(oai_set_spec(c) for c in record.categories):
        _sub(header, f"{_OAI}setSpec", spec)
    metadata = _sub(element, f"{_OAI}metadata")
    raw = etree.SubElement(metadata, f"{_RAW}arXivRaw", nsmap={None: RAW_NS})  # type: ignore[dict-item]
    raw.set(f"{{{XSI_NS}}}schemaLocation", f"{RAW_NS} http://arxiv.org/OAI/arXivRaw.xsd")
    _sub(raw, f"{_RAW}id", record.arxiv_id)
    _sub(raw, f"{_RAW}submitter", record.authors[0] if record.authors else "arXiv")
    for version in versions_of(record):
        node = _sub(raw, f"{_RAW}version", version="v" + str(version.version))
        created = version.created or record.submitted or datetime.now(UTC)
        _sub(node, f"{_RAW}date", format_datetime(created.astimezone(UTC), usegmt=True))
        _sub(node, f"{_RAW}size", f"{100 + len(record.abstract) % 900}kb")
        _sub(node, f"{_RAW}source_type", "D")
    _sub(raw, f"{_RAW}title", wrap_text(record.title))
    _sub(raw, f"{_RAW}authors", _raw_authors(record.authors))
    _sub(raw, f"{_RAW}categories", " ".join(record.categories))
    if record.comment:
        _sub(raw, f"{_RAW}comments", record.comment)
    if record.journal_ref:
        _sub(raw, f"{_RAW}journal-ref", record.journal_ref)
    if record.doi:
        _sub(raw, f"{_RAW}doi", record.doi)
    _sub(raw, f"{_RAW}license", license_for(record.arxiv_id))
    _sub(raw, f"{_RAW}abstract", "  " + wrap_text(record.abstract) + "\n")


def _raw_authors(authors: Sequence[str]) -> str:
    if len(authors) <= 1:
        return "".join(authors)
    return f"{', '.join(authors[:-1])} and {authors[-1]}"


def oai_error(
    code: str,
    message: str,
    *,
    request_params: Mapping[str, str],
    base_url: str,
    now: datetime | None = None,
) -> bytes:
    root = _oai_root(request_params, base_url, now)
    _sub(root, f"{_OAI}error", message, code=code)
    return _tostring(root)


HTML_ERROR = (
    b"<!DOCTYPE html>\n<html><head><title>503 Service Temporarily Unavailable</title></head>\n"
    b"<body><h1>Service Temporarily Unavailable</h1><p>The server is temporarily unable to "
    b"service your request. Please try again later.</p></body></html>\n"
)
