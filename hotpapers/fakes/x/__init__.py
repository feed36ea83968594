"""A local fake X API v2 (aiohttp.web on 127.0.0.1) speaking the JSON of the real service.

Used by the tests and the benchmarks, driven by the real tweepy `AsyncClient`. It serves

* `GET /2/tweets/search/recent` - recent search over the last 7 days: the query language
  subset the project uses (`url:"..."`, `is:retweet`, `is:quote`, `has:links`, keywords,
  `-` negation, `OR`, parentheses, implicit AND), `max_results` 10..100, `next_token`
  paging, `start_time`/`end_time`/`since_id`/`until_id`, `tweet.fields`, `expansions`
  (`author_id`) and `user.fields`; the 512-character query limit,
* `GET /2/tweets?ids=` - post lookup (unknown ids come back in `errors`),
* `GET /oembed?url=` - publish.x.com's oEmbed JSON (404 for unknown posts),
* `POST /2/tweets` - create a post (OAuth 1.0a user context: an `OAuth ...` Authorization
  header with a consumer key, token and signature; the signature itself is not verified),
  JSON `{"text": ..., "reply": {"in_reply_to_tweet_id": ...}}` -> 201 `{"data": {"id",
  "text"}}`; X's 403 for duplicate content, 400 for text over 280 weighted characters or a
  reply to an unknown post; created posts are kept in `created` (and are searchable),
* `GET /2/users/me` (user context) and `GET /2/users/:id/tweets` - the posting account and
  its posts, newest first (how a publisher finds a post whose answer it never got),

sends `x-rate-limit-limit/remaining/reset` on every API response from a per-window budget (429
when it is spent), counts `reads_returned` (posts returned: what X bills) and injects faults
into the next API requests (`fail_next`, `malformed_next`, `html_error_next`, `slow_next`,
`hold_next`, `exhaust_rate_limit`; `hold_oembed_next` for oEmbed).

`url:` is a tokenized match, as X documents it: the term and every expanded URL are split into
runs of letters and runs of digits, and the term's tokens must appear consecutively in one URL.
So `url:"arxiv.org/abs/2103.06902"` matches `https://arxiv.org/abs/2103.06902v2`, and
`url:"2103.06902"` matches the abs, pdf and html links of that paper.

Modules: `model` (users, posts, snowflake ids, t.co links, weighted length), `query` (the
search query language), `state` (what the fake holds, its rate-limit window and the faults
queued), `server` (FakeX: the routes), `generate` (seeded posts about papers). They import only
`hotpapers.fakes._server`, never the core's X client.
"""

from __future__ import annotations

from hotpapers.fakes.x.generate import generate_posts
from hotpapers.fakes.x.model import (
    MAX_QUERY_LENGTH,
    TWITTER_EPOCH_MS,
    FakeTweet,
    FakeUser,
    fake_weighted_length,
    snowflake,
    url_matches,
)
from hotpapers.fakes.x.server import FakeX

__all__ = [
    "MAX_QUERY_LENGTH",
    "TWITTER_EPOCH_MS",
    "FakeTweet",
    "FakeUser",
    "FakeX",
    "fake_weighted_length",
    "generate_posts",
    "snowflake",
    "url_matches",
]
