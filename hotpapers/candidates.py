"""Loading what ranking needs for one listing: papers, their posts, their latest snapshots."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import date, datetime

from sqlalchemy import func
from sqlmodel import Session, col, select

from hotpapers.arxiv.calendar import announced_at
from hotpapers.models import (
    Announcement,
    Paper,
    PaperAuthor,
    PaperCategory,
    SignalSnapshot,
    SocialPost,
)
from hotpapers.ranking import Candidate, PaperView, PostSignal


def load_candidates(
    session: Session, listing_date: date, categories: Sequence[str] | None, now: datetime
) -> list[Candidate]:
    """Every paper announced on `listing_date` (in `categories`, if given) with its signals."""
    query = select(Announcement.paper_id).where(Announcement.listing_date == listing_date)  # type: ignore[arg-type]
    if categories:
        query = query.where(Announcement.category.in_(categories))  # type: ignore[attr-defined]
    ids = sorted(set(session.execute(query).scalars()))
    if not ids:
        return []
    views = _paper_views(session, ids, announced_at(listing_date))
    posts = _posts(session, ids, now)
    snapshots = _latest_snapshots(session, ids, now)
    return [
        Candidate(paper=views[i], posts=tuple(posts.get(i, ())), snapshots=snapshots.get(i, {}))
        for i in ids
        if i in views
    ]


def _paper_views(session: Session, ids: list[str], announced: datetime) -> dict[str, PaperView]:
    papers = session.execute(select(Paper).where(Paper.id.in_(ids))).scalars().all()  # type: ignore[attr-defined]
    authors: dict[str, list[str]] = defaultdict(list)
    rows = session.execute(
        select(PaperAuthor.paper_id, PaperAuthor.author_name)
        .where(PaperAuthor.paper_id.in_(ids))  # type: ignore[attr-defined]
        .order_by(col(PaperAuthor.paper_id), col(PaperAuthor.position))
    )
    for paper_id, name in rows:
        authors[paper_id].append(name)
    categories: dict[str, list[str]] = defaultdict(list)
    rows = session.execute(
        select(PaperCategory.paper_id, PaperCategory.category)
        .where(PaperCategory.paper_id.in_(ids))  # type: ignore[attr-defined]
        .order_by(col(PaperCategory.paper_id), col(PaperCategory.position))
    )
    for paper_id, category in rows:
        categories[paper_id].append(category)
    return {
        paper.id: PaperView(
            arxiv_id=paper.id,
            title=paper.title,
            authors=tuple(authors[paper.id]),
            categories=tuple(categories[paper.id]) or (paper.primary_category,),
            abstract=paper.abstract,
            primary_category=paper.primary_category,
            announced=announced,
        )
        for paper in papers
    }


def _posts(session: Session, ids: list[str], now: datetime) -> dict[str, list[PostSignal]]:
    query = select(SocialPost).where(SocialPost.paper_id.in_(ids))  # type: ignore[attr-defined]
    found: dict[str, list[PostSignal]] = defaultdict(list)
    for post in session.execute(query).scalars():
        if post.taken_at is not None and post.taken_at > now:
            continue
        found[post.paper_id].append(
            PostSignal(
                source=post.source,
                post_id=post.post_id,
                author_id=post.author_id,
                author_handle=post.author_handle,
                text=post.text,
                url=post.url,
                reposts=post.reposts,
                likes=post.likes,
                replies=post.replies,
                quotes=post.quotes,
                is_repost=post.is_repost,
                created_at=post.created_at,
                taken_at=post.taken_at,
                embed_html=post.oembed_html,
            )
        )
    return found


def _latest_snapshots(
    session: Session, ids: list[str], now: datetime
) -> dict[str, dict[str, dict[str, float]]]:
    """The newest snapshot per (paper, source) taken at or before `now`."""
    newest = (
        select(
            SignalSnapshot.paper_id,
            SignalSnapshot.source,
            func.max(SignalSnapshot.taken_at).label("taken_at"),
        )
        .where(SignalSnapshot.paper_id.in_(ids), SignalSnapshot.taken_at <= now)  # type: ignore[attr-defined,operator]
        .group_by(SignalSnapshot.paper_id, SignalSnapshot.source)
        .subquery()
    )
    query = select(SignalSnapshot).join(
        newest,
        (SignalSnapshot.paper_id == newest.c.paper_id)  # type: ignore[arg-type]
        & (SignalSnapshot.source == newest.c.source)
        & (SignalSnapshot.taken_at == newest.c.taken_at),
    )
    found: dict[str, dict[str, dict[str, float]]] = defaultdict(dict)
    for snapshot in session.execute(query).scalars():
        found[snapshot.paper_id][snapshot.source] = {
            k: float(v) for k, v in snapshot.metrics.items()
        }
    return found
