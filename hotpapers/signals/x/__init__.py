"""X (Twitter) signals: recent-search posts linking the papers, through tweepy's AsyncClient.

tweepy hard-codes `https://api.twitter.com`; an aiohttp client middleware
(`hotpapers.plumbing.x_routing`) sends those requests to `settings.api_url` instead
(`https://api.x.com` by default, a proxy, or a local fake in tests and benchmarks) - the same
path in production and in tests.

Counting follows `hotpapers.ranking.scoring`: original posts only (retweets are excluded from the
search, and any that arrive are dropped), quotes count as posts of their own, accounts in
`ignore_accounts` are skipped, and every original post counts, two by one account both
(`hotpapers.ranking.classic`).

Money: X bills every post a search returns ($0.005 a post read, [signals.x]
price_per_read_usd; reading the same post again within one UTC day may go unbilled, which
X calls a soft guarantee, so counting every post returned can only over-count). Before each
request the budget reserves a full page (`max_results` posts); the answer settles it to the
posts that came back. A request X refused with an error status returned no posts and gives
its reservation back; one whose outcome is unknown (timeout, dropped connection, unreadable
body) keeps it, as X may have billed it.

Modules: `_source` (XSource: the strategy, paging within the budget, the measurements),
`_query` (which papers go into which query), `_search` (one request: the rate-limit window,
parsing, each failure as one sentence), `_budget` (reserving a page from the day's budget),
`_posts` (matching posts to papers, the counts).
"""

from __future__ import annotations

from hotpapers.signals.x._posts import post_url
from hotpapers.signals.x._search import TOKEN_SETTING
from hotpapers.signals.x._source import Strategy, XSource

__all__ = ["TOKEN_SETTING", "Strategy", "XSource", "post_url"]
