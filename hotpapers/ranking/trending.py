"""Trending over a week or a month: the papers that gained the most attention in a window.

The rule, as a reader of "what was big this week" expects it:

* The window is the last 7 (week) or 30 (month) days ending with `end` (a UTC date, default
  today): from 00:00 UTC of its first day up to the end of `end`, never past `now`.
* A paper's attention gained, per source and metric, is its latest measurement in the window
  minus its latest measurement before the window (0 when it had none), never below 0 (a post
  deleted on X loses likes; losing is not trending). X's counts are the snapshot's sums, the
  same numbers the daily ranking falls back on.
* The score is the daily ranking's: the same `ranking.weights`, the same breakdown
  (`source -> metric -> value`, here of the gains), the same `ranking.threshold` (and never
  0), the same tie rule. No decay: the window already says "recent".
* Each paper appears once, with its listing date: the first listing it was announced in as
  new (or, for a paper whose primary category is not collected, as a cross-list).
* An older paper may trend: a paper listed months ago that is discussed again this week gained
  that attention this week, and its listing date shows the reader it is not new. A paper
  without any listing (an imported paper without `announcement` rows) has no listing date to
  show and is left out.
* The category filter takes a paper whose primary category or one of its cross-lists is one
  of the categories asked for (`paper_category`, as every listing of it shows).

`trending_papers` reads the database; `gained` and `rank_gains` are pure.
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import Engine, Select, and_, bindparam, case, func, literal, select
from sqlmodel import Session

from hotpapers.arxiv.calendar import announced_at
from hotpapers.config import RankingSettings
from hotpapers.errors import InputError
from hotpapers.ranking.candidates import FIRST_TYPES, paper_views
from hotpapers.ranking.classic import listing_tie_key
from hotpapers.ranking.scoring import Candidate, PaperView, RankedPaper, parsed_weights, rank_papers
from hotpapers.storage.models import (
    GAIN_COLUMNS,
    Announcement,
    PaperCategory,
    SignalGainDay,
    SignalSnapshot,
)

WEEK, MONTH = "week", "month"
PERIOD_DAYS = {WEEK: 7, MONTH: 30}

_SNAPSHOT = SignalSnapshot.__table__  # type: ignore[attr-defined]
_ANNOUNCEMENT = Announcement.__table__.c  # type: ignore[attr-defined]
_CATEGORY = PaperCategory.__table__.c  # type: ignore[attr-defined]
_GAIN_DAY = SignalGainDay.__table__.c  # type: ignore[attr-defined]


@dataclass(frozen=True)
class Window:
    period: str  # week | month
    first_day: date
    last_day: date
    start: datetime  # inclusive, UTC
    end: datetime  # exclusive, UTC


@dataclass(frozen=True)
class TrendingPaper:
    """One ranked paper of a window: `ranked.signals` are the gains, `ranked.score` their
    weighted sum; `listed` the first listing it appeared in."""

    ranked: RankedPaper
    listed: date


def parse_period(text: str | None) -> str:
    """'week' (the default) or 'month'; anything else is one sentence."""
    period = (text or WEEK).strip().lower()
    if period not in PERIOD_DAYS:
        raise InputError(f"the period must be 'week' or 'month', not '{text}'")
    return period


def window(period: str, last_day: date, now: datetime) -> Window:
    """The `period`'s days ending with `last_day` (UTC), cut at `now`."""
    days = PERIOD_DAYS[period]
    first_day = last_day - timedelta(days=days - 1)
    start = datetime.combine(first_day, time(0), tzinfo=UTC)
    end = min(datetime.combine(last_day + timedelta(days=1), time(0), tzinfo=UTC), now)
    return Window(period, first_day, last_day, start, end)


def _numbers(metrics: Mapping[str, object] | None) -> dict[str, float]:
    if not metrics:
        return {}
    return {
        name: float(value)
        for name, value in metrics.items()
        if isinstance(value, int | float) and not isinstance(value, bool)
    }


def gained(latest: Mapping[str, object], before: Mapping[str, object] | None) -> dict[str, float]:
    """Per metric, `latest` minus `before` (0 when absent), never below 0."""
    earlier = _numbers(before)
    return {
        name: max(value - earlier.get(name, 0.0), 0.0) for name, value in _numbers(latest).items()
    }


def rank_gains(
    gains: Mapping[str, Mapping[str, Mapping[str, float]]],
    views: Mapping[str, PaperView],
    ranking: RankingSettings,
    *,
    top: int | None,
    now: datetime,
) -> list[RankedPaper]:
    """Papers ranked by their gains (`paper -> source -> metric -> gain`) with the daily
    ranking's weights, threshold and tie rule; a paper that gained nothing never ranks."""
    candidates = [
        Candidate(paper=views[paper_id], snapshots=by_source)
        for paper_id, by_source in gains.items()
        if paper_id in views
    ]
    ranked = rank_papers(
        candidates, weights=ranking.weights, threshold=ranking.threshold, top=None, now=now
    )
    kept = [item for item in ranked if item.score > 0]
    if top is not None:
        kept = kept[:top]
    return [dataclasses.replace(item, rank=place) for place, item in enumerate(kept, 1)]


def _pairs(by_category: bool, by_ids: bool) -> Any:
    """(paper, source, newest taken_at) measured in the window (`:start`, `:end`), maybe only
    papers in `:cats` or `:ids`."""
    snap = _SNAPSHOT.c
    newest = (
        select(snap.paper_id, snap.source, func.max(snap.taken_at).label("taken_at"))
        .where(snap.taken_at >= bindparam("start"), snap.taken_at < bindparam("end"))
        .group_by(snap.paper_id, snap.source)
    )
    if by_category:
        in_cats = select(_CATEGORY.paper_id).where(
            _CATEGORY.category.in_(bindparam("cats", expanding=True))
        )
        newest = newest.where(snap.paper_id.in_(in_cats))
    if by_ids:
        newest = newest.where(snap.paper_id.in_(bindparam("ids", expanding=True)))
    return newest.subquery("pairs")


def _measured(by_category: bool, by_ids: bool) -> tuple[Any, Any, Any, Select[Any]]:
    """The window's pairs joined to their latest row in it (`last`) and their latest row
    before it (`base`, NULL when none): (pairs, last, base, select-from)."""
    pairs = _pairs(by_category, by_ids)
    earlier = _SNAPSHOT.alias("earlier")
    before_at = (
        select(func.max(earlier.c.taken_at))
        .where(
            earlier.c.paper_id == pairs.c.paper_id,
            earlier.c.source == pairs.c.source,
            earlier.c.taken_at < bindparam("start"),
        )
        .scalar_subquery()
    )
    last = _SNAPSHOT.alias("last")
    base = _SNAPSHOT.alias("base")
    same_pair = and_(last.c.paper_id == pairs.c.paper_id, last.c.source == pairs.c.source)
    joined = (
        select(pairs.c.paper_id)
        .join(last, same_pair & (last.c.taken_at == pairs.c.taken_at))
        .outerjoin(
            base,
            (base.c.paper_id == pairs.c.paper_id)
            & (base.c.source == pairs.c.source)
            & (base.c.taken_at == before_at),
        )
    )
    return pairs, last, base, joined


@functools.cache
def _gain_rows(by_category: bool) -> Select[Any]:
    """Per (paper, source) of the papers `:ids`: its latest metrics in the window and before."""
    pairs, last, base, joined = _measured(by_category, by_ids=True)
    return joined.with_only_columns(
        pairs.c.paper_id, pairs.c.source, last.c.metrics, base.c.metrics
    )


@functools.cache
def _scores(by_category: bool, weights: tuple[tuple[str, str, float], ...]) -> Select[Any]:
    """Per paper with a listing by `:last_day`: the weighted gain, the same sum `rank_gains`
    makes (only the weighted metrics, read in the database), when above 0 and `:threshold`.
    Used to find the few papers worth reading whole; `rank_gains` decides their order."""
    pairs, last, base, joined = _measured(by_category, by_ids=False)
    terms = []
    for source, metric, weight in weights:
        now_value = func.coalesce(last.c.metrics[metric].as_float(), 0.0)
        was_value = func.coalesce(base.c.metrics[metric].as_float(), 0.0)
        diff = now_value - was_value
        terms.append(case((and_(pairs.c.source == source, diff > 0), diff * weight), else_=0.0))
    score = func.sum(sum(terms[1:], terms[0]) if terms else literal(0.0)).label("score")
    listed = select(_ANNOUNCEMENT.paper_id).where(
        _ANNOUNCEMENT.paper_id == pairs.c.paper_id,
        _ANNOUNCEMENT.announce_type.in_(FIRST_TYPES),
        _ANNOUNCEMENT.listing_date <= bindparam("last_day"),
    )
    return (
        joined.with_only_columns(pairs.c.paper_id, score)
        .where(listed.exists())
        .group_by(pairs.c.paper_id)
        .having(and_(score > 0, score >= bindparam("threshold")))
    )


def _day_change(metric: str) -> Any:
    """A roll-up row's change of `metric`: its column when it has one (no JSON read)."""
    if metric in GAIN_COLUMNS:
        return _GAIN_DAY[metric]
    return func.coalesce(_GAIN_DAY.gains[metric].as_float(), 0.0)


@functools.cache
def _rolled_up_scores(
    by_category: bool, weights: tuple[tuple[str, str, float], ...], listed_only: bool = True
) -> Any:
    """`_scores` from the per-day roll-up: a metric's window gain is the sum of its daily
    changes (they telescope to latest in the window minus latest before), never below 0.
    Papers are scored first; only those over the threshold are looked up (listing, category).
    `listed_only=False` leaves out the listing check (`top_scoring` checks the best few)."""
    sums = [
        func.sum(_day_change(metric)).label(f"m{place}")
        for place, (_, metric, _) in enumerate(weights)
    ]
    pairs = (
        select(_GAIN_DAY.paper_id, _GAIN_DAY.source, *sums)
        .where(_GAIN_DAY.day >= bindparam("first_day"), _GAIN_DAY.day <= bindparam("last_day"))
        .group_by(_GAIN_DAY.paper_id, _GAIN_DAY.source)
        .subquery("pairs")
    )
    terms = [
        case(
            (
                and_(pairs.c.source == source, pairs.c[f"m{place}"] > 0),
                pairs.c[f"m{place}"] * weight,
            ),
            else_=0.0,
        )
        for place, (source, _, weight) in enumerate(weights)
    ]
    score = func.sum(sum(terms[1:], terms[0]) if terms else literal(0.0)).label("score")
    scored = (
        select(pairs.c.paper_id, score)
        .group_by(pairs.c.paper_id)
        .having(and_(score > 0, score >= bindparam("threshold")))
        .subquery("scored")
    )
    listed = select(_ANNOUNCEMENT.paper_id).where(
        _ANNOUNCEMENT.paper_id == scored.c.paper_id,
        _ANNOUNCEMENT.announce_type.in_(FIRST_TYPES),
        _ANNOUNCEMENT.listing_date <= bindparam("last_day"),
    )
    chosen = select(scored.c.paper_id, scored.c.score)
    if by_category:  # first: a category keeps few of the papers, every paper has a listing
        in_cats = select(_CATEGORY.paper_id).where(
            _CATEGORY.paper_id == scored.c.paper_id,
            _CATEGORY.category.in_(bindparam("cats", expanding=True)),
        )
        chosen = chosen.where(in_cats.exists())
    return chosen.where(listed.exists()) if listed_only else chosen


def _cut_short(session: Session, span: Window) -> bool:
    """Whether the window ends inside its last day with snapshots after its end (a `now`
    before some measurement of that day): the roll-up holds whole days, so the snapshots
    decide then."""
    midnight = datetime.combine(span.last_day + timedelta(days=1), time(0), tzinfo=UTC)
    if span.end >= midnight:
        return False
    snap = _SNAPSHOT.c
    later = select(snap.id).where(snap.taken_at >= span.end, snap.taken_at < midnight).limit(1)
    return session.execute(later).first() is not None


_LISTED = (
    select(_ANNOUNCEMENT.paper_id, func.min(_ANNOUNCEMENT.listing_date))
    .where(
        _ANNOUNCEMENT.paper_id.in_(bindparam("ids", expanding=True)),
        _ANNOUNCEMENT.announce_type.in_(FIRST_TYPES),
    )
    .group_by(_ANNOUNCEMENT.paper_id)
)

# Papers read whole beyond `top`: the database's float sums may differ from Python's in the
# last bits, so a few more than needed are ranked exactly (ties go by the listing order).
_SPARE = 10


def _params(span: Window, categories: Sequence[str] | None) -> dict[str, Any]:
    params: dict[str, Any] = {"start": span.start, "end": span.end, "last_day": span.last_day}
    if categories:
        params["cats"] = list(categories)
    return params


@functools.cache
def _best(
    cut_short: bool,
    by_category: bool,
    weights: tuple[tuple[str, str, float], ...],
    listed_only: bool,
) -> Any:
    """The scores of the `:count` best papers and of every paper tied with the last of them
    (the tie rule is applied in Python): a few rows to read instead of thousands. From the
    snapshots when `cut_short` (listed papers only), else from the roll-up."""
    scored = (
        _scores(by_category, weights)
        if cut_short
        else _rolled_up_scores(by_category, weights, listed_only)
    ).subquery("scored")
    place = func.rank().over(order_by=scored.c.score.desc()).label("place")
    ranked = select(scored.c.paper_id, scored.c.score, place).subquery("ranked")
    return select(ranked.c.paper_id, ranked.c.score).where(ranked.c.place <= bindparam("count"))


def _all_listed(session: Session, paper_ids: list[str], last_day: date) -> bool:
    listed = listing_dates(session, paper_ids)
    return all(paper_id in listed and listed[paper_id] <= last_day for paper_id in paper_ids)


def top_scoring(
    session: Session,
    ranking: RankingSettings,
    span: Window,
    categories: Sequence[str] | None,
    count: int,
) -> list[str]:
    """The `count` papers with the highest weighted gain (database arithmetic), best first."""
    weights = tuple(parsed_weights(ranking.weights))
    params = {**_params(span, categories), "threshold": ranking.threshold}
    params["first_day"] = span.first_day
    params["count"] = count
    cut_short = _cut_short(session, span)
    # A measured paper without a listing is rare (an imported one): the listing is looked up
    # for the best few only, and the query repeated with the check when one of them has none.
    rows = list(session.execute(_best(cut_short, bool(categories), weights, False), params))
    if not cut_short and not _all_listed(session, [row[0] for row in rows], span.last_day):
        rows = list(session.execute(_best(cut_short, bool(categories), weights, True), params))
    rows.sort(key=lambda row: (-row[1], listing_tie_key(row[0])))
    return [paper_id for paper_id, _ in rows[:count]]


def load_gains(
    session: Session, span: Window, categories: Sequence[str] | None, paper_ids: Sequence[str]
) -> dict[str, dict[str, dict[str, float]]]:
    """`paper -> source -> metric -> gain` for `paper_ids` (those that gained something)."""
    if not paper_ids:
        return {}
    params = {**_params(span, categories), "ids": list(paper_ids)}
    found: dict[str, dict[str, dict[str, float]]] = {}
    for paper_id, source, latest, before in session.execute(_gain_rows(bool(categories)), params):
        gain = gained(latest or {}, before)
        if any(gain.values()):
            found.setdefault(paper_id, {})[source] = gain
    return found


def listing_dates(session: Session, paper_ids: Iterable[str]) -> dict[str, date]:
    """Each paper's first listing (as new, or as a cross-list into a collected category)."""
    ids = list(paper_ids)
    if not ids:
        return {}
    return {paper_id: day for paper_id, day in session.execute(_LISTED, {"ids": ids})}


def trending_papers(
    session: Session,
    ranking: RankingSettings,
    span: Window,
    *,
    top: int,
    categories: Sequence[str] | None = None,
) -> list[TrendingPaper]:
    """The window's trending papers, best first, at most `top` (see the module's rule).

    The database sums the weighted gains of every paper measured in the window (most gained
    nothing); only the best few are read whole and ranked by `rank_gains`."""
    chosen = top_scoring(session, ranking, span, categories, top + _SPARE)
    # `chosen` are in the categories already: filtering again would read the category's
    # every paper.
    gains = load_gains(session, span, None, chosen)
    listed = listing_dates(session, gains)
    bare = {
        paper_id: PaperView(paper_id, "", (), (), "", "", announced=announced_at(day))
        for paper_id, day in listed.items()
        if day <= span.last_day
    }
    ranked = rank_gains(gains, bare, ranking, top=top, now=span.end)
    views = paper_views(session, [item.paper.arxiv_id for item in ranked])
    return [
        TrendingPaper(
            ranked=dataclasses.replace(
                item, paper=dataclasses.replace(views[pid], announced=item.paper.announced)
            ),
            listed=listed[pid],
        )
        for item in ranked
        if (pid := item.paper.arxiv_id) in views
    ]


def title(span: Window, categories: Sequence[str] | None = None) -> str:
    """'Trending this week (2026-11-21 to 2026-11-27)', naming the categories when filtered."""
    where = f" in {', '.join(categories)}" if categories else ""
    return f"Trending this {span.period}{where} ({span.first_day} to {span.last_day})"


def nothing_sentence(span: Window, categories: Sequence[str] | None, hint: str) -> str:
    """What an empty window says: one sentence, ending with what to try (`hint`)."""
    where = f" in {', '.join(categories)}" if categories else ""
    return f"No paper{where} gained attention between {span.first_day} and {span.last_day}; {hint}"


CLI_HINT = (
    "attention is measured for papers in their first days after listing"
    " (`hotpapers signals`, or `hotpapers run` on its schedule)."
)


def find_trending(
    engine: Engine,
    ranking: RankingSettings,
    span: Window,
    *,
    top: int,
    categories: Sequence[str] | None = None,
) -> list[TrendingPaper]:
    """`trending_papers` in a read-only session of its own (the CLI, the bot, the digest)."""
    with Session(engine) as session:
        return trending_papers(session, ranking, span, top=top, categories=categories)
