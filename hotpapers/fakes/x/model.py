"""The fake X's data in X's shapes: users, posts (with t.co links and their expansions), snowflake
ids and X's weighted text length."""

from __future__ import annotations

import functools
import random
import re
import unicodedata
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

MAX_QUERY_LENGTH = 512


SEARCH_WINDOW = timedelta(days=7)


TWITTER_EPOCH_MS = 1288834974657


OEMBED_CACHE_AGE = "3153600000"


_TOKEN_RE = re.compile(r"[a-z]+|[0-9]+")


STATUS_RE = re.compile(r"(?:twitter|x)\.com/(?P<user>\w+)/status(?:es)?/(?P<id>\d+)")


def snowflake(created_at: datetime, sequence: int = 0) -> str:
    """An X-style post id: milliseconds since the Twitter epoch, shifted, plus a sequence."""
    millis = int(created_at.timestamp() * 1000) - TWITTER_EPOCH_MS
    return str((millis << 22) + (sequence % (1 << 22)))


def _iso_ms(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + (
        f"{moment.microsecond // 1000:03d}Z"
    )


@functools.lru_cache(maxsize=500_000)
def padded_tokens(text: str) -> str:
    """The text's tokens joined by spaces, with a space at each end."""
    return " " + " ".join(_TOKEN_RE.findall(text.lower())) + " "


def url_matches(term: str, url: str) -> bool:
    """The fake's `url:` semantics: the term's tokens appear consecutively in the URL's."""
    wanted = padded_tokens(term)
    return wanted != "  " and wanted in padded_tokens(url)


@dataclass(slots=True)
class FakeUser:
    id: str
    username: str
    name: str = ""

    def as_json(self) -> dict[str, Any]:
        return {"id": self.id, "name": self.name or self.username, "username": self.username}


@dataclass(slots=True)
class FakeTweet:
    """One post. `urls` are the expanded URLs; the text shows them as t.co links.

    A retweet (`retweet_of` set) carries the original's counts, as X reports them; a quote
    (`quote_of` set) is a post of its own with its own counts.
    """

    id: str
    author: FakeUser
    text: str
    created_at: datetime
    urls: list[str] = field(default_factory=list)
    retweets: int = 0
    likes: int = 0
    replies: int = 0
    quotes: int = 0
    bookmarks: int = 0
    impressions: int = 0
    retweet_of: str | None = None
    quote_of: str | None = None
    in_reply_to: str | None = None
    # The markup oEmbed answers for this post (a replayed published embed); None: built
    # from the post as publish.x.com would.
    oembed_html: str | None = None

    @property
    def is_retweet(self) -> bool:
        return self.retweet_of is not None

    @property
    def is_quote(self) -> bool:
        return self.quote_of is not None

    def shortened(self) -> list[tuple[str, str]]:
        """(t.co link, expanded URL) pairs, stable per post."""
        return [(f"https://t.co/{_tco(self.id, n)}", url) for n, url in enumerate(self.urls)]

    def display_text(self) -> str:
        parts = [self.text] + [short for short, _ in self.shortened()]
        return " ".join(part for part in parts if part)

    def as_json(self, fields: set[str]) -> dict[str, Any]:
        text = self.display_text()
        data: dict[str, Any] = {
            "edit_history_tweet_ids": [self.id],
            "id": self.id,
            "text": text,
        }
        if "author_id" in fields:
            data["author_id"] = self.author.id
        if "created_at" in fields:
            data["created_at"] = _iso_ms(self.created_at)
        if "public_metrics" in fields:
            data["public_metrics"] = {
                "retweet_count": self.retweets,
                "reply_count": self.replies,
                "like_count": self.likes,
                "quote_count": self.quotes,
                "bookmark_count": self.bookmarks,
                "impression_count": self.impressions,
            }
        if "referenced_tweets" in fields:
            refs = []
            if self.retweet_of:
                refs.append({"type": "retweeted", "id": self.retweet_of})
            if self.quote_of:
                refs.append({"type": "quoted", "id": self.quote_of})
            if refs:
                data["referenced_tweets"] = refs
        if "entities" in fields and self.urls:
            data["entities"] = {"urls": self._url_entities(text)}
        return data

    def _url_entities(self, text: str) -> list[dict[str, Any]]:
        entities = []
        for short, expanded in self.shortened():
            start = text.find(short)
            display = expanded.split("://", 1)[-1].removeprefix("www.")
            entities.append(
                {
                    "start": start,
                    "end": start + len(short),
                    "url": short,
                    "expanded_url": expanded,
                    "display_url": display if len(display) <= 26 else display[:25] + "…",
                }
            )
        return entities


def _tco(post_id: str, n: int) -> str:
    rng = random.Random(f"{post_id}:{n}")
    alphabet = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
    return "".join(rng.choice(alphabet) for _ in range(10))


MAX_POST_WEIGHT = 280


_LIGHT_RANGES = ((0, 4351), (8192, 8205), (8208, 8223), (8242, 8247))


_FAKE_LINK_RE = re.compile(r"https?://\S+")


def fake_weighted_length(text: str) -> int:
    """X's count, as the fake applies it: NFC code points weighing 1 or 2, links 23."""
    text = unicodedata.normalize("NFC", _FAKE_LINK_RE.sub("x" * 23, text))
    return sum(
        1 if any(low <= ord(char) <= high for low, high in _LIGHT_RANGES) else 2 for char in text
    )
