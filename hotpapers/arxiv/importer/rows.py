"""One snapshot record to the rows the writers store, and the columns they fill."""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import Iterator
from datetime import datetime
from typing import Any

from hotpapers.arxiv.importer.listing import FirstListings
from hotpapers.storage.names import name_keys
from hotpapers.storage.records import PaperRecord

log = logging.getLogger(__name__)


# The tables the importer writes; the bulk path needs all but `author` empty.
IMPORT_TABLES = (
    "paper",
    "paper_version",
    "author",
    "paper_author",
    "paper_category",
    "announcement",
)
PAPER_TABLES = ("paper", "paper_version", "paper_author", "paper_category", "announcement")

AUTHOR_CACHE_SIZE = 300_000  # names remembered between batches (folds, known to exist)

PAPER_COLUMNS = (
    "id",
    "latest_version",
    "title",
    "abstract",
    "primary_category",
    "comment",
    "journal_ref",
    "doi",
    "submitted",
    "updated",
)

AUTHOR_COLUMNS = "name, folded_name, folded_last, folded_surname"
Keys = tuple[str, str, str]  # an author's search keys (folded_name, folded_last, folded_surname)
AuthorRow = tuple[str, str, str, str]  # the name, then its keys
ANNOUNCEMENT_COLUMNS = "listing_date, category, paper_id, announce_type, version"


# One parsed record, as the writers need it (plain tuples: cheap to pass between processes):
# (id, version, paper row, version rows, author names, submitted, categories primary first,
# the listing date that first announced it as ISO text, see listing.py).
Rec = tuple[
    str,
    int,
    tuple[Any, ...],
    list[tuple[Any, ...]],
    tuple[str, ...],
    "str | None",
    tuple[str, ...],
    "str | None",
]


def stamp(moment: datetime | None, aware: bool = False) -> str | None:
    """UTC wall time as text. Without an offset (`aware` False) it is what SQLAlchemy's SQLite
    DateTime stores; PostgreSQL needs the offset (`aware`): its `timestamp with time zone`
    columns read text without one in the session's time zone, which need not be UTC."""
    if moment is None:
        return None
    text = moment.replace(tzinfo=None).isoformat(" ", "microseconds")
    return text + "+00:00" if aware else text


def _ordered_categories(record: PaperRecord) -> list[str]:
    ordered = list(dict.fromkeys(record.categories))
    primary = record.primary_category
    if primary:
        ordered = [primary, *(c for c in ordered if c != primary)]
    return ordered


def to_rec(record: PaperRecord, aware: bool = False, listings: FirstListings | None = None) -> Rec:
    """The rows store.upsert_papers writes for `record` (see test_same_rows_as_upsert_papers);
    `aware`: times with their UTC offset (PostgreSQL, see `stamp`); `listings`: dates the
    paper's first listing (else None)."""
    # One text per moment: the paper's submitted / updated are its first / last version's
    # times, and the same object is pickled once (a back-reference after that).
    texts: dict[datetime | None, str | None] = {None: None}
    versions = []
    known = False
    for version in record.versions:
        text = texts.get(version.created)
        if text is None:
            text = texts[version.created] = stamp(version.created, aware)
        versions.append((record.arxiv_id, version.version, text))
        known = known or version.version == record.version
    submitted = texts.get(record.submitted) or stamp(record.submitted, aware)
    updated = texts.get(record.updated) or stamp(record.updated, aware)
    if not known:
        created = updated if record.version > 1 else submitted
        versions.append((record.arxiv_id, record.version, created))
    paper = (
        record.arxiv_id,
        record.version,
        record.title,
        record.abstract,
        record.primary_category or record.categories[0],
        record.comment,
        record.journal_ref,
        record.doi,
        submitted,
        updated or submitted,
    )
    return (
        record.arxiv_id,
        record.version,
        paper,
        versions,
        record.authors,
        submitted,
        tuple(_ordered_categories(record)),
        listings.of(record.submitted) if listings is not None else None,
    )


def fold_keys(name: str) -> Keys:
    """The search keys of `name`: names.name_keys, the rule collection uses too (its fields
    are in the order of AUTHOR_COLUMNS after the name). A plain tuple, not names.NameKeys:
    the parser process pickles these, and a named tuple pickles by class (by `__reduce__`),
    which doubled the cost of the pipe (see BENCHMARKS.md, snapshot import)."""
    keys = name_keys(name)
    return (keys[0], keys[1], keys[2])


def first_line(exc: BaseException) -> str:
    orig = getattr(exc, "orig", None) or exc
    text = str(orig).strip()
    return text.splitlines()[0] if text else exc.__class__.__name__


@contextlib.contextmanager
def timed(what: str) -> Iterator[None]:
    started = time.monotonic()
    yield
    log.info("import: %s in %.1f s", what, time.monotonic() - started)
