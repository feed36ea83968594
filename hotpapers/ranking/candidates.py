"""Loading what ranking needs for one listing: papers, their posts, their latest snapshots.

Plain column selects (no ORM objects: building ~3,300 of them was most of /hot's time), built
once per shape with bound parameters (`:day`, `:cats`, `:now`), so SQLAlchemy compiles each
only once; every query joins the listing's announcements instead of carrying its ~1,500 ids.
`rank_listing` goes further for the bot: it scores on the signals alone and reads titles,
abstracts, authors and categories only for the papers it returns.
"""

from __future__ import annotations

import dataclasses
import functools
import math
from collections import defaultdict
from collections.abc import Sequence
from datetime import date, datetime
from typing import Any

from sqlalchemy import Select, bindparam, func, select
from sqlmodel import Session

from hotpapers.arxiv.calendar import announced_at
from hotpapers.config import RankingSettings
from hotpapers.ranking.scoring import (
    Candidate,
    PaperView,
    PostSignal,
    RankedPaper,
    counted_posts,
    discussion_posts,
    rank_papers,
)
from hotpapers.storage.models import (
    Announcement,
    Paper,
    PaperAuthor,
    PaperCategory,
    SignalSnapshot,
    SocialPost,
)

_ANNOUNCEMENT = Announcement.__table__.c  # type: ignore[attr-defined]
_PAPER = Paper.__table__.c  # type: ignore[attr-defined]
_AUTHOR = PaperAuthor.__table__.c  # type: ignore[attr-defined]
_CATEGORY = PaperCategory.__table__.c  # type: ignore[attr-defined]
_POST = SocialPost.__table__.c  # type: ignore[attr-defined]
_SNAPSHOT = SignalSnapshot.__table__.c  # type: ignore[attr-defined]

_POST_COLUMNS = (
    _POST.paper_id,
    _POST.source,
    _POST.post_id,
    _POST.author_id,
    _POST.author_handle,
    _POST.text,
    _POST.url,
    _POST.reposts,
    _POST.likes,
    _POST.replies,
    _POST.quotes,
    _POST.is_repost,
    _POST.created_at,
    _POST.taken_at,
    _POST.oembed_html,
)
# What scoring reads of a post (X counts, one post per author, reposts excluded): no text.
_SCORED_POST_COLUMNS = (
    _POST.paper_id,
    _POST.source,
    _POST.post_id,
    _POST.author_id,
    _POST.author_handle,
    _POST.reposts,
    _POST.likes,
    _POST.replies,
    _POST.quotes,
    _POST.is_repost,
    _POST.taken_at,
)


@dataclasses.dataclass(frozen=True)
class _Views:
    """The three reads behind PaperView, for some set of papers."""

    papers: Select[Any]
    authors: Select[Any]
    categories: Select[Any]


def _views_of(narrow: Any) -> _Views:
    """`narrow(query, paper_id_column)` limits a query to the papers wanted."""
    return _Views(
        papers=narrow(
            select(
                _PAPER.id, _PAPER.title, _PAPER.abstract, _PAPER.primary_category, _PAPER.has_pdf
            ),
            _PAPER.id,
        ),
        authors=narrow(
            select(_AUTHOR.paper_id, _AUTHOR.author_name).order_by(
                _AUTHOR.paper_id, _AUTHOR.position
            ),
            _AUTHOR.paper_id,
        ),
        categories=narrow(
            select(_CATEGORY.paper_id, _CATEGORY.category).order_by(
                _CATEGORY.paper_id, _CATEGORY.position
            ),
            _CATEGORY.paper_id,
        ),
    )


@dataclasses.dataclass(frozen=True)
class _Listing:
    """Every read of one listing (`:day`, optionally `:cats`; snapshots also `:now`)."""

    ids: Select[Any]  # announced paper ids (every one has a paper: a foreign key)
    views: _Views
    posts: Select[Any]
    scored_posts: Select[Any]  # posts without their text, for scoring (rank_listing)
    snapshots: Select[Any]


# Announcement types that can make a paper new to a listing: a replacement never does.
FIRST_TYPES = ("new", "cross")


def _first_listed(by_category: bool, *, include_replaced: bool = False) -> Select[Any]:
    """The papers of `:day`'s listing (in `:cats`) that rank there: each paper ranks once, on
    the first listing it appears in. A replacement (v2, v3) was announced before, so it never
    ranks as new. A cross-list ranks only if the paper was in no earlier listing (of the same
    categories, when filtered): a paper first announced in an uncollected category and
    cross-listed into ours is new to us that day, as the live feed shows it; one we listed
    before is not. `include_replaced` keeps every announced paper (delivery edits need them).
    """
    day = _ANNOUNCEMENT.listing_date == bindparam("day")
    in_cats = _ANNOUNCEMENT.category.in_(bindparam("cats", expanding=True))
    query = select(_ANNOUNCEMENT.paper_id).where(day)
    if by_category:
        query = query.where(in_cats)
    if include_replaced:
        return query
    earlier = Announcement.__table__.alias("earlier")  # type: ignore[attr-defined]
    before = select(earlier.c.paper_id).where(
        earlier.c.paper_id == _ANNOUNCEMENT.paper_id,
        earlier.c.listing_date < bindparam("day"),
    )
    if by_category:
        before = before.where(earlier.c.category.in_(bindparam("cats", expanding=True)))
    return query.where(_ANNOUNCEMENT.announce_type.in_(FIRST_TYPES), ~before.exists())


@functools.cache
def _listing(by_category: bool, include_replaced: bool = False) -> _Listing:
    listed_query = _first_listed(by_category, include_replaced=include_replaced)
    listed = listed_query.distinct().subquery("listed")

    def joined(query: Select[Any], column: Any) -> Select[Any]:
        return query.join(listed, listed.c.paper_id == column)

    newest = joined(
        select(_SNAPSHOT.paper_id, _SNAPSHOT.source, func.max(_SNAPSHOT.taken_at).label("taken_at"))
        .where(_SNAPSHOT.taken_at <= bindparam("now"))
        .group_by(_SNAPSHOT.paper_id, _SNAPSHOT.source),
        _SNAPSHOT.paper_id,
    ).subquery("newest")
    snapshots = select(_SNAPSHOT.paper_id, _SNAPSHOT.source, _SNAPSHOT.metrics).join(
        newest,
        (_SNAPSHOT.paper_id == newest.c.paper_id)
        & (_SNAPSHOT.source == newest.c.source)
        & (_SNAPSHOT.taken_at == newest.c.taken_at),
    )
    return _Listing(
        ids=select(listed.c.paper_id),
        views=_views_of(joined),
        posts=joined(select(*_POST_COLUMNS), _POST.paper_id).order_by(_POST.id),
        scored_posts=joined(select(*_SCORED_POST_COLUMNS), _POST.paper_id).order_by(_POST.id),
        snapshots=snapshots,
    )


# The views and posts of the papers `:ids` (the few that rank_listing returns).
_CHOSEN = _views_of(lambda query, column: query.where(column.in_(bindparam("ids", expanding=True))))
_CHOSEN_POSTS = (
    select(*_POST_COLUMNS)
    .where(_POST.paper_id.in_(bindparam("ids", expanding=True)))
    .order_by(_POST.id)
)


def _params(listing_date: date, categories: Sequence[str] | None, now: datetime) -> dict[str, Any]:
    params: dict[str, Any] = {"day": listing_date, "now": now}
    if categories:
        params["cats"] = list(categories)
    return params


def load_candidates(
    session: Session,
    listing_date: date,
    categories: Sequence[str] | None,
    now: datetime,
    *,
    include_replaced: bool = False,
) -> list[Candidate]:
    """Every paper that ranks on `listing_date` (in `categories`, if given) with its signals:
    those listed there for the first time (see `_first_listed`), or with `include_replaced`
    every paper announced that day."""
    sql = _listing(bool(categories), include_replaced)
    params = _params(listing_date, categories, now)
    views = _paper_views(session, sql.views, params, announced_at(listing_date))
    if not views:
        return []
    posts = _posts(session, sql.posts, params, now)
    snapshots = _latest_snapshots(session, sql, params)
    return [
        Candidate(paper=views[i], posts=tuple(posts.get(i, ())), snapshots=snapshots.get(i, {}))
        for i in sorted(views)
    ]


def rank_listing(
    session: Session,
    ranking: RankingSettings,
    listing_date: date,
    now: datetime,
    *,
    top: int | None = None,
    categories: Sequence[str] | None = None,
) -> list[RankedPaper]:
    """The same ranking as `rank_papers(load_candidates(...))` with `ranking`'s settings
    (what `jobs.rank` returns), reading the papers' text only for the ranked ones.

    Scores use only a paper's id, its announcement time and its signals, so the listing is
    scored with bare paper views and posts without their text; the full views and posts
    replace them in the `top` results (the same posts count: choosing them needs no text).
    """
    sql, params = _listing(bool(categories)), _params(listing_date, categories, now)
    posts = _posts(session, sql.scored_posts, params, now, scored_only=True)
    snapshots = _latest_snapshots(session, sql, params)
    if _silent_papers_rank(ranking):
        ids = sorted(session.execute(sql.ids, params).scalars())
    else:  # most of a listing has no signal at all: no need to score (or allocate) those
        ids = sorted(posts.keys() | snapshots.keys())
    if not ids:
        return []
    announced = announced_at(listing_date)
    bare = [
        Candidate(
            paper=PaperView(i, "", (), (), "", "", announced=announced),
            posts=tuple(posts.get(i, ())),
            snapshots=snapshots.get(i, {}),
        )
        for i in ids
    ]
    settings: dict[str, Any] = {
        "weights": ranking.weights,
        "threshold": ranking.threshold,
        "top": top or ranking.top,
        "now": now,
        "decay_hours": ranking.decay_hours,
    }
    ranked = rank_papers(bare, **settings)
    if not ranked:
        return []
    chosen = {"ids": [r.paper.arxiv_id for r in ranked]}
    views = _paper_views(session, _CHOSEN, chosen, announced)
    if len(views) < len(ranked):  # an announcement without its paper: rank as load_candidates
        candidates = load_candidates(session, listing_date, categories, now)
        return rank_papers(candidates, **settings)
    full = _posts(session, _CHOSEN_POSTS, chosen, now)
    return [
        dataclasses.replace(
            r,
            paper=views[r.paper.arxiv_id],
            posts=counted_posts(full.get(r.paper.arxiv_id, ())),
            discussions=discussion_posts(full.get(r.paper.arxiv_id, ())),
        )
        for r in ranked
    ]


def _silent_papers_rank(ranking: RankingSettings) -> bool:
    """Whether a paper without any post or snapshot can rank: it scores 0.0 (every weight
    times 0, decayed), unless a weight is not finite (inf × 0 is NaN, never below a threshold)."""
    finite = all(math.isfinite(weight) for weight in ranking.weights.values())
    return not (finite and ranking.threshold > 0)


def paper_views(session: Session, paper_ids: Sequence[str]) -> dict[str, PaperView]:
    """The views of `paper_ids` (title, authors, categories), announcement time unset."""
    if not paper_ids:
        return {}
    return _paper_views(session, _CHOSEN, {"ids": list(paper_ids)}, None)


def _paper_views(
    session: Session, sql: _Views, params: dict[str, Any], announced: datetime | None
) -> dict[str, PaperView]:
    papers = session.execute(sql.papers, params).all()
    if not papers:
        return {}
    authors: dict[str, list[str]] = defaultdict(list)
    for paper_id, name in session.execute(sql.authors, params):
        authors[paper_id].append(name)
    categories: dict[str, list[str]] = defaultdict(list)
    for paper_id, category in session.execute(sql.categories, params):
        categories[paper_id].append(category)
    return {
        paper_id: PaperView(
            arxiv_id=paper_id,
            title=title,
            authors=tuple(authors[paper_id]),
            categories=tuple(categories[paper_id]) or (primary,),
            abstract=abstract,
            primary_category=primary,
            announced=announced,
            has_pdf=has_pdf,
        )
        for paper_id, title, abstract, primary, has_pdf in papers
    }


def _posts(
    session: Session,
    query: Select[Any],
    params: dict[str, Any],
    now: datetime,
    *,
    scored_only: bool = False,
) -> dict[str, list[PostSignal]]:
    """Posts by paper, as measured up to `now`; `scored_only` for _SCORED_POST_COLUMNS rows
    (the text, link, creation time and embed left empty)."""
    found: dict[str, list[PostSignal]] = defaultdict(list)
    for row in session.execute(query, params):
        if scored_only:
            (paper_id, source, post_id, author_id, handle) = row[:5]
            (reposts, likes, replies, quotes, is_repost, taken_at) = row[5:]
            text, url, created_at, embed = "", "", None, None
        else:
            (paper_id, source, post_id, author_id, handle, text, url) = row[:7]
            (reposts, likes, replies, quotes, is_repost, created_at, taken_at, embed) = row[7:]
        if taken_at is not None and taken_at > now:
            continue
        found[paper_id].append(
            PostSignal(
                source=source,
                post_id=post_id,
                author_id=author_id,
                author_handle=handle,
                text=text,
                url=url,
                reposts=reposts,
                likes=likes,
                replies=replies,
                quotes=quotes,
                is_repost=is_repost,
                created_at=created_at,
                taken_at=taken_at,
                embed_html=embed,
            )
        )
    return found


def _latest_snapshots(
    session: Session, sql: _Listing, params: dict[str, Any]
) -> dict[str, dict[str, dict[str, float]]]:
    """The newest snapshot per (paper, source) taken at or before `:now`."""
    found: dict[str, dict[str, dict[str, float]]] = defaultdict(dict)
    for paper_id, source, metrics in session.execute(sql.snapshots, params):
        found[paper_id][source] = {k: float(v) for k, v in metrics.items()}
    return found
