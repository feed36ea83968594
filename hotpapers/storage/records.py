"""Typed records that parsers produce and storage consumes (no I/O, no ORM)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

AnnounceType = Literal["new", "cross", "replace", "replace-cross"]
ANNOUNCE_TYPES: tuple[str, ...] = ("new", "cross", "replace", "replace-cross")


@dataclass(frozen=True, slots=True)
class VersionRecord:
    """One version of a paper as arXiv lists it (v1, v2, ...)."""

    version: int
    created: datetime | None = None


@dataclass(frozen=True, slots=True)
class PaperRecord:
    """One paper as a source describes it; optional fields are None when the source lacks them.

    `arxiv_id` is canonical (version-less); `version` is the version this record describes.
    `categories` keeps arXiv's order; `primary_category` is None when the source has no
    primary marker (the RSS feed), in which case storage keeps what it already knew.
    """

    arxiv_id: str
    version: int
    title: str
    abstract: str
    authors: tuple[str, ...]
    categories: tuple[str, ...]
    primary_category: str | None = None
    comment: str | None = None
    journal_ref: str | None = None
    doi: str | None = None
    submitted: datetime | None = None
    updated: datetime | None = None
    announce_type: str | None = None
    versions: tuple[VersionRecord, ...] = ()
    has_pdf: bool = True  # False when the API's entry has no PDF link (a withdrawn paper)


@dataclass(slots=True)
class FeedPage:
    """One parsed response: its entries, what was skipped, and paging information."""

    entries: list[PaperRecord] = field(default_factory=list)
    skipped: int = 0
    total_results: int | None = None
    start_index: int | None = None
    items_per_page: int | None = None
    resumption_token: str | None = None
    published: datetime | None = None
