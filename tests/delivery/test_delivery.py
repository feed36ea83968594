"""Delivery in the core: planning per subscription, the exactly-once ledger, failures, edits.

The courier here is a small in-memory Discord that records what a user would see; it
implements the Courier protocol (it is not a mock of project code).
"""

from __future__ import annotations

import asyncio
import itertools
import threading
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import Engine, event
from sqlmodel import Session, select

from hotpapers.config import Settings
from hotpapers.delivery import (
    DM_FORBIDDEN_REASON,
    FORBIDDEN_REASON,
    STALE_CLAIM,
    MessageRejected,
    TargetForbidden,
    TargetGone,
    TargetPlan,
    Transient,
    deliver,
    plan,
)
from hotpapers.ranking.scoring import RankedPaper
from hotpapers.storage.db import transaction
from hotpapers.storage.models import (
    Delivery,
    DeliveryThread,
    GuildSettings,
    SocialPost,
    Subscription,
)
from hotpapers.storage.records import PaperRecord
from hotpapers.storage.store import record_announcements, upsert_papers

DAY = date(2026, 11, 20)  # a Friday listing
NEXT_DAY = date(2026, 11, 23)  # the Monday after
EMPTY_DAY = date(2026, 11, 19)  # nothing collected
NOW = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)
LATER = NOW + STALE_CLAIM + timedelta(minutes=1)
CATEGORIES = ["cs.LG", "cs.CV"]


def record(
    arxiv_id: str,
    title: str,
    categories: tuple[str, ...] = ("cs.LG",),
    authors: tuple[str, ...] = ("Ada Lovelace",),
    abstract: str = "",
    version: int = 1,
    announce_type: str | None = None,
) -> PaperRecord:
    return PaperRecord(
        arxiv_id=arxiv_id,
        version=version,
        title=title,
        abstract=abstract or f"We study {title.lower()}.",
        authors=authors,
        categories=categories,
        primary_category=categories[0],
        submitted=datetime(2026, 11, 19, tzinfo=UTC),
        announce_type=announce_type,
    )


# id -> (record, score); ranks follow the scores.
PAPERS = {
    "2611.00101": (record("2611.00101", "Scaling laws again", ("cs.LG", "cs.CV")), 500),
    "2611.00102": (
        record(
            "2611.00102",
            "Seeing in the dark",
            ("cs.CV", "cs.LG"),
            authors=("Philipp Krähenbühl", "Bo Li"),
        ),
        300,
    ),
    "2611.00103": (record("2611.00103", "Diffusion for images", ("cs.CV",)), 200),
    "2611.00104": (
        record("2611.00104", "Policies", abstract="Diffusion policies for robotics."),
        100,
    ),
    "2611.00105": (record("2611.00105", "Nobody read this"), 10),  # under the threshold
}


def add_papers(engine: Engine, day: date, records: list[PaperRecord], scores: list[int]) -> None:
    with transaction(engine) as session:
        upsert_papers(session, records)
        record_announcements(session, day, records, CATEGORIES)
        for item, score in zip(records, scores, strict=True):
            session.add(
                SocialPost(
                    source="x",
                    post_id=f"{item.arxiv_id}-v{item.version}",
                    paper_id=item.arxiv_id,
                    author_id=f"fan-{item.arxiv_id}-{item.version}",
                    likes=score,
                    created_at=datetime(2026, 11, 21, tzinfo=UTC),
                    taken_at=datetime(2026, 11, 22, tzinfo=UTC),
                )
            )


def add_day(engine: Engine) -> None:
    add_papers(engine, DAY, [r for r, _ in PAPERS.values()], [s for _, s in PAPERS.values()])


def add_replacement(engine: Engine, arxiv_id: str = "2611.00101") -> None:
    """`arxiv_id` announced again on NEXT_DAY as its v2, next to one new paper."""
    old, _ = PAPERS[arxiv_id]
    v2 = record(arxiv_id, old.title + " (v2)", old.categories, version=2, announce_type="replace")
    fresh = record("2611.00201", "Monday news", ("cs.LG",))
    with transaction(engine) as session:
        upsert_papers(session, [v2, fresh])
        record_announcements(session, NEXT_DAY, [v2], CATEGORIES)
        record_announcements(session, NEXT_DAY, [fresh], CATEGORIES)
        session.add(SocialPost(source="x", post_id="m", paper_id="2611.00201", likes=80))


def subscribe(engine: Engine, target: str, kind: str, value: str, **extra: object) -> int:
    with transaction(engine) as session:
        guild = None if target.startswith("dm:") else "2000"
        row = Subscription(
            target=target,
            guild_id=guild,
            channel_id=target.split(":")[1] if guild else None,
            user_id="7",
            kind=kind,
            value=value,
            **extra,  # type: ignore[arg-type]
        )
        session.add(row)
        session.flush()
        assert row.id is not None
        return row.id


def ids(target_plan: TargetPlan) -> list[str]:
    return [item.paper.arxiv_id for item in target_plan.papers]


@pytest.fixture
def day(engine: Engine) -> Engine:
    add_day(engine)
    return engine


def make_plan(engine: Engine, listing_date: date = DAY, now: datetime = NOW) -> list[TargetPlan]:
    with Session(engine) as session:
        return plan(session, Settings(), listing_date, now)


# -- the recording courier ---------------------------------------------------------------


class Crash(BaseException):
    """The process dying: not an error delivery may catch."""


@dataclass
class Message:
    id: str
    channel: str
    text: str
    arxiv_id: str | None = None
    edits: list[str] = field(default_factory=list)


@dataclass
class RecordingCourier:
    """A tiny Discord: channels hold messages; targets can be made to fail."""

    channels: dict[str, list[Message]] = field(default_factory=dict)
    failing: dict[str, Exception] = field(default_factory=dict)  # target -> raised on use
    crash_after_sends: int | None = None  # die right after this many papers were posted
    crash_before_send: int | None = None  # die right before posting paper number N (1-based)
    crash_after_header: bool = False  # die right after posting the header, before recording it
    styles: list[str] = field(default_factory=list)
    closings: list[tuple[str, str]] = field(default_factory=list)  # (channel, title) footers
    sends: int = 0
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))

    def _post(self, channel: str, text: str, arxiv_id: str | None = None) -> Message:
        message = Message(str(next(self._ids)), channel, text, arxiv_id)
        self.channels.setdefault(channel, []).append(message)
        return message

    def _check(self, target: str) -> None:
        if target in self.failing:
            raise self.failing[target]

    def where(self, target: str, thread_id: str | None) -> str:
        return thread_id or target

    def papers_in(self, channel: str) -> list[str]:
        return [m.arxiv_id for m in self.channels.get(channel, []) if m.arxiv_id]

    async def start_digest(self, target: str, title: str, style: str) -> tuple[str, str | None]:
        self._check(target)
        self.styles.append(style)
        header = self._post(target, title)
        if style == "dm":
            return header.id, None
        thread = f"thread:{header.id}"
        self.channels[thread] = []
        if self.crash_after_header:
            raise Crash
        return header.id, thread

    async def find_digest(
        self, target: str, title: str, style: str
    ) -> tuple[str, str | None] | None:
        self._check(target)
        for message in self.channels.get(target, []):
            if message.text == title:
                return message.id, None if style == "dm" else f"thread:{message.id}"
        return None

    def headers_in(self, target: str) -> list[str]:
        return [m.text for m in self.channels.get(target, []) if m.arxiv_id is None]

    async def send_paper(
        self, target: str, thread_id: str | None, ranked: RankedPaper
    ) -> tuple[str, str]:
        self._check(target)
        if self.crash_before_send is not None and self.sends + 1 >= self.crash_before_send:
            raise Crash
        channel = self.where(target, thread_id)
        message = self._post(channel, f"#{ranked.rank} {ranked.paper.title}", ranked.paper.arxiv_id)
        self.sends += 1
        if self.crash_after_sends is not None and self.sends >= self.crash_after_sends:
            raise Crash
        return channel, message.id

    async def finish_digest(self, target: str, thread_id: str | None, title: str) -> None:
        self._check(target)
        self.closings.append((self.where(target, thread_id), title))

    async def find_paper_message(
        self, target: str, thread_id: str | None, arxiv_id: str
    ) -> tuple[str, str] | None:
        self._check(target)
        channel = self.where(target, thread_id)
        for message in self.channels.get(channel, []):
            if message.arxiv_id == arxiv_id:
                return channel, message.id
        return None

    async def edit_paper(
        self, channel_id: str, message_id: str, ranked: RankedPaper, note: str
    ) -> None:
        for message in self.channels[channel_id]:
            if message.id == message_id:
                message.edits.append(f"{ranked.paper.title} · {note}")


def thread_of(engine: Engine, target: str, listing_date: date = DAY) -> str | None:
    with Session(engine) as session:
        found = session.get(DeliveryThread, (target, listing_date))
        return found.thread_id if found else None


def subscription_rows(engine: Engine) -> list[Subscription]:
    with Session(engine) as session:
        return list(session.exec(select(Subscription).order_by(Subscription.id)))  # type: ignore[arg-type]


def ledger(engine: Engine) -> list[Delivery]:
    with Session(engine) as session:
        return list(session.exec(select(Delivery).order_by(Delivery.id)))  # type: ignore[arg-type]


# -- planning ------------------------------------------------------------------------------


def test_category_plan_in_rank_order_with_cross_lists(day: Engine) -> None:
    subscribe(day, "channel:1", "category", "cs.LG")
    [target_plan] = make_plan(day)
    # 00102 is a cs.CV paper cross-listed to cs.LG; 00103 is cs.CV only; 00105 is not hot.
    assert ids(target_plan) == ["2611.00101", "2611.00102", "2611.00104"]
    assert [item.rank for item in target_plan.papers] == [1, 2, 4]
    assert target_plan.title == "Hot Papers 2026-11-20 · cs.LG"
    assert target_plan.style == "thread"


def test_primary_only_min_score_and_top_n(day: Engine) -> None:
    subscribe(day, "channel:1", "category", "cs.LG", primary_only=True)
    subscribe(day, "channel:2", "category", "cs.LG", min_score=250)
    subscribe(day, "channel:3", "category", "cs.LG", top_n=1)
    plans = {p.target: ids(p) for p in make_plan(day)}
    assert plans == {
        "channel:1": ["2611.00101", "2611.00104"],
        "channel:2": ["2611.00101", "2611.00102"],
        "channel:3": ["2611.00101"],
    }


def test_author_and_keyword_plans(day: Engine) -> None:
    subscribe(day, "channel:1", "author", "philipp krahenbuhl")
    subscribe(day, "channel:2", "keyword", "DIFFUSION")
    subscribe(day, "channel:3", "keyword", "diffusion", excludes=["Robotics"])
    plans = {p.target: ids(p) for p in make_plan(day)}
    assert plans == {
        "channel:1": ["2611.00102"],
        "channel:2": ["2611.00103", "2611.00104"],
        "channel:3": ["2611.00103"],
    }


WORDS = [
    record(
        "2611.00301",
        "Organ segmentation",
        authors=("Laurens van der Maaten",),
        abstract="We segment organs from around the world.",
    ),
    record(
        "2611.00302",
        "GANs for Łódź street images",
        authors=("Yann Le Cun", "Geoffrey Hinton"),
        abstract="A generative adversarial network, self-supervised.",
    ),
    record(
        "2611.00303",
        "Offline RL",
        authors=("John Martin Jr.",),
        abstract="Reinforcement learning from logged data.",
    ),
]


@pytest.fixture
def words_day(engine: Engine) -> Engine:
    add_papers(engine, DAY, WORDS, [500, 400, 300])
    return engine


@pytest.mark.parametrize(
    ("kind", "value", "excludes", "expected"),
    [
        ("keyword", "GAN", [], ["2611.00302"]),  # not "organ"; "GANs" is the plural
        ("keyword", "rl", [], ["2611.00303"]),  # not "world"
        ("keyword", "organ", ["RL"], ["2611.00301"]),  # "world" does not exclude it either
        ("keyword", "organs", ["gan"], ["2611.00301"]),
        ("keyword", '"generative adversarial"', [], ["2611.00302"]),  # stored quoted: a phrase
        ("keyword", "“adversarial generative”", [], []),  # a phrase is in order
        ("keyword", "self supervised", [], ["2611.00302"]),
        ("keyword", "lodz", [], ["2611.00302"]),
        ("keyword", "ŁÓDŹ", [], ["2611.00302"]),
        ("keyword", "images", ['"street images"'], []),
        ("keyword", "learning", ["offline  rl"], []),
        ("author", "van der Maaten", [], ["2611.00301"]),
        ("author", "Maaten", [], ["2611.00301"]),
        ("author", "LeCun", [], ["2611.00302"]),
        ("author", "Yann LeCun", [], ["2611.00302"]),
        ("author", "Martin", [], ["2611.00303"]),
        ("author", "John Martin", [], ["2611.00303"]),
        ("author", "John Martin Jr", [], ["2611.00303"]),
        ("author", "der", [], []),
        ("author", "Yann", [], []),
    ],
)
def test_keywords_match_whole_words_and_authors_their_surname(
    words_day: Engine, kind: str, value: str, excludes: list[str], expected: list[str]
) -> None:
    subscribe(words_day, "channel:1", kind, value, excludes=excludes)
    plans = make_plan(words_day)
    assert [arxiv_id for p in plans for arxiv_id in ids(p)] == expected


def test_one_target_many_subscriptions_merged_without_duplicates(day: Engine) -> None:
    first = subscribe(day, "channel:1", "category", "cs.CV")
    subscribe(day, "channel:1", "keyword", "diffusion")
    subscribe(day, "channel:1", "author", "Philipp Krähenbühl")
    [target_plan] = make_plan(day)
    assert ids(target_plan) == ["2611.00101", "2611.00102", "2611.00103", "2611.00104"]
    assert target_plan.subscription_for["2611.00101"] == first
    assert target_plan.title == "Hot Papers 2026-11-20 · cs.CV, Philipp Krähenbühl, “diffusion”"


def test_no_plan_without_announcement_papers_or_active_subscription(day: Engine) -> None:
    subscribe(day, "channel:1", "category", "cs.LG")
    subscribe(day, "channel:2", "author", "Nobody At All")
    subscribe(day, "channel:3", "category", "cs.LG", status="paused")
    assert make_plan(day, EMPTY_DAY) == []
    assert [p.target for p in make_plan(day)] == ["channel:1"]


def test_replacements_are_not_new_papers(day: Engine) -> None:
    add_replacement(day)
    subscribe(day, "channel:1", "category", "cs.LG")
    [target_plan] = make_plan(day, NEXT_DAY)
    assert ids(target_plan) == ["2611.00201"]
    assert target_plan.updates == ()  # nothing of it was delivered to this channel


def test_styles_dm_and_forum(day: Engine) -> None:
    subscribe(day, "dm:7", "category", "cs.LG")
    subscribe(day, "channel:1", "category", "cs.LG")
    with transaction(day) as session:
        session.add(GuildSettings(guild_id="2000", post_style="forum"))
    assert {p.target: p.style for p in make_plan(day)} == {"dm:7": "dm", "channel:1": "forum"}


# -- delivering ----------------------------------------------------------------------------


async def test_deliver_posts_header_thread_and_papers_once(day: Engine) -> None:
    subscribe(day, "channel:1", "category", "cs.LG")
    courier = RecordingCourier()
    report = await deliver(day, courier, make_plan(day), DAY, NOW)
    thread = thread_of(day, "channel:1")
    assert thread is not None
    assert [m.text for m in courier.channels["channel:1"]] == ["Hot Papers 2026-11-20 · cs.LG"]
    assert courier.papers_in(thread) == ["2611.00101", "2611.00102", "2611.00104"]
    assert report.sent == 3 and report.targets[0].outcome == "ok"
    assert {row.state for row in ledger(day)} == {"sent"}
    assert all(row.message_id and row.channel_id == thread for row in ledger(day))
    assert courier.closings == [(thread, "Hot Papers 2026-11-20 · cs.LG")]  # after the papers

    again = await deliver(day, courier, make_plan(day, now=LATER), DAY, LATER)
    assert again.sent == 0
    assert courier.papers_in(thread) == ["2611.00101", "2611.00102", "2611.00104"]
    assert len(courier.channels["channel:1"]) == 1  # no second header
    assert len(courier.closings) == 1  # nothing posted, nothing to close


@pytest.mark.parametrize("crash", ["after_send", "before_send"])
async def test_crash_mid_delivery_then_rerun_delivers_each_paper_once(
    day: Engine, crash: str
) -> None:
    subscribe(day, "channel:1", "category", "cs.LG")
    courier = RecordingCourier()
    if crash == "after_send":
        courier.crash_after_sends = 2  # posted the 2nd paper, died before recording it
    else:
        courier.crash_before_send = 2  # claimed the 2nd paper, died before posting it
    with pytest.raises(Crash):
        await deliver(day, courier, make_plan(day), DAY, NOW)
    assert [row.state for row in ledger(day)] == ["sent", "claimed"]
    courier.crash_after_sends = courier.crash_before_send = None

    # A run right away leaves the target alone (the claiming run might still be sending) ...
    busy = await deliver(day, courier, make_plan(day), DAY, NOW + timedelta(seconds=30))
    assert busy.targets[0].outcome == "busy"
    assert [row.state for row in ledger(day)] == ["sent", "claimed"]
    # ... and a later one resolves it.
    report = await deliver(day, courier, make_plan(day, now=LATER), DAY, LATER)
    thread = thread_of(day, "channel:1")
    assert thread is not None
    assert courier.papers_in(thread) == ["2611.00101", "2611.00102", "2611.00104"]
    assert [row.state for row in ledger(day)] == ["sent", "sent", "sent"]
    if crash == "after_send":
        assert report.targets[0].recovered == 1 and report.targets[0].resent == 0
    else:
        assert report.targets[0].recovered == 0 and report.targets[0].resent == 1


async def test_crash_between_header_and_record_then_rerun_reuses_the_header(day: Engine) -> None:
    subscribe(day, "channel:1", "category", "cs.LG")
    courier = RecordingCourier(crash_after_header=True)
    with pytest.raises(Crash):
        await deliver(day, courier, make_plan(day), DAY, NOW)
    assert len(courier.headers_in("channel:1")) == 1 and thread_of(day, "channel:1") is None
    courier.crash_after_header = False

    # Right away the header claim may still be another run's: left alone ...
    busy = await deliver(day, courier, make_plan(day), DAY, NOW + timedelta(seconds=30))
    assert busy.targets[0].outcome == "busy" and busy.sent == 0
    # ... later, the header the dead run posted is found and used: still one header.
    report = await deliver(day, courier, make_plan(day, now=LATER), DAY, LATER)
    assert report.targets[0].outcome == "ok" and report.sent == 3
    assert len(courier.headers_in("channel:1")) == 1
    thread = thread_of(day, "channel:1")
    assert thread == f"thread:{courier.channels['channel:1'][0].id}"
    assert courier.papers_in(thread) == ["2611.00101", "2611.00102", "2611.00104"]


async def test_forbidden_pauses_gone_is_noted_others_still_delivered(day: Engine) -> None:
    for target in ("channel:1", "channel:2", "channel:3"):
        subscribe(day, target, "category", "cs.LG")
    courier = RecordingCourier()
    courier.failing["channel:1"] = TargetForbidden("403 Forbidden: Missing Access")
    courier.failing["channel:2"] = TargetGone("404 Not Found: Unknown Channel")
    report = await deliver(day, courier, make_plan(day), DAY, NOW)
    assert [t.outcome for t in report.targets] == ["paused", "missing", "ok"]
    rows = {row.target: row for row in subscription_rows(day)}
    assert set(rows) == {"channel:1", "channel:2", "channel:3"}
    assert (rows["channel:2"].status, rows["channel:2"].gone_since) == ("active", NOW)
    assert rows["channel:1"].status == "paused"
    assert rows["channel:1"].status_reason == FORBIDDEN_REASON
    assert rows["channel:3"].status == "active"
    thread = thread_of(day, "channel:3")
    assert thread is not None and len(courier.papers_in(thread)) == 3
    # Paused ones get nothing; the missing one is tried again.
    assert [p.target for p in make_plan(day, now=LATER)] == ["channel:2", "channel:3"]


async def test_transient_failure_is_retried_next_run(day: Engine) -> None:
    subscribe(day, "channel:1", "category", "cs.LG")
    subscribe(day, "channel:2", "category", "cs.LG")

    class FlakyCourier(RecordingCourier):
        async def send_paper(
            self, target: str, thread_id: str | None, ranked: RankedPaper
        ) -> tuple[str, str]:
            if target == "channel:1" and ranked.rank == 2:
                raise Transient("503 Service Unavailable")
            return await super().send_paper(target, thread_id, ranked)

    flaky = FlakyCourier()
    report = await deliver(day, flaky, make_plan(day), DAY, NOW)
    assert [t.outcome for t in report.targets] == ["retry", "ok"]
    thread_1, thread_2 = thread_of(day, "channel:1"), thread_of(day, "channel:2")
    assert thread_1 and thread_2
    assert flaky.papers_in(thread_1) == ["2611.00101"]
    assert len(flaky.papers_in(thread_2)) == 3

    healthy = RecordingCourier(channels=flaky.channels, _ids=flaky._ids)
    await deliver(day, healthy, make_plan(day, now=LATER), DAY, LATER)
    assert healthy.papers_in(thread_1) == ["2611.00101", "2611.00102", "2611.00104"]
    assert len(healthy.channels["channel:1"]) == 1  # the same header and thread


async def test_a_refused_message_is_marked_failed_and_the_rest_go_on(day: Engine) -> None:
    subscribe(day, "channel:1", "category", "cs.LG")

    class PickyCourier(RecordingCourier):
        async def send_paper(
            self, target: str, thread_id: str | None, ranked: RankedPaper
        ) -> tuple[str, str]:
            if ranked.rank == 1:
                raise MessageRejected("400 Bad Request: Invalid Form Body")
            return await super().send_paper(target, thread_id, ranked)

    courier = PickyCourier()
    report = await deliver(day, courier, make_plan(day), DAY, NOW)
    assert report.targets[0].failed == 1 and report.sent == 2
    assert [row.state for row in ledger(day)] == ["failed", "sent", "sent"]
    again = await deliver(day, courier, make_plan(day, now=LATER), DAY, LATER)
    assert again.sent == 0


async def test_replacement_edits_the_delivered_message(day: Engine) -> None:
    subscribe(day, "channel:1", "category", "cs.LG")
    courier = RecordingCourier()
    await deliver(day, courier, make_plan(day), DAY, NOW)
    add_replacement(day)
    report = await deliver(day, courier, make_plan(day, NEXT_DAY), NEXT_DAY, NOW)
    assert report.targets[0].edited == 1
    thread = thread_of(day, "channel:1")
    assert thread is not None
    [first] = [m for m in courier.channels[thread] if m.arxiv_id == "2611.00101"]
    assert first.edits == ["Scaling laws again (v2) · updated to v2"]
    next_thread = thread_of(day, "channel:1", NEXT_DAY)
    assert next_thread is not None and courier.papers_in(next_thread) == ["2611.00201"]
    versions = {(row.listing_date, row.paper_id): row.version for row in ledger(day)}
    assert versions[(DAY, "2611.00101")] == 2
    # Editing happens once.
    again = await deliver(day, courier, make_plan(day, NEXT_DAY, LATER), NEXT_DAY, LATER)
    assert again.targets == [] or again.targets[0].edited == 0
    assert first.edits == ["Scaling laws again (v2) · updated to v2"]


async def test_a_dm_that_is_refused_is_paused_with_a_dm_reason(day: Engine) -> None:
    subscribe(day, "dm:7", "category", "cs.LG")
    courier = RecordingCourier(failing={"dm:7": TargetForbidden("50007 cannot send messages")})
    await deliver(day, courier, make_plan(day), DAY, NOW)
    [row] = subscription_rows(day)
    assert (row.status, row.status_reason) == ("paused", DM_FORBIDDEN_REASON)


async def test_dm_papers_go_straight_into_the_dm(day: Engine) -> None:
    subscribe(day, "dm:7", "author", "Philipp Krähenbühl")
    courier = RecordingCourier()
    await deliver(day, courier, make_plan(day), DAY, NOW)
    assert courier.styles == ["dm"]
    assert thread_of(day, "dm:7") is None
    assert courier.papers_in("dm:7") == ["2611.00102"]


# -- many targets at once ------------------------------------------------------------------


def subscribe_many(engine: Engine, count: int) -> list[str]:
    targets = [f"channel:{100 + n}" for n in range(count)]
    for target in targets:
        subscribe(engine, target, "category", "cs.LG")
    return targets


EXPECTED = ["2611.00101", "2611.00102", "2611.00104"]


@dataclass
class GatedCourier(RecordingCourier):
    """A recording courier whose every call yields to the loop; `at_once` targets must be
    starting their digests together before any goes on (a sequential run would hang)."""

    at_once: int = 1
    starting: int = 0
    most_starting: int = 0
    _barrier: asyncio.Barrier | None = None

    async def start_digest(self, target: str, title: str, style: str) -> tuple[str, str | None]:
        self._barrier = self._barrier or asyncio.Barrier(self.at_once)
        self.starting += 1
        self.most_starting = max(self.most_starting, self.starting)
        await self._barrier.wait()
        self.starting -= 1
        return await super().start_digest(target, title, style)

    async def send_paper(
        self, target: str, thread_id: str | None, ranked: RankedPaper
    ) -> tuple[str, str]:
        await asyncio.sleep(0)
        return await super().send_paper(target, thread_id, ranked)


async def test_many_targets_at_once_each_gets_every_paper_once_in_order(day: Engine) -> None:
    targets = subscribe_many(day, 40)
    courier = GatedCourier(at_once=8)
    report = await asyncio.wait_for(deliver(day, courier, make_plan(day), DAY, NOW, workers=8), 30)
    assert courier.most_starting == 8  # eight targets in flight, never more
    assert [t.target for t in report.targets] == targets  # the report keeps the plans' order
    assert {t.outcome for t in report.targets} == {"ok"} and report.sent == 40 * 3
    for target in targets:
        thread = thread_of(day, target)
        assert thread is not None and courier.papers_in(thread) == EXPECTED
        assert len(courier.channels[target]) == 1  # one header
    assert len(ledger(day)) == 120 and {row.state for row in ledger(day)} == {"sent"}


async def test_failing_targets_do_not_disturb_the_others(day: Engine) -> None:
    targets = subscribe_many(day, 24)
    failing: dict[str, Exception] = {
        targets[3]: TargetForbidden("403 Forbidden: Missing Access"),
        targets[9]: TargetGone("404 Not Found: Unknown Channel"),
        targets[15]: Transient("500 Internal Server Error"),
        targets[21]: RuntimeError("a bug"),
    }
    courier = GatedCourier(at_once=1, failing=failing)
    report = await deliver(day, courier, make_plan(day), DAY, NOW, workers=6)
    outcomes = {t.target: t.outcome for t in report.targets}
    assert [outcomes[t] for t in failing] == ["paused", "missing", "retry", "error"]
    for target in set(targets) - set(failing):
        thread = thread_of(day, target)
        assert outcomes[target] == "ok"
        assert thread is not None and courier.papers_in(thread) == EXPECTED
    statuses = {row.target: row.status for row in subscription_rows(day)}
    assert statuses[targets[3]] == "paused" and statuses[targets[9]] == "active"


@dataclass
class HangingCourier(GatedCourier):
    """Hangs on each target's last paper: before posting it on odd channels, after posting
    it (the answer lost) on even ones, as a process does when it is stopped mid-request."""

    targets: int = 0  # how many will hang: `all_hanging` is set when they all do
    hang_at_rank: int = 4
    hanging: int = 0
    all_hanging: asyncio.Event = field(default_factory=asyncio.Event)

    async def send_paper(
        self, target: str, thread_id: str | None, ranked: RankedPaper
    ) -> tuple[str, str]:
        if ranked.rank != self.hang_at_rank:
            return await super().send_paper(target, thread_id, ranked)
        if int(target.split(":")[1]) % 2 == 0:
            await super().send_paper(target, thread_id, ranked)
        self.hanging += 1
        if self.hanging == self.targets:
            self.all_hanging.set()
        await asyncio.Event().wait()  # forever: only cancellation ends it
        raise AssertionError("unreachable")


async def test_cancelled_mid_fan_out_then_rerun_delivers_the_rest_exactly_once(
    day: Engine,
) -> None:
    targets = subscribe_many(day, 12)
    courier = HangingCourier(targets=len(targets))
    task = asyncio.create_task(deliver(day, courier, make_plan(day), DAY, NOW, workers=12))
    await asyncio.wait_for(courier.all_hanging.wait(), 30)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert {row.state for row in ledger(day)} == {"sent", "claimed"}

    rerun = RecordingCourier(channels=courier.channels, _ids=courier._ids)
    report = await deliver(day, rerun, make_plan(day, now=LATER), DAY, LATER, workers=12)
    for target in targets:
        thread = thread_of(day, target)
        assert thread is not None and rerun.papers_in(thread) == EXPECTED
        assert len(rerun.channels[target]) == 1
    assert sum(t.recovered for t in report.targets) == 6  # posted before the stop: found
    assert sum(t.resent for t in report.targets) == 6  # claimed but never posted: sent now
    assert {row.state for row in ledger(day)} == {"sent"}


async def test_database_calls_run_off_the_event_loop(day: Engine) -> None:
    subscribe_many(day, 5)
    plans = make_plan(day)
    threads: set[int] = set()

    def seen(*_args: object) -> None:
        threads.add(threading.get_ident())

    event.listen(day, "before_cursor_execute", seen)
    try:
        await deliver(day, GatedCourier(), plans, DAY, NOW, workers=3)
    finally:
        event.remove(day, "before_cursor_execute", seen)
    assert threads and threading.get_ident() not in threads
