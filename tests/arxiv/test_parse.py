"""Tests for hotpapers.arxiv.parse: API Atom, rss.arxiv.org RSS, OAI-PMH arXivRaw, hostile input."""

from __future__ import annotations

import logging
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest

from hotpapers.arxiv import _xml
from hotpapers.arxiv.parse import parse_atom, parse_oai, parse_rss
from hotpapers.errors import ArxivAPIError, FeedParseError
from hotpapers.plumbing.text import collapse_ws
from hotpapers.storage.records import VersionRecord

FIXTURES = Path(__file__).parents[1] / "fixtures" / "arxiv"


def load(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


# --- export API (Atom) ------------------------------------------------------------------------


def test_atom_search_page_paging():
    """opensearch totalResults/startIndex/itemsPerPage land on the FeedPage."""
    page = parse_atom(load("api_search_page.xml"))
    assert (page.total_results, page.start_index, page.items_per_page) == (48213, 20, 2)
    assert page.skipped == 0
    assert [e.arxiv_id for e in page.entries] == ["2103.06902", "2405.01234"]


def test_atom_id_and_version_from_entry_id():
    """http://arxiv.org/abs/2103.06902v2 becomes arxiv_id 2103.06902, version 2."""
    record = parse_atom(load("api_search_page.xml")).entries[0]
    assert (record.arxiv_id, record.version) == ("2103.06902", 2)


def test_atom_title_collapsed_latex_kept():
    """The wrapped title is whitespace-collapsed and its LaTeX kept verbatim."""
    record = parse_atom(load("api_search_page.xml")).entries[0]
    assert record.title == r"Sparse Attention with $\mathcal{O}(n \log n)$ Cost for Long Sequences"


def test_atom_summary_collapsed_entities_decoded_latex_kept():
    """The abstract is collapsed, XML entities decoded, LaTeX untouched."""
    record = parse_atom(load("api_search_page.xml")).entries[0]
    assert record.abstract == (
        r"We show that attention over $n$ tokens needs only $\mathcal{O}(n \log n)$ time "
        r"when $\alpha < 1$ & the kernel is \emph{sparse}. Experiments confirm it."
    )


def test_atom_authors_in_order_without_affiliations():
    """Authors keep document order; names are collapsed; affiliations are not names."""
    record = parse_atom(load("api_search_page.xml")).entries[0]
    assert record.authors == ("Zoë Krähenbühl", "José Raúl Romero", "Wei Zhang")


def test_atom_primary_category_first():
    """The primary category comes first, then the rest in document order, no repeats."""
    record = parse_atom(load("api_search_page.xml")).entries[0]
    assert record.primary_category == "cs.LG"
    assert record.categories == ("cs.LG", "stat.ML", "cs.CL")


def test_atom_comment_journal_ref_doi():
    """arxiv:comment (collapsed), arxiv:journal_ref and arxiv:doi are read."""
    record = parse_atom(load("api_search_page.xml")).entries[0]
    assert record.comment == "12 pages, 4 figures"
    assert record.journal_ref == "Proc. ICML 2021, pp. 1-12"
    assert record.doi == "10.1000/xyz123"


def test_atom_optional_fields_absent_are_none():
    """An entry without comment, journal_ref or doi has None for each."""
    record = parse_atom(load("api_search_page.xml")).entries[1]
    assert (record.comment, record.journal_ref, record.doi) == (None, None, None)


def test_atom_dates_are_aware_utc():
    """published -> submitted and updated -> updated, both timezone-aware UTC."""
    record = parse_atom(load("api_search_page.xml")).entries[0]
    assert record.submitted == datetime(2021, 3, 11, 18, 59, 59, tzinfo=UTC)
    assert record.updated == datetime(2021, 6, 1, 17, 45, 10, tzinfo=UTC)
    assert record.submitted.utcoffset() is not None


def test_atom_offset_timestamps_converted_to_utc():
    """A manual-style '-04:00' timestamp is converted to the same instant in UTC."""
    body = load("api_id_list.xml").replace(b"2025-09-01T12:30:00Z", b"2025-09-01T08:30:00-04:00")
    record = parse_atom(body).entries[0]
    assert record.submitted == datetime(2025, 9, 1, 12, 30, tzinfo=UTC)
    assert record.submitted.tzinfo is UTC


def test_atom_title_zero_is_kept():
    """The paper literally titled '0' is a valid entry, not a missing title."""
    record = parse_atom(load("api_search_page.xml")).entries[1]
    assert record.title == "0"


def test_atom_pdf_link_presence():
    """An entry lists a PDF link; one without it (a withdrawn paper) says has_pdf False."""
    data = load("api_search_page.xml")
    assert all(record.has_pdf for record in parse_atom(data).entries)
    start = data.index(b"<entry")
    pdf_link = data.index(b'title="pdf"', start)
    link_start = data.rindex(b"<link", start, pdf_link)
    link_end = data.index(b">", pdf_link) + 1
    without = data[:link_start] + data[link_end:]
    records = parse_atom(without).entries
    assert [record.has_pdf for record in records] == [False, True]


def test_atom_id_list_batch():
    """An id_list batch yields each found paper with its version; totalResults counts found only."""
    page = parse_atom(load("api_id_list.xml"))
    assert [(e.arxiv_id, e.version) for e in page.entries] == [
        ("2509.00011", 3),
        ("hep-th/9901001", 1),
    ]
    assert page.total_results == 2


def test_atom_old_style_id():
    """An old-style id (hep-th/9901001v1) keeps its archive prefix and version."""
    record = parse_atom(load("api_id_list.xml")).entries[1]
    assert (record.arxiv_id, record.version) == ("hep-th/9901001", 1)
    assert record.categories == ("hep-th",)
    assert record.abstract == "Strings, old-style."


def test_atom_error_document_raises_api_error():
    """The API's HTTP 400 error feed raises ArxivAPIError carrying its summary."""
    with pytest.raises(ArxivAPIError, match="incorrect id format for notanid"):
        parse_atom(load("api_error.xml"))


def test_atom_empty_result():
    """A feed with no entries is an empty page with totalResults 0."""
    page = parse_atom(load("api_empty.xml"))
    assert page.entries == []
    assert (page.total_results, page.skipped) == (0, 0)


def test_atom_malformed_entries_skipped_and_counted(caplog):
    """Entries without id, with an unparseable id or without title are skipped and counted."""
    with caplog.at_level(logging.WARNING, logger="hotpapers.arxiv.parse"):
        page = parse_atom(load("api_malformed_entries.xml"))
    assert [e.arxiv_id for e in page.entries] == ["2501.00001", "2501.00005"]
    assert page.skipped == 3
    messages = " | ".join(r.getMessage() for r in caplog.records)
    assert "no id" in messages
    assert "not-an-id" in messages
    assert "2501.00004 has no title" in messages


def test_atom_rejects_rss_document():
    """An RSS body handed to parse_atom is a FeedParseError naming the root it found."""
    with pytest.raises(FeedParseError, match=r"not an Atom feed.*<rss>"):
        parse_atom(load("rss_feed.xml"))


# --- rss.arxiv.org (RSS 2.0) ------------------------------------------------------------------


def rss_by_id() -> dict:
    return {e.arxiv_id: e for e in parse_rss(load("rss_feed.xml")).entries}


def test_rss_all_items_parsed_in_order():
    """Every item becomes a record, in feed order, none skipped."""
    page = parse_rss(load("rss_feed.xml"))
    assert [e.arxiv_id for e in page.entries] == [
        "2611.10001",
        "2611.10002",
        "2103.06902",
        "math.GT/0309136",
        "2502.00077",
    ]
    assert page.skipped == 0


def test_rss_announce_types():
    """announce_type is read per item, with 'absonly' mapped to 'replace'."""
    types = {k: v.announce_type for k, v in rss_by_id().items()}
    assert types == {
        "2611.10001": "new",
        "2611.10002": "cross",
        "2103.06902": "replace",
        "math.GT/0309136": "replace-cross",
        "2502.00077": "replace",
    }


def test_rss_version_from_description():
    """The version comes from 'arXiv:<id>vN' in the description (the link has none)."""
    versions = {k: v.version for k, v in rss_by_id().items()}
    assert versions["2103.06902"] == 4
    assert versions["math.GT/0309136"] == 2


def test_rss_version_from_guid_when_description_lacks_it():
    """Without the description prefix, the version comes from the guid."""
    body = load("rss_feed.xml").replace(
        b"arXiv:2103.06902v4 Announce Type: replace \nAbstract: ", b""
    )
    record = {e.arxiv_id: e for e in parse_rss(body).entries}["2103.06902"]
    assert record.version == 4
    assert record.abstract == "A fourth version."
    assert record.announce_type == "replace"


def test_rss_abstract_after_marker():
    """The abstract is the description text after 'Abstract: ', collapsed, entities decoded."""
    record = rss_by_id()["2611.10001"]
    assert record.abstract == r"We show that $p(x) < 1$ & that tokenizers \emph{matter}."
    assert record.title == "Tokenizers Considered Harmful"


def test_rss_authors_strip_affiliations_with_commas():
    """'A (X, Y), B, C (D (E))' gives three authors; affiliations (even nested) are dropped."""
    record = rss_by_id()["2611.10001"]
    assert record.authors == ("Ada Lovelace", "Alan Turing", "Grace Hopper")


def test_rss_categories_in_order_without_primary():
    """Categories keep feed order; primary_category stays None (RSS has no marker)."""
    record = rss_by_id()["2611.10002"]
    assert record.categories == ("cs.CV", "cs.CL")
    assert record.primary_category is None


def test_rss_doi_and_journal_reference():
    """arxiv:DOI and arxiv:journal_reference are read (RSS names differ from the API's)."""
    record = rss_by_id()["2103.06902"]
    assert record.doi == "10.1000/replaced.42"
    assert record.journal_ref == "J. Fixture Res. 7 (2026) 1-10"
    assert rss_by_id()["2611.10001"].doi is None


def test_rss_channel_pubdate_is_aware():
    """FeedPage.published is the channel pubDate as an aware datetime (same instant)."""
    page = parse_rss(load("rss_feed.xml"))
    assert page.published == datetime(2026, 11, 24, 5, 0, tzinfo=UTC)
    assert page.published.utcoffset() is not None


def test_rss_empty_channel():
    """A weekend/holiday channel without items is a valid, empty page."""
    page = parse_rss(load("rss_empty.xml"))
    assert page.entries == []
    assert page.skipped == 0
    assert page.published == datetime(2026, 11, 29, 5, 0, tzinfo=UTC)


def test_rss_item_without_arxiv_link_skipped():
    """An item whose link/guid hold no arXiv id is skipped and counted; the rest parse."""
    body = load("rss_feed.xml").replace(
        b"<link>https://arxiv.org/abs/2611.10002</link>", b"<link>https://example.org/x</link>"
    )
    body = body.replace(b"arXiv:2611.10002v1", b"").replace(b"oai:arXiv.org:2611.10002v1", b"")
    page = parse_rss(body)
    assert page.skipped == 1
    assert len(page.entries) == 4


def test_rss_rejects_atom_document():
    """An Atom body handed to parse_rss is a FeedParseError."""
    with pytest.raises(FeedParseError, match=r"not an RSS 2\.0 feed"):
        parse_rss(load("api_empty.xml"))


# --- OAI-PMH (arXivRaw) -----------------------------------------------------------------------


def test_oai_page_with_resumption_token():
    """A page with a resumptionToken returns the token and completeListSize/cursor."""
    page = parse_oai(load("oai_page_first.xml"))
    assert page.resumption_token == "7291534|1001"
    assert (page.total_results, page.start_index) == (1523, 0)


def test_oai_deleted_record_skipped_silently():
    """A header status='deleted' record is dropped and not counted as malformed."""
    page = parse_oai(load("oai_page_first.xml"))
    assert [e.arxiv_id for e in page.entries] == ["0704.0002", "hep-th/9901001"]
    assert page.skipped == 0


def test_oai_record_fields():
    """Title/abstract collapsed, authors split on ' and ' with affiliations dropped, comments."""
    record = parse_oai(load("oai_page_first.xml")).entries[0]
    assert record.title == "Sparsity-certifying Graph Decompositions"
    assert record.authors == ("Ileana Streinu", "Louis Theran")
    assert record.abstract.startswith(r"We describe a new algorithm, the $(k,\ell)$-pebble game")
    assert record.abstract.endswith("$(k,\\ell)$-sparse graphs.")
    assert record.comment == "To appear in Graphs and Combinatorics"


def test_oai_versions_and_dates():
    """Version elements give VersionRecords; latest is the version; v1 is submitted."""
    record = parse_oai(load("oai_page_first.xml")).entries[0]
    assert record.versions == (
        VersionRecord(1, datetime(2007, 3, 31, 2, 26, 18, tzinfo=UTC)),
        VersionRecord(2, datetime(2008, 12, 13, 17, 26, 0, tzinfo=UTC)),
    )
    assert record.version == 2
    assert record.submitted == datetime(2007, 3, 31, 2, 26, 18, tzinfo=UTC)
    assert record.updated == datetime(2008, 12, 13, 17, 26, 0, tzinfo=UTC)


def test_oai_categories_primary_first():
    """Space-separated categories keep order; the first is the primary."""
    record = parse_oai(load("oai_page_first.xml")).entries[1]
    assert record.categories == ("hep-th", "cs.CL")
    assert record.primary_category == "hep-th"


def test_oai_old_style_id_journal_ref_doi_authors():
    """Old-style id, journal-ref, doi, and 'A, B and C' authors."""
    record = parse_oai(load("oai_page_first.xml")).entries[1]
    assert (record.arxiv_id, record.version) == ("hep-th/9901001", 1)
    assert record.journal_ref == "Phys. Lett. B 1 (1999) 1"
    assert record.doi == "10.1016/fixture.1999.1"
    assert record.authors == ("Richard Feynman", "Julian Schwinger", "Sin-Itiro Tomonaga")


def test_oai_last_page_empty_token_is_none():
    """An empty <resumptionToken/> marks the last page: resumption_token is None."""
    page = parse_oai(load("oai_page_last.xml"))
    assert page.resumption_token is None
    assert [e.arxiv_id for e in page.entries] == ["2611.10001"]


def test_oai_no_records_match_is_empty_page():
    """error code=noRecordsMatch is an empty page, not an exception."""
    page = parse_oai(load("oai_no_records.xml"))
    assert page.entries == []
    assert page.resumption_token is None


def test_oai_other_error_raises_api_error():
    """Any other OAI error (badResumptionToken) raises ArxivAPIError with code and message."""
    with pytest.raises(ArxivAPIError, match="badResumptionToken: The resumptionToken has expired"):
        parse_oai(load("oai_bad_token.xml"))


def test_oai_record_without_versions_skipped():
    """A record with no <version> cannot give a version: skipped and counted."""
    body = load("oai_page_last.xml")
    start, end = body.index(b'<version version="v1">'), body.index(b"</version>") + 10
    page = parse_oai(body[:start] + body[end:])
    assert (len(page.entries), page.skipped) == (0, 1)


# --- hostile and broken bodies ----------------------------------------------------------------


def test_billion_laughs_rejected():
    """Entity expansion ('billion laughs') is refused at once because of its DOCTYPE."""
    started = time.perf_counter()
    with pytest.raises(FeedParseError, match="document type declarations are not allowed"):
        parse_atom(load("billion_laughs.xml"))
    assert time.perf_counter() - started < 1


def test_billion_laughs_in_utf16_rejected():
    """A UTF-16 body (which hides DOCTYPE from a byte scan) is still refused, unexpanded."""
    text = load("billion_laughs.xml").decode().replace('encoding="UTF-8"', 'encoding="UTF-16"')
    started = time.perf_counter()
    with pytest.raises(FeedParseError):
        parse_atom(text.encode("utf-16"))
    assert time.perf_counter() - started < 1


def test_external_entity_rejected():
    """An external entity (SYSTEM file:///etc/passwd) is refused; nothing is read."""
    with pytest.raises(FeedParseError, match="document type declarations are not allowed") as info:
        parse_rss(load("external_entity.xml"))
    assert "root:" not in str(info.value)


def test_external_entity_in_utf16_rejected():
    """The UTF-16 variant of the external entity attack is refused too."""
    text = load("external_entity.xml").decode().replace('encoding="UTF-8"', 'encoding="UTF-16"')
    with pytest.raises(FeedParseError, match="document type declarations are not allowed"):
        parse_atom(text.encode("utf-16"))


def test_html_error_page_rejected():
    """An HTML error page (503 from a proxy) is a FeedParseError that says it is HTML."""
    with pytest.raises(FeedParseError, match="HTML page, not XML"):
        parse_atom(load("html_error.html"))


def test_non_xml_body_rejected():
    """A plain-text body is a FeedParseError, not a silent empty page."""
    with pytest.raises(FeedParseError, match="not well-formed XML"):
        parse_oai(b"Rate exceeded.")


def test_empty_body_rejected():
    """An empty (or whitespace-only) body is a FeedParseError."""
    with pytest.raises(FeedParseError, match="empty"):
        parse_rss(b"  \n")


@pytest.mark.parametrize("cut", [0.25, 0.5, 0.9, 0.999])
def test_truncated_body_rejected(cut):
    """A body cut off anywhere raises FeedParseError rather than returning a partial page."""
    body = load("api_search_page.xml")
    with pytest.raises(FeedParseError, match="not well-formed XML"):
        parse_atom(body[: int(len(body) * cut)])


def test_truncated_oai_rejected():
    """A truncated OAI-PMH page (mid-record) raises FeedParseError."""
    body = load("oai_page_first.xml")
    with pytest.raises(FeedParseError):
        parse_oai(body[: body.index(b"<resumptionToken")])


def test_oversized_body_rejected(monkeypatch):
    """A body over the size cap is refused before parsing, with the sizes in the message."""
    monkeypatch.setattr(_xml, "MAX_BODY_BYTES", 1000)
    with pytest.raises(FeedParseError, match="over the 1,000-byte limit"):
        parse_atom(load("api_search_page.xml"))


def test_str_body_rejected():
    """Parsers take bytes; a str is a clear FeedParseError, not an lxml ValueError."""
    with pytest.raises(FeedParseError, match="must be bytes"):
        parse_atom(load("api_empty.xml").decode())  # type: ignore[arg-type]


# --- helpers ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        *("  a\n\tb  ", "a\u00a0\u2003b", "x\x1cy\x1fz", "\u2028ln\u2029sep\x85", "", " "),
        *("a  b\r\nc", "clean ascii", "a\x0bb\x0cc", "x\x1dy\x1ez", " lead", "trail\t", "é  x"),
        *("caf\u00e9 au lait", "\u3000wide\u3000", "one\ttab", "a\rb"),
    ],
)
def test_squash_matches_collapse_ws(text):
    """The fast whitespace collapse used by the parsers agrees with text.collapse_ws."""
    assert _xml.squash(text) == collapse_ws(text)


def test_split_authors_nested_parentheses_and_semicolons():
    """split_authors drops nested affiliations and splits on commas, semicolons and ' and '."""
    assert _xml.split_authors("A B (X, (Y)), C D; E F and G H") == ("A B", "C D", "E F", "G H")
    assert _xml.split_authors("Alexander Andersson") == ("Alexander Andersson",)


def test_squash_fast_path_knows_every_ascii_whitespace():
    """The clean-ASCII shortcut checks every ASCII char that str.split treats as whitespace."""
    ascii_ws = {chr(c) for c in range(128) if chr(c).isspace()}
    assert ascii_ws == {" "} | {m for m in _xml._ASCII_WS_MARKS if len(m) == 1}


def test_acm_and_msc_codes_are_not_categories() -> None:
    """The API mixes ACM/MSC class codes into <category>; only arXiv categories are kept."""
    body = b"""<?xml version='1.0' encoding='UTF-8'?>
<feed xmlns:opensearch="http://a9.com/-/spec/opensearch/1.1/"
      xmlns:arxiv="http://arxiv.org/schemas/atom" xmlns="http://www.w3.org/2005/Atom">
  <opensearch:totalResults>1</opensearch:totalResults>
  <entry>
    <id>http://arxiv.org/abs/2103.06902v1</id>
    <title>T</title>
    <summary>S</summary>
    <published>2021-03-11T18:59:56Z</published>
    <updated>2021-03-11T18:59:56Z</updated>
    <author><name>A</name></author>
    <category term="cs.LG" scheme="http://arxiv.org/schemas/atom"/>
    <category term="I.2.6" scheme="http://arxiv.org/schemas/atom"/>
    <category term="68T05" scheme="http://arxiv.org/schemas/atom"/>
    <category term="stat.ML" scheme="http://arxiv.org/schemas/atom"/>
    <arxiv:primary_category term="cs.LG"/>
  </entry>
</feed>"""
    assert parse_atom(body).entries[0].categories == ("cs.LG", "stat.ML")


_NESTED_ENTRY = b"""<?xml version="1.0" encoding="UTF-8"?>
<feed xmlns="http://www.w3.org/2005/Atom" xmlns:arxiv="http://arxiv.org/schemas/atom"
      xmlns:x="http://example.com/other">
  <entry>
    <id>http://arxiv.org/abs/2103.06902v2</id>
    <title>The real title</title>
    <summary>The real abstract.</summary>
    <published>2021-03-11T17:59:59Z</published>
    <author><name>Real Author</name><arxiv:affiliation>Somewhere</arxiv:affiliation></author>
    <contributor><name>Not An Author</name></contributor>
    <arxiv:primary_category term="cs.LG"/>
    <category term="cs.LG"/>
    <source>
      <id>http://arxiv.org/abs/9999.99999v9</id>
      <title>Injected title</title>
      <summary>Injected abstract.</summary>
      <author><name>Injected Author</name></author>
      <category term="hep-th"/>
      <arxiv:doi>10.9999/injected</arxiv:doi>
    </source>
    <x:wrapper><author><name>Foreign Author</name></author></x:wrapper>
    <x:comment>Foreign comment</x:comment>
  </entry>
</feed>
"""


def test_atom_reads_only_the_entrys_own_children():
    """Elements nested deeper (an Atom <source>, a <contributor>, a foreign wrapper) or in a
    foreign namespace are not the entry's fields: they cannot replace its id, title, authors."""
    (record,) = parse_atom(_NESTED_ENTRY).entries
    assert (record.arxiv_id, record.version) == ("2103.06902", 2)
    assert record.title == "The real title"
    assert record.abstract == "The real abstract."
    assert record.authors == ("Real Author",)
    assert record.categories == ("cs.LG",)
    assert record.doi is None and record.comment is None
