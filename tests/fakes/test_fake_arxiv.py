"""The fake arXiv speaks the real wire shapes (namespaces, elements, paging, errors)."""

from __future__ import annotations

import dataclasses
import re
from collections.abc import AsyncIterator, Mapping
from datetime import date, timedelta
from typing import Any

import aiohttp
import pytest
from lxml import etree

from hotpapers.arxiv import calendar
from hotpapers.arxiv.holidays import ARXIV_HOLIDAYS
from hotpapers.arxiv.parse import parse_atom, parse_oai, parse_rss
from hotpapers.fakes.arxiv import FakeArxiv, FakePaper, generate_papers

LISTING = date(2026, 11, 23)
CATS = ["cs.LG", "cs.CV", "cs.CL", "cs.AI", "stat.ML"]
ATOM = "http://www.w3.org/2005/Atom"
OPENSEARCH = "http://a9.com/-/spec/opensearch/1.1/"
ARXIV = "http://arxiv.org/schemas/atom"
DC = "http://purl.org/dc/elements/1.1/"
OAI = "http://www.openarchives.org/OAI/2.0/"
RAW = "http://arxiv.org/OAI/arXivRaw/"
A, OS, X, OP, R = (f"{{{ns}}}" for ns in (ATOM, OPENSEARCH, ARXIV, OAI, RAW))


@pytest.fixture(scope="module")
def papers() -> list[FakePaper]:
    return generate_papers(LISTING, CATS, 60, seed=2021)


@pytest.fixture
async def fake(papers: list[FakePaper]) -> AsyncIterator[FakeArxiv]:
    server = FakeArxiv(papers, feed_date=LISTING, oai_page_size=7)
    await server.start()
    try:
        yield server
    finally:
        await server.close()


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


async def get(
    http: aiohttp.ClientSession, url: str, **params: str
) -> tuple[int, bytes, Mapping[str, str]]:
    async with http.get(url, params=params) as response:
        return response.status, await response.read(), response.headers.copy()


# --- RSS --------------------------------------------------------------------------------------


async def test_rss_has_the_shape_of_rss_arxiv_org(fake: FakeArxiv, http: Any) -> None:
    status, body, headers = await get(http, f"{fake.rss_url}/cs.LG+cs.cv")
    assert status == 200 and headers["Content-Type"].startswith("application/rss+xml")
    assert body.startswith(b"<?xml version='1.0' encoding='UTF-8'?>")
    root = etree.fromstring(body)
    assert root.tag == "rss" and root.get("version") == "2.0"
    assert {"arxiv": ARXIV, "dc": DC, "atom": ATOM}.items() <= root.nsmap.items()
    channel = root.find("channel")
    assert channel is not None
    assert channel.findtext("title") == "cs.LG+cs.CV updates on arXiv.org"
    assert channel.findtext("pubDate") == "Mon, 23 Nov 2026 00:00:00 -0500"
    assert [d.text for d in channel.iterfind("skipDays/day")] == ["Sunday", "Saturday"]
    items = channel.findall("item")
    assert items
    for item in items:
        tags = [child.tag for child in item]
        assert tags[:4] == ["title", "link", "description", "guid"]
        assert {"category", "pubDate", f"{X}announce_type", f"{{{DC}}}rights"} <= set(tags)
        assert tags[-1] == f"{{{DC}}}creator"
        kind = item.findtext(f"{X}announce_type")
        description = item.findtext("description") or ""
        assert re.match(rf"^arXiv:\S+v\d+ Announce Type: {kind} \nAbstract: \S", description)
        assert item.find("guid").get("isPermaLink") == "false"  # type: ignore[union-attr]
        assert {c.text for c in item.iterfind("category")} & {"cs.LG", "cs.CV"}
    kinds = [item.findtext(f"{X}announce_type") for item in items]
    assert kinds == sorted(kinds, key=["new", "cross", "replace", "replace-cross"].index)


async def test_rss_round_trips_through_the_parser(fake: FakeArxiv, http: Any) -> None:
    _, body, _ = await get(http, f"{fake.rss_url}/{'+'.join(CATS)}")
    page = parse_rss(body)
    assert page.skipped == 0 and len(page.entries) == len(fake.papers)
    by_id = {p.record.arxiv_id: p.record for p in fake.papers}
    for entry in page.entries:
        expected = by_id[entry.arxiv_id]
        assert (entry.title, entry.abstract, entry.authors) == (
            expected.title,
            expected.abstract,
            expected.authors,
        )
        assert (entry.version, entry.announce_type) == (expected.version, expected.announce_type)


async def test_rss_etag_unknown_category_and_other_days(fake: FakeArxiv, http: Any) -> None:
    _, _, headers = await get(http, f"{fake.rss_url}/cs.LG")
    async with http.get(f"{fake.rss_url}/cs.LG", headers={"If-None-Match": headers["ETag"]}) as r:
        assert r.status == 304
    status, body, _ = await get(http, f"{fake.rss_url}/cs.XX")
    assert status == 400 and b"cs.XX" in body
    fake.feed_date = LISTING + timedelta(days=1)
    status, body, _ = await get(http, f"{fake.rss_url}/cs.LG")
    assert status == 200 and parse_rss(body).entries == []


# --- export API -------------------------------------------------------------------------------


async def test_api_page_has_the_2026_atom_shape(fake: FakeArxiv, http: Any) -> None:
    ids = [p.record.arxiv_id for p in fake.papers[:5]]
    _, body, headers = await get(http, fake.api_url, id_list=",".join(ids), max_results="100")
    assert headers["Content-Type"].startswith("application/atom+xml")
    assert body.startswith(b"<?xml version='1.0' encoding='UTF-8'?>")
    root = etree.fromstring(body)
    assert root.tag == f"{A}feed"
    assert root.nsmap == {None: ATOM, "opensearch": OPENSEARCH, "arxiv": ARXIV}
    header = [child.tag for child in root][:7]
    assert header == [
        f"{A}id",
        f"{A}title",
        f"{A}updated",
        f"{A}link",
        f"{OS}itemsPerPage",
        f"{OS}totalResults",
        f"{OS}startIndex",
    ]
    assert root.findtext(f"{OS}totalResults") == "5"
    assert root.findtext(f"{OS}itemsPerPage") == "100"
    entries = root.findall(f"{A}entry")
    assert len(entries) == 5
    for entry in entries:
        assert re.match(r"^http://arxiv\.org/abs/\S+v\d+$", entry.findtext(f"{A}id") or "")
        assert re.match(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$", entry.findtext(f"{A}published") or "")
        primary = entry.find(f"{X}primary_category")
        assert primary is not None and primary.get("scheme") is None
        assert all(c.get("scheme") == ARXIV for c in entry.iterfind(f"{A}category"))
        assert entry.find(f"{A}author/{A}name") is not None
        rels = {(link.get("rel"), link.get("title")) for link in entry.iterfind(f"{A}link")}
        assert {("alternate", None), ("related", "pdf")} <= rels
        assert "\n" in (entry.findtext(f"{A}summary") or "")  # wrapped like the real API


async def test_api_round_trips_and_drops_unknown_ids(fake: FakeArxiv, http: Any) -> None:
    chosen = [p.record for p in fake.papers[:10]]
    id_list = ",".join([r.arxiv_id for r in chosen] + ["0808.05394"])
    _, body, _ = await get(http, fake.api_url, id_list=id_list, max_results="50")
    page = parse_atom(body)
    assert page.total_results == 10 and page.skipped == 0
    for entry, expected in zip(page.entries, chosen, strict=True):
        for name in ("arxiv_id", "version", "title", "abstract", "authors", "categories"):
            assert getattr(entry, name) == getattr(expected, name), name
        for name in ("primary_category", "comment", "journal_ref", "doi", "submitted", "updated"):
            assert getattr(entry, name) == getattr(expected, name), name


async def test_api_specific_version_and_old_style_ids(fake: FakeArxiv, http: Any) -> None:
    replaced = next(p.record for p in fake.papers if "/" in p.record.arxiv_id)
    _, body, _ = await get(http, fake.api_url, id_list=f"{replaced.arxiv_id}v1")
    (entry,) = parse_atom(body).entries
    assert entry.arxiv_id == replaced.arxiv_id and entry.version == 1
    assert entry.updated == entry.submitted == replaced.submitted


async def test_api_malformed_id_is_a_400_error_document(fake: FakeArxiv, http: Any) -> None:
    status, body, _ = await get(http, fake.api_url, id_list="abc")
    assert status == 400
    root = etree.fromstring(body)
    entry = root.find(f"{A}entry")
    assert entry is not None
    assert entry.findtext(f"{A}id") == "https://arxiv.org/api/errors#incorrect_id_format_for_abc"
    assert entry.findtext(f"{A}title") == "Error"
    assert entry.findtext(f"{A}author/{A}name") == "arXiv api core"


async def test_api_search_query_dates_booleans_and_paging(fake: FakeArxiv, http: Any) -> None:
    start, end = calendar.submission_window(LISTING, ARXIV_HOLIDAYS)
    stamp = "%Y%m%d%H%M"
    window = f"[{start:{stamp}} TO {(end - timedelta(minutes=1)):{stamp}}]"
    query = f"(cat:cs.LG OR cat:cs.CV) AND submittedDate:{window}"
    expected = {
        p.record.arxiv_id
        for p in fake.papers
        if {"cs.LG", "cs.CV"} & set(p.record.categories)
        and p.record.submitted is not None
        and start <= p.record.submitted < end
    }
    assert expected
    _, spaced, _ = await get(http, fake.api_url, search_query=query, max_results="500")
    plus = query.replace(" TO ", "+TO+")
    _, plussed, _ = await get(http, fake.api_url, search_query=plus, max_results="500")
    assert {e.arxiv_id for e in parse_atom(spaced).entries} == expected
    assert {e.arxiv_id for e in parse_atom(plussed).entries} == expected

    pages = []
    for offset in range(0, len(expected), 4):
        _, body, _ = await get(
            http,
            fake.api_url,
            search_query=query,
            start=str(offset),
            max_results="4",
            sortBy="submittedDate",
            sortOrder="ascending",
        )
        page = parse_atom(body)
        assert page.start_index == offset and page.total_results == len(expected)
        pages += page.entries
    assert [e.arxiv_id for e in pages] == [
        e.arxiv_id for e in sorted(pages, key=lambda e: e.submitted or start)
    ]
    assert {e.arxiv_id for e in pages} == expected

    _, body, _ = await get(http, fake.api_url, search_query="cat:cs.LG ANDNOT cat:cs.CV")
    for entry in parse_atom(body).entries:
        assert "cs.LG" in entry.categories and "cs.CV" not in entry.categories
    status, _, _ = await get(http, fake.api_url, search_query="(cat:cs.LG OR")
    assert status == 400


async def test_api_empty_page_flake_and_html_error(fake: FakeArxiv, http: Any) -> None:
    fake.empty_page_next()
    _, body, _ = await get(http, fake.api_url, search_query="cat:cs.LG", max_results="5")
    page = parse_atom(body)
    assert page.entries == [] and (page.total_results or 0) > 0
    fake.html_error_next()
    status, body, _ = await get(http, fake.api_url, search_query="cat:cs.LG")
    assert status == 200 and body.lstrip().lower().startswith(b"<!doctype html")


# --- OAI-PMH -------------------------------------------------------------------------------


async def test_oai_pages_with_resumption_tokens(fake: FakeArxiv, http: Any) -> None:
    first = {
        "verb": "ListRecords",
        "metadataPrefix": "arXivRaw",
        "from": (LISTING - timedelta(days=1)).isoformat(),
        "until": LISTING.isoformat(),
        "set": "cs:cs:LG",
    }
    expected = {p.record.arxiv_id for p in fake.papers if "cs.LG" in p.record.categories}
    params: dict[str, str] = first
    seen: list[str] = []
    bodies = []
    while True:
        status, body, _ = await get(http, fake.oai_url, **params)
        assert status == 200
        bodies.append(body)
        page = parse_oai(body)
        seen += [e.arxiv_id for e in page.entries]
        if not page.resumption_token:
            break
        params = {"verb": "ListRecords", "resumptionToken": page.resumption_token}
    assert len(bodies) == -(-len(expected) // 7) > 1
    assert sorted(seen) == sorted(expected)

    root = etree.fromstring(bodies[0])
    assert root.tag == f"{OP}OAI-PMH" and root.nsmap[None] == OAI
    assert root.find(f"{OP}request").get("set") == "cs:cs:LG"  # type: ignore[union-attr]
    record = root.find(f"{OP}ListRecords/{OP}record")
    assert record is not None
    assert (record.findtext(f"{OP}header/{OP}identifier") or "").startswith("oai:arXiv.org:")
    assert record.findtext(f"{OP}header/{OP}datestamp") == LISTING.isoformat()
    raw = record.find(f"{OP}metadata/{R}arXivRaw")
    assert raw is not None
    assert [c.tag.removeprefix(R) for c in raw][:3] == ["id", "submitter", "version"]
    assert raw.find(f"{R}version/{R}date") is not None
    last = etree.fromstring(bodies[-1]).find(f"{OP}ListRecords/{OP}resumptionToken")
    assert last is not None and not (last.text or "").strip()
    assert last.get("completeListSize") == str(len(expected))


async def test_oai_versions_and_errors(fake: FakeArxiv, http: Any) -> None:
    base = {"verb": "ListRecords", "metadataPrefix": "arXivRaw"}
    _, body, _ = await get(http, fake.oai_url, **base, set="cs", until=LISTING.isoformat())
    replaced = [e for e in parse_oai(body).entries if e.version > 1]
    assert replaced and all(len(e.versions) == e.version for e in replaced)
    _, body, _ = await get(
        http, fake.oai_url, **base, **{"from": "2020-01-01", "until": "2020-01-02"}
    )
    error = etree.fromstring(body).find(f"{OP}error")
    assert error is not None and error.get("code") == "noRecordsMatch"
    _, body, _ = await get(http, fake.oai_url, verb="ListRecords", resumptionToken="nope|7")
    assert etree.fromstring(body).find(f"{OP}error").get("code") == "badResumptionToken"  # type: ignore[union-attr]


# --- the generator ----------------------------------------------------------------------------


def test_generator_is_deterministic_and_realistic(papers: list[FakePaper]) -> None:
    again = generate_papers(LISTING, CATS, 60, seed=2021)
    assert [p.record for p in again] == [p.record for p in papers]
    assert generate_papers(LISTING, CATS, 60, seed=1)[0].record != papers[0].record
    records = [p.record for p in papers]
    assert len(records) == 60 == len({r.arxiv_id for r in records})
    kinds = {r.announce_type for r in records}
    assert kinds == {"new", "cross", "replace", "replace-cross"}
    assert any("Krähenbühl" in name for r in records for name in r.authors)
    assert any("$\\mathcal{O}" in r.abstract or "$\\mathcal{O}" in r.title for r in records)
    assert sum("/" in r.arxiv_id for r in records) >= 2
    assert any(r.version == 2 for r in records)
    start, end = calendar.submission_window(LISTING, ARXIV_HOLIDAYS)
    for record in records:
        assert record.updated is not None and start <= record.updated < end
        if record.announce_type in {"new", "cross"}:
            assert record.version == 1 and record.submitted == record.updated
            assert record.arxiv_id.startswith("2611.")
        else:
            assert record.version >= 2 and record.submitted is not None
            assert record.submitted < start
        primary_in = record.primary_category in CATS
        assert primary_in == (record.announce_type in {"new", "replace"})
        assert set(record.categories) & set(CATS)


async def test_set_and_add_papers_change_what_is_served(fake: FakeArxiv, http: Any) -> None:
    first = fake.papers[0].record
    newer = dataclasses.replace(first, version=first.version + 1, title="A Better Title")
    next_day = LISTING + timedelta(days=1)
    fake.add_papers([FakePaper(newer, next_day)])
    assert len(fake.papers) == 60
    _, body, _ = await get(http, fake.api_url, id_list=first.arxiv_id)
    (entry,) = parse_atom(body).entries
    assert (entry.version, entry.title) == (newer.version, "A Better Title")
    base = {"verb": "ListRecords", "metadataPrefix": "arXivRaw", "from": next_day.isoformat()}
    _, body, _ = await get(http, fake.oai_url, **base)
    (record,) = parse_oai(body).entries
    assert [v.version for v in record.versions][-1] == newer.version
    fake.set_papers([FakePaper(newer, next_day)], feed_date=next_day)
    _, body, _ = await get(http, f"{fake.rss_url}/{'+'.join(CATS)}")
    assert [e.arxiv_id for e in parse_rss(body).entries] == [first.arxiv_id]
