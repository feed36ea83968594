"""Idempotent writes of parsed records: papers, versions, authors, categories, announcements.

Every function takes an open session and never commits: the caller owns the transaction,
so a failed batch leaves the database as it was.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import delete
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session, SQLModel, col, select

from hotpapers.storage.models import (
    Announcement,
    Author,
    Paper,
    PaperAuthor,
    PaperCategory,
    PaperVersion,
)
from hotpapers.storage.names import name_keys
from hotpapers.storage.records import PaperRecord


@dataclass(slots=True)
class WriteStats:
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0
    announcements: int = 0


def insert_ignore(session: Session, model: type[SQLModel], rows: Sequence[dict[str, Any]]) -> None:
    """INSERT ... ON CONFLICT DO NOTHING, on SQLite and PostgreSQL alike."""
    if not rows:
        return
    table = model.__table__  # type: ignore[attr-defined]
    dialect = session.get_bind().dialect.name
    builder = postgresql.insert if dialect == "postgresql" else sqlite.insert
    session.execute(builder(table).on_conflict_do_nothing(), list(rows))


def author_row(name: str) -> dict[str, str]:
    keys = name_keys(name)
    return {
        "name": name,
        "folded_name": keys.full,
        "folded_last": keys.last,
        "folded_surname": keys.surname,
    }


def upsert_papers(session: Session, records: Iterable[PaperRecord]) -> WriteStats:
    """Insert new papers, update papers that have a newer (or same) version, append versions."""
    stats = WriteStats()
    by_id = {record.arxiv_id: record for record in records}
    if not by_id:
        return stats
    query = select(Paper).where(col(Paper.id).in_(by_id))
    existing = {paper.id: paper for paper in session.exec(query).all()}
    for arxiv_id, record in by_id.items():
        paper = existing.get(arxiv_id)
        if paper is None:
            session.add(_new_paper(record))
            stats.inserted += 1
        elif _apply_update(paper, record):
            stats.updated += 1
        else:
            stats.unchanged += 1
    session.flush()
    _write_versions(session, by_id.values())
    _write_authors_and_categories(session, by_id.values(), existing)
    return stats


def _new_paper(record: PaperRecord) -> Paper:
    return Paper(
        id=record.arxiv_id,
        latest_version=record.version,
        title=record.title,
        abstract=record.abstract,
        primary_category=record.primary_category or record.categories[0],
        comment=record.comment,
        journal_ref=record.journal_ref,
        doi=record.doi,
        submitted=record.submitted,
        updated=record.updated or record.submitted,
        has_pdf=record.has_pdf,
    )


def _apply_update(paper: Paper, record: PaperRecord) -> bool:
    """Copy what the record knows onto the stored paper; True if anything changed."""
    if record.version < paper.latest_version:
        return False
    changes: dict[str, Any] = {
        "latest_version": record.version,
        "title": record.title,
        "abstract": record.abstract,
        "primary_category": record.primary_category,
        "comment": record.comment,
        "journal_ref": record.journal_ref,
        "doi": record.doi,
        "submitted": record.submitted,
        "updated": record.updated,
        "has_pdf": record.has_pdf,
    }
    changed = False
    for field, value in changes.items():
        if value is not None and getattr(paper, field) != value:
            setattr(paper, field, value)
            changed = True
    return changed


def _write_versions(session: Session, records: Iterable[PaperRecord]) -> None:
    rows = []
    for record in records:
        versions = record.versions or ()
        known = {version.version for version in versions}
        rows += [
            {"paper_id": record.arxiv_id, "version": v.version, "created": v.created}
            for v in versions
        ]
        if record.version not in known:
            created = record.updated if record.version > 1 else record.submitted
            rows.append(
                {"paper_id": record.arxiv_id, "version": record.version, "created": created}
            )
    insert_ignore(session, PaperVersion, rows)


def _write_authors_and_categories(
    session: Session, records: Iterable[PaperRecord], existing: dict[str, Paper]
) -> None:
    """(Re)write the ordered author and category lists of papers whose newest record this is."""
    current = [
        r for r in records if r.arxiv_id not in existing or _is_current(existing[r.arxiv_id], r)
    ]
    if not current:
        return
    ids = [r.arxiv_id for r in current]
    insert_ignore(session, Author, [author_row(n) for r in current for n in r.authors])
    session.execute(delete(PaperAuthor).where(PaperAuthor.paper_id.in_(ids)))  # type: ignore[attr-defined]
    session.execute(delete(PaperCategory).where(PaperCategory.paper_id.in_(ids)))  # type: ignore[attr-defined]
    author_rows = [
        {"paper_id": r.arxiv_id, "position": i, "author_name": name, "submitted": r.submitted}
        for r in current
        for i, name in enumerate(r.authors)
    ]
    category_rows = [
        {"paper_id": r.arxiv_id, "position": i, "category": c, "submitted": r.submitted}
        for r in current
        for i, c in enumerate(_ordered_categories(r, existing.get(r.arxiv_id)))
    ]
    if author_rows:
        session.execute(PaperAuthor.__table__.insert(), author_rows)  # type: ignore[attr-defined]
    if category_rows:
        session.execute(PaperCategory.__table__.insert(), category_rows)  # type: ignore[attr-defined]


def _is_current(paper: Paper, record: PaperRecord) -> bool:
    return record.version >= paper.latest_version


def _ordered_categories(record: PaperRecord, known: Paper | None) -> list[str]:
    """arXiv's order with the primary first (the feed has no primary marker: keep what we knew)."""
    primary = record.primary_category or (known.primary_category if known else None)
    ordered = list(dict.fromkeys(record.categories))
    if primary:
        ordered = [primary, *(c for c in ordered if c != primary)]
    return ordered


def record_announcements(
    session: Session,
    listing_date: date,
    records: Iterable[PaperRecord],
    categories: Sequence[str],
) -> int:
    """One announcement row per (paper, configured category it is listed in); returns rows new."""
    wanted = set(categories)
    rows = []
    for record in records:
        kind = record.announce_type or "new"
        primary = record.primary_category or (record.categories[0] if record.categories else None)
        for category in dict.fromkeys(record.categories):
            if category in wanted:
                rows.append(
                    {
                        "listing_date": listing_date,
                        "category": category,
                        "paper_id": record.arxiv_id,
                        "announce_type": _announce_type(kind, category == primary),
                        "version": record.version,
                    }
                )
    before = _count_announcements(session, listing_date)
    insert_ignore(session, Announcement, rows)
    return _count_announcements(session, listing_date) - before


def _announce_type(feed_type: str, is_primary: bool) -> str:
    """The feed's type is for the whole listing; per category, non-primary means a cross-list."""
    replaced = feed_type.startswith("replace")
    if is_primary:
        return "replace" if replaced else "new"
    return "replace-cross" if replaced else "cross"


def _count_announcements(session: Session, listing_date: date) -> int:
    from sqlalchemy import func

    query = (
        select(func.count())
        .select_from(Announcement)
        .where(
            Announcement.listing_date == listing_date  # type: ignore[arg-type]
        )
    )
    return int(session.execute(query).scalar_one())
