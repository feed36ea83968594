"""What a listing contains, fetched politely: the feed for today, the API or OAI-PMH for the past.

Each function returns parsed PaperRecords (with `announce_type`) and never touches the database.
"""

from __future__ import annotations

import dataclasses
import logging
import math
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from yarl import URL

from hotpapers.arxiv import calendar
from hotpapers.arxiv.client import ArxivClient
from hotpapers.arxiv.parse import parse_atom, parse_oai, parse_rss
from hotpapers.errors import ArxivError, FeedParseError
from hotpapers.storage.records import FeedPage, PaperRecord, VersionRecord

log = logging.getLogger(__name__)

# Long id lists go in a POST body (the API's advice); this many ids still fit a GET URL.
POST_ABOVE_IDS = 20
# A malformed page may be a proxy's hiccup: asked this many times in all, then the run stops.
MALFORMED_PAGE_ATTEMPTS = 3


@dataclass(slots=True)
class Listing:
    """The papers of one listing date and how they were obtained."""

    listing_date: date
    records: list[PaperRecord]
    source: str  # "feed", "api" or "oai"
    skipped: int = 0
    etag: str | None = None
    last_modified: str | None = None
    not_modified: bool = False
    # Ids of records typed `cross` only because OAI shows them changed without a new version:
    # a cross-list added that day, or a metadata change of an older cross-list (see _classify_oai).
    late_cross: set[str] = field(default_factory=set)


@dataclass(slots=True)
class FeedResult:
    listing_date: date | None
    page: FeedPage | None
    etag: str | None
    last_modified: str | None
    not_modified: bool


async def read_feed(
    client: ArxivClient, categories: Sequence[str], etag: str | None, last_modified: str | None
) -> FeedResult:
    """The announcement feed for all categories in one request (conditional on the ETag)."""
    response = await client.fetch_feed(categories, etag=etag, last_modified=last_modified)
    if response.status == 304:
        return FeedResult(None, None, etag, last_modified, not_modified=True)
    page = parse_rss(response.body)
    shown = page.published.astimezone(calendar.ET).date() if page.published else None
    return FeedResult(shown, page, response.etag, response.last_modified, not_modified=False)


async def enrich(
    client: ArxivClient, records: Sequence[PaperRecord], batch_size: int
) -> list[PaperRecord]:
    """Fill what the feed lacks (primary category, comment, journal ref, dates) from the API."""
    by_id: dict[str, PaperRecord] = {}
    ids = [record.arxiv_id for record in records]
    for start in range(0, len(ids), batch_size):
        batch = ids[start : start + batch_size]
        params = {"id_list": ",".join(batch), "max_results": str(len(batch))}
        body = await client.query(params, post=len(batch) > POST_ABOVE_IDS)
        by_id.update((r.arxiv_id, r) for r in parse_atom(body).entries)
    return [_merge(record, by_id.get(record.arxiv_id)) for record in records]


def _merge(feed: PaperRecord, api: PaperRecord | None) -> PaperRecord:
    """The API's full record with the feed's announce type; the feed alone if the API lacks it."""
    if api is None:
        log.warning("arXiv API has no record for %s; keeping the feed's fields", feed.arxiv_id)
        primary = feed.categories[0] if feed.categories else None
        return dataclasses.replace(feed, primary_category=primary)
    return dataclasses.replace(
        api, announce_type=feed.announce_type, version=max(feed.version, api.version)
    )


def batches_needed(count: int, batch_size: int) -> int:
    return math.ceil(count / batch_size) if count else 0


async def listing_from_api(
    client: ArxivClient,
    listing_date: date,
    categories: Sequence[str],
    holidays: Collection[date],
    page_size: int,
    max_retries: int,
) -> Listing:
    """New submissions of a past listing via `submittedDate` ranges, paged."""
    start, end = calendar.submission_window(listing_date, holidays)
    cats = " OR ".join(f"cat:{c}" for c in categories)
    query = f"({cats}) AND submittedDate:[{_stamp(start)} TO {_stamp(end - timedelta(minutes=1))}]"
    records: list[PaperRecord] = []
    skipped = 0
    offset = 0
    while True:
        page = await _api_page(client, query, offset, page_size, max_retries)
        records += page.entries
        skipped += page.skipped
        offset += len(page.entries) + page.skipped
        if not page.entries or page.total_results is None or offset >= page.total_results:
            break
    wanted = set(categories)
    return Listing(listing_date, [_as_new(r, wanted) for r in records], "api", skipped=skipped)


async def _api_page(
    client: ArxivClient, query: str, offset: int, page_size: int, max_retries: int
) -> FeedPage:
    """One page; arXiv sometimes answers an empty page where results exist, so ask again (up to
    `max_retries` times); a malformed page is asked for MALFORMED_PAGE_ATTEMPTS times in all."""
    params = {
        "search_query": query,
        "start": str(offset),
        "max_results": str(page_size),
        "sortBy": "submittedDate",
        "sortOrder": "ascending",
    }
    empty = malformed = 0
    while True:
        try:
            page = parse_atom(await client.query(params))
        except FeedParseError as exc:
            malformed += 1
            url = URL(client.settings.api_url).with_query(params)
            if malformed >= MALFORMED_PAGE_ATTEMPTS:
                raise FeedParseError(
                    f"arXiv answered a malformed page {malformed} times at {url}: {exc}"
                ) from exc
            log.warning("arXiv API page at %s is malformed (%s); asking again", url, exc)
            continue
        total = page.total_results or 0
        if page.entries or page.skipped or offset >= total:
            return page
        empty += 1
        log.warning(
            "arXiv API returned an empty page at start=%d of %d (attempt %d)", offset, total, empty
        )
        if empty > max_retries:
            raise ArxivError(
                f"arXiv API kept returning empty pages at result {offset} of the query"
            )


def _as_new(record: PaperRecord, wanted: set[str]) -> PaperRecord:
    primary = record.primary_category or (record.categories[0] if record.categories else "")
    kind = "new" if primary in wanted else "cross"
    return dataclasses.replace(record, announce_type=kind)


def _stamp(moment: datetime) -> str:
    return moment.strftime("%Y%m%d%H%M")


async def listing_from_archive(
    client: ArxivClient,
    listing_date: date,
    categories: Sequence[str],
    holidays: Collection[date],
    page_size: int,
    max_retries: int,
) -> Listing:
    """A past listing in full: OAI-PMH for what arXiv changed that day, plus the API's new
    submissions of the day.

    OAI alone has the replacements and the cross-lists of older papers (no API query selects
    those by date), but a datestamp is a record's *last* change: a paper of the day that was
    replaced or annotated later has moved out of the day's datestamps. Its submission date
    never moves, so the API's `submittedDate` window (one request up to `page_size` papers)
    brings those back.
    """
    oai = await listing_from_oai(client, listing_date, categories, holidays)
    api = await listing_from_api(client, listing_date, categories, holidays, page_size, max_retries)
    known = {record.arxiv_id for record in oai.records}
    moved_on = [record for record in api.records if record.arxiv_id not in known]
    records = _with_api_pdf_links(oai.records, api.records) + moved_on
    skipped = oai.skipped + api.skipped
    return Listing(listing_date, records, "oai", skipped=skipped, late_cross=oai.late_cross)


def _with_api_pdf_links(oai: list[PaperRecord], api: list[PaperRecord]) -> list[PaperRecord]:
    """OAI records with the API's word on their PDF link, for the papers both return.

    arXivRaw carries no link at all, and the classic post prints only papers with a PDF
    (withdrawn ones have none). The day's new papers come back from the API query too, so
    their link is known; an older paper cross-listed or replaced that day is taken to have
    one (only the API's entry could say otherwise, for one more request per batch).
    """
    without = {record.arxiv_id for record in api if not record.has_pdf}
    return [
        dataclasses.replace(record, has_pdf=False) if record.arxiv_id in without else record
        for record in oai
    ]


async def listing_from_oai(
    client: ArxivClient,
    listing_date: date,
    categories: Sequence[str],
    holidays: Collection[date],
) -> Listing:
    """A past listing as OAI-PMH ListRecords (arXivRaw) shows it, one query per set.

    The records datestamped `listing_date` are what arXiv changed when it announced that
    listing (and has not changed since); `_classify_oai` sorts them into new / cross /
    replace / replace-cross / not listed.
    """
    start, end = calendar.submission_window(listing_date, holidays)
    wanted = set(categories)
    found: dict[str, PaperRecord] = {}
    late: set[str] = set()
    skipped = 0
    for oai_set in sorted({_oai_set(c) for c in categories}):
        tokens: set[str] = set()
        params = {
            "verb": "ListRecords",
            "metadataPrefix": "arXivRaw",
            "from": listing_date.isoformat(),
            "until": listing_date.isoformat(),
            "set": oai_set,
        }
        while True:
            page = parse_oai(await client.oai(params))
            skipped += page.skipped
            for record in page.entries:
                typed = _classify_oai(record, wanted, start, end)
                if typed is not None:
                    found[typed.arxiv_id] = typed
                    if _oai_kind(record, start, end) == "late-cross":
                        late.add(typed.arxiv_id)
            if not page.resumption_token:
                break
            if page.resumption_token in tokens:
                # Asking again would get the same page again, until the run's time is up.
                raise FeedParseError(
                    f"arXiv's OAI-PMH gave the same resumption token twice for set {oai_set} "
                    f"({len(tokens)} pages in); stopped instead of asking for it again"
                )
            tokens.add(page.resumption_token)
            params = {"verb": "ListRecords", "resumptionToken": page.resumption_token}
    return Listing(listing_date, list(found.values()), "oai", skipped=skipped, late_cross=late)


def _oai_set(category: str) -> str:
    """arXiv's OAI set for a category: `cs` for cs.LG, `physics:hep-th` for hep-th."""
    archive = category.split(".")[0]
    if archive in {"cs", "math", "stat", "q-bio", "q-fin", "econ", "eess"}:
        return archive
    return f"physics:{archive}"


def _classify_oai(
    record: PaperRecord, wanted: set[str], start: datetime, end: datetime
) -> PaperRecord | None:
    """The record typed as the listing with submission window [start, end) shows it, or None.

    Why `from` = `until` = the listing date: OAI datestamps are UTC days (OAI-PMH requires UTC)
    and arXiv updates OAI-PMH at about 22:30 New York time on the announcement evening, which
    is already the listing date in UTC (EST and EDT alike). So the listing's new papers,
    replacements and cross-lists of older papers carry the listing date as datestamp.

    Ambiguous, because arXivRaw has versions with dates but no date per category:
    * no version in the window and a primary category we do not collect: taken as a
      cross-list added on this day (arXiv lists it as `cross`); a metadata-only change (journal
      ref, DOI) to an older paper cross-listed here long ago looks the same (`Listing.late_cross`
      lets the caller drop those it saw announced before);
    * no version in the window and a primary category we collect: a metadata-only change,
      not listed (a cross-list of such a paper into a second collected category is missed);
    * datestamps are last changes: a paper of this day changed again later (a new version, a
      journal ref) carries the later datestamp and is missed by this query (for new papers,
      `listing_from_archive` adds them back from the API; replacements stay missed).
    """
    if not wanted.intersection(record.categories):
        return None
    kind = _oai_kind(record, start, end)
    primary = record.primary_category or record.categories[0]
    if kind is None or (kind == "late-cross" and primary in wanted):
        return None
    replaced = kind == "replace"
    if primary in wanted:
        typed = "replace" if replaced else "new"
    else:
        typed = "replace-cross" if replaced else "cross"
    return dataclasses.replace(record, announce_type=typed)


def _oai_kind(record: PaperRecord, start: datetime, end: datetime) -> str | None:
    """Which change this listing announces: v1 made in [start, end) is "new", a later version
    made there is "replace", all versions older is "late-cross" (changed without a version);
    None when a version is newer than the window or undated."""
    history = sorted(record.versions, key=lambda v: v.version) or [
        VersionRecord(record.version, record.updated)
    ]
    moments = [v.created for v in history if v.created is not None]
    if len(moments) < len(history) or max(moments) >= end:
        return None  # a later listing's record, or one we cannot place
    if moments[0] >= start:
        return "new"
    return "replace" if max(moments) >= start else "late-cross"
