"""What a listing contains, fetched politely: the feed for today, the API or OAI-PMH for the past.

Each function returns parsed PaperRecords (with `announce_type`) and never touches the database.
"""

from __future__ import annotations

import dataclasses
import logging
import math
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from hotpapers.arxiv import calendar
from hotpapers.arxiv.client import ArxivClient
from hotpapers.arxiv.parse import parse_atom, parse_oai, parse_rss
from hotpapers.errors import ArxivError
from hotpapers.records import FeedPage, PaperRecord

log = logging.getLogger(__name__)

# Long id lists go in a POST body (the API's advice); this many ids still fit a GET URL.
POST_ABOVE_IDS = 20


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
    """One page; arXiv sometimes answers an empty page where results exist, so ask again."""
    params = {
        "search_query": query,
        "start": str(offset),
        "max_results": str(page_size),
        "sortBy": "submittedDate",
        "sortOrder": "ascending",
    }
    for attempt in range(max_retries + 1):
        page = parse_atom(await client.query(params))
        total = page.total_results or 0
        if page.entries or page.skipped or offset >= total:
            return page
        log.warning(
            "arXiv API returned an empty page at start=%d of %d (attempt %d)",
            offset,
            total,
            attempt + 1,
        )
    raise ArxivError(f"arXiv API kept returning empty pages at result {offset} of the query")


def _as_new(record: PaperRecord, wanted: set[str]) -> PaperRecord:
    primary = record.primary_category or (record.categories[0] if record.categories else "")
    kind = "new" if primary in wanted else "cross"
    return dataclasses.replace(record, announce_type=kind)


def _stamp(moment: datetime) -> str:
    return moment.strftime("%Y%m%d%H%M")


async def listing_from_oai(
    client: ArxivClient,
    listing_date: date,
    categories: Sequence[str],
    holidays: Collection[date],
) -> Listing:
    """New and replaced papers of a past listing via OAI-PMH ListRecords (arXivRaw), by set."""
    start, end = calendar.submission_window(listing_date, holidays)
    wanted = set(categories)
    found: dict[str, PaperRecord] = {}
    skipped = 0
    for oai_set in sorted({_oai_set(c) for c in categories}):
        params = {
            "verb": "ListRecords",
            "metadataPrefix": "arXivRaw",
            "from": calendar.announcement_evening(listing_date).isoformat(),
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
            if not page.resumption_token:
                break
            params = {"verb": "ListRecords", "resumptionToken": page.resumption_token}
    return Listing(listing_date, list(found.values()), "oai", skipped=skipped)


def _oai_set(category: str) -> str:
    """arXiv's OAI set for a category: `cs` for cs.LG, `physics:hep-th` for hep-th."""
    archive = category.split(".")[0]
    if archive in {"cs", "math", "stat", "q-bio", "q-fin", "econ", "eess"}:
        return archive
    return f"physics:{archive}"


def _classify_oai(
    record: PaperRecord, wanted: set[str], start: datetime, end: datetime
) -> PaperRecord | None:
    """new/cross when v1 falls in the window; replace/replace-cross when a later version does."""
    if not wanted.intersection(record.categories):
        return None
    latest = max(record.versions, key=lambda v: v.version) if record.versions else None
    created = latest.created if latest else record.updated
    if created is None or not start <= created < end:
        return None
    primary = record.primary_category or record.categories[0]
    replaced = record.version > 1
    if primary in wanted:
        kind = "replace" if replaced else "new"
    else:
        kind = "replace-cross" if replaced else "cross"
    return dataclasses.replace(record, announce_type=kind)
