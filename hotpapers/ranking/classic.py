"""The classic profile: the rules of the original "Hot Papers" generator, kept on purpose.

The original (TatsuyaShirakawa/daily-arxiv-gatsby) decided what its daily post printed; the
project's Markdown post follows the same rules, and this module is the one place that says
which and why. `hotpapers.ranking.scoring` and `hotpapers.render.markdown` apply them. Counting is
the one place the project deliberately differs: the original summed every status its search
returned, retweet copies included; the project sums original posts only.

Each rule below names the original behaviour it keeps:

* embeds: `EMBED_MIN_ENGAGEMENT`, `MAX_EMBEDS_CONSIDERED`, `ONE_COPY_OF_EACH_EMBED`;
* which papers: `POST_CAP`, `REQUIRE_PDF` (`printable`), the threshold (ranking.threshold, 50);
* order: `listing_tie_key`; score: `counted`, `post_weights`;
* the front matter `date` (below) and the empty post (templates/post.md.j2).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from typing import Protocol, TypeVar

# Printed only when its retweets + favorites reach this, the first post too: the original's
# guard meant to exempt the first post never did, so a paper can be printed with no embed.
EMBED_MIN_ENGAGEMENT = 25

# At most this many of a paper's posts (most engaging first) are considered for embedding,
# as the original looked at the first 10 statuses by score.
MAX_EMBEDS_CONSIDERED = 10

# Identical embed HTML is printed once per paper, as the original dropped repeated HTML
# (retweets of one post resolve to the same markup). Only its 2020-09-17 post printed one twice.
ONE_COPY_OF_EACH_EMBED = True

# No top-N cut: the original printed every paper over the threshold (days with 20+ exist).
# `digest.top` is the configurable cap for the post; None (the classic value) is no cap.
POST_CAP: int | None = None

# A paper is printed only when the day's listing gave it a PDF link, as the original skipped
# entries without one (withdrawn papers).
REQUIRE_PDF = True

# The post's score is the original's: retweets + favorites of the posts on X that link the
# paper. Other sources (Discord reactions, Hacker News, ...) count in the bot's and the site's
# blend, not here, so "retweets: N, favorites: M" always adds up to what ranked the paper.
CLASSIC_SOURCES = ("x.",)


def post_weights(weights: dict[str, float]) -> dict[str, float]:
    """The configured weights of the classic sources only (see CLASSIC_SOURCES)."""
    return {key: w for key, w in weights.items() if key.startswith(CLASSIC_SOURCES)}


# The front matter `date` is the moment the post was written, in UTC with its `Z`: the
# original wrote its Japan-time clock with a `Z` (nine hours off); that error is not kept,
# since readers and Gatsby take the `Z` at its word.

_NEW_ID = re.compile(r"^(\d\d)(\d\d)\.(\d+)$")
_OLD_ID = re.compile(r"^[a-z][a-z\-]*(?:\.[A-Z]{2})?/(\d\d)(\d\d)(\d+)$")


class _Paper(Protocol):
    @property
    def has_pdf(self) -> bool: ...


def printable(paper: _Paper) -> bool:
    """Whether the post may print the paper at all (see REQUIRE_PDF)."""
    return paper.has_pdf or not REQUIRE_PDF


class _Post(Protocol):
    @property
    def post_id(self) -> str: ...
    @property
    def reposts(self) -> int: ...
    @property
    def likes(self) -> int: ...
    @property
    def is_repost(self) -> bool: ...


P = TypeVar("P", bound=_Post)


def counted(posts: Iterable[P]) -> Iterator[P]:
    """The posts whose counts add up to a paper's score.

    Original posts only: a retweet copy carries its original's counts and adds nothing (the
    project's deliberate fix; the original summed copies too). Every original post counts,
    two by one account both: the original summed every status its search returned.
    """
    seen: set[str] = set()
    for post in posts:
        if post.is_repost or post.post_id in seen:
            continue
        seen.add(post.post_id)
        yield post


def listing_tie_key(arxiv_id: str) -> tuple[int, int, str]:
    """Among equal scores, the paper that came later in the day's listing comes first.

    The original sorted ascending (stable) and reversed, so ties went to the later paper.
    It read arXiv's "recent" pages, which show a day's papers newest first (highest id
    first): the later paper in the listing is the lower id, so the key is the id ascending.
    (The archive's two tied pairs, 2020-09-17 and 2020-10-06, agree.)
    """
    match = _NEW_ID.match(arxiv_id) or _OLD_ID.match(arxiv_id)
    if match is None:
        return (0, 0, arxiv_id)
    year, month, number = (int(part) for part in match.groups())
    century = 1900 if year >= 91 else 2000  # arXiv began in 1991
    return ((century + year) * 100 + month, number, arxiv_id)
