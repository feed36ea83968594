"""Request helpers of the fake arXiv: parameters, ETags, feed and set membership, the export API's
`search_query` language and sorting."""

from __future__ import annotations

import functools
import re
import zlib
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime

from aiohttp import web

from hotpapers.arxiv.ids import split_id
from hotpapers.arxiv.taxonomy import ARCHIVES
from hotpapers.fakes.arxiv import wire as xml
from hotpapers.storage.records import PaperRecord


async def form_params(request: web.Request) -> dict[str, str]:
    """Query parameters, plus the form fields of a POST (aiohttp caches the parsed form)."""
    params = dict(request.query)
    if request.method == "POST":
        form = await request.post()
        params.update({k: v for k, v in form.items() if isinstance(v, str)})
    return params


@functools.cache
def gzip_zeros(size: int) -> bytes:
    """A gzip stream of `size` zero bytes (about 1,000 times smaller), made once per size."""
    packer = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS)  # gzip framing
    chunk = bytes(1 << 20)
    parts = [packer.compress(chunk) for _ in range(size // len(chunk))]
    parts.append(packer.compress(bytes(size % len(chunk))))
    parts.append(packer.flush())
    return b"".join(parts)


def retry_after_text(value: float | str) -> str:
    if isinstance(value, str):
        return value
    return str(int(value)) if float(value).is_integer() else str(value)


def etags(header: str | None) -> set[str]:
    if not header:
        return set()
    return {part.strip().removeprefix("W/") for part in header.split(",") if part.strip()}


def in_feed(category: str, wanted: Sequence[str]) -> bool:
    """A category belongs to a feed of categories and archives (`cs` holds cs.LG)."""
    for name in wanted:
        if category == name or (name in ARCHIVES and category.split(".")[0] == name):
            return True
    return False


def in_set(category: str, oai_set: str) -> bool:
    spec = xml.oai_set_spec(category)
    return spec == oai_set or spec.startswith(oai_set + ":")


def api_error(message: str, error_id: str) -> web.Response:
    return web.Response(
        status=400, body=xml.atom_error(message, error_id), content_type="application/atom+xml"
    )


def sorted_papers(
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


Predicate = Callable[[PaperRecord], bool]


_TOKEN = re.compile(r"\s*(\(|\)|[A-Za-z_]+:\[[^\]]*\]|[A-Za-z_]+:\"[^\"]*\"|\"[^\"]*\"|[^\s()]+)")


_RANGE = re.compile(r"^\[\s*(\d{12}|\d{8})\s+TO\s+(\d{12}|\d{8})\s*\]$", re.IGNORECASE)


_FIELDS = {"ti", "au", "abs", "co", "jr", "cat", "rn", "id", "all"}


def parse_search_query(text: str) -> Predicate:
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
