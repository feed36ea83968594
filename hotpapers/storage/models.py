"""All tables, in one module (SQLModel). Times are stored in UTC.

Keys follow the design's invariants: a paper is keyed by its version-less arXiv id;
versions, authors, categories and announcements are rows of their own; signal snapshots
are append-only.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    Float,
    Index,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
    text,
    true,
)
from sqlmodel import Field, SQLModel

from hotpapers.storage import fulltext

# Prefix searches (`name LIKE 'abc%'` written as a range) need byte order on PostgreSQL.
SearchKey = String(200).with_variant(String(200, collation="C"), "postgresql")


class Paper(SQLModel, table=True):
    id: str = Field(primary_key=True, max_length=40)
    latest_version: int = 1
    title: str = Field(sa_column=Column(Text, nullable=False))
    abstract: str = Field(sa_column=Column(Text, nullable=False))
    primary_category: str = Field(max_length=40, index=True)
    comment: str | None = Field(default=None, sa_column=Column(Text))
    journal_ref: str | None = Field(default=None, sa_column=Column(Text))
    doi: str | None = Field(default=None, max_length=200)
    submitted: datetime | None = Field(default=None, index=True)
    updated: datetime | None = None
    # Whether arXiv lists a PDF for it (not for a withdrawn paper): the classic post needs one.
    has_pdf: bool = Field(
        default=True, sa_column=Column(Boolean, nullable=False, server_default=true())
    )


class PaperVersion(SQLModel, table=True):
    __tablename__ = "paper_version"

    paper_id: str = Field(primary_key=True, foreign_key="paper.id", max_length=40)
    version: int = Field(primary_key=True)
    created: datetime | None = None


class Author(SQLModel, table=True):
    # The name as arXiv prints it is the key: imports need no lookups to link authors.
    # The folded keys a look-up finds it by: see hotpapers/storage/names.py.
    name: str = Field(primary_key=True, max_length=300)
    folded_name: str = Field(sa_column=Column(SearchKey, nullable=False, index=True))
    folded_last: str = Field(sa_column=Column(SearchKey, nullable=False, index=True))
    folded_surname: str = Field(sa_column=Column(SearchKey, nullable=False, index=True))


class PaperAuthor(SQLModel, table=True):
    __tablename__ = "paper_author"
    __table_args__ = (
        # An author's papers newest first, straight from the index (papers_by_author).
        Index("ix_paper_author_latest", "author_name", "submitted", "paper_id"),
        # SQLite: the rows live in the primary-key b-tree (one b-tree less to write).
        {"sqlite_with_rowid": False},
    )

    paper_id: str = Field(primary_key=True, foreign_key="paper.id", max_length=40)
    position: int = Field(primary_key=True)
    author_name: str = Field(foreign_key="author.name", max_length=300)
    # Copied from the paper (as for paper_category) so that needs no paper row per candidate.
    submitted: datetime | None = None


class PaperCategory(SQLModel, table=True):
    __tablename__ = "paper_category"
    __table_args__ = (Index("ix_paper_category_latest", "category", "submitted"),)

    paper_id: str = Field(primary_key=True, foreign_key="paper.id", max_length=40)
    position: int = Field(primary_key=True)  # 0 is the primary category
    category: str = Field(max_length=40)
    # Copied from the paper so "latest in a category" is one index range scan.
    submitted: datetime | None = None


class Announcement(SQLModel, table=True):
    __table_args__ = (
        UniqueConstraint("listing_date", "category", "paper_id", name="uq_announcement"),
        Index("ix_announcement_paper", "paper_id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    listing_date: date = Field(index=True)
    category: str = Field(max_length=40)
    paper_id: str = Field(foreign_key="paper.id", max_length=40)
    announce_type: str = Field(max_length=20)  # new / cross / replace / replace-cross
    version: int = 1


class FeedState(SQLModel, table=True):
    """Conditional-request state per feed URL (ETag / Last-Modified)."""

    __tablename__ = "feed_state"

    url: str = Field(primary_key=True, max_length=1000)
    etag: str | None = Field(default=None, max_length=300)
    last_modified: str | None = Field(default=None, max_length=100)
    listing_date: date | None = None
    fetched_at: datetime | None = None


class SignalSnapshot(SQLModel, table=True):
    """One measurement of one paper on one source; append-only."""

    __tablename__ = "signal_snapshot"
    __table_args__ = (
        Index("ix_snapshot_latest", "paper_id", "source", "taken_at"),
        Index("ix_snapshot_taken_at", "taken_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    paper_id: str = Field(foreign_key="paper.id", max_length=40)
    source: str = Field(max_length=40)
    taken_at: datetime
    metrics: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))


# The metrics the default `ranking.weights` read (X's retweets and likes, Discord's
# reactions), each also a column of `signal_gain_day`: a window's sum of them is then a plain
# aggregate over an index, not a JSON read per row. Other metrics are read from `gains`.
GAIN_COLUMNS = ("likes", "retweets", "reactions")


def _gain_column() -> Any:
    return Field(default=0.0, sa_column=Column(Float, nullable=False, server_default=text("0")))


class SignalGainDay(SQLModel, table=True):
    """Per (paper, source, UTC day) with a change: the day's latest snapshot minus the latest
    before that day, per numeric metric (missing = 0, may be negative). Summed over a window's
    days it telescopes to "latest in the window minus latest before it"
    (hotpapers/ranking/trending.py);
    written with the snapshots (hotpapers/signals/rollup.py). Days without change have no row.
    `likes`, `retweets`, `reactions` repeat `gains` (0 when it lacks them): GAIN_COLUMNS."""

    __tablename__ = "signal_gain_day"
    __table_args__ = (
        # Covers trending's window sum: the day range, then each row's pair and columns.
        Index("ix_gain_day_sums", "day", "paper_id", "source", *GAIN_COLUMNS),
    )

    paper_id: str = Field(foreign_key="paper.id", max_length=40, primary_key=True)
    source: str = Field(max_length=40, primary_key=True)
    day: date = Field(primary_key=True)
    gains: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    likes: float = _gain_column()
    retweets: float = _gain_column()
    reactions: float = _gain_column()


class SocialPost(SQLModel, table=True):
    """A post that links a paper, with its counts when last measured (for embedding)."""

    __tablename__ = "social_post"
    __table_args__ = (
        UniqueConstraint("source", "post_id", "paper_id", name="uq_social_post"),
        Index("ix_social_post_paper", "paper_id", "source"),
    )

    id: int | None = Field(default=None, primary_key=True)
    source: str = Field(max_length=40)
    post_id: str = Field(max_length=100)
    paper_id: str = Field(foreign_key="paper.id", max_length=40)
    author_id: str = Field(default="", max_length=100)
    author_handle: str = Field(default="", max_length=100)
    text: str = Field(default="", sa_column=Column(Text, nullable=False))
    url: str = Field(default="", max_length=500)
    created_at: datetime | None = None
    reposts: int = 0
    likes: int = 0
    replies: int = 0
    quotes: int = 0
    is_repost: bool = False  # a repost copy carries the original's counts: never summed
    taken_at: datetime | None = None
    oembed_html: str | None = Field(default=None, sa_column=Column(Text))
    oembed_expires: datetime | None = None


class Spend(SQLModel, table=True):
    """Money spent on a paid API per UTC day (X bills reads and posts), reservations of
    requests in flight included (hotpapers/storage/spend.py). In micro-dollars: whole numbers add up
    exactly where floats drift."""

    service: str = Field(primary_key=True, max_length=40)
    day: date = Field(primary_key=True)
    amount_micros: int = Field(default=0, sa_type=BigInteger)
    units: int = 0


class Tldr(SQLModel, table=True):
    """A one-sentence summary of one version of a paper (its title and abstract) made by an
    OpenAI-compatible model (hotpapers/tldr/): made once per version, then read from here."""

    paper_id: str = Field(primary_key=True, foreign_key="paper.id", max_length=40)
    version: int = Field(primary_key=True)
    text: str = Field(sa_column=Column(Text, nullable=False))
    model: str = Field(max_length=200)
    prompt_tokens: int = 0
    completion_tokens: int = 0
    created_at: datetime | None = None


class GuildSettings(SQLModel, table=True):
    """Per-server choices made with /settings (defaults come from [discord] in the config)."""

    __tablename__ = "guild_settings"

    guild_id: str = Field(primary_key=True, max_length=30)
    timezone: str = Field(default="UTC", max_length=64)
    post_time: str = Field(default="09:00", max_length=5)  # HH:MM in `timezone`
    post_style: str = Field(default="thread", max_length=10)  # thread | forum


class Subscription(SQLModel, table=True):
    """A channel's or a user's (DM) interest in a category, an author or a keyword."""

    __table_args__ = (
        UniqueConstraint("target", "kind", "value", name="uq_subscription"),
        Index("ix_subscription_guild", "guild_id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    target: str = Field(max_length=60)  # "channel:<id>" or "dm:<user id>"
    guild_id: str | None = Field(default=None, max_length=30)  # the server it belongs to
    channel_id: str | None = Field(default=None, max_length=30)
    user_id: str = Field(max_length=30)  # who subscribed (the recipient for DMs)
    kind: str = Field(max_length=10)  # category | author | keyword
    value: str = Field(max_length=200)
    excludes: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    min_score: float = 0.0
    top_n: int = 10
    primary_only: bool = False
    status: str = Field(default="active", max_length=10)  # active | paused
    status_reason: str | None = Field(default=None, max_length=300)
    created_at: datetime | None = None
    # The first 404 of its channel itself (None: none, or it answered since); a second one
    # a day later pauses the subscription.
    gone_since: datetime | None = None


class DeliveryThread(SQLModel, table=True):
    """The header message and thread (or forum post) of one target's digest for one day."""

    __tablename__ = "delivery_thread"

    target: str = Field(primary_key=True, max_length=60)
    listing_date: date = Field(primary_key=True)
    header_message_id: str | None = Field(default=None, max_length=30)
    thread_id: str | None = Field(default=None, max_length=30)
    created_at: datetime | None = None


class Delivery(SQLModel, table=True):
    """The exactly-once ledger: claimed before sending, completed with the message id after."""

    __table_args__ = (
        UniqueConstraint("target", "listing_date", "paper_id", name="uq_delivery"),
        Index("ix_delivery_state", "state", "claimed_at"),
        Index("ix_delivery_paper", "paper_id"),
        Index("ix_delivery_message", "message_id"),  # reactions look messages up by id
    )

    id: int | None = Field(default=None, primary_key=True)
    target: str = Field(max_length=60)
    listing_date: date
    paper_id: str = Field(max_length=40)
    subscription_id: int | None = None
    state: str = Field(default="claimed", max_length=10)  # claimed | sent | failed
    message_id: str | None = Field(default=None, max_length=30)
    channel_id: str | None = Field(default=None, max_length=30)  # where the message lives
    version: int = 1  # the paper version shown, so a v2 edits instead of reposting
    claimed_at: datetime | None = None
    sent_at: datetime | None = None
    error: str | None = Field(default=None, max_length=300)


class Publication(SQLModel, table=True):
    """Once-per-day publications (the X daily post, the Markdown post, the site build).

    Claimed before publishing and completed after, so a restart never publishes a day twice:
    a row in state "sent" means done; "claimed" older than a lease means the process died
    mid-publication and the publisher decides (e.g. X: look for the post before retrying).
    """

    __table_args__ = (UniqueConstraint("kind", "listing_date", name="uq_publication"),)

    id: int | None = Field(default=None, primary_key=True)
    kind: str = Field(max_length=20)  # x | markdown | site
    listing_date: date
    state: str = Field(default="claimed", max_length=10)  # claimed | sent | failed | dry-run
    external_id: str | None = Field(default=None, max_length=100)  # e.g. the first post's id
    detail: str | None = Field(default=None, sa_column=Column(Text))
    claimed_at: datetime | None = None
    done_at: datetime | None = None


class ShownPaper(SQLModel, table=True):
    """A paper one surface showed in one day's output, and its score then: the baseline a
    late riser's growth is measured from, and the memory that shows it in "Rising" once."""

    __tablename__ = "shown_paper"
    __table_args__ = (
        UniqueConstraint("surface", "listing_date", "paper_id", name="uq_shown_paper"),
        Index("ix_shown_paper_paper", "surface", "paper_id", "listing_date"),
    )

    id: int | None = Field(default=None, primary_key=True)
    surface: str = Field(max_length=20)  # post | site | discord
    listing_date: date  # the day whose output showed it (not the paper's own listing)
    paper_id: str = Field(max_length=40)
    section: str = Field(max_length=10)  # main | rising
    score: float
    shown_at: datetime | None = None


class PaperVector(SQLModel, table=True):
    """A paper's content vector (title + abstract) for "similar papers": hotpapers/similar/."""

    __tablename__ = "paper_vector"

    paper_id: str = Field(primary_key=True, foreign_key="paper.id", max_length=40)
    model: str = Field(max_length=40)  # which embedding made it: vectors of two models never mix
    vector: bytes = Field(sa_column=Column(LargeBinary, nullable=False))  # float16, little-endian
    # Copied from the paper so "similar papers since a date" needs no paper row per candidate.
    submitted: datetime | None = None
    # In-process indexes load what was added after what they hold (see similar/_index.py).
    added_at: datetime = Field(index=True)


class JobStatus(SQLModel, table=True):
    """Outcome of each scheduled job's last runs, shared by every process (for /healthz)."""

    __tablename__ = "job_status"

    job: str = Field(primary_key=True, max_length=40)  # collect | signals | publish | x | ...
    last_started_at: datetime | None = None
    last_success_at: datetime | None = None
    last_failure_at: datetime | None = None
    last_error: str | None = Field(default=None, max_length=500)
    last_process: str | None = Field(default=None, max_length=100)


class DeliveryTask(SQLModel, table=True):
    """The work queue of per-target digests: the leader enqueues, every process drains.

    On PostgreSQL workers take rows with `FOR UPDATE SKIP LOCKED`; the per-paper ledger
    (`Delivery`) keeps each message exactly once whoever runs the task.
    """

    __tablename__ = "delivery_task"
    __table_args__ = (
        UniqueConstraint("target", "listing_date", name="uq_delivery_task"),
        Index("ix_delivery_task_state", "state", "available_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    target: str = Field(max_length=60)
    listing_date: date
    state: str = Field(default="queued", max_length=10)  # queued | running | done | failed
    attempts: int = 0
    available_at: datetime | None = None  # not before (retry back-off)
    locked_by: str | None = Field(default=None, max_length=100)
    locked_at: datetime | None = None
    done_at: datetime | None = None
    error: str | None = Field(default=None, max_length=300)


class PaperStar(SQLModel, table=True):
    """A paper one Discord user starred (the ⭐ under /paper): a like /foryou learns from.
    Per-user data: /forget-me deletes it."""

    __tablename__ = "paper_star"

    user_id: str = Field(primary_key=True, max_length=30)
    paper_id: str = Field(primary_key=True, max_length=40)
    starred_at: datetime | None = None


class PaperReaction(SQLModel, table=True):
    """One user's reaction (one emoji) on one of the bot's paper messages: a like /foryou
    learns from. Written from the gateway's add/remove events, so a /forget-me stays final for
    the reactions it deleted. Per-user data: /forget-me deletes it."""

    __tablename__ = "paper_reaction"
    __table_args__ = (Index("ix_paper_reaction_message", "message_id"),)

    user_id: str = Field(primary_key=True, max_length=30)
    message_id: str = Field(primary_key=True, max_length=30)
    emoji: str = Field(primary_key=True, max_length=100)
    paper_id: str = Field(max_length=40)
    reacted_at: datetime | None = None


# The full-text index rides on the paper table: create_all makes it too.
# After paper_category, whose rows the index holds too (create_all makes it after paper).
fulltext.attach_to(PaperCategory.__table__)  # type: ignore[attr-defined]
