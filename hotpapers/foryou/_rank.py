"""Pure ranking of recent papers for one user: vectors and matches in, scores and reasons out.

Two content models, both over the papers' embedding vectors:

* `profile`: the cosine of each candidate to the mean of the (unit) vectors the user liked.
  Works from one like.
* `linear`: arxiv-sanity's idea: a linear classifier trained per request, the liked papers
  positive and the candidates negative, the candidates ranked by its decision function. Here
  a class-balanced ridge classifier (solved by conjugate gradients from a fixed start:
  deterministic, no scikit-learn) in the place of arxiv-sanity's LinearSVC. Needs a few likes;
  with fewer it falls back to `profile`.

Subscriptions add a fixed bonus on top of the content score (normalised to [0, 1] over the
candidates), so a paper by an author the user follows comes first among equals, and with no
vectors at all the matches alone decide (newest first).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np

# Bonus for a subscription match, in units of the normalised content score.
MATCH_BONUS = {"author": 0.6, "keyword": 0.5, "category": 0.15}
# The linear model needs this many liked papers with vectors (else the profile is used).
LINEAR_MIN_LIKES = 3
RIDGE_ALPHA = 1.0  # the classifier's L2 strength (vectors are unit length)
LIKE_CUTOFF = 0.5  # normalised content score from which a paper is "like" a liked one


@dataclass(frozen=True, slots=True)
class Match:
    """A subscription of the user a candidate matches: kind and value, for the reason."""

    kind: str  # author | keyword | category
    value: str


@dataclass(frozen=True, slots=True)
class Scored:
    paper_id: str
    score: float
    nearest_like: str | None  # the liked paper it is most like (by cosine), when vectors tell
    matches: tuple[Match, ...]


def unit_rows(matrix: np.ndarray) -> np.ndarray:
    """Rows scaled to length 1 (a zero row stays zero), as float32."""
    matrix = np.asarray(matrix, dtype=np.float32)
    norms = np.linalg.norm(matrix, axis=1, keepdims=True)
    return matrix / np.where(norms == 0, 1.0, norms)


def profile_scores(candidates: np.ndarray, liked: np.ndarray) -> np.ndarray:
    """Cosine of each candidate to the mean liked direction."""
    centre = unit_rows(liked).mean(axis=0)
    norm = float(np.linalg.norm(centre))
    if norm == 0:
        return np.zeros(len(candidates), dtype=np.float32)
    return np.einsum("ij,j->i", unit_rows(candidates), centre / norm)


def linear_scores(candidates: np.ndarray, liked: np.ndarray) -> np.ndarray:
    """A class-balanced ridge classifier's decision values (liked +1, candidates -1).

    Solved by conjugate gradients with matrix-vector products only, written as einsum (numpy's
    own single-threaded loops): on this machine's shared, loaded CPUs the multi-threaded BLAS
    behind `@` spends most of its time waiting for its threads (BENCHMARKS.md, "/foryou").
    """
    x = np.vstack([unit_rows(liked), unit_rows(candidates)])
    x = np.hstack([x, np.ones((len(x), 1), dtype=np.float32)])  # the bias as a last column
    positives, negatives = len(liked), len(candidates)
    y = np.concatenate([np.ones(positives), -np.ones(negatives)]).astype(np.float32)
    # Each class weighs as much in total as the other, as class_weight="balanced" does.
    w = np.concatenate([np.full(positives, 0.5 / positives), np.full(negatives, 0.5 / negatives)])
    w = w.astype(np.float32)
    penalty = np.full(x.shape[1], RIDGE_ALPHA / len(x), dtype=np.float32)
    penalty[-1] = 0.0  # the bias is not penalised

    def product(v: np.ndarray) -> np.ndarray:
        return np.einsum("ij,i->j", x, w * np.einsum("ij,j->i", x, v)) + penalty * v

    coef = _conjugate_gradient(product, np.einsum("ij,i->j", x, w * y))
    return np.einsum("ij,j->i", x[positives:], coef).astype(np.float32)


def _conjugate_gradient(
    product: Callable[[np.ndarray], np.ndarray], b: np.ndarray, steps: int = 40
) -> np.ndarray:
    """x with product(x) = b for a symmetric positive definite product (fixed start: the
    same answer every time)."""
    x = np.zeros_like(b)
    r = b - product(x)
    p = r.copy()
    rr = float(r @ r)
    enough = rr * 1e-8  # a residual 10^-4 of the start's: the order of the scores is settled
    for _ in range(steps):
        if rr <= enough:
            break
        ap = product(p)
        alpha = rr / float(p @ ap)
        x += alpha * p
        r -= alpha * ap
        rr, previous = float(r @ r), rr
        p = r + (rr / previous) * p
    return x


def _normalised(values: np.ndarray) -> np.ndarray:
    if len(values) == 0:
        return values
    low, high = float(values.min()), float(values.max())
    if high - low < 1e-9:
        return np.zeros_like(values)
    return (values - low) / (high - low)


def rank(
    candidate_ids: Sequence[str],
    candidate_vectors: np.ndarray | None,
    liked: Mapping[str, np.ndarray],
    matches: Mapping[str, Sequence[Match]],
    *,
    model: str = "linear",
    count: int = 10,
) -> list[Scored]:
    """The best `count` candidates, best first.

    `candidate_vectors`: one row per id, zeros where a paper has none (None: no vectors at
    all; matches alone decide); `liked`:
    the liked papers' vectors by id; `matches`: per candidate id, the subscriptions it matches.
    A candidate with neither a content score (no likes with vectors) nor a match is no pick.
    Ties keep the order of `candidate_ids` (callers pass newest first).
    """
    total = len(candidate_ids)
    content = np.zeros(total, dtype=np.float32)
    nearest: list[str | None] = [None] * total
    liked_ids = list(liked)
    use_content = candidate_vectors is not None and total > 0 and bool(liked_ids)
    if use_content:
        assert candidate_vectors is not None
        liked_matrix = np.vstack([liked[key] for key in liked_ids])
        if model == "linear" and len(liked_ids) >= LINEAR_MIN_LIKES:
            raw = linear_scores(candidate_vectors, liked_matrix)
        else:
            raw = profile_scores(candidate_vectors, liked_matrix)
        # A candidate without a vector (a zero row) has no content score: matches only.
        known = np.linalg.norm(candidate_vectors, axis=1) > 0
        content = np.where(known, _normalised(np.where(known, raw, raw[known].min(initial=0))), 0)
        # Only the upper half of the window's range counts as "like" what they liked: a
        # paper far from every like is no pick of its own, and says no "like ..." reason.
        known &= content >= LIKE_CUTOFF
        cosines = np.einsum("ij,kj->ik", unit_rows(candidate_vectors), unit_rows(liked_matrix))
        closest = cosines.argmax(axis=1)
        nearest = [liked_ids[int(i)] if known[n] else None for n, i in enumerate(closest)]
    else:
        known = np.zeros(total, dtype=bool)
    bonus = np.array(
        [
            max((MATCH_BONUS.get(m.kind, 0.0) for m in matches.get(key, ())), default=0.0)
            for key in candidate_ids
        ],
        dtype=np.float32,
    )
    final = content + bonus
    eligible = np.flatnonzero((bonus > 0) | known)
    # Stable sort on -score: equal scores keep the callers' (newest first) order.
    order = eligible[np.argsort(-final[eligible], kind="stable")][:count]
    return [
        Scored(
            paper_id=candidate_ids[i],
            score=float(final[i]),
            nearest_like=nearest[i],
            matches=tuple(matches.get(candidate_ids[i], ())),
        )
        for i in order
    ]
