"""What the fake Discord holds: channels, messages, threads, reactions, commands, interactions and
rate-limit counters, and the views tests read them through."""

from __future__ import annotations

import asyncio
import collections
import itertools
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from hotpapers.fakes.discord.wire import (
    API_PREFIX,
    APPLICATION_COMMAND,
    DEFERRED_CHANNEL_MESSAGE,
    DEFERRED_UPDATE_MESSAGE,
    EPHEMERAL,
    now_iso,
    user_object,
)


@dataclass
class RouteBucket:
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


class DiscordState:
    """The fake's state and the read-only views of it (the server: `FakeDiscord`)."""

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
        self.bot_user = user_object(application_id, "hotpapers", bot=True)
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
        self._buckets: dict[tuple[str, str], RouteBucket] = {}
        self._received_at = 0.0

    @property
    def api_url(self) -> str:
        return f"http://127.0.0.1:{self._port}{API_PREFIX}"

    @property
    def gateway_url(self) -> str:
        return f"ws://127.0.0.1:{self._port}/gateway"

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
        return [user_object(i, f"user{i}", bot=i == self.application_id) for i in chosen]

    def thread_of(self, parent: int | str) -> dict[str, Any]:
        """The one thread (or forum post) started in channel `parent`."""
        [thread] = [t for t in self.threads if t["parent_id"] == str(parent)]
        return thread

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

    def _application(self) -> dict[str, Any]:
        return {
            "id": str(self.application_id),
            "name": "hotpapers",
            "description": "",
            "icon": None,
            "bot_public": True,
            "bot_require_code_grant": False,
            "owner": user_object(7, "alice"),
            "verify_key": "00",
            "flags": 0,
        }

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
                "archive_timestamp": now_iso(),
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
