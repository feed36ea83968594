"""Local fakes (aiohttp.web on 127.0.0.1) of the social APIs, in their real wire shapes.

* `FakeHN` - Hacker News Algolia: `GET /api/v1/search` (by points) and
  `/api/v1/search_by_date` (newest first) with `query`, `tags`, `restrictSearchableAttributes`,
  `numericFilters` (`created_at_i`, `points`, `num_comments` with `<`, `<=`, `=`, `>`, `>=`;
  comma = AND), `hitsPerPage` (1..1000), `page`, in the real envelope (hits, nbHits, page,
  nbPages, hitsPerPage, processingTimeMS, query, params). Like hn.algolia.com it serves at most
  the first 1,000 hits of a query (`nbHits` is the true count, `nbPages` stops at 1,000 hits).
* `FakeHF` - Hugging Face: `GET /api/daily_papers?date=&p=&limit=` and `/api/papers/{id}`.
* `FakeBluesky` - XRPC: `POST com.atproto.server.createSession` / `refreshSession` (no
  `didDoc`, so the atproto SDK keeps using our base URL) and `GET app.bsky.feed.searchPosts`
  (`q`, `domain`, `url`, `author`, `since` / `until` on the post's sort time (the earlier of
  `createdAt` and `indexedAt`), `sort` latest|top, `limit`, `cursor`), which needs the bearer
  token.

Every fake records its requests (`requests`), serves whatever data it holds (see the
`hn_story`, `hf_daily_item`, `bluesky_post` builders and the seeded `generate_*` functions) and
injects faults with `fail(kind, ...)`: "429" (with Retry-After), "500", "html" (an HTML page),
"malformed" (broken JSON), "missing_fields", "wrong_types", "slow" and "401". A fault applies
to the next `times` requests whose path and query contain `match`.

Modules: `server` (the request log and fault injection every social fake shares), `words`
(made-up titles and user names), `hn`, `hf` and `bluesky` (one per service: its data builders,
seeded generators and routes). They import only `hotpapers.fakes._server`, never the core's
clients.
"""

from __future__ import annotations

from hotpapers.fakes.social.bluesky import FakeBluesky, bluesky_post, generate_bluesky_posts
from hotpapers.fakes.social.hf import FakeHF, generate_hf_daily, hf_daily_item
from hotpapers.fakes.social.hn import FakeHN, generate_hn_stories, hn_story
from hotpapers.fakes.social.server import FAULT_KINDS, Fault, LoggedRequest

__all__ = [
    "FAULT_KINDS",
    "FakeBluesky",
    "FakeHF",
    "FakeHN",
    "Fault",
    "LoggedRequest",
    "bluesky_post",
    "generate_bluesky_posts",
    "generate_hf_daily",
    "generate_hn_stories",
    "hf_daily_item",
    "hn_story",
]
