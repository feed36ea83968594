"""One snapshot record to the rows the writers store, and the columns they fill."""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import Iterator
from datetime import datetime
from typing import Any

from hotpapers.names import name_keys
from hotpapers.records import PaperRecord

log = logging.getLogger(__name__)


# The tables the importer writes; the bulk path needs the first four empty.
IMPORT_TABLES = ("paper", "paper_version", "author", "paper_author", "paper_category")
PAPER_TABLES = ("paper", "paper_version", "paper_author", "paper_category")

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


# One parsed record, as the writers need it (plain tuples: cheap to pass between processes):
# (id, version, paper row, version rows, author names, submitted, categories primary first).
Rec = tuple[
    str,
    int,
    tuple[Any, ...],
    list[tuple[Any, ...]],
    tuple[str, ...],
    "str | None",
    tuple[str, ...],
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


def to_rec(record: PaperRecord, aware: bool = False) -> Rec:
    """The rows store.upsert_papers writes for `record` (see test_same_rows_as_upsert_papers);
    `aware`: times with their UTC offset (PostgreSQL, see `stamp`)."""
    submitted = stamp(record.submitted, aware)
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
        stamp(record.updated, aware) if record.updated else submitted,
    )
    versions = []
    known = False
    for version in record.versions:
        versions.append((record.arxiv_id, version.version, stamp(version.created, aware)))
        known = known or version.version == record.version
    if not known:
        created = record.updated if record.version > 1 else record.submitted
        versions.append((record.arxiv_id, record.version, stamp(created, aware)))
    return (
        record.arxiv_id,
        record.version,
        paper,
        versions,
        record.authors,
        submitted,
        tuple(_ordered_categories(record)),
    )


def fold_keys(name: str) -> Keys:
    """The search keys of `name`: names.name_keys, the rule collection uses too (its fields
    are in the order of AUTHOR_COLUMNS after the name)."""
    return name_keys(name)


def first_line(exc: BaseException) -> str:
    orig = getattr(exc, "orig", None) or exc
    text = str(orig).strip()
    return text.splitlines()[0] if text else exc.__class__.__name__


@contextlib.contextmanager
def timed(what: str) -> Iterator[None]:
    started = time.monotonic()
    yield
    log.info("import: %s in %.1f s", what, time.monotonic() - started)
