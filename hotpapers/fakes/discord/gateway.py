"""The fake Discord's gateway websocket: HELLO, IDENTIFY and RESUME, heartbeats, shards, and
dispatching events and interactions to the bot."""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from typing import Any

from aiohttp import WSMsgType, web

from hotpapers.fakes.discord.state import DiscordState, InteractionResult
from hotpapers.fakes.discord.wire import (
    APPLICATION_COMMAND,
    AUTOCOMPLETE,
    MESSAGE_COMPONENT,
    FakeDiscordError,
    option_type,
    user_object,
)


class DiscordGateway(DiscordState):
    """The gateway side of the fake: connections, shards and dispatched events."""

    async def wait_ready(self, timeout: float = 5.0) -> None:
        """Wait until a client identified (or resumed) and got READY and the guild."""
        await asyncio.wait_for(self._ready.wait(), timeout)

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
        payload = self._interaction_envelope(
            interaction_id, user_object(user_id, username), channel_id, in_guild, guild_id
        )
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
            payload["type"] = AUTOCOMPLETE if focused else APPLICATION_COMMAND
            payload["data"] = self._command_data(command, options or {}, focused)
        result = InteractionResult(interaction_id, token, user_id, channel_id, message_id)
        result.interaction_type = int(payload["type"])
        self.interactions[interaction_id] = result
        result.dispatched_at = time.perf_counter()
        await self.dispatch("INTERACTION_CREATE", payload)
        await self._until_settled(result, timeout)
        result.settled_at = time.perf_counter()
        return result

    def _interaction_envelope(
        self,
        interaction_id: int,
        user: dict[str, Any],
        channel_id: int,
        in_guild: bool,
        guild_id: int | None,
    ) -> dict[str, Any]:
        """An INTERACTION_CREATE payload without its type and data: who, where, in which guild."""
        payload: dict[str, Any] = {
            "id": str(interaction_id),
            "application_id": str(self.application_id),
            "token": f"token-{interaction_id}",
            "version": 1,
            "channel_id": str(channel_id),
            "locale": "en-US",
            "app_permissions": "0",
            "entitlements": [],
            "attachment_size_limit": 10_485_760,
            "authorizing_integration_owners": {},
            "context": 0 if in_guild else 1,
        }
        if not in_guild:
            payload["user"] = user
            return payload
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
        return payload

    def _command_data(
        self, command: str, options: dict[str, Any], focused: str | None
    ) -> dict[str, Any]:
        """The `data` of a slash command or autocomplete interaction, options typed as Discord
        types them."""
        wire_options = []
        for name, value in options.items():
            option: dict[str, Any] = {"name": name, "type": option_type(value), "value": value}
            if name == focused:
                option["focused"] = True
            wire_options.append(option)
        return {"id": str(next(self._ids)), "name": command, "type": 1, "options": wire_options}

    @staticmethod
    async def _until_settled(result: InteractionResult, timeout: float) -> None:
        """Wait until the bot answered visibly, or raise after `timeout` seconds."""
        deadline = time.monotonic() + timeout
        while not result.settled:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise FakeDiscordError(
                    f"the bot did not answer interaction {result.interaction_id} within "
                    f"{timeout} s (callback type {result.callback_type}, "
                    f"{len(result.rejected)} rejected)"
                )
            result.changed.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(result.changed.wait(), remaining)

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
