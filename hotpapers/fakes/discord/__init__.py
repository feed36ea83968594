"""A fake Discord (REST API v10 + gateway websocket) on 127.0.0.1, for driving the real discord.py
client in tests without the internet.

It keeps what the bot sent (messages, edits, interaction callbacks, follow-ups, command
definitions), enforces Discord's message and embed limits (400 with Discord's error JSON),
sends rate-limit headers, and can answer 429, 403 or 404 on demand. Channels answer their
message history (newest first, `limit` / `before` / `after`), and channels listed in
`fake.forum_channels` are forums whose threads are posts with a starter message; `in_channel`,
`papers_in` and `thread_of` show what a user would see; `react` adds a user's reaction to a
message (its counts, and the users `GET .../reactions/{emoji}` lists).

    fake = FakeDiscord()
    await fake.start()
    ...point the client at fake.api_url / fake.gateway_url, log in...
    await fake.wait_ready()
    result = await fake.send_interaction("paper", {"id": "2401.00001"})
    result.embeds[0]["title"]
    await fake.close()

Rate limits are off by default (every response carries the same illustrative headers). For
benchmarks, `FakeDiscord(global_rate_limit=50, route_buckets=True)` enforces Discord's global
limit per bot token (429 with `X-RateLimit-Global: true`, `X-RateLimit-Scope: global`) and per-
route buckets (`ROUTE_BUCKETS`: e.g. 5 messages per 5 s per channel) with real `X-RateLimit-*`
headers; `fake.stats` counts requests and 429s by scope, and with `keep_log=True` `fake.log`
keeps (perf_counter time, method, path, status) per request.

Modules: `wire` (Discord's constants, limits and the validation of message, component and
command bodies), `state` (what the fake holds: channels, messages, threads, reactions,
interactions), `gateway` (the websocket: IDENTIFY/RESUME, shards, dispatching events and
interactions), `responses` (Discord's JSON answers, errors and rate limits), `routes`
(interaction callbacks, webhooks, channels and threads), `server` (FakeDiscord: the HTTP server
and the REST router). This package is core code: it must not import discord (it speaks only the
wire protocol).
"""

from __future__ import annotations

from hotpapers.fakes.discord.server import FakeDiscord
from hotpapers.fakes.discord.state import InteractionResult, RateLimitStats
from hotpapers.fakes.discord.wire import API_PREFIX, FakeDiscordError, command_errors, limit_errors

__all__ = [
    "API_PREFIX",
    "FakeDiscord",
    "FakeDiscordError",
    "InteractionResult",
    "RateLimitStats",
    "command_errors",
    "limit_errors",
]
