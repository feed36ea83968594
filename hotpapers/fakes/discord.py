"""A fake Discord (REST API v10 + gateway websocket) on 127.0.0.1, for driving the real
discord.py client in tests without the internet.

It keeps what the bot sent (messages, edits, interaction callbacks, follow-ups, command
definitions), enforces Discord's message and embed limits (400 with Discord's error JSON),
sends rate-limit headers, and can answer 429, 403 or 404 on demand. Channels answer their
message history (newest first, `limit` / `before` / `after`), and channels listed in
`fake.forum_channels` are forums whose threads are posts with a starter message;
`in_channel`, `papers_in` and `thread_of` show what a user would see; `react` adds a user's
reaction to a message (its counts, and the users `GET .../reactions/{emoji}` lists).

    fake = FakeDiscord()
    await fake.start()
    ...point the client at fake.api_url / fake.gateway_url, log in...
    await fake.wait_ready()
    result = await fake.send_interaction("paper", {"id": "2401.00001"})
    result.embeds[0]["title"]
    await fake.close()

Rate limits are off by default (every response carries the same illustrative headers). For
benchmarks, `FakeDiscord(global_rate_limit=50, route_buckets=True)` enforces Discord's global
limit per bot token (429 with `X-RateLimit-Global: true`, `X-RateLimit-Scope: global`) and
per-route buckets (`ROUTE_BUCKETS`: e.g. 5 messages per 5 s per channel) with real
`X-RateLimit-*` headers; `fake.stats` counts requests and 429s by scope, and with
`keep_log=True` `fake.log` keeps (perf_counter time, method, path, status) per request.

This module is core code: it must not import discord (it speaks only the wire protocol).
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import email.parser
import email.policy
import hashlib
import itertools
import json
import math
import re
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from aiohttp import WSMsgType, web

API_PREFIX = "/api/v10"
EPHEMERAL = 1 << 6

# Interaction and callback types (Discord's numbers).
APPLICATION_COMMAND = 2
MESSAGE_COMPONENT = 3
AUTOCOMPLETE = 4
CHANNEL_MESSAGE = 4
DEFERRED_CHANNEL_MESSAGE = 5
DEFERRED_UPDATE_MESSAGE = 6
UPDATE_MESSAGE = 7
AUTOCOMPLETE_RESULT = 8

LIMITS = {
    "content": 2000,
    "embeds": 10,
    "title": 256,
    "description": 4096,
    "fields": 25,
    "field.name": 256,
    "field.value": 1024,
    "footer.text": 2048,
    "author.name": 256,
    "embed_total": 6000,
    "choices": 25,
    "choice.name": 100,
    "custom_id": 100,
    "label": 80,
    "rows": 5,
    "row.components": 5,
    "button.url": 512,
}
LINK_STYLE = 5  # a button that opens its `url`: it has no custom_id and sends no interaction


# Enforced per-route buckets when `route_buckets=True`: (method, path pattern, limit, seconds).
# The pattern's first group is the major parameter (a bucket per channel); the rest of the
# routes share one generous bucket per path. Interaction callbacks and webhook follow-ups
# (interaction tokens) are not bound to the global limit, as on Discord.
ROUTE_BUCKETS: list[tuple[str, re.Pattern[str], int, float]] = [
    ("POST", re.compile(r"^/channels/(\d+)/messages$"), 5, 5.0),
    ("PATCH", re.compile(r"^/channels/(\d+)/messages/\d+$"), 5, 5.0),
    ("DELETE", re.compile(r"^/channels/(\d+)/messages/\d+$"), 5, 1.0),
    ("POST", re.compile(r"^/channels/(\d+)/messages/\d+/threads$"), 5, 5.0),
    ("POST", re.compile(r"^/channels/(\d+)/threads$"), 5, 5.0),
    ("GET", re.compile(r"^/channels/(\d+)/messages$"), 5, 1.0),
    ("GET", re.compile(r"^/channels/(\d+)$"), 5, 1.0),
]
DEFAULT_BUCKET = (50, 1.0)
_GLOBAL_EXEMPT = re.compile(r"^/(interactions/\d+/[^/]+/callback|webhooks/\d+/[^/]+)")


@dataclass
class _Bucket:
    """A fixed window: `limit` requests from the first one until `reset` (monotonic)."""

    limit: int
    per: float
    used: int = 0
    reset: float = 0.0


@dataclass
class RateLimitStats:
    """What the enforced limits did: requests seen, 429s answered by scope."""

    requests: int = 0
    global_429: int = 0
    route_429: int = 0
    first: float | None = None  # monotonic time of the first and last counted request
    last: float | None = None


class FakeDiscordError(Exception):
    """Raised to a test when the fake cannot do what the test asked (e.g. no answer in time)."""


def _option_type(value: object) -> int:
    """Discord's option type for a Python value: boolean 5, integer 4, number 10, string 3."""
    if isinstance(value, bool):
        return 5
    if isinstance(value, int):
        return 4
    if isinstance(value, float):
        return 10
    return 3


def _now_iso() -> str:
    return datetime.now(UTC).isoformat()


def _user(user_id: int, name: str, *, bot: bool = False) -> dict[str, Any]:
    return {
        "id": str(user_id),
        "username": name,
        "discriminator": "0",
        "global_name": name,
        "avatar": None,
        "bot": bot,
    }


def limit_errors(payload: dict[str, Any]) -> dict[str, Any]:
    """Discord's `errors` tree for every limit `payload` (a message body) breaks; {} if none."""
    errors: dict[str, Any] = {}

    def too_long(limit: int, got: int) -> dict[str, Any]:
        return {
            "_errors": [
                {
                    "code": "BASE_TYPE_MAX_LENGTH",
                    "message": f"Must be {limit} or fewer in length. (got {got})",
                }
            ]
        }

    content = payload.get("content")
    if isinstance(content, str) and len(content) > LIMITS["content"]:
        errors["content"] = too_long(LIMITS["content"], len(content))
    embeds = payload.get("embeds") or []
    if len(embeds) > LIMITS["embeds"]:
        errors["embeds"] = too_long(LIMITS["embeds"], len(embeds))
    total = 0
    for index, embed in enumerate(embeds):
        found: dict[str, Any] = {}
        for key in ("title", "description"):
            text = embed.get(key) or ""
            total += len(text)
            if len(text) > LIMITS[key]:
                found[key] = too_long(LIMITS[key], len(text))
        for key, sub in (("footer", "text"), ("author", "name")):
            text = (embed.get(key) or {}).get(sub) or ""
            total += len(text)
            if len(text) > LIMITS[f"{key}.{sub}"]:
                found[key] = {sub: too_long(LIMITS[f"{key}.{sub}"], len(text))}
        fields = embed.get("fields") or []
        if len(fields) > LIMITS["fields"]:
            found["fields"] = too_long(LIMITS["fields"], len(fields))
        for number, item in enumerate(fields):
            name, value = item.get("name") or "", item.get("value") or ""
            total += len(name) + len(value)
            bad: dict[str, Any] = {}
            if not name.strip() or len(name) > LIMITS["field.name"]:
                bad["name"] = too_long(LIMITS["field.name"], len(name))
            if not value.strip() or len(value) > LIMITS["field.value"]:
                bad["value"] = too_long(LIMITS["field.value"], len(value))
            if bad:
                found.setdefault("fields", {})[str(number)] = bad
        if found:
            errors.setdefault("embeds", {})[str(index)] = found
    if total > LIMITS["embed_total"]:
        errors.setdefault("embeds", {})["_errors"] = [
            {
                "code": "MAX_EMBED_SIZE_EXCEEDED",
                "message": f"Embed size exceeds maximum size of 6000 (got {total})",
            }
        ]
    errors.update(_component_errors(payload.get("components") or []))
    choices = payload.get("choices")
    if choices is not None:
        if len(choices) > LIMITS["choices"]:
            errors["choices"] = too_long(LIMITS["choices"], len(choices))
        for index, choice in enumerate(choices):
            name = str(choice.get("name", ""))
            if not 1 <= len(name) <= LIMITS["choice.name"]:
                errors.setdefault("choices", {})[str(index)] = too_long(
                    LIMITS["choice.name"], len(name)
                )
    return errors


def _component_errors(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """Discord's errors for message components: at most 5 action rows of at most 5 buttons,
    labels and custom ids within their limits, a link button with an http(s) URL and no
    custom id, any other button with a custom id."""
    found: dict[str, Any] = {}

    def bad(where: str, message: str) -> None:
        found.setdefault("components", {})[where] = {
            "_errors": [{"code": "COMPONENT_INVALID", "message": message}]
        }

    if len(rows) > LIMITS["rows"]:
        bad("_root", f"at most {LIMITS['rows']} action rows")
    for row_index, row in enumerate(rows):
        items = row.get("components") or []
        if row.get("type") != 1 or not 1 <= len(items) <= LIMITS["row.components"]:
            bad(str(row_index), "an action row holds 1 to 5 buttons")
        for index, item in enumerate(items):
            where = f"{row_index}.components.{index}"
            custom_id, url = item.get("custom_id") or "", item.get("url") or ""
            if (
                len(custom_id) > LIMITS["custom_id"]
                or len(item.get("label") or "") > LIMITS["label"]
            ):
                bad(where, "label or custom_id too long")
            elif item.get("type") == 2 and item.get("style") == LINK_STYLE:
                web = url.startswith(("https://", "http://"))
                if custom_id or not web or len(url) > LIMITS["button.url"]:
                    bad(where, "a link button needs an http(s) url (max 512) and no custom_id")
            elif item.get("type") == 2 and not custom_id:
                bad(where, "a button needs a custom_id")
    return found


_COMMAND_NAME = re.compile(r"^[-_'\w]{1,32}$")


def command_errors(commands: list[dict[str, Any]]) -> dict[str, Any]:
    """Discord's errors for a bulk overwrite of slash commands breaking the documented limits."""
    errors: dict[str, Any] = {}

    def bad(where: str, message: str) -> None:
        errors[where] = {"_errors": [{"code": "INVALID", "message": message}]}

    if len(commands) > 100:
        bad("_root", "at most 100 commands")
    for index, command in enumerate(commands):
        name = str(command.get("name", ""))
        if not _COMMAND_NAME.match(name) or name != name.lower():
            bad(f"{index}.name", f"invalid command name {name!r}")
        if command.get("type", 1) == 1 and not 1 <= len(command.get("description", "")) <= 100:
            bad(f"{index}.description", "description must be 1-100 characters")
        options = command.get("options") or []
        if len(options) > 25:
            bad(f"{index}.options", "at most 25 options")
        size = len(name) + len(command.get("description", ""))
        for number, option in enumerate(options):
            where = f"{index}.options.{number}"
            option_name = str(option.get("name", ""))
            if not _COMMAND_NAME.match(option_name) or option_name != option_name.lower():
                bad(f"{where}.name", f"invalid option name {option_name!r}")
            if not 1 <= len(option.get("description", "")) <= 100:
                bad(f"{where}.description", "description must be 1-100 characters")
            choices = option.get("choices") or []
            if len(choices) > 25:
                bad(f"{where}.choices", "at most 25 choices")
            if choices and option.get("autocomplete"):
                bad(f"{where}.autocomplete", "autocomplete cannot be combined with choices")
            size += len(option_name) + len(option.get("description", ""))
            size += sum(len(str(c.get("name", ""))) + len(str(c.get("value", ""))) for c in choices)
        if size > 8000:
            bad(f"{index}", "a command's names, descriptions and choices exceed 8000 characters")
    return errors


@dataclass
class InteractionResult:
    """What the bot answered one interaction: the callback, then edits and follow-ups."""

    interaction_id: int
    token: str
    user_id: int
    channel_id: int = 0
    clicked_message_id: int | None = None
    interaction_type: int = APPLICATION_COMMAND
    callback_type: int | None = None
    callback_data: dict[str, Any] = field(default_factory=dict)
    original: dict[str, Any] | None = None  # the message the callback created or updated
    edits: list[dict[str, Any]] = field(default_factory=list)
    followups: list[dict[str, Any]] = field(default_factory=list)
    rejected: list[dict[str, Any]] = field(default_factory=list)  # bodies refused with 400
    deleted: list[dict[str, Any]] = field(default_factory=list)  # messages the bot deleted
    changed: asyncio.Event = field(default_factory=asyncio.Event)
    dispatched_at: float | None = None  # perf_counter when INTERACTION_CREATE went out
    callback_at: float | None = None  # perf_counter when the callback request arrived
    settled_at: float | None = None  # perf_counter when the answer became visible

    @property
    def deferred(self) -> bool:
        return self.callback_type in (DEFERRED_CHANNEL_MESSAGE, DEFERRED_UPDATE_MESSAGE)

    @property
    def settled(self) -> bool:
        """Answered with something a user can see (a deferral alone is not an answer)."""
        if self.callback_type is None:
            return False
        return not self.deferred or bool(self.edits or self.followups)

    @property
    def message(self) -> dict[str, Any]:
        """The last message the user sees for this interaction (follow-up, else original)."""
        if self.followups:
            return self.followups[-1]
        return self.original or {}

    @property
    def content(self) -> str:
        return str(self.message.get("content") or "")

    @property
    def embeds(self) -> list[dict[str, Any]]:
        return list(self.message.get("embeds") or [])

    @property
    def ephemeral(self) -> bool:
        return bool(int(self.message.get("flags") or 0) & EPHEMERAL)

    @property
    def choices(self) -> list[dict[str, Any]]:
        return list(self.callback_data.get("choices") or [])


class FakeDiscord:
    """Discord's REST API and gateway, in memory, on 127.0.0.1."""

    def __init__(
        self,
        *,
        application_id: int = 1000,
        guild_id: int = 2000,
        channels: dict[int, str] | None = None,
        heartbeat_interval_ms: int = 45_000,
        global_rate_limit: int | None = None,
        route_buckets: bool = False,
        keep_log: bool = False,
    ) -> None:
        self.application_id = application_id
        self.bot_user = _user(application_id, "hotpapers", bot=True)
        self.guild_id = guild_id
        self.channels = channels or {3000: "papers", 3001: "general"}
        self.heartbeat_interval_ms = heartbeat_interval_ms
        self.messages: dict[int, dict[str, Any]] = {}  # every message the bot created, by id
        self.channel_messages: list[dict[str, Any]] = []  # sent with POST /channels/.../messages
        self.threads: list[dict[str, Any]] = []
        self.requests: list[tuple[str, str, Any]] = []  # (method, path, json body)
        self.rejected: list[dict[str, Any]] = []  # bodies refused for breaking limits
        self.files: dict[str, bytes] = {}  # uploaded attachment id -> bytes (multipart bodies)
        self.global_commands: list[dict[str, Any]] = []
        self.guild_commands: dict[int, list[dict[str, Any]]] = {}
        self.interactions: dict[int, InteractionResult] = {}
        self.identify: dict[str, Any] | None = None
        # Sharding: more servers the bot is in (ids chosen so `(id >> 22) % count` picks the
        # shard), every IDENTIFY payload, and the [shard id, shard count] of each connection.
        self.other_guilds: list[int] = []
        self.identifies: list[dict[str, Any]] = []
        self._shards: dict[web.WebSocketResponse, tuple[int, int]] = {}
        self.resumed = 0
        self.heartbeats = 0
        self.forbidden_channels: set[int] = set()
        # user id -> the permission bits their member object carries in interactions
        self.member_permissions: dict[int, int] = {}
        # channels where the bot may post but not create threads (no Create Public Threads)
        self.thread_forbidden_channels: set[int] = set()
        self.missing_channels: set[int] = set()
        # forum channels (type 15): a thread created in one is a post with a starter message
        self.forum_channels: set[int] = set()
        self._dms: dict[int, int] = {}  # recipient -> DM channel (Discord keeps one per user)
        # message id -> emoji name -> the ids of the users who reacted with it (`react`)
        self.reactors: dict[int, dict[str, list[int]]] = {}
        self._query: dict[str, str] = {}  # the query string of the request being answered
        self._rate_limits: list[tuple[str, float, bool]] = []  # (path part, retry_after, global)
        self._ids = itertools.count(10_000)
        self._seq = 0
        self._session_id = "fake-session"
        self._sockets: list[web.WebSocketResponse] = []
        self._ready = asyncio.Event()
        self._runner: web.AppRunner | None = None
        self._port = 0
        self.global_rate_limit = global_rate_limit  # requests per second per token; None: off
        self.route_buckets = route_buckets
        self.stats = RateLimitStats()
        self.log: list[tuple[float, str, str, int]] | None = [] if keep_log else None
        self._global_windows: dict[str, collections.deque[float]] = {}
        self._buckets: dict[tuple[str, str], _Bucket] = {}
        self._received_at = 0.0

    # -- lifecycle -------------------------------------------------------------------------

    async def start(self) -> None:
        app = web.Application(client_max_size=8 * 1024 * 1024)
        app.router.add_get("/gateway", self._gateway)
        app.router.add_get("/gateway/", self._gateway)
        app.router.add_route("*", API_PREFIX + "/{path:.*}", self._rest)
        self._runner = web.AppRunner(app, handle_signals=False, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self._port = int(self._runner.addresses[0][1])

    async def close(self) -> None:
        for socket in list(self._sockets):
            with contextlib.suppress(Exception):
                await socket.close()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> FakeDiscord:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    @property
    def api_url(self) -> str:
        return f"http://127.0.0.1:{self._port}{API_PREFIX}"

    @property
    def gateway_url(self) -> str:
        return f"ws://127.0.0.1:{self._port}/gateway"

    async def wait_ready(self, timeout: float = 5.0) -> None:
        """Wait until a client identified (or resumed) and got READY and the guild."""
        await asyncio.wait_for(self._ready.wait(), timeout)

    # -- test controls ---------------------------------------------------------------------

    def rate_limit_next(
        self, path_part: str, retry_after: float = 0.05, *, is_global: bool = False
    ) -> None:
        """Answer the next request whose path contains `path_part` with a 429."""
        self._rate_limits.append((path_part, retry_after, is_global))

    def delete_channel(self, channel_id: int | str) -> None:
        """A moderator deletes a channel, thread or forum post: from now on it answers 404
        Unknown Channel (10003), as on Discord, and its messages are gone with it."""
        gone = str(channel_id)
        self.channels.pop(int(gone), None)
        self.threads[:] = [t for t in self.threads if t["id"] != gone]
        self.channel_messages[:] = [m for m in self.channel_messages if m["channel_id"] != gone]
        for message_id in [i for i, m in self.messages.items() if m["channel_id"] == gone]:
            del self.messages[message_id]

    def add_thread(self, parent: int, name: str = "a thread", *, owner: int = 7) -> int:
        """A thread someone (not the bot) started in channel `parent` (a forum: a post);
        its id."""
        thread_id = next(self._ids)
        self.threads.append(self._thread_object(thread_id, parent, name, owner=owner))
        self.channels[thread_id] = name
        return thread_id

    async def request_reconnect(self) -> None:
        """Ask the client to reconnect (gateway op 7); it resumes the session."""
        self._ready.clear()
        for socket in list(self._sockets):
            await socket.send_str(json.dumps({"op": 7, "d": None}))

    async def drop_connection(self) -> None:
        """Close the gateway socket the way a network blip does (code 4000: resumable)."""
        self._ready.clear()
        for socket in list(self._sockets):
            await socket.close(code=4000, message=b"fake reconnect")

    async def dispatch(self, event: str, data: dict[str, Any]) -> None:
        """Send a gateway DISPATCH to the connected client (with shards: to the connection of
        the shard that owns the event's server, as Discord does)."""
        if not self._sockets:
            raise FakeDiscordError("no client is connected to the fake gateway")
        await self._send_dispatch(self._socket_for(data.get("guild_id")), event, data)

    def shard_of(self, guild_id: int | str, shard_count: int) -> int:
        """The shard that receives a server's events (Discord's formula)."""
        return (int(guild_id) >> 22) % shard_count

    def _socket_for(self, guild_id: object) -> web.WebSocketResponse:
        if guild_id is not None:
            for socket in reversed(self._sockets):
                shard = self._shards.get(socket)
                if shard is not None and self.shard_of(str(guild_id), shard[1]) == shard[0]:
                    return socket
        return self._sockets[-1]

    async def _send_dispatch(
        self, socket: web.WebSocketResponse, event: str, data: dict[str, Any]
    ) -> None:
        self._seq += 1
        frame = {"op": 0, "t": event, "s": self._seq, "d": data}
        await socket.send_str(json.dumps(frame))

    def _owned_guilds(self, socket: web.WebSocketResponse) -> list[int]:
        """The servers whose events go to this connection (all of them when unsharded)."""
        guilds = [self.guild_id, *self.other_guilds]
        shard = self._shards.get(socket)
        if shard is None:
            return guilds
        return [guild for guild in guilds if self.shard_of(guild, shard[1]) == shard[0]]

    def _other_guild(self, guild_id: int) -> dict[str, Any]:
        """GUILD_CREATE of one of `other_guilds`: the main server's shape, no channels."""
        guild = self._guild()
        guild["id"] = str(guild_id)
        guild["channels"] = []
        guild["roles"] = [{**guild["roles"][0], "id": str(guild_id)}]
        return guild

    async def send_interaction(
        self,
        command: str | None = None,
        options: dict[str, Any] | None = None,
        *,
        user_id: int = 7,
        username: str = "alice",
        channel_id: int | None = None,
        focused: str | None = None,
        custom_id: str | None = None,
        message_id: int | None = None,
        in_guild: bool = True,
        guild_id: int | None = None,
        timeout: float = 5.0,
    ) -> InteractionResult:
        """Deliver one interaction and return what the bot answered.

        * a slash command: `send_interaction("paper", {"id": "2401.00001"})`;
        * autocomplete: the same with `focused="name"` (the option being typed);
        * a button click: `send_interaction(custom_id="...", message_id=..., user_id=...)`.

        Waits until the bot answered with something visible (a deferral alone is not enough).
        """
        interaction_id = next(self._ids)
        token = f"token-{interaction_id}"
        channel_id = channel_id or next(iter(self.channels))
        user = _user(user_id, username)
        payload: dict[str, Any] = {
            "id": str(interaction_id),
            "application_id": str(self.application_id),
            "token": token,
            "version": 1,
            "channel_id": str(channel_id),
            "locale": "en-US",
            "app_permissions": "0",
            "entitlements": [],
            "attachment_size_limit": 10_485_760,
            "authorizing_integration_owners": {},
            "context": 0 if in_guild else 1,
        }
        if in_guild:
            payload["guild_id"] = str(guild_id or self.guild_id)
            payload["guild_locale"] = "en-US"
            thread = next((t for t in self.threads if t["id"] == str(channel_id)), None)
            payload["channel"] = thread or self._channel(channel_id)
            payload["member"] = {
                "user": user,
                "roles": [],
                "joined_at": "2020-01-01T00:00:00+00:00",
                "deaf": False,
                "mute": False,
                "permissions": str(self.member_permissions.get(int(user["id"]), 0)),
                "flags": 0,
            }
        else:
            payload["user"] = user
        if custom_id is not None:
            message = self.messages.get(message_id or 0)
            if message is None:
                raise FakeDiscordError(f"no message {message_id} to click a button on")
            payload["type"] = MESSAGE_COMPONENT
            payload["data"] = {"custom_id": custom_id, "component_type": 2}
            payload["message"] = message
        else:
            if command is None:
                raise FakeDiscordError("send_interaction needs a command or a custom_id")
            wire_options = []
            for name, value in (options or {}).items():
                kind = _option_type(value)
                option: dict[str, Any] = {"name": name, "type": kind, "value": value}
                if name == focused:
                    option["focused"] = True
                wire_options.append(option)
            payload["type"] = AUTOCOMPLETE if focused else APPLICATION_COMMAND
            payload["data"] = {
                "id": str(next(self._ids)),
                "name": command,
                "type": 1,
                "options": wire_options,
            }
        result = InteractionResult(interaction_id, token, user_id, channel_id, message_id)
        result.interaction_type = int(payload["type"])
        self.interactions[interaction_id] = result
        result.dispatched_at = time.perf_counter()
        await self.dispatch("INTERACTION_CREATE", payload)
        deadline = time.monotonic() + timeout
        while not result.settled:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise FakeDiscordError(
                    f"the bot did not answer interaction {interaction_id} within {timeout} s "
                    f"(callback type {result.callback_type}, {len(result.rejected)} rejected)"
                )
            result.changed.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(result.changed.wait(), remaining)
        result.settled_at = time.perf_counter()
        return result

    # -- what a user sees -------------------------------------------------------------------

    def in_channel(self, channel_id: int | str) -> list[dict[str, Any]]:
        """The messages posted in a channel, thread or DM, oldest first."""
        return [m for m in self.channel_messages if m["channel_id"] == str(channel_id)]

    def papers_in(self, channel_id: int | str) -> list[str]:
        """The arXiv ids of the paper messages (embed linking to the abs page), top to bottom."""
        return [
            m["embeds"][0]["url"].rsplit("/", 1)[1]
            for m in self.in_channel(channel_id)
            if m["embeds"] and m["embeds"][0].get("url")
        ]

    def react(self, message_id: int | str, emoji: str, user_id: int) -> None:
        """`user_id` reacts to a message with the unicode `emoji` (once per user and emoji,
        as on Discord); the message's `reactions` counts follow."""
        message = self.messages[int(message_id)]
        users = self.reactors.setdefault(int(message_id), {}).setdefault(emoji, [])
        if user_id in users:
            return
        users.append(user_id)
        reactions = message.setdefault("reactions", [])
        found = next((r for r in reactions if r["emoji"]["name"] == emoji), None)
        if found is None:
            found = {"emoji": {"id": None, "name": emoji}, "count": 0, "me": False}
            found["burst_colors"] = []
            reactions.append(found)
        found["count"] += 1
        found["me"] = found["me"] or user_id == self.application_id

    def _reaction_users(self, message_id: int, emoji: str) -> list[dict[str, Any]]:
        """GET .../reactions/{emoji}: the users, by id, `limit` (≤ 100) after `after`."""
        ids = sorted(self.reactors.get(message_id, {}).get(emoji, []))
        after = int(self._query.get("after", 0))
        limit = min(int(self._query.get("limit", 25)), 100)
        chosen = [i for i in ids if i > after][:limit]
        return [_user(i, f"user{i}", bot=i == self.application_id) for i in chosen]

    def thread_of(self, parent: int | str) -> dict[str, Any]:
        """The one thread (or forum post) started in channel `parent`."""
        [thread] = [t for t in self.threads if t["parent_id"] == str(parent)]
        return thread

    # -- gateway ---------------------------------------------------------------------------

    async def _gateway(self, request: web.Request) -> web.WebSocketResponse:
        socket = web.WebSocketResponse(autoping=True)
        await socket.prepare(request)
        self._sockets.append(socket)
        try:
            hello = {"op": 10, "d": {"heartbeat_interval": self.heartbeat_interval_ms}}
            await socket.send_str(json.dumps(hello))
            async for frame in socket:
                if frame.type != WSMsgType.TEXT:
                    continue
                message = json.loads(frame.data)
                await self._on_gateway_frame(socket, message)
        finally:
            self._sockets.remove(socket)
            self._shards.pop(socket, None)
        return socket

    async def _on_gateway_frame(
        self, socket: web.WebSocketResponse, message: dict[str, Any]
    ) -> None:
        op = message.get("op")
        if op == 1:  # HEARTBEAT
            self.heartbeats += 1
            await socket.send_str(json.dumps({"op": 11}))
        elif op == 2:  # IDENTIFY
            self.identify = message.get("d") or {}
            self.identifies.append(self.identify)
            shard = self.identify.get("shard")
            if shard:
                self._shards[socket] = (int(shard[0]), int(shard[1]))
            else:
                self._seq = 0
            owned = self._owned_guilds(socket)
            ready = self._ready_payload()
            ready["guilds"] = [{"id": str(guild), "unavailable": True} for guild in owned]
            if shard:
                ready["shard"] = [int(shard[0]), int(shard[1])]
            await self._send_dispatch(socket, "READY", ready)
            for guild in owned:
                data = self._guild() if guild == self.guild_id else self._other_guild(guild)
                await self._send_dispatch(socket, "GUILD_CREATE", data)
            self._ready.set()
        elif op == 6:  # RESUME
            self.resumed += 1
            await self.dispatch("RESUMED", {})
            self._ready.set()

    def _ready_payload(self) -> dict[str, Any]:
        return {
            "v": 10,
            "user": self.bot_user,
            "guilds": [{"id": str(self.guild_id), "unavailable": True}],
            "session_id": self._session_id,
            "resume_gateway_url": self.gateway_url,
            "application": {"id": str(self.application_id), "flags": 0},
        }

    def _channel(self, channel_id: int) -> dict[str, Any]:
        return {
            "id": str(channel_id),
            "type": 15 if channel_id in self.forum_channels else 0,
            "guild_id": str(self.guild_id),
            "name": self.channels.get(channel_id, "channel"),
            "position": 0,
            "permission_overwrites": [],
            "nsfw": False,
            "parent_id": None,
        }

    def _guild(self) -> dict[str, Any]:
        return {
            "id": str(self.guild_id),
            "name": "Fake Guild",
            "icon": None,
            "owner_id": "7",
            "unavailable": False,
            "member_count": 2,
            "large": False,
            "features": [],
            "roles": [
                {
                    "id": str(self.guild_id),
                    "name": "@everyone",
                    "permissions": "0",
                    "position": 0,
                    "color": 0,
                    "hoist": False,
                    "managed": False,
                    "mentionable": False,
                }
            ],
            "emojis": [],
            "stickers": [],
            "members": [],
            "voice_states": [],
            "presences": [],
            "threads": [],
            "stage_instances": [],
            "guild_scheduled_events": [],
            "channels": [self._channel(channel_id) for channel_id in self.channels],
            "joined_at": "2020-01-01T00:00:00+00:00",
            "premium_tier": 0,
            "preferred_locale": "en-US",
        }

    # -- REST ------------------------------------------------------------------------------

    def _json(self, data: Any, status: int = 200, path: str = "") -> web.Response:
        # discord.py compares the Content-Type header exactly: no "; charset=utf-8".
        bucket = hashlib.sha1(path.encode()).hexdigest()[:16]
        headers = {
            "Content-Type": "application/json",
            "X-RateLimit-Limit": "5",
            "X-RateLimit-Remaining": "4",
            "X-RateLimit-Reset": f"{time.time() + 1:.3f}",
            "X-RateLimit-Reset-After": "1.000",
            "X-RateLimit-Bucket": bucket,
        }
        return web.Response(status=status, body=json.dumps(data).encode(), headers=headers)

    def _error(self, status: int, code: int, message: str, path: str = "") -> web.Response:
        return self._json({"code": code, "message": message}, status, path)

    def _too_many(self, retry_after: float, is_global: bool) -> web.Response:
        headers = {
            "Content-Type": "application/json",
            "Via": "1.1 google",  # discord.py treats a 429 without it as a Cloudflare ban
            "Retry-After": str(max(1, math.ceil(retry_after))),
            "X-RateLimit-Scope": "global" if is_global else "user",
        }
        if is_global:
            headers["X-RateLimit-Global"] = "true"
        body = {"message": "You are being rate limited.", "retry_after": retry_after}
        body["global"] = is_global
        return web.Response(status=429, body=json.dumps(body).encode(), headers=headers)

    def _invalid(self, payload: dict[str, Any], path: str) -> web.Response | None:
        errors = limit_errors(payload)
        empty = not (payload.get("content") or payload.get("embeds") or payload.get("components"))
        if errors or empty:
            self.rejected.append(payload)
        if errors:
            body = {"code": 50035, "message": "Invalid Form Body", "errors": errors}
            return self._json(body, 400, path)
        if empty:
            return self._error(400, 50006, "Cannot send an empty message", path)
        return None

    def _message(
        self,
        channel_id: int,
        payload: dict[str, Any],
        *,
        author: dict[str, Any] | None = None,
        message_id: int | None = None,
    ) -> dict[str, Any]:
        message_id = message_id or next(self._ids)
        message = {
            "id": str(message_id),
            "channel_id": str(channel_id),
            "guild_id": str(self.guild_id),
            "author": author or self.bot_user,
            "content": payload.get("content") or "",
            "timestamp": _now_iso(),
            "edited_timestamp": None,
            "tts": bool(payload.get("tts")),
            "mention_everyone": False,
            "mentions": [],
            "mention_roles": [],
            "attachments": payload.get("attachments") or [],
            "embeds": payload.get("embeds") or [],
            "components": payload.get("components") or [],
            "pinned": False,
            "type": 0,
            "flags": int(payload.get("flags") or 0),
            "allowed_mentions": payload.get("allowed_mentions"),
        }
        self.messages[message_id] = message
        return message

    def _edit(self, message: dict[str, Any], payload: dict[str, Any]) -> dict[str, Any]:
        for key in ("content", "embeds", "components", "allowed_mentions", "attachments"):
            if key in payload:
                message[key] = payload[key]
        if "flags" in payload and payload["flags"] is not None:
            message["flags"] = int(payload["flags"]) | (int(message.get("flags") or 0) & EPHEMERAL)
        message["edited_timestamp"] = _now_iso()
        return message

    def _multipart(self, content_type: str, raw: bytes) -> dict[str, Any]:
        """A multipart/form-data body as Discord reads it: `payload_json` plus `files[n]`.

        The uploaded files become the message's `attachments` (id, filename, size,
        content_type, url); their bytes are kept in `self.files` by attachment id.
        Attachments listed with the id of an earlier upload are kept (edits keep files).
        """
        head = f"Content-Type: {content_type}\r\nMIME-Version: 1.0\r\n\r\n".encode()
        form = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(head + raw)
        body: dict[str, Any] = {}
        uploads: dict[int, tuple[str, bytes]] = {}
        for part in form.iter_parts():
            name = part.get_param("name", header="content-disposition")
            payload = part.get_payload(decode=True)
            data = payload if isinstance(payload, bytes) else b""
            if name == "payload_json":
                body = json.loads(data)
            elif isinstance(name, str) and (match := re.fullmatch(r"files\[(\d+)\]", name)):
                uploads[int(match.group(1))] = (part.get_filename() or "file", data)
        listed = body.get("attachments") or [{"id": index} for index in uploads]
        attachments = []
        for entry in listed:
            index = int(entry["id"]) if str(entry.get("id", "")).isdigit() else -1
            if index in uploads:
                filename, data = uploads[index]
                attachment_id = str(next(self._ids))
                self.files[attachment_id] = data
                png = data.startswith(b"\x89PNG")
                attachments.append({
                    "id": attachment_id,
                    "filename": entry.get("filename") or filename,
                    "size": len(data),
                    "content_type": "image/png" if png else "application/octet-stream",
                    "url": f"https://cdn.fake/attachments/{attachment_id}/{filename}",
                })  # fmt: skip
            elif str(entry.get("id")) in self.files:
                attachments.append(entry)
        if uploads or "attachments" in body:
            body["attachments"] = attachments
        return body

    async def _rest(self, request: web.Request) -> web.StreamResponse:
        received = time.perf_counter()
        response = await self._rest_inner(request, received)
        if self.log is not None:
            path = "/" + request.match_info["path"]
            self.log.append((received, request.method, path, response.status))
        return response

    async def _rest_inner(self, request: web.Request, received: float) -> web.StreamResponse:
        path = "/" + request.match_info["path"]
        body: Any = None
        if request.can_read_body:
            raw = await request.read()
            if raw:
                if request.content_type.startswith("multipart/"):
                    body = self._multipart(request.headers["Content-Type"], raw)
                else:
                    body = json.loads(raw)
        self.requests.append((request.method, path, body))
        self.stats.requests += 1
        now = time.monotonic()
        if self.stats.first is None:
            self.stats.first = now
        self.stats.last = now
        for index, (part, retry_after, is_global) in enumerate(self._rate_limits):
            if part in path:
                del self._rate_limits[index]
                return self._too_many(retry_after, is_global)
        token = request.headers.get("Authorization", "")
        limited = self._enforce_global(token, path, now)
        if limited is not None:
            return limited
        bucket = self._take_bucket(token, request.method, path, now)
        if isinstance(bucket, web.Response):
            return bucket
        self._received_at = received
        self._query = dict(request.query)
        parts = path.strip("/").split("/")
        try:
            response = await self._route(request.method, parts, body or {}, path)
        except KeyError as exc:
            response = self._error(404, 10003, f"Unknown {exc.args[0]}", path)
        if bucket is not None:
            self._bucket_headers(response, bucket[0], bucket[1], now)
        return response

    # -- enforced rate limits (off unless asked for) ----------------------------------------

    def _enforce_global(self, token: str, path: str, now: float) -> web.Response | None:
        """Discord's global limit: at most N requests in any second per bot token."""
        if self.global_rate_limit is None or _GLOBAL_EXEMPT.match(path):
            return None
        window = self._global_windows.setdefault(token, collections.deque())
        while window and window[0] <= now - 1.0:
            window.popleft()
        if len(window) >= self.global_rate_limit:
            self.stats.global_429 += 1
            return self._too_many(max(window[0] + 1.0 - now, 0.001), True)
        window.append(now)
        return None

    def _bucket_rule(self, method: str, path: str) -> tuple[str, str, int, float]:
        """(bucket hash, major parameter, limit, seconds) for a route."""
        for rule_method, pattern, limit, per in ROUTE_BUCKETS:
            found = pattern.match(path) if method == rule_method else None
            if found:
                name = hashlib.sha1(f"{method} {pattern.pattern}".encode()).hexdigest()[:16]
                return name, found.group(1), limit, per
        name = hashlib.sha1(f"{method} {path}".encode()).hexdigest()[:16]
        return name, "", *DEFAULT_BUCKET

    def _take_bucket(
        self, token: str, method: str, path: str, now: float
    ) -> tuple[str, _Bucket] | web.Response | None:
        if not self.route_buckets:
            return None
        name, major, limit, per = self._bucket_rule(method, path)
        bucket = self._buckets.setdefault((token, f"{name}:{major}"), _Bucket(limit, per))
        if now >= bucket.reset:
            bucket.used, bucket.reset = 0, now + per
        if bucket.used >= bucket.limit:
            self.stats.route_429 += 1
            response = self._too_many(bucket.reset - now, False)
            self._bucket_headers(response, name, bucket, now)
            return response
        bucket.used += 1
        return name, bucket

    @staticmethod
    def _bucket_headers(
        response: web.StreamResponse, name: str, bucket: _Bucket, now: float
    ) -> None:
        after = max(bucket.reset - now, 0.0)
        response.headers["X-RateLimit-Bucket"] = name
        response.headers["X-RateLimit-Limit"] = str(bucket.limit)
        response.headers["X-RateLimit-Remaining"] = str(max(bucket.limit - bucket.used, 0))
        response.headers["X-RateLimit-Reset"] = f"{time.time() + after:.3f}"
        response.headers["X-RateLimit-Reset-After"] = f"{after:.3f}"

    async def _route(
        self, method: str, parts: list[str], body: Any, path: str
    ) -> web.StreamResponse:
        match method, parts:
            case "GET", ["users", "@me"]:
                return self._json(self.bot_user, path=path)
            case "GET", ["oauth2", "applications", "@me"] | ["applications", "@me"]:
                return self._json(self._application(), path=path)
            case "GET", ["gateway", "bot"]:
                limit = {"total": 1000, "remaining": 999, "reset_after": 0, "max_concurrency": 1}
                data = {"url": self.gateway_url, "shards": 1, "session_start_limit": limit}
                return self._json(data, path=path)
            case "GET", ["gateway"]:
                return self._json({"url": self.gateway_url}, path=path)
            case "PUT", ["applications", _, "commands"]:
                if errors := command_errors(body):
                    return self._json(self._form_error(errors), 400, path)
                self.global_commands = self._with_ids(body)
                return self._json(self.global_commands, path=path)
            case "GET", ["applications", _, "commands"]:
                return self._json(self.global_commands, path=path)
            case "PUT", ["applications", _, "guilds", guild, "commands"]:
                if errors := command_errors(body):
                    return self._json(self._form_error(errors), 400, path)
                self.guild_commands[int(guild)] = self._with_ids(body)
                return self._json(self.guild_commands[int(guild)], path=path)
            case "GET", ["applications", _, "guilds", guild, "commands"]:
                return self._json(self.guild_commands.get(int(guild), []), path=path)
            case "POST", ["interactions", interaction_id, token, "callback"]:
                return self._callback(int(interaction_id), token, body, path)
            case "POST", ["webhooks", _, token]:
                return self._followup(token, body, path)
            case (("PATCH" | "GET"), ["webhooks", _, token, "messages", which]):
                return self._webhook_message(method, token, which, body, path)
            case "DELETE", ["webhooks", _, token, "messages", which]:
                result = self._by_token(token)
                target = result.original if which == "@original" else self.messages.get(int(which))
                if target is None:
                    return self._error(404, 10008, "Unknown Message", path)
                self.messages.pop(int(target["id"]), None)
                result.deleted.append(target)
                if target is result.original:
                    result.original = None
                return web.Response(status=204)
            case _, ["channels", channel, *rest]:
                return self._channel_route(method, int(channel), rest, body, path)
            case "POST", ["users", "@me", "channels"]:
                user_id = int(body.get("recipient_id", 7))
                dm_id = self._dms.setdefault(user_id, next(self._ids))
                dm = {"id": str(dm_id), "type": 1, "recipients": [_user(user_id, "someone")]}
                self.channels.setdefault(dm_id, "dm")
                return self._json(dm, path=path)
            case "GET", ["guilds", guild] if int(guild) == self.guild_id:
                return self._json(self._guild(), path=path)
            case "GET", ["guilds", guild, "threads", "active"] if int(guild) == self.guild_id:
                active = [t for t in self.threads if not t["thread_metadata"]["archived"]]
                return self._json({"threads": active, "members": []}, path=path)
        return self._error(404, 0, f"404: Not Found ({method} {path})", path)

    def _application(self) -> dict[str, Any]:
        return {
            "id": str(self.application_id),
            "name": "hotpapers",
            "description": "",
            "icon": None,
            "bot_public": True,
            "bot_require_code_grant": False,
            "owner": _user(7, "alice"),
            "verify_key": "00",
            "flags": 0,
        }

    @staticmethod
    def _form_error(errors: dict[str, Any]) -> dict[str, Any]:
        return {"code": 50035, "message": "Invalid Form Body", "errors": errors}

    def _with_ids(self, commands: list[dict[str, Any]]) -> list[dict[str, Any]]:
        return [
            {
                **command,
                "id": str(next(self._ids)),
                "application_id": str(self.application_id),
                "version": "1",
                "default_member_permissions": command.get("default_member_permissions"),
                "type": command.get("type", 1),
            }
            for command in commands
        ]

    def _by_token(self, token: str) -> InteractionResult:
        for result in self.interactions.values():
            if result.token == token:
                return result
        raise KeyError("Webhook")

    def _callback(
        self, interaction_id: int, token: str, body: dict[str, Any], path: str
    ) -> web.Response:
        result = self.interactions.get(interaction_id)
        if result is None or result.token != token:
            return self._error(404, 10062, "Unknown interaction", path)
        if result.callback_type is not None:
            return self._error(400, 40060, "Interaction has already been acknowledged.", path)
        kind = int(body.get("type", 0))
        data = body.get("data") or {}
        if kind in (CHANNEL_MESSAGE, UPDATE_MESSAGE, AUTOCOMPLETE_RESULT):
            clicked = self.messages.get(result.clicked_message_id or 0) or {}
            checked = {**clicked, **data} if kind == UPDATE_MESSAGE else data
            invalid = self._invalid(checked, path) if kind != AUTOCOMPLETE_RESULT else None
            if kind == AUTOCOMPLETE_RESULT and limit_errors(data):
                self.rejected.append(data)
                errors = {"data": limit_errors(data)}
                invalid = self._json(
                    {"code": 50035, "message": "Invalid Form Body", "errors": errors}, 400, path
                )
            if invalid is not None:
                result.rejected.append(data)
                result.changed.set()
                return invalid
        result.callback_type, result.callback_data = kind, data
        result.callback_at = self._received_at
        message: dict[str, Any] | None = None
        if kind in (CHANNEL_MESSAGE, DEFERRED_CHANNEL_MESSAGE):
            payload = data if kind == CHANNEL_MESSAGE else {"flags": data.get("flags", 0)}
            message = self._message(result.channel_id, payload)
            if kind == DEFERRED_CHANNEL_MESSAGE:
                message["flags"] = int(message["flags"]) | (1 << 7)  # LOADING
            result.original = message
        elif kind in (UPDATE_MESSAGE, DEFERRED_UPDATE_MESSAGE):
            target = self.messages.get(result.clicked_message_id or 0)
            if target is not None and kind == UPDATE_MESSAGE:
                self._edit(target, data)
                result.edits.append(dict(target))
            result.original = target
        result.changed.set()
        answer: dict[str, Any] = {
            "interaction": {
                "id": str(interaction_id),
                "type": result.interaction_type,
                "response_message_id": message["id"] if message else None,
                "response_message_loading": kind == DEFERRED_CHANNEL_MESSAGE,
                "response_message_ephemeral": bool(int(data.get("flags") or 0) & EPHEMERAL),
            },
            "resource": {"type": kind},
        }
        if message is not None and kind == CHANNEL_MESSAGE:
            answer["resource"]["message"] = message
        return self._json(answer, path=path)

    def _followup(self, token: str, body: dict[str, Any], path: str) -> web.Response:
        result = self._by_token(token)
        invalid = self._invalid(body, path)
        if invalid is not None:
            result.rejected.append(body)
            result.changed.set()
            return invalid
        message = self._message(result.channel_id, body)
        result.followups.append(message)
        result.changed.set()
        return self._json(message, path=path)

    def _webhook_message(
        self, method: str, token: str, which: str, body: dict[str, Any], path: str
    ) -> web.Response:
        result = self._by_token(token)
        target = result.original if which == "@original" else self.messages.get(int(which))
        if target is None:
            return self._error(404, 10008, "Unknown Message", path)
        if method == "GET":
            return self._json(target, path=path)
        merged = {**target, **body}
        invalid = self._invalid(merged, path)
        if invalid is not None:
            result.rejected.append(body)
            result.changed.set()
            return invalid
        self._edit(target, body)
        target["flags"] = int(target.get("flags") or 0) & ~(1 << 7)  # no longer "thinking"
        result.edits.append(dict(target))
        result.changed.set()
        return self._json(target, path=path)

    def _channel_route(
        self, method: str, channel_id: int, rest: list[str], body: dict[str, Any], path: str
    ) -> web.Response:
        if channel_id in self.forbidden_channels:
            return self._error(403, 50001, "Missing Access", path)
        if channel_id in self.missing_channels or channel_id not in self.channels:
            return self._error(404, 10003, "Unknown Channel", path)
        match method, rest:
            case "GET", []:
                thread = next((t for t in self.threads if t["id"] == str(channel_id)), None)
                return self._json(thread or self._channel(channel_id), path=path)
            case "POST", ["messages"]:
                invalid = self._invalid(body, path)
                if invalid is not None:
                    return invalid
                message = self._message(channel_id, body)
                self.channel_messages.append(message)
                return self._json(message, path=path)
            case "PATCH", ["messages", message_id]:
                edited = self.messages.get(int(message_id))
                if edited is None:
                    return self._error(404, 10008, "Unknown Message", path)
                invalid = self._invalid({**edited, **body}, path)
                if invalid is not None:
                    return invalid
                return self._json(self._edit(edited, body), path=path)
            case "GET", ["messages"]:
                return self._json(self._history(channel_id), path=path)
            case "GET", ["messages", message_id]:
                found = self.messages.get(int(message_id))
                if found is None:
                    return self._error(404, 10008, "Unknown Message", path)
                return self._json(found, path=path)
            case "POST", ["messages", message_id, "threads"]:
                if channel_id in self.thread_forbidden_channels:
                    return self._error(403, 50013, "Missing Permissions", path)
                return self._thread(channel_id, body, path, thread_id=int(message_id))
            case "DELETE", ["messages", message_id]:
                gone = self.messages.pop(int(message_id), None)
                if gone is None:
                    return self._error(404, 10008, "Unknown Message", path)
                self.channel_messages[:] = [m for m in self.channel_messages if m is not gone]
                return web.Response(status=204)
            case "POST", ["threads"] if channel_id in self.forum_channels:
                return self._forum_post(channel_id, body, path)
            case "POST", ["threads"]:
                return self._thread(channel_id, body, path)
            case "PUT", ["messages", message_id, "reactions", emoji, "@me"]:
                if int(message_id) in self.messages:
                    self.react(message_id, emoji, self.application_id)
                return web.Response(status=204)
            case "GET", ["messages", message_id, "reactions", emoji]:
                if int(message_id) not in self.messages:
                    return self._error(404, 10008, "Unknown Message", path)
                return self._json(self._reaction_users(int(message_id), emoji), path=path)
        return self._error(404, 0, f"404: Not Found ({method} {path})", path)

    def _thread_object(
        self, thread_id: int, parent: int, name: str, *, owner: int = 0, archive: int = 1440
    ) -> dict[str, Any]:
        return {
            **self._channel(thread_id),
            "type": 11,
            "name": name,
            "parent_id": str(parent),
            "owner_id": str(owner or self.application_id),
            "thread_metadata": {
                "archived": False,
                "auto_archive_duration": archive,
                "archive_timestamp": _now_iso(),
                "locked": False,
            },
            "message_count": 0,
            "member_count": 1,
        }

    def _history(self, channel_id: int) -> list[dict[str, Any]]:
        """GET /channels/{id}/messages: newest first, honouring `limit`, `before`, `after`
        (with `after`, the oldest `limit` messages after it, still newest first)."""
        found = [m for m in self.channel_messages if m["channel_id"] == str(channel_id)]
        found.sort(key=lambda m: int(m["id"]), reverse=True)
        limit = min(int(self._query.get("limit", 50)), 100)
        if "before" in self._query:
            found = [m for m in found if int(m["id"]) < int(self._query["before"])]
        if "after" in self._query:
            found = [m for m in found if int(m["id"]) > int(self._query["after"])]
            return found[-limit:]
        return found[:limit]

    def _forum_post(self, channel_id: int, body: dict[str, Any], path: str) -> web.Response:
        """A thread in a forum channel: a post whose starter message is `body["message"]`."""
        starter_body = body.get("message") or {}
        invalid = self._invalid(starter_body, path)
        if invalid is not None:
            return invalid
        response = self._thread(channel_id, body, path)
        if response.status != 200:
            return response
        thread = self.threads[-1]
        # As on Discord, the starter message has the post's (the thread's) id.
        starter = self._message(int(thread["id"]), starter_body, message_id=int(thread["id"]))
        self.channel_messages.append(starter)
        return self._json({**thread, "message": starter}, path=path)

    def _thread(
        self, channel_id: int, body: dict[str, Any], path: str, thread_id: int | None = None
    ) -> web.Response:
        name = str(body.get("name") or "")
        if not 1 <= len(name) <= 100:
            errors = {"name": {"_errors": [{"code": "BASE_TYPE_BAD_LENGTH", "message": "1-100"}]}}
            return self._json(
                {"code": 50035, "message": "Invalid Form Body", "errors": errors}, 400, path
            )
        thread_id = thread_id or next(self._ids)
        archive = int(body.get("auto_archive_duration") or 1440)
        thread = self._thread_object(thread_id, channel_id, name, archive=archive)
        self.threads.append(thread)
        self.channels[thread_id] = name
        return self._json(thread, path=path)
