"""/subscribe, /unsubscribe, /subscriptions and /settings through the real discord.py client
logged into the fake Discord."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import Engine

from bot.client import HotpapersBot
from bot.cogs.subscriptions import (
    NEED_MANAGE_CHANNELS,
    NEED_MANAGE_SERVER,
    NOT_YOURS,
    SERVER_ONLY,
    SubscriptionsCog,
)
from hotpapers.config import ArxivSettings, DiscordSettings, Settings
from hotpapers.delivery import subscriptions as core
from hotpapers.fakes.discord import FakeDiscord, InteractionResult
from hotpapers.storage.db import transaction
from hotpapers.storage.records import PaperRecord
from hotpapers.storage.store import upsert_papers
from tests.bot.discord_support import bot_settings, running_bot, running_fake

MANAGE_CHANNELS = 1 << 4
MANAGE_GUILD = 1 << 5
ALICE, BOB, CAROL = 7, 8, 9  # Alice and Carol manage channels, Bob does not
HOSTILE = "@everyone **bold** [link](x)"


@pytest.fixture
async def fake() -> AsyncIterator[FakeDiscord]:
    """The fake Discord, where Alice and Carol manage channels (Carol the server too)."""
    running = FakeDiscord()
    running.member_permissions = {ALICE: MANAGE_CHANNELS, CAROL: MANAGE_CHANNELS | MANAGE_GUILD}
    async with running_fake(running) as started:
        yield started


@pytest.fixture
async def bot(fake: FakeDiscord, engine: Engine) -> AsyncIterator[HotpapersBot]:
    record = PaperRecord(
        arxiv_id="2611.00011",
        version=1,
        title="Attention is still all you need",
        abstract="We study attention.",
        authors=("Philipp Krähenbühl",),
        categories=("cs.LG",),
        primary_category="cs.LG",
        submitted=datetime(2026, 11, 19, tzinfo=UTC),
    )
    with transaction(engine) as session:
        upsert_papers(session, [record])
    async with running_bot(fake, engine) as client:
        yield client


def _private(result: InteractionResult) -> None:
    """An ephemeral reply that can ping nobody."""
    assert result.ephemeral
    assert result.message["allowed_mentions"] == {"parse": []}
    assert "@everyone" not in result.content and "@here" not in result.content


def _set_cooldown(bot: HotpapersBot, rate: int) -> None:
    # The cog is loaded as an extension (a fresh module per bot), so compare by name.
    cog = bot.get_cog("SubscriptionsCog")
    assert type(cog).__name__ == SubscriptionsCog.__name__
    cog.cooldown_rate = rate  # type: ignore[union-attr]


def _buttons(result: InteractionResult) -> list[dict[str, Any]]:
    return [c for row in result.message.get("components") or [] for c in row["components"]]


async def test_a_manager_subscribes_the_channel_and_lists_it(
    bot: HotpapersBot, fake: FakeDiscord, engine: Engine
) -> None:
    suggested = await fake.send_interaction(
        "subscribe", {"kind": "category", "value": "vision"}, focused="value"
    )
    assert "cs.CV" in [c["value"] for c in suggested.choices]
    authors = await fake.send_interaction(
        "subscribe", {"kind": "author", "value": "krah"}, focused="value"
    )
    assert [c["value"] for c in authors.choices] == ["Philipp Krähenbühl"]

    done = await fake.send_interaction(
        "subscribe", {"kind": "category", "value": "cs.lg", "top": 5}, user_id=ALICE
    )
    _private(done)
    assert done.content.startswith("Subscribed <#3000> to `cs.LG` Machine Learning (#")
    [sub] = core.list_subscriptions(engine, guild_id=fake.guild_id)
    assert (sub.target, sub.channel_id, sub.user_id, sub.top_n) == ("channel:3000", "3000", "7", 5)

    listed = await fake.send_interaction("subscriptions", user_id=ALICE)
    _private(listed)
    [embed] = listed.embeds
    assert embed["title"] == "Subscriptions in this server"
    assert f"`#{sub.id}` `cs.LG` Machine Learning → <#3000> · top 5" in embed["description"]
    assert [b["custom_id"] for b in _buttons(listed)] == [f"hp:unsub:{sub.id}"]
    assert fake.rejected == []


@pytest.mark.parametrize("forum", [False, True], ids=["thread", "forum-post"])
async def test_subscribe_in_a_thread_subscribes_its_channel(
    bot: HotpapersBot, fake: FakeDiscord, engine: Engine, forum: bool
) -> None:
    if forum:
        fake.forum_channels.add(3001)
    thread = fake.add_thread(3001, "a discussion")
    done = await fake.send_interaction(
        "subscribe", {"kind": "category", "value": "cs.LG"}, user_id=ALICE, channel_id=thread
    )
    _private(done)
    assert done.content.startswith(
        "Subscribed <#3001> (the channel of this thread: each day's digest opens a thread of "
        "its own there) to `cs.LG` Machine Learning (#"
    )
    [sub] = core.list_subscriptions(engine, guild_id=fake.guild_id)
    assert (sub.target, sub.channel_id, sub.status) == ("channel:3001", "3001", "active")


async def test_a_category_beyond_what_may_be_collected_is_refused(
    fake: FakeDiscord, engine: Engine
) -> None:
    arxiv = ArxivSettings(categories=["cs.LG"], max_subscribed_categories=0)
    settings = bot_settings(fake).model_copy(update={"arxiv": arxiv})
    async with running_bot(fake, engine, settings):
        refused = await fake.send_interaction(
            "subscribe", {"kind": "category", "value": "q-bio.NC"}, user_id=ALICE
        )
        collected = await fake.send_interaction(
            "subscribe", {"kind": "category", "value": "cs.LG"}, user_id=ALICE
        )
    _private(refused)
    assert refused.content.startswith(
        "This bot already collects the most extra categories it may (0) for other "
        "subscriptions, so it cannot follow q-bio.NC; choose one it collects (cs.LG)"
    )
    assert collected.content.startswith("Subscribed <#3000> to `cs.LG`")
    assert [s.value for s in core.list_subscriptions(engine, guild_id=fake.guild_id)] == ["cs.LG"]


async def test_a_member_without_manage_channels_is_refused(
    bot: HotpapersBot, fake: FakeDiscord, engine: Engine
) -> None:
    refused = await fake.send_interaction(
        "subscribe", {"kind": "category", "value": "cs.LG", "where": "channel"}, user_id=BOB
    )
    _private(refused)
    assert refused.content == NEED_MANAGE_CHANNELS
    assert core.list_subscriptions(engine, guild_id=fake.guild_id, user_id=BOB) == []


async def test_dm_subscriptions_need_no_permission(
    bot: HotpapersBot, fake: FakeDiscord, engine: Engine
) -> None:
    from_server = await fake.send_interaction(
        "subscribe", {"kind": "keyword", "value": "diffusion", "where": "dm"}, user_id=BOB
    )
    _private(from_server)
    assert from_server.content.startswith("Subscribed you by direct message to keyword")
    from_dm = await fake.send_interaction(
        "subscribe",
        {"kind": "author", "value": "Philipp Krähenbühl", "min_score": 20.0},
        user_id=BOB,
        in_guild=False,
    )
    _private(from_dm)
    mine = core.list_subscriptions(engine, user_id=BOB)
    assert [(s.target, s.kind) for s in mine] == [("dm:8", "keyword"), ("dm:8", "author")]

    listed = await fake.send_interaction("subscriptions", user_id=BOB, in_guild=False)
    assert listed.embeds[0]["title"] == "Your direct-message subscriptions"
    assert "score ≥ 20" in listed.embeds[0]["description"]
    assert len(_buttons(listed)) == 2
    other = await fake.send_interaction("subscriptions", user_id=ALICE, in_guild=False)
    assert "No subscriptions here yet" in other.content

    # Bob may remove his own DM subscription; an id of someone else's is "no such" for him.
    alice = await fake.send_interaction(
        "subscribe", {"kind": "keyword", "value": "robots", "where": "dm"}, user_id=ALICE
    )
    alice_id = core.list_subscriptions(engine, user_id=ALICE)[0].id
    assert alice.content.endswith(f"/unsubscribe {alice_id}.")
    foreign = await fake.send_interaction("unsubscribe", {"id": str(alice_id)}, user_id=BOB)
    assert "no such subscription here" in foreign.content
    offered = await fake.send_interaction(
        "unsubscribe", {"id": ""}, user_id=BOB, in_guild=False, focused="id"
    )
    assert [c["value"] for c in offered.choices] == [str(s.id) for s in mine]
    removed = await fake.send_interaction(
        "unsubscribe", {"id": f"#{mine[0].id}"}, user_id=BOB, in_guild=False
    )
    _private(removed)
    assert removed.content == f"Removed #{mine[0].id}: keyword “diffusion”."
    assert [s.id for s in core.list_subscriptions(engine, user_id=BOB)] == [mine[1].id]


async def test_remove_buttons_work_only_for_the_invoker(
    bot: HotpapersBot, fake: FakeDiscord, engine: Engine
) -> None:
    for value in ("cs.LG", "cs.CV"):
        await fake.send_interaction("subscribe", {"kind": "category", "value": value})
    first, second = core.list_subscriptions(engine, guild_id=fake.guild_id)
    assert first.id is not None
    core.pause(engine, first.id, "the bot may not post in #papers any more")
    listed = await fake.send_interaction("subscriptions", user_id=ALICE)
    assert "paused: the bot may not post in #papers any more" in listed.embeds[0]["description"]
    message_id = int(listed.message["id"])

    refused = await fake.send_interaction(
        custom_id=f"hp:unsub:{first.id}", message_id=message_id, user_id=CAROL
    )
    _private(refused)
    assert refused.content == NOT_YOURS
    assert len(core.list_subscriptions(engine, guild_id=fake.guild_id)) == 2

    removed = await fake.send_interaction(
        custom_id=f"hp:unsub:{first.id}", message_id=message_id, user_id=ALICE
    )
    assert removed.callback_type == 7  # the list itself was updated
    updated = fake.messages[message_id]
    assert updated["content"].startswith(f"Removed #{first.id}: `cs.LG`")
    assert [c["custom_id"] for row in updated["components"] for c in row["components"]] == [
        f"hp:unsub:{second.id}"
    ]
    assert [s.id for s in core.list_subscriptions(engine, guild_id=fake.guild_id)] == [second.id]

    # Bob sees the server's list but gets no buttons for channel subscriptions.
    bob = await fake.send_interaction("subscriptions", user_id=BOB)
    assert bob.embeds and _buttons(bob) == []
    no = await fake.send_interaction("unsubscribe", {"id": str(second.id)}, user_id=BOB)
    assert "needs the Manage Channels permission" in no.content
    assert fake.rejected == []


async def test_settings(bot: HotpapersBot, fake: FakeDiscord, engine: Engine) -> None:
    refused = await fake.send_interaction("settings", {"timezone": "Europe/Paris"}, user_id=ALICE)
    _private(refused)
    assert refused.content == NEED_MANAGE_SERVER
    in_dm = await fake.send_interaction("settings", user_id=CAROL, in_guild=False)
    assert in_dm.content == SERVER_ONLY

    zones = await fake.send_interaction(
        "settings", {"timezone": "paris"}, user_id=CAROL, focused="timezone"
    )
    assert [c["value"] for c in zones.choices] == ["Europe/Paris"]
    many = await fake.send_interaction("settings", {"timezone": ""}, focused="timezone")
    assert len(many.choices) == 25

    bad = await fake.send_interaction("settings", {"timezone": "Europe/Pariss"}, user_id=CAROL)
    _private(bad)
    assert "“Europe/Pariss” is not a time zone; did you mean Europe/Paris?" in bad.content
    late = await fake.send_interaction("settings", {"post_time": "25:61"}, user_id=CAROL)
    assert "use HH:MM on a 24-hour clock" in late.content

    saved = await fake.send_interaction(
        "settings",
        {"timezone": "europe/paris", "post_time": "8:30", "style": "forum"},
        user_id=CAROL,
    )
    _private(saved)
    assert saved.content == (
        "Saved. This server's digests are posted at 08:30 (Europe/Paris), "
        "each as a forum post in the subscribed channel."
    )
    shown = await fake.send_interaction("settings", user_id=CAROL)
    assert "08:30 (Europe/Paris)" in shown.content
    stored = core.get_guild_settings(engine, fake.guild_id, DiscordSettings())
    assert (stored.timezone, stored.post_time, stored.post_style) == (
        "Europe/Paris",
        "08:30",
        "forum",
    )


async def test_hostile_values_get_a_clear_private_reply(
    bot: HotpapersBot, fake: FakeDiscord, engine: Engine
) -> None:
    cases: list[tuple[dict[str, Any], str]] = [
        ({"kind": "keyword", "value": "x" * 6000}, "6,000 characters long; keep it to 100"),
        ({"kind": "author", "value": "y" * 6000}, "6,000 characters long; keep it to 200"),
        ({"kind": "category", "value": "z" * 6000}, "That is not an arXiv category"),
        ({"kind": "category", "value": HOSTILE}, "Unknown arXiv category"),
        ({"kind": "keyword", "value": "llm", "exclude": HOSTILE}, "Subscribed <#3000>"),
        ({"kind": "keyword", "value": "!!!"}, "has no letters or digits"),
        ({"kind": "category", "value": "cs.LG", "top": 0}, "between 1 and 25"),
    ]
    _set_cooldown(bot, 100)
    for options, expected in cases:
        result = await fake.send_interaction("subscribe", options, user_id=CAROL)
        _private(result)
        assert expected in result.content, (options, result.content)
        assert len(result.content) <= 2000

    kept = await fake.send_interaction("subscribe", {"kind": "keyword", "value": HOSTILE})
    _private(kept)
    assert "\\*\\*bold\\*\\*" in kept.content and "\\[link](x)" in kept.content
    listed = await fake.send_interaction("subscriptions", user_id=CAROL)
    description = listed.embeds[0]["description"]
    assert "@everyone" not in description and "\\*\\*bold\\*\\*" in description
    assert fake.rejected == []


async def test_a_per_user_cooldown_answers_kindly(bot: HotpapersBot, fake: FakeDiscord) -> None:
    _set_cooldown(bot, 2)
    for _ in range(2):
        ok = await fake.send_interaction("subscriptions", user_id=BOB)
        assert "Slow down" not in ok.content
    slowed = await fake.send_interaction("subscriptions", user_id=BOB)
    _private(slowed)
    assert slowed.content.startswith("Slow down a little: you can use /subscriptions 2 times")
    other = await fake.send_interaction("subscriptions", user_id=ALICE)
    assert "Slow down" not in other.content  # per user


async def test_the_commands_publish_within_discord_limits(fake: FakeDiscord) -> None:
    from bot.runner import sync_commands

    settings = Settings(
        discord=DiscordSettings(
            token="fake-token",  # type: ignore[arg-type]
            api_url=fake.api_url,
            gateway_url=fake.gateway_url,
        )
    )
    names = await asyncio.wait_for(sync_commands(settings, guild_id=2000), 10)
    assert {"subscribe", "unsubscribe", "subscriptions", "settings"} <= set(names)
    published = {c["name"]: c for c in fake.guild_commands[2000]}
    assert int(published["settings"]["default_member_permissions"]) == MANAGE_GUILD
    assert published["subscribe"]["default_member_permissions"] is None  # DMs need no right
    options = {o["name"]: o for o in published["subscribe"]["options"]}
    assert options["value"]["autocomplete"] is True
    assert [c["value"] for c in options["where"]["choices"]] == ["channel", "dm"]
