"""Delivery end to end: the real discord.py client, the DiscordCourier and the fake Discord.

Assertions are about what a user sees in the fake's channels, threads and DMs.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import discord
import pytest
from sqlalchemy import Engine
from sqlmodel import Session, select
from typer.testing import CliRunner

from bot.client import HotpapersBot
from bot.courier import DiscordCourier
from bot.pacer import pacer_for
from bot.reactions import ReactionsCog
from bot.render import footer_content, header_content
from bot.runner import deliver_day
from hotpapers.config import Settings
from hotpapers.delivery import FORBIDDEN_REASON, GONE_REASON, DeliveryReport, deliver, plan
from hotpapers.delivery import subscriptions as core
from hotpapers.fakes.discord import FakeDiscord
from hotpapers.plumbing.metrics import REGISTRY
from hotpapers.ranking.scoring import RankedPaper
from hotpapers.signals.base import Measurement, PostRecord
from hotpapers.signals.store import save_measurements
from hotpapers.storage import migrate
from hotpapers.storage.db import make_engine, transaction
from hotpapers.storage.models import GuildSettings, SignalSnapshot, SocialPost
from tests.bot.discord_support import bot_settings, running_bot, running_fake
from tests.delivery.test_delivery import (
    DAY,
    LATER,
    NEXT_DAY,
    NOW,
    Crash,
    add_day,
    add_papers,
    add_replacement,
    ledger,
    record,
    subscribe,
    subscription_rows,
)

PAPERS = "channel:3000"
FORUM_ID = 3004
TITLE = "Hot Papers 2026-11-20 · cs.LG"
DM_TITLE = "Hot Papers 2026-11-20 · Philipp Krähenbühl"
HOSTILE = "@everyone look <@123> **now**"


def delivery_fake(**options: Any) -> FakeDiscord:
    """The fake Discord with a text channel, one the tests lock, and a forum channel."""
    fake = FakeDiscord(channels={3000: "papers", 3001: "locked", FORUM_ID: "forum"}, **options)
    fake.forum_channels.add(FORUM_ID)
    return fake


@pytest.fixture
async def fake() -> AsyncIterator[FakeDiscord]:
    async with running_fake(delivery_fake()) as running:
        yield running


@pytest.fixture
async def bot(fake: FakeDiscord, engine: Engine) -> AsyncIterator[HotpapersBot]:
    add_day(engine)
    async with running_bot(fake, engine, clock=lambda: NOW) as client:
        yield client


async def run(
    bot: HotpapersBot,
    listing_date: date = DAY,
    now: datetime = NOW,
    courier: DiscordCourier | None = None,
) -> DeliveryReport:
    with Session(bot.engine) as session:
        plans = plan(session, bot.settings, listing_date, now)
    courier = courier or DiscordCourier(bot)
    workers = bot.settings.discord.delivery_workers
    return await deliver(bot.engine, courier, plans, listing_date, now, workers=workers)


def posted(fake: FakeDiscord) -> list[Any]:
    """Bodies the bot POSTed or PATCHed to channels (messages, threads, edits)."""
    return [
        body
        for method, path, body in fake.requests
        if method in {"POST", "PATCH"} and path.startswith("/channels/")
    ]


async def test_header_thread_and_one_message_per_paper_in_rank_order(
    bot: HotpapersBot, fake: FakeDiscord
) -> None:
    subscribe(bot.engine, PAPERS, "category", "cs.LG")
    report = await run(bot)
    assert report.sent == 3
    [header] = fake.in_channel(3000)
    assert header["content"] == header_content(TITLE)
    thread = fake.thread_of(3000)
    assert thread["id"] == header["id"]  # started from the header message
    assert thread["name"] == "Hot Papers 2026-11-20 · cs.LG"
    assert fake.papers_in(thread["id"]) == ["2611.00101", "2611.00102", "2611.00104"]
    first = fake.in_channel(thread["id"])[0]["embeds"][0]
    assert first["title"] == "Scaling laws again"
    assert "#1" in first["footer"]["text"]
    before = len(fake.requests)

    # Again, as the CLI does it (its own REST-only login): nothing new appears.
    again = await deliver_day(bot.settings, bot.engine, DAY, now=LATER)
    assert again.sent == 0 and again.targets[0].outcome == "ok"
    assert len(fake.in_channel(3000)) == 1 and len(fake.threads) == 1
    assert fake.papers_in(thread["id"]) == ["2611.00101", "2611.00102", "2611.00104"]
    assert not [r for r in fake.requests[before:] if r[0] == "POST" and "/channels/" in r[1]]


class DyingCourier(DiscordCourier):
    """Posts two papers, then the process dies before the second is recorded."""

    sent = 0

    async def send_paper(
        self, target: str, thread_id: str | None, ranked: RankedPaper
    ) -> tuple[str, str]:
        found = await super().send_paper(target, thread_id, ranked)
        self.sent += 1
        if self.sent == 2:
            raise Crash
        return found


async def test_crash_mid_delivery_then_new_run_posts_each_paper_once(
    bot: HotpapersBot, fake: FakeDiscord
) -> None:
    subscribe(bot.engine, PAPERS, "category", "cs.LG")
    with pytest.raises(Crash):
        await run(bot, courier=DyingCourier(bot))
    thread = fake.thread_of(3000)
    assert fake.papers_in(thread["id"]) == ["2611.00101", "2611.00102"]

    report = await run(bot, now=LATER)  # the restart
    assert report.targets[0].recovered == 1 and report.sent == 1
    assert fake.papers_in(thread["id"]) == ["2611.00101", "2611.00102", "2611.00104"]
    assert len(fake.threads) == 1 and len(fake.in_channel(3000)) == 1
    assert {row.state for row in ledger(bot.engine)} == {"sent"}


class DiesAfterHeader(DiscordCourier):
    """Posts the header (and opens its thread or forum post), then the process dies before
    recording it."""

    async def start_digest(self, target: str, title: str, style: str) -> tuple[str, str | None]:
        await super().start_digest(target, title, style)
        raise Crash


@pytest.mark.parametrize("forum", [False, True], ids=["thread", "forum"])
async def test_crash_after_the_header_then_restart_posts_no_second_header(
    bot: HotpapersBot, fake: FakeDiscord, forum: bool
) -> None:
    channel = FORUM_ID if forum else 3000
    if forum:
        with transaction(bot.engine) as session:
            session.add(GuildSettings(guild_id="2000", post_style="forum"))
    subscribe(bot.engine, f"channel:{channel}", "category", "cs.LG")
    with pytest.raises(Crash):
        await run(bot, courier=DiesAfterHeader(bot))
    assert len(fake.threads) == 1

    report = await run(bot, now=LATER)  # the restart, once the dead run's claim is stale
    assert report.targets[0].outcome == "ok" and report.sent == 3
    assert len(fake.threads) == 1
    thread = fake.thread_of(channel)
    if forum:
        starter, *_ = fake.in_channel(thread["id"])
        assert starter["content"] == header_content(TITLE)
    else:
        assert [m["content"] for m in fake.in_channel(3000)] == [header_content(TITLE)]
    assert fake.papers_in(thread["id"]) == ["2611.00101", "2611.00102", "2611.00104"]


async def test_header_posted_without_its_thread_gets_the_thread_after_a_crash(
    bot: HotpapersBot, fake: FakeDiscord
) -> None:
    """The run died between posting the header and opening its thread: the thread is opened
    on that header, no second header."""
    subscribe(bot.engine, PAPERS, "category", "cs.LG")

    class DiesBeforeThread(DiscordCourier):
        async def start_digest(self, target: str, title: str, style: str) -> tuple[str, str | None]:
            channel = await self.client.fetch_channel(3000)
            assert isinstance(channel, discord.TextChannel)
            await channel.send(content=header_content(title))  # start_digest posts it first
            raise Crash

    with pytest.raises(Crash):
        await run(bot, courier=DiesBeforeThread(bot))
    [header] = fake.in_channel(3000)
    assert fake.threads == []

    await run(bot, now=LATER)
    assert fake.in_channel(3000) == [header]
    assert fake.thread_of(3000)["id"] == header["id"]
    assert fake.papers_in(header["id"]) == ["2611.00101", "2611.00102", "2611.00104"]


async def test_dm_digest_after_a_crash_has_one_header(bot: HotpapersBot, fake: FakeDiscord) -> None:
    subscribe(bot.engine, "dm:7", "author", "Philipp Krähenbühl")
    with pytest.raises(Crash):
        await run(bot, courier=DiesAfterHeader(bot))
    await run(bot, now=LATER)
    [dm_id] = [cid for cid, name in fake.channels.items() if name == "dm"]
    assert [m["content"] for m in fake.in_channel(dm_id)][:1] == [header_content(DM_TITLE)]
    assert len(fake.in_channel(dm_id)) == 3 and fake.papers_in(dm_id) == ["2611.00102"]


async def test_forbidden_channel_paused_missing_channel_kept_others_delivered(
    bot: HotpapersBot, fake: FakeDiscord
) -> None:
    fake.forbidden_channels.add(3001)
    subscribe(bot.engine, "channel:3001", "category", "cs.LG")
    subscribe(bot.engine, "channel:3999", "category", "cs.LG")  # deleted channel
    subscribe(bot.engine, PAPERS, "category", "cs.LG")
    report = await run(bot)
    assert {t.target: t.outcome for t in report.targets} == {
        "channel:3001": "paused",
        "channel:3999": "missing",
        PAPERS: "ok",
    }
    rows = {row.target: row for row in subscription_rows(bot.engine)}
    assert set(rows) == {"channel:3001", "channel:3999", PAPERS}
    assert (rows["channel:3999"].status, rows["channel:3999"].gone_since) == ("active", NOW)
    assert (rows["channel:3001"].status, rows["channel:3001"].status_reason) == (
        "paused",
        FORBIDDEN_REASON,
    )
    assert fake.in_channel(3001) == []
    assert len(fake.papers_in(fake.thread_of(3000)["id"])) == 3


async def test_thread_deleted_after_a_crash_is_started_again_and_nothing_is_unsubscribed(
    bot: HotpapersBot, fake: FakeDiscord
) -> None:
    subscribe(bot.engine, PAPERS, "category", "cs.LG")
    with pytest.raises(Crash):
        await run(bot, courier=DyingCourier(bot))
    deleted = fake.thread_of(3000)["id"]
    fake.delete_channel(deleted)  # a moderator deletes the day's thread

    report = await run(bot, now=LATER)  # the restart
    assert report.targets[0].outcome == "ok"
    [row] = subscription_rows(bot.engine)
    assert (row.status, row.gone_since) == ("active", None)
    thread = fake.thread_of(3000)
    assert thread["id"] != deleted
    # The first paper went into the deleted thread and was recorded: not sent twice.
    assert fake.papers_in(thread["id"]) == ["2611.00102", "2611.00104"]
    assert [m["content"] for m in fake.in_channel(3000)] == [header_content(TITLE)] * 2
    assert {r.state for r in ledger(bot.engine)} == {"sent"}


@pytest.mark.parametrize("forum", [False, True], ids=["thread", "forum"])
async def test_thread_deleted_after_delivery_is_started_again_for_a_new_subscription(
    bot: HotpapersBot, fake: FakeDiscord, forum: bool
) -> None:
    channel = FORUM_ID if forum else 3000
    if forum:
        with transaction(bot.engine) as session:
            session.add(GuildSettings(guild_id="2000", post_style="forum"))
    subscribe(bot.engine, f"channel:{channel}", "category", "cs.LG")
    await run(bot)
    deleted = fake.thread_of(channel)["id"]
    fake.delete_channel(deleted)  # a moderator deletes the thread (or forum post)
    subscribe(bot.engine, f"channel:{channel}", "keyword", "diffusion")  # later that day

    report = await run(bot, now=LATER)
    assert [t.outcome for t in report.targets] == ["ok"] and report.sent == 1
    thread = fake.thread_of(channel)
    assert thread["id"] != deleted
    assert fake.papers_in(thread["id"]) == ["2611.00103"]  # 2611.00104 was already delivered
    assert [row.status for row in subscription_rows(bot.engine)] == ["active", "active"]
    again = await run(bot, now=LATER + timedelta(minutes=1))
    assert again.sent == 0 and len(fake.threads) == 1


async def test_deleted_channel_is_paused_after_a_second_404_a_day_later_never_deleted(
    bot: HotpapersBot, fake: FakeDiscord
) -> None:
    subscribe(bot.engine, PAPERS, "category", "cs.LG")
    subscribe(bot.engine, PAPERS, "keyword", "diffusion")
    fake.delete_channel(3000)
    first = await run(bot)
    same_day = await run(bot, now=LATER)
    assert [t.outcome for t in first.targets + same_day.targets] == ["missing", "missing"]
    rows = subscription_rows(bot.engine)
    assert [(r.status, r.gone_since) for r in rows] == [("active", NOW), ("active", NOW)]

    next_day = await run(bot, now=NOW + timedelta(days=1))
    assert [t.outcome for t in next_day.targets] == ["paused"]
    rows = subscription_rows(bot.engine)
    assert [(r.status, r.status_reason) for r in rows] == [("paused", GONE_REASON)] * 2
    # Paused, not gone: listed with the reason, and subscribing again resumes it.
    listed = await fake.send_interaction("subscriptions", channel_id=3001)
    assert listed.embeds[0]["description"].count(f"paused: {GONE_REASON}") == 2
    resumed = core.subscribe(
        bot.engine, target=PAPERS, guild_id=2000, channel_id=3000, user_id=7,
        kind="category", value="cs.LG",
    )  # fmt: skip
    assert (resumed.status, resumed.gone_since) == ("active", None)


async def test_a_channel_that_answers_again_after_one_404_is_not_paused(
    bot: HotpapersBot, fake: FakeDiscord
) -> None:
    subscribe(bot.engine, PAPERS, "category", "cs.LG")
    fake.missing_channels.add(3000)
    assert [t.outcome for t in (await run(bot)).targets] == ["missing"]
    fake.missing_channels.clear()
    assert [t.outcome for t in (await run(bot, now=LATER)).targets] == ["ok"]
    [row] = subscription_rows(bot.engine)
    assert (row.status, row.gone_since) == ("active", None)


async def test_replacement_next_day_edits_the_existing_message(
    bot: HotpapersBot, fake: FakeDiscord
) -> None:
    subscribe(bot.engine, PAPERS, "category", "cs.LG")
    await run(bot)
    first_thread = fake.thread_of(3000)["id"]
    [original] = [
        m
        for m in fake.in_channel(first_thread)
        if m["embeds"] and m["embeds"][0]["url"].endswith("2611.00101")
    ]
    add_replacement(bot.engine)
    report = await run(bot, NEXT_DAY)
    assert report.targets[0].edited == 1
    edited = fake.messages[int(original["id"])]
    assert edited["content"] == "Updated to v2"
    assert edited["embeds"][0]["title"] == "Scaling laws again (v2)"
    assert edited["edited_timestamp"] is not None
    # No second message for it anywhere; the new day's thread has only the new paper.
    every = [pid for t in fake.threads for pid in fake.papers_in(t["id"])]
    assert every.count("2611.00101") == 1
    assert fake.papers_in(fake.threads[-1]["id"]) == ["2611.00201"]
    assert {(r.paper_id, r.version) for r in ledger(bot.engine)} >= {("2611.00101", 2)}


async def test_dm_subscription_gets_its_papers_by_dm(bot: HotpapersBot, fake: FakeDiscord) -> None:
    subscribe(bot.engine, "dm:7", "author", "Philipp Krähenbühl")
    await run(bot)
    assert ("POST", "/users/@me/channels", {"recipient_id": 7}) in fake.requests
    [dm_id] = [cid for cid, name in fake.channels.items() if name == "dm"]
    messages = fake.in_channel(dm_id)
    assert messages[0]["content"] == header_content(DM_TITLE)
    assert fake.papers_in(dm_id) == ["2611.00102"]
    assert fake.threads == []


async def test_forum_style_opens_a_forum_post(bot: HotpapersBot, fake: FakeDiscord) -> None:
    with transaction(bot.engine) as session:
        session.add(GuildSettings(guild_id="2000", post_style="forum"))
    subscribe(bot.engine, f"channel:{FORUM_ID}", "category", "cs.LG")
    await run(bot)
    post = fake.thread_of(FORUM_ID)
    starter, *papers, closing = fake.in_channel(post["id"])
    assert starter["content"] == header_content(TITLE)
    assert fake.papers_in(post["id"]) == ["2611.00101", "2611.00102", "2611.00104"]
    assert len(papers) == 3
    assert closing["content"] == footer_content(TITLE)


async def test_hostile_paper_pings_nobody_and_fits_the_limits(
    bot: HotpapersBot, fake: FakeDiscord
) -> None:
    hostile = record(
        "2611.00109",
        HOSTILE,
        authors=("<@123> @here",) * 300,
        abstract=("@here **spam** " * 900).strip(),
    )
    add_papers(bot.engine, DAY, [hostile], [900])
    subscribe(bot.engine, PAPERS, "keyword", "look", excludes=["nothing"])
    subscribe(bot.engine, PAPERS, "keyword", "@everyone")
    await run(bot)
    assert fake.rejected == []
    thread = fake.thread_of(3000)
    message, _closing = fake.in_channel(thread["id"])
    embed = message["embeds"][0]
    assert "@everyone" not in embed["title"] and "@\u200beveryone" in embed["title"]
    assert "@here" not in embed["description"]
    for body in posted(fake):
        if "content" in body or "embeds" in body or "message" in body:
            mentions = body.get("allowed_mentions") or body["message"].get("allowed_mentions")
            assert mentions == {"parse": []}
    assert "@everyone" not in fake.in_channel(3000)[0]["content"]


def _reaction_event(fake: FakeDiscord, message: dict[str, Any], user: int) -> dict[str, Any]:
    return {
        "user_id": str(user),
        "channel_id": message["channel_id"],
        "message_id": message["id"],
        "message_author_id": str(fake.application_id),
        "guild_id": str(fake.guild_id),
        "emoji": {"id": None, "name": "🔥"},
        "type": 0,
        "burst": False,
    }


async def test_reactions_on_a_paper_message_become_a_discord_snapshot(
    bot: HotpapersBot, fake: FakeDiscord
) -> None:
    subscribe(bot.engine, PAPERS, "category", "cs.LG")
    await run(bot)
    thread = fake.thread_of(3000)["id"]
    message = fake.in_channel(thread)[0]
    for user in (7, 8, 9):
        fake.react(message["id"], "👍", user)
    fake.react(message["id"], "🔥", 10)
    await fake.dispatch("MESSAGE_REACTION_ADD", _reaction_event(fake, message, 10))
    snapshot = await _snapshot(bot.engine, "2611.00101")
    assert snapshot.metrics == {"reactions": 4.0, "reactors": 4.0}
    # A reaction on a message that is not a delivered paper records nothing.
    # (The cog is loaded as an extension: its class is not this module's ReactionsCog.)
    cog = bot.get_cog(ReactionsCog.__cog_name__)
    assert cog is not None
    assert await cog.record(int(fake.in_channel(3000)[0]["id"])) is None  # type: ignore[attr-defined]


async def test_one_user_counts_once_per_paper_and_our_own_reactions_never(
    fake: FakeDiscord, engine: Engine
) -> None:
    add_day(engine)
    subscribe(engine, PAPERS, "category", "cs.LG")
    subscribe(engine, "dm:7", "category", "cs.LG")  # the paper's second message, in a DM
    async with running_bot(fake, engine, clock=lambda: NOW) as bot:
        await run(bot)
        thread = fake.thread_of(3000)["id"]
        message = fake.in_channel(thread)[0]
        dm_message = next(
            m
            for m in fake.channel_messages
            if m["channel_id"] != thread
            and m["embeds"]
            and m["embeds"][0]["title"] == "Scaling laws again"
        )
        for emoji in ("👍", "🔥", "🚀"):  # one account, many emojis, on both messages
            fake.react(message["id"], emoji, 7)
            fake.react(dm_message["id"], emoji, 7)
        fake.react(message["id"], "👍", 8)
        fake.react(message["id"], "👍", fake.application_id)  # the bot's own: never counts
        cog = bot.get_cog(ReactionsCog.__cog_name__)
        assert cog is not None
        total = await cog.record(int(message["id"]))  # type: ignore[attr-defined]
    assert total == 2
    snapshot = await _snapshot(engine, "2611.00101")
    assert snapshot.metrics == {"reactions": 2.0, "reactors": 2.0}


async def test_the_per_user_cap_is_configurable(fake: FakeDiscord, engine: Engine) -> None:
    add_day(engine)
    subscribe(engine, PAPERS, "category", "cs.LG")
    settings = bot_settings(fake)
    settings.discord.reactions_per_user = 2
    async with running_bot(fake, engine, settings=settings, clock=lambda: NOW) as bot:
        await run(bot)
        message = fake.in_channel(fake.thread_of(3000)["id"])[0]
        for emoji in ("👍", "🔥", "🚀"):
            fake.react(message["id"], emoji, 7)
        fake.react(message["id"], "👍", 8)
        cog = bot.get_cog(ReactionsCog.__cog_name__)
        assert cog is not None
        assert await cog.record(int(message["id"])) == 3  # type: ignore[attr-defined]


async def _snapshot(engine: Engine, paper_id: str, timeout: float = 5.0) -> SignalSnapshot:
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        with Session(engine) as session:
            query = select(SignalSnapshot).where(
                SignalSnapshot.paper_id == paper_id, SignalSnapshot.source == "discord"
            )
            found = session.exec(query).first()
        if found is not None:
            return found
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"no discord snapshot for {paper_id}")
        await asyncio.sleep(0.05)


async def test_cli_deliver_posts_the_day(
    fake: FakeDiscord, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from bot.cli import app

    url = f"sqlite:///{tmp_path / 'cli.db'}"
    migrate.upgrade(url)
    engine = make_engine(url)
    add_day(engine)
    subscribe(engine, PAPERS, "category", "cs.LG")
    engine.dispose()
    monkeypatch.chdir(tmp_path)
    for name in ("HOTPAPERS_CONFIG", "HOTPAPERS_SECRETS_FILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HOTPAPERS_DISCORD__TOKEN", "fake-token")
    monkeypatch.setenv("HOTPAPERS_DISCORD__API_URL", fake.api_url)
    monkeypatch.setenv("HOTPAPERS_DISCORD__GATEWAY_URL", fake.gateway_url)
    monkeypatch.setenv("HOTPAPERS_DATABASE__URL", url)
    runner = CliRunner()
    result = await asyncio.to_thread(runner.invoke, app, ["deliver", "--date", "2026-11-20"])
    assert result.exit_code == 0, result.output
    assert "2026-11-20 channel:3000: ok, 3 sent" in result.output
    assert fake.papers_in(fake.thread_of(3000)["id"]) == ["2611.00101", "2611.00102", "2611.00104"]
    again = await asyncio.to_thread(runner.invoke, app, ["deliver", "--date", "2026-11-20"])
    assert "0 sent" in again.output and len(fake.threads) == 1


async def test_thread_creation_refused_leaves_no_stray_header(
    bot: HotpapersBot, fake: FakeDiscord
) -> None:
    """Without Create Public Threads: the header is taken back and the channel is paused."""
    fake.thread_forbidden_channels.add(3001)
    subscribe(bot.engine, "channel:3001", "category", "cs.LG")
    report = await run(bot)
    assert [t.outcome for t in report.targets] == ["paused"]
    assert fake.in_channel(3001) == []
    fake.thread_forbidden_channels.clear()
    again = await run(bot)
    assert [t.outcome for t in again.targets] == []  # paused until someone resumes it


# -- fan-out: many channels at once, under a tight global limit ------------------------------

CROWD = [4000 + n for n in range(16)]
CROWD_LIMIT = 30  # the fake's global limit, requests/s per bot
EXPECTED = ["2611.00101", "2611.00102", "2611.00104"]


@pytest.fixture
async def crowd(engine: Engine) -> AsyncIterator[tuple[FakeDiscord, HotpapersBot]]:
    """16 subscribed channels; the fake enforces a global limit of 30/s and per-route buckets;
    the bot paces itself at 25/s with 16 deliveries in flight."""
    channels = {channel: f"papers-{channel}" for channel in CROWD}
    fake = FakeDiscord(channels=channels, global_rate_limit=CROWD_LIMIT, route_buckets=True)
    add_day(engine)
    for channel in CROWD:
        subscribe(engine, f"channel:{channel}", "category", "cs.LG")
    async with running_fake(fake):
        settings = bot_settings(fake)
        pace = {"max_requests_per_second": 25.0, "delivery_workers": len(CROWD)}
        settings = Settings(discord=settings.discord.model_copy(update=pace))
        async with running_bot(fake, engine, settings, clock=lambda: NOW) as client:
            yield fake, client


def assert_delivered_once(fake: FakeDiscord, channel: int) -> None:
    """One header, one thread, the papers once each in rank order."""
    assert len(fake.in_channel(channel)) == 1
    assert fake.papers_in(fake.thread_of(channel)["id"]) == EXPECTED


async def test_fan_out_is_paced_under_the_global_limit_and_failures_stay_apart(
    crowd: tuple[FakeDiscord, HotpapersBot],
) -> None:
    fake, bot = crowd
    forbidden, missing, throttled = CROWD[3], CROWD[7], CROWD[11]
    fake.forbidden_channels.add(forbidden)
    fake.missing_channels.add(missing)
    fake.rate_limit_next(f"/channels/{throttled}/messages", retry_after=120)  # > 60 s: give up
    pacer = pacer_for(bot)
    paced_before, refused_before = pacer.requests, pacer.failed
    requests_before, errors_before = discord_requests()
    report = await run(bot)
    outcomes = {t.target: t.outcome for t in report.targets}
    assert outcomes.pop(f"channel:{forbidden}") == "paused"
    assert outcomes.pop(f"channel:{missing}") == "missing"
    assert outcomes.pop(f"channel:{throttled}") == "retry"
    assert set(outcomes.values()) == {"ok"} and report.sent == 13 * 3
    for channel in set(CROWD) - {forbidden, missing, throttled}:
        assert_delivered_once(fake, channel)
    assert fake.in_channel(throttled) == []
    # 16 deliveries at once never tripped the global limit: the pacer kept them under it.
    assert fake.stats.global_429 == 0 and fake.stats.route_429 == 0
    assert pacer.global_429 == 0 and pacer.requests - paced_before >= 13 * 5
    # Each request is counted for /metrics; the 403, 404 and 429 as failed.
    requests_after, errors_after = discord_requests()
    assert requests_after - requests_before == pacer.requests - paced_before
    assert errors_after - errors_before == pacer.failed - refused_before >= 3


def discord_requests() -> tuple[float, float]:
    """The process's Prometheus counters of Discord requests and failed ones."""
    labels = {"service": "discord"}
    requests = REGISTRY.get_sample_value("hotpapers_api_requests_total", labels) or 0.0
    errors = REGISTRY.get_sample_value("hotpapers_api_errors_total", labels) or 0.0
    return requests, errors


class HangingCourier(DiscordCourier):
    """Hangs on each channel's last paper: before posting it (odd channels) or after Discord
    took it (even channels), as a bot stopped mid-request does."""

    def __init__(self, bot: HotpapersBot, targets: int) -> None:
        super().__init__(bot)
        self.targets = targets
        self.hanging = 0
        self.all_hanging = asyncio.Event()

    async def send_paper(
        self, target: str, thread_id: str | None, ranked: RankedPaper
    ) -> tuple[str, str]:
        if ranked.paper.arxiv_id != EXPECTED[-1]:
            return await super().send_paper(target, thread_id, ranked)
        if int(target.split(":")[1]) % 2 == 0:
            await super().send_paper(target, thread_id, ranked)
        self.hanging += 1
        if self.hanging == self.targets:
            self.all_hanging.set()
        await asyncio.Event().wait()  # until cancelled
        raise AssertionError("unreachable")


async def test_fan_out_cancelled_midway_then_rerun_posts_the_rest_exactly_once(
    crowd: tuple[FakeDiscord, HotpapersBot],
) -> None:
    fake, bot = crowd
    courier = HangingCourier(bot, len(CROWD))
    task = asyncio.create_task(run(bot, courier=courier))
    await asyncio.wait_for(courier.all_hanging.wait(), 30)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert {row.state for row in ledger(bot.engine)} == {"sent", "claimed"}

    report = await run(bot, now=LATER)  # the restart
    for channel in CROWD:
        assert_delivered_once(fake, channel)
    assert sum(t.recovered for t in report.targets) == 8  # found in the thread's history
    assert sum(t.resent for t in report.targets) == 8
    assert {row.state for row in ledger(bot.engine)} == {"sent"}
    assert fake.stats.global_429 == 0


def _likes(engine: Engine, paper_id: str, likes: int) -> None:
    with transaction(engine) as session:
        post = session.exec(select(SocialPost).where(SocialPost.paper_id == paper_id)).one()
        post.likes = likes
        session.add(post)


async def test_late_risers_follow_the_days_papers_once(
    bot: HotpapersBot, fake: FakeDiscord
) -> None:
    subscribe(bot.engine, PAPERS, "category", "cs.LG")
    subscribe(bot.engine, "dm:7", "category", "cs.CV")
    await run(bot)  # DAY: 00101 (500), 00102 (300), 00104 (100); 00105 had 10 likes
    _likes(bot.engine, "2611.00105", 400)  # nobody cared on its day; now people do
    _likes(bot.engine, "2611.00102", 320)  # shown at 300: grew 20, not enough
    add_replacement(bot.engine)  # NEXT_DAY: 00201 (80 likes) and 00101's v2
    report = await run(bot, NEXT_DAY, LATER)
    assert report.sent == 2
    thread, day_two = (t["id"] for t in fake.threads if t["parent_id"] == "3000")
    assert fake.papers_in(day_two) == ["2611.00201", "2611.00105"]  # the day's own first
    riser = fake.in_channel(day_two)[-2]["embeds"][0]  # the closing message last
    assert riser["footer"]["text"] == "arXiv:2611.00105 · rising from earlier days #1"
    fields = {f["name"]: f["value"] for f in riser["fields"]}
    assert fields["Rising from earlier days"] == "Listed 2026-11-20 · up 400 since last shown"
    # The cs.CV DM gets no cs.LG riser (nor a digest: nothing new in cs.CV).
    assert all(
        "2611.00105" not in str(m["embeds"])
        for m in fake.channel_messages
        if m["channel_id"] not in {thread, day_two}
    )

    again = await run(bot, NEXT_DAY, LATER)  # a re-run posts nothing more
    assert again.sent == 0
    assert fake.papers_in(day_two) == ["2611.00201", "2611.00105"]


async def test_stored_hn_and_hf_signals_become_link_buttons(
    bot: HotpapersBot, fake: FakeDiscord
) -> None:
    """The HN story and the HF page (with its repository) measured for a paper come back from
    the database as its buttons; a paper with X posts alone gets abs, PDF and HTML only."""
    taken = datetime(2026, 11, 22, tzinfo=UTC)
    story = PostRecord(
        "hn", "4242", "2611.00101", "pg", url="https://news.ycombinator.com/item?id=4242", likes=9
    )
    page = PostRecord(
        "hf",
        "2611.00101",
        "2611.00101",
        "",
        text="Scaling laws again\nhttps://github.com/someone/scaling",
        url="https://huggingface.co/papers/2611.00101",
        likes=3,
    )
    with transaction(bot.engine) as session:
        save_measurements(
            session,
            [
                Measurement("2611.00101", "hn", taken, {"points": 9.0, "stories": 1.0}, [story]),
                Measurement("2611.00101", "hf", taken, {"upvotes": 3.0}, [page]),
            ],
        )
    subscribe(bot.engine, PAPERS, "category", "cs.LG")
    await run(bot)
    assert fake.rejected == []
    thread = fake.thread_of(3000)["id"]
    buttons = {
        m["embeds"][0]["url"].rsplit("/", 1)[1]: {
            b["label"]: b["url"] for row in m["components"] for b in row["components"]
        }
        for m in fake.in_channel(thread)
        if m["embeds"]
    }
    assert buttons["2611.00101"] == {
        "abs": "https://arxiv.org/abs/2611.00101",
        "PDF": "https://arxiv.org/pdf/2611.00101",
        "HTML": "https://arxiv.org/html/2611.00101",
        "Code": "https://github.com/someone/scaling",
        "Hacker News": "https://news.ycombinator.com/item?id=4242",
        "Hugging Face": "https://huggingface.co/papers/2611.00101",
    }
    assert list(buttons["2611.00102"]) == ["abs", "PDF", "HTML"]
    first = next(m for m in fake.in_channel(thread) if m["embeds"])
    score = next(f["value"] for f in first["embeds"][0]["fields"] if f["name"] == "Score")
    assert " · X 500 · HN 9 · HF 3" in score
