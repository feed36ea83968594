"""Keeping embed HTML (oEmbed) for the X posts the daily post may show, cached for cache_age."""

from __future__ import annotations

import logging
from datetime import datetime

import aiohttp
from sqlalchemy import Engine, or_
from sqlmodel import Session, col, select

from hotpapers.config import XSignalSettings
from hotpapers.signals.oembed import fetch_oembed, oembed_expiry
from hotpapers.storage.db import transaction
from hotpapers.storage.models import SocialPost

log = logging.getLogger(__name__)


def posts_needing_embeds(
    session: Session, paper_ids: list[str], now: datetime, per_paper: int
) -> list[SocialPost]:
    """The most engaging original X posts per paper whose embed is missing or expired."""
    query = (
        select(SocialPost)
        .where(
            SocialPost.source == "x",  # type: ignore[arg-type]
            SocialPost.is_repost == False,  # type: ignore[arg-type]  # noqa: E712
            SocialPost.paper_id.in_(paper_ids),  # type: ignore[attr-defined]
            or_(col(SocialPost.oembed_html).is_(None), col(SocialPost.oembed_expires) < now),
        )
        .order_by(
            col(SocialPost.paper_id), (col(SocialPost.reposts) + col(SocialPost.likes)).desc()
        )
    )
    chosen: list[SocialPost] = []
    counts: dict[str, int] = {}
    for post in session.execute(query).scalars():
        if counts.get(post.paper_id, 0) < per_paper:
            counts[post.paper_id] = counts.get(post.paper_id, 0) + 1
            chosen.append(post)
    return chosen


async def refresh_embeds(
    settings: XSignalSettings,
    engine: Engine,
    http: aiohttp.ClientSession,
    paper_ids: list[str],
    now: datetime,
    per_paper: int = 10,
    *,
    timeout: float = 15.0,
) -> int:
    """Fetch oEmbed HTML (free, no auth) for posts that lack it; returns how many were stored.
    A post whose oEmbed fails simply stays without HTML: the post leaves it out, never the paper."""
    with Session(engine) as session:
        wanted = [(p.id, p.url) for p in posts_needing_embeds(session, paper_ids, now, per_paper)]
    fetched: dict[int, tuple[str, datetime]] = {}
    for post_id, url in wanted:
        embed = await fetch_oembed(http, settings.oembed_url, url, timeout=timeout)
        if embed is not None and post_id is not None:
            fetched[post_id] = (embed.html, oembed_expiry(now, embed.cache_age))
    with transaction(engine) as session:
        for post_id, (html, expires) in fetched.items():
            post = session.get(SocialPost, post_id)
            if post is not None:
                post.oembed_html, post.oembed_expires = html, expires
                session.add(post)
    log.info("oembed: %d of %d embeds fetched", len(fetched), len(wanted))
    return len(fetched)
