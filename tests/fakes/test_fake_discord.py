"""The fake Discord itself, driven by a plain discord.py client: login, limits, rate limits,
errors, resume."""

from __future__ import annotations

from collections.abc import AsyncIterator

import aiohttp
import discord
import pytest
import yarl

from hotpapers.fakes.discord import FakeDiscord, FakeDiscordError, command_errors, limit_errors
from tests.bot.discord_support import logged_in, running_fake


@pytest.fixture
async def fake() -> AsyncIterator[FakeDiscord]:
    async with running_fake(FakeDiscord()) as running:
        discord.http.Route.BASE = running.api_url
        discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(running.gateway_url)
        yield running


@pytest.fixture
async def client(fake: FakeDiscord) -> AsyncIterator[discord.Client]:
    intents = discord.Intents(guilds=True)
    running = discord.Client(intents=intents, guild_ready_timeout=0.05, max_ratelimit_timeout=5)
    async with logged_in(running, fake):
        yield running


def _channel(client: discord.Client, channel_id: int = 3000) -> discord.TextChannel:
    channel = client.get_channel(channel_id)
    assert isinstance(channel, discord.TextChannel)
    return channel


async def test_login_ready_and_guild_create(client: discord.Client, fake: FakeDiscord) -> None:
    assert client.user is not None and client.user.bot
    assert client.application_id == fake.application_id
    [guild] = client.guilds
    assert sorted(c.name for c in guild.text_channels) == ["general", "papers"]
    assert fake.identify is not None and fake.identify["token"] == "fake-token"
    assert fake.heartbeats >= 1  # discord.py heartbeats right after HELLO; the fake ACKs


async def test_rest_headers_are_what_discord_py_expects(fake: FakeDiscord) -> None:
    async with aiohttp.ClientSession() as session:
        async with session.get(f"{fake.api_url}/users/@me") as response:
            assert response.headers["Content-Type"] == "application/json"
            for name in ("Limit", "Remaining", "Reset", "Reset-After", "Bucket"):
                assert f"X-RateLimit-{name}" in response.headers
        async with session.get(f"{fake.api_url}/gateway/bot") as response:
            assert (await response.json())["url"] == fake.gateway_url


async def test_messages_are_recorded_and_limits_enforced(
    client: discord.Client, fake: FakeDiscord
) -> None:
    channel = _channel(client)
    sent = await channel.send("hello", embed=discord.Embed(title="t", description="d"))
    assert fake.channel_messages[-1]["content"] == "hello"
    await sent.edit(content="edited")
    assert fake.messages[sent.id]["content"] == "edited"

    with pytest.raises(discord.HTTPException) as too_long:
        await channel.send("x" * 2001)
    assert too_long.value.status == 400 and too_long.value.code == 50035
    big = [discord.Embed(description="d" * 4000), discord.Embed(description="d" * 2001)]
    with pytest.raises(discord.HTTPException, match="6000"):
        await channel.send(embeds=big)
    with pytest.raises(discord.HTTPException):
        await channel.send(embed=discord.Embed(title="t" * 257))
    assert len(fake.rejected) == 3


def test_limit_errors_cover_every_limit() -> None:
    assert limit_errors({"content": "x" * 2000}) == {}
    assert "content" in limit_errors({"content": "x" * 2001})
    assert "embeds" in limit_errors({"embeds": [{"title": "t"}] * 11})
    embed = {"fields": [{"name": "n", "value": "v"}] * 26}
    assert "embeds" in limit_errors({"embeds": [embed]})
    for bad in (
        {"title": "t" * 257},
        {"description": "d" * 4097},
        {"footer": {"text": "f" * 2049}},
        {"author": {"name": "a" * 257}},
        {"fields": [{"name": "n" * 257, "value": "v"}]},
        {"fields": [{"name": "n", "value": "v" * 1025}]},
    ):
        assert "embeds" in limit_errors({"embeds": [bad]}), bad
    assert "choices" in limit_errors({"choices": [{"name": "c", "value": "c"}] * 26})
    assert "choices" in limit_errors({"choices": [{"name": "c" * 101, "value": "c"}]})


def test_command_errors_cover_the_command_limits() -> None:
    good = {"name": "hot", "description": "d", "options": [{"name": "a", "description": "d"}]}
    assert command_errors([good]) == {}
    assert command_errors([{**good, "name": "Hot"}])
    assert command_errors([{**good, "name": "x" * 33}])
    assert command_errors([{**good, "description": "d" * 101}])
    assert command_errors([{**good, "options": [{"name": "o", "description": "d"}] * 26}])
    option = {"name": "o", "description": "d", "autocomplete": True, "choices": [{"name": "c"}]}
    assert command_errors([{**good, "options": [option]}])


@pytest.mark.parametrize("is_global", [False, True])
async def test_429_is_retried_by_discord_py(
    client: discord.Client, fake: FakeDiscord, is_global: bool
) -> None:
    fake.rate_limit_next("/channels/3000/messages", retry_after=0.05, is_global=is_global)
    await _channel(client).send("after a rate limit")
    posts = [r for r in fake.requests if r[0] == "POST" and r[1] == "/channels/3000/messages"]
    assert len(posts) == 2
    assert fake.channel_messages[-1]["content"] == "after a rate limit"


async def test_forbidden_and_missing_channels(client: discord.Client, fake: FakeDiscord) -> None:
    fake.forbidden_channels.add(3000)
    fake.missing_channels.add(3001)
    with pytest.raises(discord.Forbidden):
        await _channel(client, 3000).send("no")
    with pytest.raises(discord.NotFound):
        await _channel(client, 3001).send("no")


async def test_threads_and_dms(client: discord.Client, fake: FakeDiscord) -> None:
    channel = _channel(client)
    message = await channel.send("today's papers")
    thread = await message.create_thread(name="Hot papers 2026-11-20", auto_archive_duration=1440)
    assert thread.id == message.id and fake.threads[-1]["name"] == "Hot papers 2026-11-20"
    with pytest.raises(discord.HTTPException):
        await channel.create_thread(name="x" * 101, type=discord.ChannelType.public_thread)
    dm = await client.http.start_private_message(7)
    assert dm["type"] == 1


async def test_reconnect_resumes_the_session(client: discord.Client, fake: FakeDiscord) -> None:
    await fake.request_reconnect()
    await fake.wait_ready(timeout=10)
    assert fake.resumed == 1
    await _channel(client).send("still here")
    assert fake.channel_messages[-1]["content"] == "still here"


async def test_command_sync_and_unanswered_interactions(
    client: discord.Client, fake: FakeDiscord
) -> None:
    tree = discord.app_commands.CommandTree(client)

    @tree.command(name="ping", description="Answer pong")
    async def ping(interaction: discord.Interaction) -> None:
        await interaction.response.send_message("pong")

    synced = await tree.sync()
    assert [c.name for c in synced] == ["ping"]
    assert fake.global_commands[0]["name"] == "ping"
    answered = await fake.send_interaction("ping")
    assert answered.content == "pong" and not answered.ephemeral
    with pytest.raises(FakeDiscordError, match="did not answer"):
        await fake.send_interaction("unknown", timeout=0.3)


async def test_history_newest_first_in_pages(client: discord.Client, fake: FakeDiscord) -> None:
    channel = _channel(client)
    sent = [await channel.send(content=f"message {n}") for n in range(105)]
    await _channel(client, 3001).send(content="elsewhere")
    newest = [m.content async for m in channel.history(limit=2)]
    assert newest == ["message 104", "message 103"]
    every = [m.id async for m in channel.history(limit=None)]  # two pages: `before` honoured
    assert every == [m.id for m in reversed(sent)]
    oldest = [m.content async for m in channel.history(limit=2, oldest_first=True)]
    assert oldest == ["message 0", "message 1"]
    assert fake.in_channel(3000)[0]["content"] == "message 0"


async def test_forum_post_has_a_starter_message(client: discord.Client, fake: FakeDiscord) -> None:
    fake.forum_channels.add(3001)
    forum = await client.fetch_channel(3001)
    assert isinstance(forum, discord.ForumChannel)
    post = await forum.create_thread(name="Hot Papers", content="Today's papers")
    assert post.thread.parent_id == 3001 and post.message.content == "Today's papers"
    assert fake.thread_of(3001)["name"] == "Hot Papers"
    assert [m["content"] for m in fake.in_channel(post.thread.id)] == ["Today's papers"]
    with pytest.raises(discord.HTTPException) as refused:
        await forum.create_thread(name="Empty", content="")
    assert refused.value.status == 400 and len(fake.threads) == 1
