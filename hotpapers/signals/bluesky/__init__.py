"""Bluesky through the `atproto` SDK: original posts that link a paper, and their counts.

Search needs a signed-in session (Bluesky answers 403 to anonymous `searchPosts` since
2025-01), so the source logs in with `signals.bluesky.handle` and an app password
(`HOTPAPERS_SIGNALS__BLUESKY__APP_PASSWORD`) at `signals.bluesky.api_url` (the PDS, e.g.
https://bsky.social/xrpc).

Query choice, by the size of the batch (`mode="auto"`):

* per paper (up to `sweep_threshold` papers): one `app.bsky.feed.searchPosts` per paper with
  `q=<id>` and `domain=arxiv.org` (limit 100, `sort=latest`, cursor paging, bounded). The
  `url` filter matches a single URL, so covering the abs/pdf/html links and their versioned
  forms would take several queries per paper (and `q` is required anyway); the id plus the
  domain finds all of those in one.
* sweep (more papers): every post linking arxiv.org since the window start (the earliest
  announcement minus a day) - `q=arxiv.org`, `domain=arxiv.org`, `since=<start>`,
  `sort=latest`, limit 100, cursor paging bounded by `max_sweep_pages`. If the first page's
  `hitsTotal` says the sweep would take more requests than the per-paper lookups, the source
  looks the papers up one by one instead. If the page bound is reached, the papers announced
  after the oldest post reached are complete; the rest are looked up one by one. Papers a
  sweep cannot cover exactly (no announcement time, or an id from long before the
  announcement, e.g. a replaced older paper) are always looked up one by one.

Search is fuzzy either way, so each hit is verified: a post counts only if one of its links
(facet links, link card, or the post it quotes) is an arxiv.org link to the paper.

Counting: search returns posts, never reposts (a repost is a separate record), and a quote
post is its own post. Each author counts once per paper (their most engaged post), so a
self-thread does not multiply a paper's score. Metrics: likes, reposts, quotes, replies
summed over those posts, and `posts` = the number of distinct authors.

Modules: `_source` (BlueskySource: the query choice and the measurements), `_session` (login,
pacing, retries, re-login on an expired token, failures as one clause), `_search` (the sweep
and the per-paper search, cursor paging), `_posts` (matching a post to its papers, one post
per author, the counts).
"""

from __future__ import annotations

from hotpapers.signals.bluesky._session import PASSWORD_ENV
from hotpapers.signals.bluesky._source import HANDLE_KEY, BlueskySource, Mode

__all__ = ["HANDLE_KEY", "PASSWORD_ENV", "BlueskySource", "Mode"]
