"""The fake arXiv's server: RSS, export API and OAI-PMH routes, request log and fault injection."""

from __future__ import annotations

import asyncio
import hashlib
import time
from collections.abc import Awaitable, Callable, Iterable, Mapping
from datetime import UTC, date, datetime

from aiohttp import web

from hotpapers.arxiv.ids import split_id
from hotpapers.arxiv.taxonomy import normalize_category
from hotpapers.fakes._server import LocalServer
from hotpapers.fakes.arxiv import wire as xml
from hotpapers.fakes.arxiv.query import (
    api_error,
    etags,
    form_params,
    gzip_zeros,
    in_feed,
    in_set,
    parse_search_query,
    retry_after_text,
    sorted_papers,
)
from hotpapers.fakes.arxiv.state import (
    CURRENT_FAULT,
    ID_RE,
    MAX_RESULTS_LIMIT,
    NO_RECORDS,
    FakePaper,
    Fault,
    RecordedRequest,
)
from hotpapers.storage.records import ANNOUNCE_TYPES, PaperRecord


class FakeArxiv(LocalServer):
    """The three arXiv services on one local port; see the module docstring."""

    def __init__(
        self,
        papers: Iterable[FakePaper] = (),
        *,
        feed_date: date | None = None,
        oai_page_size: int = 100,
    ) -> None:
        self.papers: list[FakePaper] = list(papers)
        self.feed_date = feed_date
        self.oai_page_size = oai_page_size
        # Answer a resumption token with the same token again (a stuck server), for tests.
        self.stuck_oai_token = False
        self.requests: list[RecordedRequest] = []
        self.in_flight = 0
        self.max_in_flight = 0
        self.faults: list[Fault] = []
        self._oai_queries: dict[str, dict[str, str]] = {}

    # --- lifecycle and urls ---------------------------------------------------------------

    @property
    def rss_url(self) -> str:
        return f"{self.base_url}/rss"

    @property
    def api_url(self) -> str:
        return f"{self.base_url}/api/query"

    @property
    def oai_url(self) -> str:
        return f"{self.base_url}/oai"

    def make_app(self) -> web.Application:
        app = web.Application(middlewares=[self._middleware])
        app.router.add_get("/rss/{cats}", self._rss)
        app.router.add_route("GET", "/api/query", self._api)
        app.router.add_route("POST", "/api/query", self._api)
        app.router.add_route("GET", "/oai", self._oai)
        app.router.add_route("POST", "/oai", self._oai)
        return app

    def set_papers(self, papers: Iterable[FakePaper], *, feed_date: date | None = None) -> None:
        """Serve `papers` from now on (all three services); optionally move the feed's day."""
        self.papers = list(papers)
        if feed_date is not None:
            self.feed_date = feed_date

    def add_papers(self, papers: Iterable[FakePaper]) -> None:
        """Add papers; one with an id already served replaces the old one (a new version)."""
        fresh = list(papers)
        ids = {paper.record.arxiv_id for paper in fresh}
        self.papers = [p for p in self.papers if p.record.arxiv_id not in ids] + fresh

    # --- fault injection ------------------------------------------------------------------

    def fail_next(
        self,
        status: int = 503,
        times: int = 1,
        *,
        retry_after: float | str | None = None,
        path: str | None = None,
    ) -> None:
        """Answer the next `times` requests with `status` (optionally with Retry-After)."""
        header = None if retry_after is None else retry_after_text(retry_after)
        for _ in range(times):
            self.faults.append(Fault("status", status=status, retry_after=header, path=path))

    def slow_next(self, seconds: float, times: int = 1, *, path: str | None = None) -> None:
        """Delay the next answers by `seconds` before sending anything."""
        for _ in range(times):
            self.faults.append(Fault("slow", seconds=seconds, path=path))

    def truncate_next(self, times: int = 1, *, path: str | None = None) -> None:
        """Send only half of the next bodies, then drop the connection (Content-Length lies)."""
        for _ in range(times):
            self.faults.append(Fault("truncate", path=path))

    def disconnect_next(self, times: int = 1, *, path: str | None = None) -> None:
        """Close the connection without answering."""
        for _ in range(times):
            self.faults.append(Fault("disconnect", path=path))

    def empty_page_next(self, times: int = 1) -> None:
        """The next API pages have zero entries but the real totalResults (arXiv's flake)."""
        for _ in range(times):
            self.faults.append(Fault("empty_page"))

    def html_error_next(
        self, status: int = 200, times: int = 1, *, path: str | None = None
    ) -> None:
        """Answer with an HTML error page instead of XML (as a misbehaving proxy does)."""
        for _ in range(times):
            self.faults.append(Fault("html", status=status, path=path))

    def redirect_next(self, status: int = 302, times: int = 1, *, path: str | None = None) -> None:
        """Redirect the next requests to the same path and query (Location header)."""
        for _ in range(times):
            self.faults.append(Fault("redirect", status=status, path=path))

    def gzip_bomb_next(self, size: int, times: int = 1, *, path: str | None = None) -> None:
        """Answer with a small gzip-encoded body (Content-Encoding) that expands to `size` bytes."""
        for _ in range(times):
            self.faults.append(Fault("gzip_bomb", size=size, path=path))

    def _take_fault(self, request: web.Request) -> Fault | None:
        for index, fault in enumerate(self.faults):
            if fault.applies_to(request):
                return self.faults.pop(index)
        return None

    # --- middleware -------------------------------------------------------------------------

    @web.middleware
    async def _middleware(
        self, request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
    ) -> web.StreamResponse:
        arrived = time.monotonic()
        self.in_flight += 1
        self.max_in_flight = max(self.max_in_flight, self.in_flight)
        try:
            params = await form_params(request)
            self.requests.append(
                RecordedRequest(
                    arrived, request.method, request.path, params, dict(request.headers)
                )
            )
            fault = self._take_fault(request)
            if fault is None:
                return await handler(request)
            token = CURRENT_FAULT.set(fault)
            try:
                return await self._apply(fault, request, handler)
            finally:
                CURRENT_FAULT.reset(token)
        finally:
            self.in_flight -= 1

    async def _apply(
        self,
        fault: Fault,
        request: web.Request,
        handler: Callable[[web.Request], Awaitable[web.StreamResponse]],
    ) -> web.StreamResponse:
        if fault.kind == "status":
            headers = {"Retry-After": fault.retry_after} if fault.retry_after else {}
            return web.Response(
                status=fault.status, text=f"fake arXiv: HTTP {fault.status}\n", headers=headers
            )
        if fault.kind == "redirect":
            return web.Response(status=fault.status, headers={"Location": str(request.rel_url)})
        if fault.kind == "html":
            return web.Response(status=fault.status, body=xml.HTML_ERROR, content_type="text/html")
        if fault.kind == "slow":
            await asyncio.sleep(fault.seconds)
            return await handler(request)
        if fault.kind == "disconnect":
            if request.transport is not None:
                request.transport.close()
            return web.Response(status=500)
        if fault.kind == "truncate":
            full = await handler(request)
            raw = full.body if isinstance(full, web.Response) else None
            body = bytes(raw) if isinstance(raw, bytes | bytearray) and raw else b"x" * 64
            response = web.StreamResponse(status=200, headers={"Content-Type": "application/xml"})
            response.content_length = len(body)
            await response.prepare(request)
            await response.write(body[: len(body) // 2])
            if request.transport is not None:
                request.transport.close()
            return response
        if fault.kind == "gzip_bomb":
            body = gzip_zeros(fault.size)
            headers = {"Content-Type": "application/xml", "Content-Encoding": "gzip"}
            return web.Response(status=200, body=body, headers=headers)
        return await handler(request)  # "empty_page" is read by the API handler

    # --- RSS -------------------------------------------------------------------------------

    def current_feed_date(self) -> date:
        if self.feed_date is not None:
            return self.feed_date
        dates = [paper.listing_date for paper in self.papers]
        return max(dates) if dates else datetime.now(UTC).date()

    async def _rss(self, request: web.Request) -> web.StreamResponse:
        names = [name for name in request.match_info["cats"].split("+") if name]
        wanted: list[str] = []
        for name in names:
            found = normalize_category(name)
            if found is None:
                return web.Response(
                    status=400,
                    text=f"Bad Request: Invalid archive or category specification: {name}\n",
                )
            wanted.append(found)
        if not wanted:
            return web.Response(status=404, text="Not Found\n")
        day = self.current_feed_date()
        items = [
            p.record
            for p in self.papers
            if p.listing_date == day and any(in_feed(c, wanted) for c in p.record.categories)
        ]
        order = {kind: n for n, kind in enumerate(ANNOUNCE_TYPES)}
        items.sort(key=lambda r: order.get(r.announce_type or "new", 0))
        body = xml.rss_feed("+".join(wanted), items, day)
        etag = '"' + hashlib.sha1(body).hexdigest() + '"'
        headers = {
            "ETag": etag,
            "Last-Modified": xml.feed_build_date(day),
            "Cache-Control": "max-age=3600",
        }
        if etag in etags(request.headers.get("If-None-Match")):
            return web.Response(status=304, headers=headers)
        return web.Response(body=body, content_type="application/rss+xml", headers=headers)

    # --- export API ----------------------------------------------------------------------------

    async def _api(self, request: web.Request) -> web.StreamResponse:
        params = await form_params(request)
        id_list = [part.strip() for part in params.get("id_list", "").split(",") if part.strip()]
        search = params.get("search_query", "").strip()
        try:
            start = int(params.get("start", "0"))
            max_results = int(params.get("max_results", "10"))
        except ValueError:
            return api_error("start and max_results must be integers", "invalid_paging")
        if start < 0 or max_results < 0:
            return api_error("start and max_results must not be negative", "invalid_paging")
        if max_results > MAX_RESULTS_LIMIT:
            return api_error(
                f"max_results must be at most {MAX_RESULTS_LIMIT}", "max_results_too_large"
            )
        for raw in id_list:
            if not ID_RE.match(raw):
                return api_error(f"incorrect id format for {raw}", f"incorrect_id_format_for_{raw}")
        try:
            predicate = parse_search_query(search) if search else None
        except ValueError as exc:
            return api_error(str(exc), "malformed_query")

        if id_list:
            by_id = {p.record.arxiv_id: p.record for p in self.papers}
            found: list[tuple[PaperRecord, int]] = []
            for raw in id_list:
                parts = split_id(raw)
                record = by_id.get(parts[0]) if parts else None
                if record is None or parts is None:
                    continue
                version = parts[1] or record.version
                if version <= record.version:
                    found.append((record, version))
            matches = [(r, v) for r, v in found if predicate is None or predicate(r)]
        else:
            matches = [
                (p.record, p.record.version)
                for p in self.papers
                if predicate is None or predicate(p.record)
            ]
        matches = sorted_papers(matches, params, by_id_list=bool(id_list))
        page = matches[start : start + max_results]
        fault = CURRENT_FAULT.get()
        if fault is not None and fault.kind == "empty_page":
            page = []
        query_string = (
            f"search_query={search}&id_list={','.join(id_list)}"
            f"&start={start}&max_results={max_results}"
        )
        body = xml.atom_feed(
            page,
            query_string=query_string,
            total=len(matches),
            start=start,
            items_per_page=max_results,
        )
        return web.Response(body=body, content_type="application/atom+xml")

    # --- OAI-PMH -----------------------------------------------------------------------------

    async def _oai(self, request: web.Request) -> web.StreamResponse:
        params = await form_params(request)
        base = "http://oaipmh.arxiv.org/oai"

        def error(code: str, message: str, echo: Mapping[str, str] | None = None) -> web.Response:
            body = xml.oai_error(code, message, request_params=echo or {}, base_url=base)
            return web.Response(body=body, content_type="text/xml")

        verb = params.get("verb", "")
        if verb != "ListRecords":
            return error("badVerb", f"Illegal verb {verb!r} (the fake supports ListRecords)")
        if "resumptionToken" in params:
            token = params["resumptionToken"]
            key, _, cursor_text = token.partition("|")
            query = self._oai_queries.get(key)
            if query is None or not cursor_text.isdigit():
                return error("badResumptionToken", "The value of the resumptionToken is invalid")
            cursor = int(cursor_text)
            echo: dict[str, str] = {"verb": verb, "resumptionToken": token}
        else:
            query = {
                k: v for k, v in params.items() if k in {"metadataPrefix", "from", "until", "set"}
            }
            cursor = 0
            echo = dict(params)
            if query.get("metadataPrefix") != "arXivRaw":
                return error(
                    "cannotDisseminateFormat",
                    f"The metadata format {query.get('metadataPrefix', '')!r} is not supported "
                    "by the fake (use arXivRaw)",
                    echo,
                )
        try:
            start = date.fromisoformat(query["from"]) if query.get("from") else None
            until = date.fromisoformat(query["until"]) if query.get("until") else None
        except ValueError:
            return error("badArgument", "from and until must be YYYY-MM-DD dates", echo)
        selected = self._oai_selected(start, until, query.get("set"))
        if not selected:
            return error("noRecordsMatch", NO_RECORDS, echo)
        size = self.oai_page_size
        page = selected[cursor : cursor + size]
        paged = len(selected) > size
        next_token = self._oai_next_token(query, cursor + size, len(selected))
        if self.stuck_oai_token and "resumptionToken" in params:
            next_token = params["resumptionToken"]  # a server stuck on one page
        body = xml.oai_list_records(
            page,
            request_params=echo,
            base_url=base,
            token=next_token,
            cursor=cursor,
            complete_size=len(selected),
            paged=paged,
        )
        return web.Response(body=body, content_type="text/xml")

    def _oai_selected(
        self, start: date | None, until: date | None, oai_set: str | None
    ) -> list[tuple[PaperRecord, date]]:
        """(record, datestamp) of the papers in the date range and set, in datestamp order."""
        selected = [
            (p.record, p.datestamp or p.listing_date)
            for p in self.papers
            if (start is None or (p.datestamp or p.listing_date) >= start)
            and (until is None or (p.datestamp or p.listing_date) <= until)
            and (not oai_set or any(in_set(c, oai_set) for c in p.record.categories))
        ]
        selected.sort(key=lambda pair: (pair[1], pair[0].arxiv_id))
        return selected

    def _oai_next_token(self, query: dict[str, str], cursor: int, total: int) -> str | None:
        """The resumptionToken of the page from `cursor` on; None when there is none."""
        if cursor >= total:
            return None
        key = hashlib.sha1(repr(sorted(query.items())).encode()).hexdigest()[:12]
        self._oai_queries[key] = query
        return f"{key}|{cursor}"
