"""Storage reads for /foryou: the recent papers, and which of them a user's subscriptions match.

Every read starts from `paper.submitted` (indexed) and joins by primary key, so its cost
follows the window's size, not the database's.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import TextClause, bindparam, text
from sqlmodel import Session
from sqlmodel.sql.sqltypes import UTCDateTime

from hotpapers.delivery.keywords import Words, phrase, wanted
from hotpapers.foryou._likes import Interest
from hotpapers.foryou._rank import Match
from hotpapers.plumbing.text import fold
from hotpapers.storage.names import author_matches


@dataclass(frozen=True, slots=True)
class Candidate:
    """A recent paper, as a pick shows it."""

    arxiv_id: str
    title: str
    primary_category: str
    submitted: datetime | None


_NOT_LETTERS = re.compile(r"[^a-z0-9]+")
_WINDOW = "p.submitted > :since AND p.submitted <= :now"


def _utc(moment: datetime | str | None) -> datetime | None:
    if moment is None:
        return None
    if isinstance(moment, str):
        moment = datetime.fromisoformat(moment)
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _windowed(sql: str) -> TextClause:
    """`sql` with :since and :now bound as the `submitted` column's type (UTC-aware)."""
    return text(sql).bindparams(
        bindparam("since", type_=UTCDateTime()), bindparam("now", type_=UTCDateTime())
    )


def recent_papers(session: Session, since: datetime, now: datetime) -> list[Candidate]:
    """Papers first submitted in (since, now], newest first."""
    rows = session.execute(
        _windowed(
            "SELECT p.id, p.title, p.primary_category, p.submitted FROM paper p"
            f" WHERE {_WINDOW} ORDER BY p.submitted DESC, p.id DESC"
        ),
        {"since": since, "now": now},
    ).all()
    return [Candidate(r.id, r.title, r.primary_category, _utc(r.submitted)) for r in rows]


def matches_of(
    session: Session, interests: Sequence[Interest], since: datetime, now: datetime
) -> dict[str, list[Match]]:
    """Per recent paper id, the user's subscriptions it matches (same rules as delivery:
    whole-word keywords with their exclusions, authors by surname, categories)."""
    found: dict[str, list[Match]] = defaultdict(list)
    window = {"since": since, "now": now}
    by_kind: dict[str, list[Interest]] = defaultdict(list)
    for interest in interests:
        by_kind[interest.kind].append(interest)
    if by_kind["category"]:
        rows = session.execute(
            _windowed(
                "SELECT c.paper_id, c.category, c.position FROM paper p"
                f" JOIN paper_category c ON c.paper_id = p.id WHERE {_WINDOW}"
            ),
            window,
        ).all()
        for paper_id, category, position in rows:
            for interest in by_kind["category"]:
                if category == interest.value and (position == 0 or not interest.primary_only):
                    found[paper_id].append(Match("category", interest.value))
    if by_kind["author"]:
        rows = session.execute(
            _windowed(
                "SELECT a.paper_id, a.author_name FROM paper p"
                f" JOIN paper_author a ON a.paper_id = p.id WHERE {_WINDOW}"
            ),
            window,
        ).all()
        wanted_keys = [(interest, _letters(fold(interest.value))) for interest in by_kind["author"]]
        for paper_id, name in rows:
            letters = _letters(fold(name))
            for interest, key in wanted_keys:
                # Every way author_matches can match keeps the wanted name's letters in a row
                # inside the author's: a substring test rules out nearly every row cheaply.
                if key in letters and author_matches(interest.value, name):
                    found[paper_id].append(Match("author", interest.value))
    if by_kind["keyword"]:
        rows = session.execute(
            _windowed(f"SELECT p.id, p.title, p.abstract FROM paper p WHERE {_WINDOW}"), window
        ).all()
        for paper_id, title, abstract in rows:
            body = f"{title} {abstract}"
            folded = fold(body)  # what Words reads; a keyword missing from it cannot match
            words: Words | None = None
            for interest in by_kind["keyword"]:
                if not all(word in folded for word in phrase(interest.value)):
                    continue
                words = words or Words(body)
                if wanted(words, interest.value, interest.excludes):
                    found[paper_id].append(Match("keyword", interest.value))
    return {key: _once(value) for key, value in found.items()}


def _letters(folded: str) -> str:
    return _NOT_LETTERS.sub("", folded)


def _once(matches: list[Match]) -> list[Match]:
    """Each match once, the strongest kind first (an author you follow says the most)."""
    order = {"author": 0, "keyword": 1, "category": 2}
    return sorted(dict.fromkeys(matches), key=lambda m: order.get(m.kind, 9))
