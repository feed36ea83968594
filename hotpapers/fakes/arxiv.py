"""A local fake arXiv (aiohttp.web on 127.0.0.1) speaking the real wire formats.

Used by the tests, by `hotpapers demo` and by the benchmarks. It serves

* `GET /rss/{cats}` - rss.arxiv.org's RSS 2.0 feed of the listing `feed_date` (ETag, 304),
* `GET|POST /api/query` - the export API (`id_list`, `search_query`, paging, sorting),
* `GET|POST /oai` - OAI-PMH `ListRecords` with `arXivRaw` metadata and resumption tokens,

records every request (`requests`, `max_in_flight`) and injects faults into the next requests
(`fail_next`, `slow_next`, `truncate_next`, `disconnect_next`, `empty_page_next`,
`html_error_next`, `redirect_next`, `gzip_bomb_next`).
"""

from __future__ import annotations

import asyncio
import dataclasses
import functools
import hashlib
import random
import re
import time
import zlib
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

from aiohttp import web

from hotpapers.arxiv import calendar
from hotpapers.arxiv.holidays import ARXIV_HOLIDAYS
from hotpapers.arxiv.ids import split_id
from hotpapers.arxiv.taxonomy import ARCHIVES, normalize_category
from hotpapers.fakes import _arxiv_xml as xml
from hotpapers.fakes._server import LocalServer
from hotpapers.records import ANNOUNCE_TYPES, PaperRecord, VersionRecord

__all__ = [
    "FakeArxiv",
    "FakePaper",
    "Fault",
    "RecordedRequest",
    "generate_papers",
    "generate_past_day",
]

_ID_RE = re.compile(r"^(?:\d{4}\.\d{4,5}|[a-z][a-z\-]*(?:\.[A-Z]{2})?/\d{7})(?:v\d+)?$")
MAX_RESULTS_LIMIT = 30000
_CURRENT_FAULT: ContextVar[Fault | None] = ContextVar("fake_arxiv_fault", default=None)
_NO_RECORDS = (
    "The combination of the values of the from, until, set and metadataPrefix arguments "
    "results in an empty list."
)


@dataclass(slots=True)
class FakePaper:
    """One paper the fake serves: its record (latest version, `announce_type` set), the
    listing it was announced in and its OAI datestamp (defaults to the listing date)."""

    record: PaperRecord
    listing_date: date
    datestamp: date | None = None

    def __post_init__(self) -> None:
        if self.datestamp is None:
            self.datestamp = self.listing_date


@dataclass(slots=True)
class RecordedRequest:
    """One request as the fake saw it; `time` is `time.monotonic()` on arrival."""

    time: float
    method: str
    path: str
    params: dict[str, str]
    headers: dict[str, str] = field(default_factory=dict)


@dataclass(slots=True)
class Fault:
    """One injected misbehaviour, applied to the next matching request."""

    kind: str  # "status", "slow", "truncate", "disconnect", "empty_page", "html", "redirect",
    # "gzip_bomb"
    status: int = 503
    retry_after: str | None = None
    seconds: float = 0.0
    size: int = 0  # gzip_bomb: bytes the body expands to
    path: str | None = None  # only requests whose path starts with this

    def applies_to(self, request: web.Request) -> bool:
        if self.kind == "empty_page" and not request.path.startswith("/api"):
            return False
        return self.path is None or request.path.startswith(self.path)


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
        header = None if retry_after is None else _retry_after_text(retry_after)
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
            params = await _params(request)
            self.requests.append(
                RecordedRequest(
                    arrived, request.method, request.path, params, dict(request.headers)
                )
            )
            fault = self._take_fault(request)
            if fault is None:
                return await handler(request)
            token = _CURRENT_FAULT.set(fault)
            try:
                return await self._apply(fault, request, handler)
            finally:
                _CURRENT_FAULT.reset(token)
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
            body = _gzip_zeros(fault.size)
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
            if p.listing_date == day and any(_in_feed(c, wanted) for c in p.record.categories)
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
        if etag in _etags(request.headers.get("If-None-Match")):
            return web.Response(status=304, headers=headers)
        return web.Response(body=body, content_type="application/rss+xml", headers=headers)

    # --- export API ----------------------------------------------------------------------------

    async def _api(self, request: web.Request) -> web.StreamResponse:
        params = await _params(request)
        id_list = [part.strip() for part in params.get("id_list", "").split(",") if part.strip()]
        search = params.get("search_query", "").strip()
        try:
            start = int(params.get("start", "0"))
            max_results = int(params.get("max_results", "10"))
        except ValueError:
            return _api_error("start and max_results must be integers", "invalid_paging")
        if start < 0 or max_results < 0:
            return _api_error("start and max_results must not be negative", "invalid_paging")
        if max_results > MAX_RESULTS_LIMIT:
            return _api_error(
                f"max_results must be at most {MAX_RESULTS_LIMIT}", "max_results_too_large"
            )
        for raw in id_list:
            if not _ID_RE.match(raw):
                return _api_error(
                    f"incorrect id format for {raw}", f"incorrect_id_format_for_{raw}"
                )
        try:
            predicate = _parse_query(search) if search else None
        except ValueError as exc:
            return _api_error(str(exc), "malformed_query")

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
        matches = _sorted(matches, params, by_id_list=bool(id_list))
        page = matches[start : start + max_results]
        fault = _CURRENT_FAULT.get()
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
        params = await _params(request)
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
        oai_set = query.get("set")
        selected = [
            (p.record, p.datestamp or p.listing_date)
            for p in self.papers
            if (start is None or (p.datestamp or p.listing_date) >= start)
            and (until is None or (p.datestamp or p.listing_date) <= until)
            and (not oai_set or any(_in_set(c, oai_set) for c in p.record.categories))
        ]
        selected.sort(key=lambda pair: (pair[1], pair[0].arxiv_id))
        if not selected:
            return error("noRecordsMatch", _NO_RECORDS, echo)
        size = self.oai_page_size
        page = selected[cursor : cursor + size]
        paged = len(selected) > size
        next_token: str | None = None
        if cursor + size < len(selected):
            key = hashlib.sha1(repr(sorted(query.items())).encode()).hexdigest()[:12]
            self._oai_queries[key] = query
            next_token = f"{key}|{cursor + size}"
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


# --- helpers ------------------------------------------------------------------------------------


async def _params(request: web.Request) -> dict[str, str]:
    """Query parameters, plus the form fields of a POST (aiohttp caches the parsed form)."""
    params = dict(request.query)
    if request.method == "POST":
        form = await request.post()
        params.update({k: v for k, v in form.items() if isinstance(v, str)})
    return params


@functools.cache
def _gzip_zeros(size: int) -> bytes:
    """A gzip stream of `size` zero bytes (about 1,000 times smaller), made once per size."""
    packer = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS)  # gzip framing
    chunk = bytes(1 << 20)
    parts = [packer.compress(chunk) for _ in range(size // len(chunk))]
    parts.append(packer.compress(bytes(size % len(chunk))))
    parts.append(packer.flush())
    return b"".join(parts)


def _retry_after_text(value: float | str) -> str:
    if isinstance(value, str):
        return value
    return str(int(value)) if float(value).is_integer() else str(value)


def _etags(header: str | None) -> set[str]:
    if not header:
        return set()
    return {part.strip().removeprefix("W/") for part in header.split(",") if part.strip()}


def _in_feed(category: str, wanted: Sequence[str]) -> bool:
    """A category belongs to a feed of categories and archives (`cs` holds cs.LG)."""
    for name in wanted:
        if category == name or (name in ARCHIVES and category.split(".")[0] == name):
            return True
    return False


def _in_set(category: str, oai_set: str) -> bool:
    spec = xml.oai_set_spec(category)
    return spec == oai_set or spec.startswith(oai_set + ":")


def _api_error(message: str, error_id: str) -> web.Response:
    return web.Response(
        status=400, body=xml.atom_error(message, error_id), content_type="application/atom+xml"
    )


def _sorted(
    matches: list[tuple[PaperRecord, int]], params: Mapping[str, str], *, by_id_list: bool
) -> list[tuple[PaperRecord, int]]:
    sort_by = params.get("sortBy", "relevance")
    descending = params.get("sortOrder", "descending") != "ascending"
    epoch = datetime.min.replace(tzinfo=UTC)
    if sort_by == "submittedDate":
        return sorted(matches, key=lambda m: m[0].submitted or epoch, reverse=descending)
    if sort_by == "lastUpdatedDate":
        return sorted(matches, key=lambda m: m[0].updated or epoch, reverse=descending)
    if by_id_list:
        return matches
    return sorted(matches, key=lambda m: m[0].submitted or epoch, reverse=True)


# --- search_query --------------------------------------------------------------------------------

Predicate = Callable[[PaperRecord], bool]
_TOKEN = re.compile(r"\s*(\(|\)|[A-Za-z_]+:\[[^\]]*\]|[A-Za-z_]+:\"[^\"]*\"|\"[^\"]*\"|[^\s()]+)")
_RANGE = re.compile(r"^\[\s*(\d{12}|\d{8})\s+TO\s+(\d{12}|\d{8})\s*\]$", re.IGNORECASE)
_FIELDS = {"ti", "au", "abs", "co", "jr", "cat", "rn", "id", "all"}


def _parse_query(text: str) -> Predicate:
    """`search_query` as a predicate: fields, AND / OR / ANDNOT, parentheses, date ranges."""
    tokens = _TOKEN.findall(text.replace("+", " "))
    predicate, rest = _parse_or(tokens)
    if rest:
        raise ValueError(f"unexpected {rest[0]!r} in search_query")
    return predicate


def _parse_or(tokens: list[str]) -> tuple[Predicate, list[str]]:
    left, tokens = _parse_and(tokens)
    while tokens and tokens[0] == "OR":
        right, tokens = _parse_and(tokens[1:])
        left = _either(left, right)
    return left, tokens


def _parse_and(tokens: list[str]) -> tuple[Predicate, list[str]]:
    left, tokens = _parse_atom(tokens)
    while tokens and tokens[0] not in {"OR", ")"}:
        operator = tokens[0]
        if operator in {"AND", "ANDNOT"}:
            tokens = tokens[1:]
        right, tokens = _parse_atom(tokens)
        left = _both(left, _negate(right) if operator == "ANDNOT" else right)
    return left, tokens


def _parse_atom(tokens: list[str]) -> tuple[Predicate, list[str]]:
    if not tokens:
        raise ValueError("search_query ends too early")
    head, rest = tokens[0], tokens[1:]
    if head == "(":
        inner, rest = _parse_or(rest)
        if not rest or rest[0] != ")":
            raise ValueError("unbalanced parentheses in search_query")
        return inner, rest[1:]
    if head in {")", "AND", "OR", "ANDNOT"}:
        raise ValueError(f"unexpected {head!r} in search_query")
    return _term(head), rest


def _either(a: Predicate, b: Predicate) -> Predicate:
    return lambda r: a(r) or b(r)


def _both(a: Predicate, b: Predicate) -> Predicate:
    return lambda r: a(r) and b(r)


def _negate(a: Predicate) -> Predicate:
    return lambda r: not a(r)


def _term(token: str) -> Predicate:
    name, colon, value = token.partition(":")
    if not colon:
        name, value = "all", token
    value = value.strip('"')
    if name in {"submittedDate", "lastUpdatedDate"}:
        match = _RANGE.match(value)
        if match is None:
            raise ValueError(f"malformed date range {value!r}")
        low, high = (_stamp(match.group(1)), _stamp(match.group(2), end=True))
        attribute = "submitted" if name == "submittedDate" else "updated"

        def in_range(record: PaperRecord) -> bool:
            moment: datetime | None = getattr(record, attribute)
            if moment is None:
                return False
            minute = moment.astimezone(UTC).replace(second=0, microsecond=0, tzinfo=None)
            return low <= minute <= high

        return in_range
    if name not in _FIELDS:
        raise ValueError(f"unknown field {name!r} in search_query")
    needle = value.lower()
    if name == "cat":
        return lambda r: any(c.lower() == needle for c in r.categories)
    if name == "id":
        wanted = split_id(value)
        return lambda r: wanted is not None and r.arxiv_id == wanted[0]
    return lambda r: needle in _field_text(r, name).lower()


def _field_text(record: PaperRecord, name: str) -> str:
    values = {
        "ti": record.title,
        "au": " ".join(record.authors),
        "abs": record.abstract,
        "co": record.comment or "",
        "jr": record.journal_ref or "",
        "rn": "",
    }
    if name == "all":
        return " ".join([record.title, record.abstract, " ".join(record.authors)])
    return values.get(name, "")


def _stamp(text: str, *, end: bool = False) -> datetime:
    if len(text) == 8:
        text += "2359" if end else "0000"
    return datetime.strptime(text, "%Y%m%d%H%M")


# --- generator ------------------------------------------------------------------------------------

_METHODS = [
    "Sparse Mixture-of-Experts", "Diffusion Transformers", "Contrastive Pretraining",
    "Low-Rank Adaptation", "State-Space Models", "Graph Neural Networks",
    "Neural Radiance Fields", "Direct Preference Optimization", "Speculative Decoding",
    "Vision-Language Models", "Kolmogorov-Arnold Networks", "Flow Matching",
    "Test-Time Training", "Retrieval-Augmented Generation", "Gaussian Splatting",
]  # fmt: skip
_GOALS = [
    "Scalable", "Provably Efficient", "Robust", "Data-Efficient", "Calibrated",
    "Interpretable", "Memory-Efficient", "Faithful", "Compositional", "Private",
]  # fmt: skip
_TASKS = [
    "Long-Context Reasoning", "Open-Vocabulary Segmentation", "Protein Design",
    "Multilingual Machine Translation", "Offline Reinforcement Learning", "3D Scene Understanding",
    "Time-Series Forecasting", "Code Generation", "Video Prediction", "Causal Discovery",
    "Tabular Learning", "Autonomous Driving",
]  # fmt: skip
_SENTENCES = [
    "We study {method} for {task} and identify a failure mode of existing approaches.",
    "Existing methods scale poorly, requiring $\\mathcal{{O}}(n^2)$ memory in the sequence length.",
    "We propose a simple modification that reduces the cost to $\\mathcal{{O}}(n \\log n)$ "
    "while preserving accuracy.",
    "Our analysis shows that the estimator is consistent whenever $x < y$ & the noise is "
    "sub-Gaussian.",
    "On standard benchmarks, the method improves over strong baselines by {gain}% on average.",
    "We further show that {method} transfers to {task2} without additional tuning.",
    "Ablations reveal that the gains come mostly from the training objective, not the "
    "architecture.",
    "Code and pretrained checkpoints are released to facilitate reproducibility.",
    "We provide a theoretical bound of $\\epsilon = \\tilde{{O}}(1/\\sqrt{{T}})$ on the regret.",
    "Experiments span {k} datasets and models of up to {size}B parameters.",
]  # fmt: skip
_AUTHORS = [
    "Philipp Krähenbühl", "Zoë Andrade", "Søren Kjærgaard", "Mária Novák", "Émilie Durand",
    "Łukasz Wiśniewski", "Ngọc Anh Trần", "Wei Zhang", "Priya Raghunathan", "Oğuz Yılmaz",
    "Anna-Lena Müller", "José Ángel Peña", "Björn Åkesson", "Chidi Okafor", "Hiroshi Tanaka",
    "Fatima Al-Sayed", "Mateo Rossi", "Yuki Sato", "Ingrid Halvorsen", "Rahul Mehta",
    "Sara Lindqvist", "Kwame Mensah", "Li Na", "Jean-Baptiste Lefèvre", "Ana María Ruiz",
]  # fmt: skip
_OTHER_CATEGORIES = [
    "math.OC", "eess.IV", "cs.RO", "q-bio.NC", "quant-ph", "eess.SP", "cs.IR", "cs.NE",
    "physics.data-an", "math.ST",
]  # fmt: skip
_OLD_STYLE = ["hep-th/0601001", "math.GT/0309136", "cond-mat/0703012", "astro-ph/0601001"]
_KIND_PATTERN = [
    "new", "new", "cross", "new", "replace", "new", "new", "cross", "replace-cross", "new",
]  # fmt: skip


def generate_papers(
    listing_date: date,
    categories: Sequence[str],
    n: int,
    seed: int = 0,
    *,
    holidays: Iterable[date] = ARXIV_HOLIDAYS,
) -> list[FakePaper]:
    """`n` realistic, deterministic papers announced in `listing_date` for `categories`.

    New and cross-listed papers were submitted (v1) inside the listing's submission window;
    replacements have an older v1 and a v2 (sometimes v3) inside the window. A couple of
    replacements use old-style ids (`hep-th/0601001`). Titles and abstracts carry LaTeX,
    `<` and `&`; authors include accented names.
    """
    rng = random.Random(seed)
    cats = [normalize_category(c) or c for c in categories] or ["cs.LG"]
    others = [c for c in _OTHER_CATEGORIES if c not in cats]
    window_start, window_end = calendar.submission_window(listing_date, list(holidays))
    window_seconds = int((window_end - window_start).total_seconds())
    prefix = listing_date.strftime("%y%m")
    serials = rng.sample(range(1, 30000), n)
    old_style = iter(_OLD_STYLE)
    papers: list[FakePaper] = []
    for index in range(n):
        kind = _KIND_PATTERN[index % len(_KIND_PATTERN)]
        if kind in {"new", "replace"}:
            primary = rng.choice(cats)
            extra = rng.sample([c for c in [*cats, *others] if c != primary], rng.randint(0, 2))
        else:
            primary = rng.choice(others)
            extra = rng.sample(cats, min(len(cats), rng.randint(1, 2)))
        in_window = window_start + timedelta(seconds=rng.randrange(max(window_seconds, 1)))
        if kind.startswith("replace"):
            old = next(old_style, None) if index % 20 == 8 else None
            if old is not None:
                arxiv_id = old
                first = datetime(2000 + int(old[-7:-5]), int(old[-5:-3]), 2, 14, 57, tzinfo=UTC)
                first += timedelta(days=rng.randrange(20), seconds=rng.randrange(86400))
            else:
                first = in_window - timedelta(
                    days=rng.randint(20, 700), seconds=rng.randrange(86400)
                )
                arxiv_id = f"{first:%y%m}.{rng.randrange(30000, 100000):05d}"
            version = 2 if rng.random() < 0.8 else 3
            history = [VersionRecord(1, first)]
            if version == 3:
                history.append(VersionRecord(2, first + (in_window - first) / 2))
            history.append(VersionRecord(version, in_window))
        else:
            arxiv_id = f"{prefix}.{serials[index]:05d}"
            version = 1
            history = [VersionRecord(1, in_window)]
        record = PaperRecord(
            arxiv_id=arxiv_id,
            version=version,
            title=_title(rng),
            abstract=_abstract(rng),
            authors=tuple(rng.sample(_AUTHORS, rng.randint(1, 7))),
            categories=(primary, *extra),
            primary_category=primary,
            comment=_comment(rng),
            journal_ref=f"Trans. Mach. Learn. Res. {rng.randint(2024, 2026)}"
            if rng.random() < 0.1
            else None,
            doi=_doi(rng, arxiv_id),
            submitted=history[0].created,
            updated=history[-1].created,
            announce_type=kind,
            versions=tuple(history),
        )
        papers.append(FakePaper(record, listing_date))
    return _unique(papers)


def generate_past_day(
    listing_date: date,
    categories: Sequence[str],
    n: int,
    seed: int = 0,
    *,
    holidays: Iterable[date] = ARXIV_HOLIDAYS,
) -> list[FakePaper]:
    """A past day as the archive holds it: what an archive query for `listing_date` must sort out.

    * `n` papers announced on `listing_date` (new, cross, replace, replace-cross: see
      `generate_papers`), datestamped that day;
    * cross-lists of older papers: first announced 2-8 weeks earlier in another category,
      cross-listed into `categories` on `listing_date` without a new version; arXiv moves the
      OAI datestamp to `listing_date` and the day's feed lists them as `cross`;
    * a metadata-only change (a journal ref added) to an older paper of `categories`:
      datestamped `listing_date` but in no listing of that day;
    * new papers of the day replaced two weeks later: their datestamp has moved on;
    * the previous and next listings, and papers of other categories on the same day.
    """
    days = list(holidays)
    cats = [normalize_category(c) or c for c in categories] or ["cs.LG"]
    rng = random.Random(f"past-day-{seed}")
    start, end = calendar.submission_window(listing_date, days)
    others = [c for c in _OTHER_CATEGORIES if c not in cats][:2] or ["math.OC"]
    neighbours = max(n // 4, 1)
    day = generate_papers(listing_date, cats, n, seed, holidays=days)
    papers = [
        *(_changed_later(p, end) if i % 8 == 3 and p.record.version == 1 else p
          for i, p in enumerate(day)),
        *(_late_cross_list(rng, listing_date, cats, start, i) for i in range(max(n // 10, 2))),
        _metadata_update(rng, listing_date, cats, start, days),
        *generate_papers(
            calendar.previous_listing_date(listing_date, days), cats, neighbours, seed + 1,
            holidays=days,
        ),
        *generate_papers(
            calendar.next_listing_date(listing_date, days), cats, neighbours, seed + 2,
            holidays=days,
        ),
        *generate_papers(listing_date, others, neighbours, seed + 3, holidays=days),
    ]  # fmt: skip
    return _unique(papers)


def _changed_later(paper: FakePaper, end: datetime) -> FakePaper:
    """The paper after a v2 two weeks past its listing: OAI datestamps it then, not on its day."""
    v2 = end + timedelta(days=14)
    record = paper.record
    history = (*record.versions, VersionRecord(2, v2))
    newer = dataclasses.replace(record, version=2, updated=v2, versions=history)
    return FakePaper(newer, paper.listing_date, datestamp=(v2 + timedelta(days=1)).date())


def _old_record(
    rng: random.Random, cats: Sequence[str], primary: str, first: datetime, versions: int
) -> PaperRecord:
    """A paper whose versions all predate the listing in question (one a week apart)."""
    history = tuple(
        VersionRecord(v, first + timedelta(days=7 * (v - 1))) for v in range(1, versions + 1)
    )
    arxiv_id = f"{first:%y%m}.{rng.randrange(30000, 100000):05d}"
    return PaperRecord(
        arxiv_id=arxiv_id,
        version=versions,
        title=_title(rng),
        abstract=_abstract(rng),
        authors=tuple(rng.sample(_AUTHORS, rng.randint(1, 5))),
        categories=(primary, *cats),
        primary_category=primary,
        comment=_comment(rng),
        submitted=history[0].created,
        updated=history[-1].created,
        versions=history,
    )


def _late_cross_list(
    rng: random.Random, listing_date: date, cats: Sequence[str], start: datetime, index: int
) -> FakePaper:
    """An older paper of another category, cross-listed into one of `cats` on `listing_date`."""
    primary = rng.choice([c for c in _OTHER_CATEGORIES if c not in cats] or ["math.OC"])
    first = start - timedelta(days=rng.randint(14, 56), seconds=rng.randrange(86400))
    record = _old_record(rng, [cats[index % len(cats)]], primary, first, 1 + index % 2)
    return FakePaper(dataclasses.replace(record, announce_type="cross"), listing_date)


def _metadata_update(
    rng: random.Random,
    listing_date: date,
    cats: Sequence[str],
    start: datetime,
    holidays: list[date],
) -> FakePaper:
    """An older paper of `cats` that got a journal ref on `listing_date`: no announcement."""
    first = start - timedelta(days=rng.randint(21, 56), seconds=rng.randrange(86400))
    record = _old_record(rng, cats[1:2], cats[0], first, 1)
    record = dataclasses.replace(
        record, journal_ref="Phys. Rev. E 112, 045301 (2026)", announce_type="new"
    )
    announced = calendar.next_listing_date(first.astimezone(calendar.ET).date(), holidays)
    return FakePaper(record, announced, datestamp=listing_date)


def _unique(papers: list[FakePaper]) -> list[FakePaper]:
    seen: dict[str, FakePaper] = {}
    for paper in papers:
        seen.setdefault(paper.record.arxiv_id, paper)
    return list(seen.values())


def _title(rng: random.Random) -> str:
    method, task = rng.choice(_METHODS), rng.choice(_TASKS)
    forms = [
        f"{rng.choice(_GOALS)} {method} for {task}",
        f"On the Limits of {method} in {task}",
        f"{method} Are Secretly {rng.choice(_GOALS)} Learners: Evidence from {task}",
        f"Beyond $\\mathcal{{O}}(n^2)$: {rng.choice(_GOALS)} {method}",
        f"When Does {method} Help {task}? A Large-Scale Study",
    ]
    return rng.choice(forms)


def _abstract(rng: random.Random) -> str:
    method, task, task2 = rng.choice(_METHODS), rng.choice(_TASKS), rng.choice(_TASKS)
    chosen = [_SENTENCES[0], *rng.sample(_SENTENCES[1:], rng.randint(3, 6))]
    return " ".join(
        s.format(
            method=method,
            task=task.lower(),
            task2=task2.lower(),
            gain=rng.randint(2, 19),
            k=rng.randint(3, 40),
            size=rng.choice([1, 7, 13, 70]),
        )
        for s in chosen
    )


def _doi(rng: random.Random, arxiv_id: str) -> str | None:
    return f"10.48550/arXiv.{arxiv_id}" if rng.random() < 0.15 and "/" not in arxiv_id else None


def _comment(rng: random.Random) -> str | None:
    roll = rng.random()
    if roll < 0.4:
        return f"{rng.randint(8, 40)} pages, {rng.randint(2, 12)} figures"
    if roll < 0.6:
        venue = rng.choice(["NeurIPS 2026", "ICLR 2027", "CVPR 2026", "ACL 2026"])
        return f"Accepted at {venue}; code: https://github.com/example/project"
    return None
