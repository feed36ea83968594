"""The fake world behind a published post, and the replay of that day through the real code.

`world_of(post)` derives what would have produced the post: the day's listing (each printed
paper with its categories, primary first, submitted inside the listing's window), the
original posts on X whose counts add up to the printed totals (the embedded ones with their
printed oEmbed HTML, a retweet copy of each, and small posts that stay below the embed bar),
plus any `hidden` papers a synthetic day needs (too quiet, or without a PDF).

`replay(...)` serves that world from the fake arXiv, the fake X API and its oEmbed endpoint,
runs the use-cases `collect` (the past date), `signals` and `digest` at the moment the post
was written, and returns the post the project wrote.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from pydantic import SecretStr
from sqlalchemy import Engine

from hotpapers.arxiv import calendar
from hotpapers.config import (
    ArxivSettings,
    DatabaseSettings,
    DigestSettings,
    Settings,
    SignalsSettings,
    XSignalSettings,
)
from hotpapers.fakes.arxiv import FakeArxiv, FakePaper
from hotpapers.fakes.x import TWITTER_EPOCH_MS, FakeTweet, FakeUser, FakeX, snowflake
from hotpapers.service import use_cases as jobs
from hotpapers.storage.records import PaperRecord, VersionRecord
from tests.ranking.replay_post import Entry, FixtureError, Post

TOKEN = "replay-bearer-token"
EMBED_BAR = 25  # what the classic profile asks of an embedded post (hotpapers/ranking/classic.py)
SMALL_POST = 22  # retweets + likes of a post that must stay below the bar (rounding room)
MAX_STORED_POSTS = 10  # the X source keeps a paper's ten most engaging posts


@dataclass(frozen=True)
class HiddenPaper:
    """A paper of a synthetic day's listing that the post must not print."""

    arxiv_id: str
    retweets: int
    likes: int
    has_pdf: bool = True
    categories: tuple[str, ...] = ("cs.LG",)
    retweet_copies: int = 0  # copies of its post, carrying its counts (they add nothing)


@dataclass
class World:
    listing_date: date
    now: datetime
    categories: list[str]
    papers: list[FakePaper] = field(default_factory=list)
    tweets: list[FakeTweet] = field(default_factory=list)
    needs: str | None = None  # why this day cannot pass yet (another branch's work)


def status_time(status_id: str) -> datetime:
    """When an X post was created, read from its snowflake id."""
    millis = (int(status_id) >> 22) + TWITTER_EPOCH_MS
    return datetime.fromtimestamp(millis / 1000, UTC)


def world_of(
    post: Post, hidden: Sequence[HiddenPaper] = (), *, account_posts_twice: bool = True
) -> World:
    """The listing, X posts and oEmbed markup that would have produced `post`.

    `account_posts_twice`: where the totals leave room, the first embedded post's account
    posts about the paper once more (both posts count); off for a day that shows another rule.
    """
    day, now = post.listing_date, post.written_at
    holidays = ArxivSettings().holidays  # the calendar collect itself uses
    if not calendar.is_listing_date(day, holidays):
        raise FixtureError(f"{post.name}:2: {day} is not an arXiv listing date")
    categories = _listing_categories(post, hidden)
    world = World(day, now, categories)
    builder = _Builder(world, calendar.announced_at(day), account_posts_twice)
    start, end = calendar.submission_window(day, holidays)
    ids = sorted([e.arxiv_id for e in post.entries] + [h.arxiv_id for h in hidden])
    # Just before the day's cut-off, in id order: the window's end never depends on holidays.
    submitted = {i: end - timedelta(minutes=len(ids) - n) for n, i in enumerate(ids)}
    for entry in post.entries:
        _check_listed(post, entry, categories)
        world.papers.append(_paper(entry, submitted[entry.arxiv_id], day, categories))
        builder.posts_for(post.name, entry)
        if entry.arxiv_id[:4] < f"{start:%y%m}":
            world.needs = (
                f"needs crosslists: {entry.arxiv_id} is a cross-list of a paper submitted "
                f"before {day}'s window, which collect --date does not fetch yet"
            )
    for paper in hidden:
        world.papers.append(_hidden_paper(paper, submitted[paper.arxiv_id], day, categories))
        builder.hidden_posts(paper)
    return world


def _listing_categories(post: Post, hidden: Sequence[HiddenPaper]) -> list[str]:
    """The original read the `cs` and `stat.ML` listings: those categories of the day."""
    found = {c for e in post.entries for c in e.categories if _read_by_original(c)}
    found |= {c for h in hidden for c in h.categories if _read_by_original(c)}
    return sorted(found) or ["cs.LG"]


def _read_by_original(category: str) -> bool:
    return category.startswith("cs.") or category == "stat.ML"


def _check_listed(post: Post, entry: Entry, categories: list[str]) -> None:
    if not any(c in categories for c in entry.categories):
        raise FixtureError(
            f"{post.name}:{entry.line + 7}: {entry.arxiv_id} is in neither cs nor stat.ML, "
            "so the original could not have listed it"
        )


def _paper(entry: Entry, submitted: datetime, day: date, categories: list[str]) -> FakePaper:
    primary = entry.categories[0]
    record = PaperRecord(
        arxiv_id=entry.arxiv_id,
        version=1,
        title=entry.title,
        abstract=entry.abstract,
        authors=tuple(entry.authors.split(", ")),
        categories=entry.categories,
        primary_category=primary,
        submitted=submitted,
        updated=submitted,
        announce_type="new" if primary in categories else "cross",
        versions=(VersionRecord(1, submitted),),
    )
    return FakePaper(record, day)


def _hidden_paper(
    paper: HiddenPaper, submitted: datetime, day: date, categories: list[str]
) -> FakePaper:
    record = PaperRecord(
        arxiv_id=paper.arxiv_id,
        version=1,
        title=f"Hidden paper {paper.arxiv_id}",
        abstract="Not printed.",
        authors=("Quiet Author",),
        categories=paper.categories,
        primary_category=paper.categories[0],
        submitted=submitted,
        updated=submitted,
        announce_type="new" if paper.categories[0] in categories else "cross",
        versions=(VersionRecord(1, submitted),),
        has_pdf=paper.has_pdf,
    )
    return FakePaper(record, day)


class _Builder:
    """X posts with counts that add up to each paper's printed totals."""

    def __init__(self, world: World, announced: datetime, account_posts_twice: bool) -> None:
        self.world = world
        self.account_posts_twice = account_posts_twice
        self.users: dict[str, FakeUser] = {}
        self.sequence = 0
        self.small_posts_at = announced + timedelta(hours=2)

    def user(self, handle: str) -> FakeUser:
        if handle not in self.users:
            self.users[handle] = FakeUser(str(20_000_000 + len(self.users)), handle)
        return self.users[handle]

    def tweet(
        self,
        author: FakeUser,
        arxiv_id: str,
        counts: tuple[int, int],
        *,
        status_id: str | None = None,
        created_at: datetime | None = None,
        oembed_html: str | None = None,
    ) -> FakeTweet:
        self.sequence += 1
        created = created_at or self.small_posts_at
        found = FakeTweet(
            id=status_id or snowflake(created, self.sequence),
            author=author,
            text=f"Paper {arxiv_id}",
            created_at=created,
            urls=[f"https://arxiv.org/abs/{arxiv_id}"],
            retweets=counts[0],
            likes=counts[1],
            oembed_html=oembed_html,
        )
        self.world.tweets.append(found)
        return found

    def retweet_copy(self, original: FakeTweet) -> None:
        """A retweet: the original's counts again, which must add nothing."""
        self.sequence += 1
        fan = self.user(f"retweeter{self.sequence}")
        moment = original.created_at + timedelta(minutes=5)
        self.world.tweets.append(
            FakeTweet(
                id=snowflake(moment, self.sequence),
                author=fan,
                text=f"RT @{original.author.username}: {original.text}",
                created_at=moment,
                urls=list(original.urls),
                retweets=original.retweets,
                likes=original.likes,
                retweet_of=original.id,
            )
        )

    def posts_for(self, name: str, entry: Entry) -> None:
        embeds, small = split_counts(name, entry, self.account_posts_twice)
        first_author = self.user(entry.embeds[0].handle) if entry.embeds else None
        for embed, counts in zip(entry.embeds, embeds, strict=True):
            original = self.tweet(
                self.user(embed.handle), entry.arxiv_id, counts,
                status_id=embed.status_id, created_at=status_time(embed.status_id),
                oembed_html=embed.html,
            )  # fmt: skip
            self.retweet_copy(original)
        for n, counts in enumerate(small):
            # The first embedded post's account posts again: its two posts both count.
            author = first_author or self.user(f"reader{n}")
            self.tweet(author, entry.arxiv_id, counts)

    def hidden_posts(self, paper: HiddenPaper) -> None:
        total = paper.retweets + paper.likes
        author = self.user(f"hidden{paper.arxiv_id}")
        if total >= EMBED_BAR:
            original = self.tweet(author, paper.arxiv_id, (paper.retweets, paper.likes))
            for _ in range(paper.retweet_copies):
                self.retweet_copy(original)
            return
        self.tweet(author, paper.arxiv_id, (paper.retweets, paper.likes))


def split_counts(
    name: str, entry: Entry, account_posts_twice: bool = True
) -> tuple[list[tuple[int, int]], list[tuple[int, int]]]:
    """(retweets, likes) of each embedded post, most engaging first, and of the small posts.

    Every embedded post reaches the embed bar, each one less than the one before; the small
    posts stay below it. With embeds, one small (1, 1) post by the first post's account is
    added when the totals leave room; without, the totals are spread over small posts.
    """
    retweets, likes = entry.retweets, entry.favorites
    total = retweets + likes
    where = f"{name}:{entry.counts_line}"
    if not entry.embeds:
        return [], _small_posts(where, retweets, likes)
    later = [EMBED_BAR + len(entry.embeds) - 1 - n for n in range(1, len(entry.embeds))]
    shares = [_share(engagement, retweets, total) for engagement in later]
    spare = (retweets - sum(r for r, _ in shares), likes - sum(f for _, f in shares))
    small = []
    roomy = min(spare) >= 1 and sum(spare) - 2 > max(later, default=EMBED_BAR - 1)
    if account_posts_twice and roomy:
        small.append((1, 1))
        spare = (spare[0] - 1, spare[1] - 1)
    first_needs = max(later, default=EMBED_BAR - 1) + 1
    if min(spare) < 0 or sum(spare) < first_needs:
        raise FixtureError(
            f"{where}: retweets {retweets} + favorites {likes} cannot give each of the "
            f"{len(entry.embeds)} embedded posts the {EMBED_BAR} an embed needs"
        )
    return [spare, *shares], small


def _share(engagement: int, retweets: int, total: int) -> tuple[int, int]:
    """`engagement` split into retweets and likes in the paper's own proportion."""
    part = round(engagement * retweets / total) if total else 0
    return part, engagement - part


def _small_posts(where: str, retweets: int, likes: int) -> list[tuple[int, int]]:
    count = max(1, math.ceil((retweets + likes) / SMALL_POST))
    if count > MAX_STORED_POSTS:
        raise FixtureError(
            f"{where}: {retweets + likes} without an embed needs {count} posts below the bar; "
            f"the X source stores only {MAX_STORED_POSTS} per paper"
        )
    return [(_part(retweets, count, n), _part(likes, count, n)) for n in range(count)]


def _part(value: int, count: int, n: int) -> int:
    return value // count + (1 if n < value % count else 0)


# --- the replay ------------------------------------------------------------------------------


def replay_settings(
    engine: Engine, arxiv: FakeArxiv, x: FakeX, categories: list[str], out: Path
) -> Settings:
    return Settings(
        database=DatabaseSettings(url=engine.url.render_as_string(hide_password=False)),
        arxiv=ArxivSettings(
            categories=categories,
            rss_url=arxiv.rss_url,
            api_url=arxiv.api_url,
            oai_url=arxiv.oai_url,
            request_interval=0,  # loopback: no pacing
            max_retries=0,
        ),
        signals=SignalsSettings(
            x=XSignalSettings(
                enabled=True,
                api_url=x.api_url,
                oembed_url=x.oembed_url,
                bearer_token=SecretStr(TOKEN),
                daily_budget_usd=1000.0,
            )
        ),
        digest=DigestSettings(posts_dir=out),
    )


async def replay(world: World, engine: Engine, out: Path) -> str:
    """collect --date, signals and digest at the moment the post was written: the post."""
    async with (
        FakeArxiv(world.papers, feed_date=world.listing_date) as arxiv,
        FakeX(world.tweets, bearer_token=TOKEN, now=world.now) as x,
    ):
        settings = replay_settings(engine, arxiv, x, world.categories, out)
        await jobs.collect(settings, engine, world.listing_date, now=world.now)
        await jobs.measure_signals(settings, engine, now=world.now)
    path = jobs.write_post(settings, engine, world.listing_date, now=world.now)
    return path.read_text(encoding="utf-8")
