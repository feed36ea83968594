"""/foryou: recent papers picked for one person from what they liked, and /forget-me.

Owns the per-user likes (stars from the ⭐ under /paper, reactions on the bot's paper
messages, the user's own subscriptions), the ranking of recent papers by similarity to them
(`_rank`, pure), and deleting everything stored per user. Reads paper vectors through a
`VectorLookup` the caller passes (the embedding store of /similar), so it works, with
subscription matches alone, where papers have no vectors. Imports the storage layer and
the matching rules of subscriptions; never Discord.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

import numpy as np
from sqlmodel import Session

from hotpapers.foryou._candidates import Candidate, matches_of, recent_papers
from hotpapers.foryou._likes import (
    REACTED,
    STARRED,
    Forgotten,
    Interest,
    Likes,
    forget,
    likes_of,
    record_reaction,
    remove_reaction,
    toggle_star,
    what_would_be_forgotten,
)
from hotpapers.foryou._rank import LINEAR_MIN_LIKES, Match, Scored, rank

__all__ = [
    "NO_HISTORY",
    "REACTED",
    "STARRED",
    "ForYou",
    "Forgotten",
    "Interest",
    "Likes",
    "Pick",
    "VectorLookup",
    "forget",
    "likes_of",
    "nothing_new",
    "recommend",
    "record_reaction",
    "remove_reaction",
    "toggle_star",
    "what_would_be_forgotten",
]

# paper ids -> their vectors (papers without one are left out): /similar's store.
VectorLookup = Callable[[Session, Sequence[str]], Mapping[str, np.ndarray]]

WINDOW_DAYS = 7
PICKS = 10

NO_HISTORY = (
    "I don't know what you like yet: star papers with the ⭐ button under /paper, react to "
    "the papers I post, or /subscribe to a keyword, author or category, then ask again."
)


def nothing_new(days: int) -> str:
    return (
        f"Nothing submitted in the last {days} days is close to what you liked yet; "
        "star or react to a few more papers, or come back after the next listing."
    )


@dataclass(frozen=True, slots=True)
class Pick:
    """One recommended paper and the one-line reason it was picked (plain text)."""

    arxiv_id: str
    title: str
    primary_category: str
    submitted: datetime | None
    reason: str
    score: float


@dataclass(frozen=True, slots=True)
class ForYou:
    picks: list[Pick]
    likes: Likes
    days: int
    model: str  # linear | profile | subscriptions (what decided the order)


def recommend(
    session: Session,
    user_id: int | str,
    now: datetime,
    *,
    vectors: VectorLookup | None = None,
    days: int = WINDOW_DAYS,
    count: int = PICKS,
    model: str = "linear",
) -> ForYou:
    """Up to `count` papers first submitted in the `days` before `now` for this user, best
    first, each with its reason; none when the user liked nothing (`likes.empty`)."""
    likes = likes_of(session, user_id)
    if likes.empty:
        return ForYou([], likes, days, model)
    since = now - timedelta(days=days)
    candidates = [c for c in recent_papers(session, since, now) if c.arxiv_id not in likes.papers]
    matches = matches_of(session, likes.interests, since, now) if likes.interests else {}
    ids = [c.arxiv_id for c in candidates]
    found = dict(vectors(session, [*ids, *likes.papers])) if vectors is not None else {}
    liked = {key: found[key] for key in likes.papers if key in found}
    matrix = _matrix(ids, found) if liked else None
    used = "subscriptions"
    if liked:
        used = "linear" if model == "linear" and len(liked) >= LINEAR_MIN_LIKES else "profile"
    scored = rank(ids, matrix, liked, matches, model=model, count=count)
    by_id = {c.arxiv_id: c for c in candidates}
    picks = [_pick(by_id[s.paper_id], s, likes) for s in scored]
    return ForYou(picks, likes, days, used)


def _matrix(ids: Sequence[str], found: Mapping[str, np.ndarray]) -> np.ndarray | None:
    """One row per id (zeros where a paper has no vector); None when none has one."""
    dims = next((len(v) for v in found.values()), 0)
    if not dims or not any(key in found for key in ids):
        return None
    matrix = np.zeros((len(ids), dims), dtype=np.float32)
    for row, key in enumerate(ids):
        vector = found.get(key)
        if vector is not None:
            matrix[row] = vector
    return matrix


def _pick(candidate: Candidate, scored: Scored, likes: Likes) -> Pick:
    return Pick(
        arxiv_id=candidate.arxiv_id,
        title=candidate.title,
        primary_category=candidate.primary_category,
        submitted=candidate.submitted,
        reason=reason(scored, likes),
        score=scored.score,
    )


def _match_text(match: Match) -> str:
    if match.kind == "keyword":
        return f"matches your keyword “{match.value}”"
    if match.kind == "author":
        return f"by {match.value}, an author you follow"
    return f"in {match.value}, a category you follow"


def reason(scored: Scored, likes: Likes) -> str:
    """One line: the subscription it matches and the liked paper it is most like."""
    parts = []
    strong = [m for m in scored.matches if m.kind != "category"]
    if strong:
        parts.append(_match_text(strong[0]))
    if scored.nearest_like is not None:
        how = likes.papers.get(scored.nearest_like, STARRED)
        parts.append(f"like {scored.nearest_like} you {how}")
    if not parts and scored.matches:
        parts.append(_match_text(scored.matches[0]))
    return " · ".join(parts)
