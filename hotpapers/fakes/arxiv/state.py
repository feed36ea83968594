"""What the fake arXiv holds: its papers, the requests it recorded and the faults queued for the
next ones."""

from __future__ import annotations

import re
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import date

from aiohttp import web

from hotpapers.storage.records import PaperRecord

ID_RE = re.compile(r"^(?:\d{4}\.\d{4,5}|[a-z][a-z\-]*(?:\.[A-Z]{2})?/\d{7})(?:v\d+)?$")


MAX_RESULTS_LIMIT = 30000


CURRENT_FAULT: ContextVar[Fault | None] = ContextVar("fake_arxiv_fault", default=None)


NO_RECORDS = (
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
