"""Read side: plain functions over a Session that return small frozen dataclasses.

Author search is case- and accent-insensitive (the keys `names.name_keys` stores with each
author: full name, surname with its particles, last name) and written as index range scans,
`key >= :prefix AND key < :prefix || U+10FFFF`, which both SQLite (BINARY collation) and
PostgreSQL (collation "C") answer from the b-tree.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import TextClause, text
from sqlmodel import Session

from hotpapers.arxiv.ids import split_id
from hotpapers.storage.names import NameKeys, query_keys

__all__ = [
    "ListingPaper",
    "PaperDetail",
    "PaperSummary",
    "VersionInfo",
    "author_names",
    "get_paper",
    "latest_in_category",
    "papers_by_author",
    "papers_by_ids",
    "papers_for_listing",
]

log = logging.getLogger(__name__)

_TOP = "\U0010ffff"  # sorts after every character, in UTF-8 byte order as in code points


@dataclass(frozen=True, slots=True)
class VersionInfo:
    version: int
    created: datetime | None


@dataclass(frozen=True, slots=True)
class PaperSummary:
    arxiv_id: str
    title: str
    authors: tuple[str, ...]
    primary_category: str
    submitted: datetime | None
    updated: datetime | None
    latest_version: int


@dataclass(frozen=True, slots=True)
class PaperDetail:
    arxiv_id: str
    latest_version: int
    title: str
    abstract: str
    authors: tuple[str, ...]
    categories: tuple[str, ...]  # the primary first
    primary_category: str
    comment: str | None
    journal_ref: str | None
    doi: str | None
    submitted: datetime | None
    updated: datetime | None
    versions: tuple[VersionInfo, ...]


@dataclass(frozen=True, slots=True)
class ListingPaper:
    """A paper announced on a listing date, with the categories it was announced in."""

    paper: PaperSummary
    categories: tuple[str, ...]  # announced in (among those asked for), the primary first
    announce_type: str  # for the first of `categories`: new / cross / replace / replace-cross
    version: int


def _utc(moment: Any) -> datetime | None:
    """Stored times are UTC; some drivers hand them back naive (or as SQLite text)."""
    if moment is None:
        return None
    if isinstance(moment, str):
        moment = datetime.fromisoformat(moment)
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def _expanding(name: str, values: Sequence[Any]) -> tuple[str, dict[str, Any]]:
    """`:name_0, :name_1, ...` and its parameters (an IN list that both dialects accept)."""
    params = {f"{name}_{i}": value for i, value in enumerate(values)}
    return ", ".join(f":{key}" for key in params), params


# A paper's authors, categories and versions in one statement, each part in its order: one
# round trip instead of three (on PostgreSQL each one waits for the server to be scheduled).
# The first NULL is typed so that both databases settle every column's type from the first
# branch on (PostgreSQL resolves a UNION's types pair by pair).
_AUTHORS, _CATEGORIES, _VERSIONS = 0, 1, 2
_PAPER_PARTS = text(
    f"SELECT {_AUTHORS} AS part, position AS ord, author_name AS name,"
    " CAST(NULL AS TIMESTAMP) AS created FROM paper_author WHERE paper_id = :id"
    f" UNION ALL SELECT {_CATEGORIES}, position, category, NULL"
    " FROM paper_category WHERE paper_id = :id"
    f" UNION ALL SELECT {_VERSIONS}, version, NULL, created FROM paper_version WHERE paper_id = :id"
    " ORDER BY part, ord"
)


def get_paper(session: Session, arxiv_id: str) -> PaperDetail | None:
    """One paper by id (any form: `2103.06902v2`, `arXiv:hep-th/9901001`, an abs URL)."""
    parts = split_id(arxiv_id)
    key = parts[0] if parts else arxiv_id.strip()
    row = session.execute(
        text(
            "SELECT id, latest_version, title, abstract, primary_category, comment,"
            " journal_ref, doi, submitted, updated FROM paper WHERE id = :id"
        ),
        {"id": key},
    ).first()
    if row is None:
        return None
    details: dict[int, list[Any]] = {_AUTHORS: [], _CATEGORIES: [], _VERSIONS: []}
    for part in session.execute(_PAPER_PARTS, {"id": key}):
        details[part.part].append(part)
    return PaperDetail(
        arxiv_id=row.id,
        latest_version=row.latest_version,
        title=row.title,
        abstract=row.abstract,
        authors=tuple(part.name for part in details[_AUTHORS]),
        categories=tuple(part.name for part in details[_CATEGORIES]),
        primary_category=row.primary_category,
        comment=row.comment,
        journal_ref=row.journal_ref,
        doi=row.doi,
        submitted=_utc(row.submitted),
        updated=_utc(row.updated),
        versions=tuple(VersionInfo(v.ord, _utc(v.created)) for v in details[_VERSIONS]),
    )


@functools.lru_cache(maxsize=256)
def _authors_of(count: int) -> TextClause:
    """The author lists of `count` papers (one statement text per count: parsed once)."""
    marks = ", ".join(f":id_{i}" for i in range(count))
    return text(
        f"SELECT paper_id, author_name FROM paper_author WHERE paper_id IN ({marks})"
        " ORDER BY paper_id, position"
    )


@functools.lru_cache(maxsize=256)
def _papers_by_id(count: int) -> TextClause:
    """The summaries of `count` papers with their authors, a row per author in order: one
    round trip where a second statement for the authors was another."""
    marks = ", ".join(f":id_{i}" for i in range(count))
    return text(
        f"SELECT {_SUMMARY_COLUMNS}, a.author_name FROM paper p"
        " LEFT JOIN paper_author a ON a.paper_id = p.id"
        f" WHERE p.id IN ({marks}) ORDER BY p.id, a.position"
    )


def _summary(row: Any, authors: Iterable[str]) -> PaperSummary:
    return PaperSummary(
        arxiv_id=row.id,
        title=row.title,
        authors=tuple(authors),
        primary_category=row.primary_category,
        submitted=_utc(row.submitted),
        updated=_utc(row.updated),
        latest_version=row.latest_version,
    )


def _summaries(session: Session, rows: Iterable[Any]) -> list[PaperSummary]:
    """Rows with id, title, primary_category, submitted, updated, latest_version -> summaries."""
    rows = list(rows)
    if not rows:
        return []
    _, params = _expanding("id", [row.id for row in rows])
    authors: dict[str, list[str]] = {}
    for paper_id, name in session.execute(_authors_of(len(params)), params).all():
        authors.setdefault(paper_id, []).append(name)
    return [_summary(row, authors.get(row.id, ())) for row in rows]


_SUMMARY_COLUMNS = "p.id, p.title, p.primary_category, p.submitted, p.updated, p.latest_version"


# A prefix can match thousands of authors ("wang"): only the first this many, in the order
# author_names suggests them (full-name matches, then surname, then last-name matches; an exact
# match sorts first in each), are searched for papers. Below it the answer is exact.
_MAX_AUTHORS = 100

# The author columns a typed name is looked up in, in the order of the suggestions, each with
# the key of names.query_keys it is compared to.
_AUTHOR_KEYS = (("folded_name", "full"), ("folded_surname", "surname"), ("folded_last", "last"))


def _key_range(keys: NameKeys, attribute: str) -> tuple[str, str]:
    """(key, top) of a prefix range scan; an empty key gives an empty range, not every row."""
    key: str = getattr(keys, attribute)
    return key, key + _TOP if key else ""


# Both dialects, in two steps over ix_paper_author_latest (no paper rows read):
# 1. each author's newest submission time (one index probe each); the `limit`-th newest of
#    these is a bound `since`: at least `limit` papers are that new (if no co-author shares
#    them; else step 2 runs again without the bound);
# 2. each author's newest `limit` papers since then, merged: the newest `limit` distinct.
#    Ties order by id, as in the index.
# PostgreSQL: the matching authors (what author_names(name, _MAX_AUTHORS) gives: the first
# :cap distinct names of the full-name matches, then the surname and last-name ones, each in
# folded order), both steps, the paper rows and their author lists in ONE statement (one round trip,
# one parse; every part is an index range scan or a probe per author or per paper).
# `:bounded` false runs step 2 without the bound (the co-author case); the `bounded` column
# says whether the bound was used.
_AUTHOR_MATCHES_PG = " UNION ALL ".join(
    f"(SELECT name, {group} AS g, row_number() OVER (ORDER BY {column}, name) AS r"
    f" FROM author WHERE {column} >= :key_{group} AND {column} < :top_{group}"
    f" ORDER BY {column}, name LIMIT :cap)"
    for group, (column, _) in enumerate(_AUTHOR_KEYS)
)
_BY_AUTHOR_PG = text(
    f"WITH m AS ({_AUTHOR_MATCHES_PG}),"
    " a AS MATERIALIZED (SELECT name FROM m GROUP BY name ORDER BY min(g * :cap + r)"
    "  LIMIT :cap),"
    # MATERIALIZED: inlined, each probe would run twice (the filter and the sort key).
    " newest AS MATERIALIZED (SELECT (SELECT max(pa.submitted) FROM paper_author pa"
    "  WHERE pa.author_name = a.name) AS t FROM a),"
    " bound AS (SELECT COALESCE(CASE WHEN :bounded THEN (SELECT t FROM newest"
    "  WHERE t IS NOT NULL ORDER BY t DESC OFFSET :limit - 1 LIMIT 1) END,"
    "  '-infinity'::timestamp) AS since),"
    " latest AS (SELECT l.paper_id, max(l.submitted) AS submitted"
    "  FROM a CROSS JOIN bound b"
    "  CROSS JOIN LATERAL (SELECT DISTINCT pa.paper_id, pa.submitted FROM paper_author pa"
    "   WHERE pa.author_name = a.name AND pa.submitted >= b.since"
    "   ORDER BY pa.submitted DESC, pa.paper_id DESC LIMIT :limit) AS l"
    "  GROUP BY l.paper_id ORDER BY submitted DESC, l.paper_id DESC LIMIT :limit)"
    f" SELECT {_SUMMARY_COLUMNS},"
    " ARRAY(SELECT x.author_name FROM paper_author x WHERE x.paper_id = p.id"
    "  ORDER BY x.position) AS authors,"
    " (SELECT since FROM bound) > '-infinity'::timestamp AS bounded"
    " FROM latest l JOIN paper p ON p.id = l.paper_id"
    " ORDER BY l.submitted DESC, l.paper_id DESC"
)
_EARLIEST = ""  # SQLite: before every stored time

# SQLite has no LATERAL: one small index scan per author, UNION ALL. A few fixed sizes
# (padded with NULL, which matches nothing), so each text is prepared once, then cached.
_SQLITE_SIZES = (2, 8, 32, 100, _MAX_AUTHORS)


@functools.cache
def _sqlite_steps(count: int) -> tuple[TextClause, TextClause]:
    newest = " UNION ALL ".join(
        f"SELECT max(submitted) FROM paper_author WHERE author_name = :n_{i}" for i in range(count)
    )
    parts = " UNION ALL ".join(
        "SELECT * FROM (SELECT DISTINCT paper_id, submitted FROM paper_author"
        f" WHERE author_name = :n_{i} AND submitted >= :since"
        " ORDER BY submitted DESC, paper_id DESC LIMIT :limit)"
        for i in range(count)
    )
    latest = (
        f"SELECT paper_id, max(submitted) AS submitted FROM ({parts})"
        " GROUP BY paper_id ORDER BY submitted DESC, paper_id DESC LIMIT :limit"
    )
    return text(newest), text(latest)


def papers_by_author(session: Session, name: str, limit: int = 20) -> list[PaperSummary]:
    """Papers of authors whose full name, surname or last name starts with `name`, newest
    first (see names.py: "van der Maaten", "Maaten" and "LeCun" find "Yann Le Cun").

    Case and accents do not matter: "krah" and "KRÄH" both find "Philipp Krähenbühl".
    Papers without a submission time are not listed. When more than `_MAX_AUTHORS` authors
    match, only the papers of the first `_MAX_AUTHORS` of `author_names(name)` are listed.
    """
    if limit < 1:
        return []
    if session.get_bind().dialect.name == "postgresql":
        return _papers_by_authors_pg(session, query_keys(name), limit)
    names = author_names(session, name, _MAX_AUTHORS)
    if not names:
        return []
    earliest = _EARLIEST
    size = next(size for size in (*_SQLITE_SIZES, len(names)) if size >= len(names))
    newest, latest = _sqlite_steps(size)
    padded = [*names, *([None] * (size - len(names)))]
    params: dict[str, Any] = {f"n_{i}": author for i, author in enumerate(padded)}
    params["limit"] = limit
    times = sorted(
        (t for t in session.execute(newest, params).scalars().all() if t is not None),
        reverse=True,
    )
    if not times:
        return []
    since = times[limit - 1] if len(times) >= limit else earliest
    order = [paper_id for paper_id, _ in session.execute(latest, {**params, "since": since})]
    if len(order) < limit and since != earliest:  # co-authors shared some of those papers
        params["since"] = earliest
        order = [paper_id for paper_id, _ in session.execute(latest, params).all()]
    return papers_by_ids(session, order)


def _papers_by_authors_pg(session: Session, keys: NameKeys, limit: int) -> list[PaperSummary]:
    """papers_by_author on PostgreSQL, in one statement (see _BY_AUTHOR_PG)."""
    if not keys.full:
        return []
    params: dict[str, Any] = {"cap": _MAX_AUTHORS, "limit": limit, "bounded": True}
    for group, (_, attribute) in enumerate(_AUTHOR_KEYS):
        params[f"key_{group}"], params[f"top_{group}"] = _key_range(keys, attribute)
    rows = session.execute(_BY_AUTHOR_PG, params).all()
    if len(rows) < limit and rows and rows[0].bounded:  # co-authors shared some of those
        rows = session.execute(_BY_AUTHOR_PG, {**params, "bounded": False}).all()
    return [
        PaperSummary(
            arxiv_id=row.id,
            title=row.title,
            authors=tuple(row.authors),
            primary_category=row.primary_category,
            submitted=_utc(row.submitted),
            updated=_utc(row.updated),
            latest_version=row.latest_version,
        )
        for row in rows
    ]


def author_names(session: Session, prefix: str, limit: int = 25) -> list[str]:
    """Author names for autocomplete: full-name prefix matches first, then surname, then
    last-name ones (names.query_keys)."""
    keys = query_keys(prefix)
    if not keys.full or limit < 1:
        return []
    found: dict[str, None] = {}
    for column, attribute in _AUTHOR_KEYS:
        key, top = _key_range(keys, attribute)
        if not key:
            continue
        names = session.execute(
            text(
                f"SELECT name FROM author WHERE {column} >= :key AND {column} < :top"
                f" ORDER BY {column}, name LIMIT :limit"
            ),
            {"key": key, "top": top, "limit": limit},
        ).scalars()
        found.update(dict.fromkeys(names.all()))
        if len(found) >= limit:
            break
    return list(found)[:limit]


def latest_in_category(session: Session, category: str, limit: int = 20) -> list[PaperSummary]:
    """The most recently submitted papers listed in `category` (primary or cross-list)."""
    if limit < 1:
        return []
    rows = session.execute(
        text(
            f"SELECT {_SUMMARY_COLUMNS} FROM paper_category pc JOIN paper p ON p.id = pc.paper_id"
            " WHERE pc.category = :category AND pc.submitted IS NOT NULL"
            " ORDER BY pc.submitted DESC LIMIT :limit"
        ),
        {"category": category, "limit": limit},
    ).all()
    return _summaries(session, rows)


_TYPE_RANK = {"new": 0, "cross": 1, "replace": 2, "replace-cross": 3}


def papers_for_listing(
    session: Session,
    listing_date: date,
    categories: Sequence[str] | None = None,
    primary_only: bool = False,
) -> list[ListingPaper]:
    """Papers announced on `listing_date` (optionally only in `categories`), one per paper.

    `primary_only` keeps announcements in the paper's primary category (new / replace).
    Ordered new submissions first, then cross-lists, then replacements; by id within each.
    """
    where = ["a.listing_date = :day"]
    params: dict[str, Any] = {"day": listing_date}
    if categories is not None:
        if not categories:
            return []
        marks, more = _expanding("cat", list(dict.fromkeys(categories)))
        where.append(f"a.category IN ({marks})")
        params.update(more)
    if primary_only:
        where.append("a.announce_type IN ('new', 'replace')")
    rows = session.execute(
        text(
            f"SELECT {_SUMMARY_COLUMNS}, a.category, a.announce_type, a.version"
            " FROM announcement a JOIN paper p ON p.id = a.paper_id"
            f" WHERE {' AND '.join(where)}"
        ),
        params,
    ).all()
    by_paper: dict[str, list[Any]] = {}
    for row in rows:
        by_paper.setdefault(row.id, []).append(row)
    chosen = []
    for announced in by_paper.values():
        announced.sort(key=lambda r: (_TYPE_RANK.get(r.announce_type, 9), r.category))
        chosen.append(announced)
    chosen.sort(key=lambda a: (_TYPE_RANK.get(a[0].announce_type, 9), a[0].id))
    summaries = _summaries(session, [announced[0] for announced in chosen])
    return [
        ListingPaper(
            paper=summary,
            categories=tuple(r.category for r in announced),
            announce_type=announced[0].announce_type,
            version=max(r.version for r in announced),
        )
        for summary, announced in zip(summaries, chosen, strict=True)
    ]


def papers_by_ids(session: Session, paper_ids: Sequence[str]) -> list[PaperSummary]:
    """Summaries of the stored papers among `paper_ids`, in that order."""
    order = list(dict.fromkeys(paper_ids))
    if not order:
        return []
    _, params = _expanding("id", order)
    rows: dict[str, Any] = {}
    authors: dict[str, list[str]] = {}
    for row in session.execute(_papers_by_id(len(order)), params):
        rows.setdefault(row.id, row)
        if row.author_name is not None:
            authors.setdefault(row.id, []).append(row.author_name)
    return [_summary(rows[i], authors.get(i, ())) for i in order if i in rows]
