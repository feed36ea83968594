"""FakeDiscord: the HTTP server (REST API v10 and the gateway websocket on one port) and the REST
router."""

from __future__ import annotations

import contextlib
import json
import time
from typing import Any

from aiohttp import web

from hotpapers.fakes.discord.routes import DiscordRoutes
from hotpapers.fakes.discord.wire import API_PREFIX, command_errors, user_object


class FakeDiscord(DiscordRoutes):
    """Discord's REST API and gateway, in memory, on 127.0.0.1."""

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
                dm = {"id": str(dm_id), "type": 1, "recipients": [user_object(user_id, "someone")]}
                self.channels.setdefault(dm_id, "dm")
                return self._json(dm, path=path)
            case "GET", ["guilds", guild] if int(guild) == self.guild_id:
                return self._json(self._guild(), path=path)
            case "GET", ["guilds", guild, "threads", "active"] if int(guild) == self.guild_id:
                active = [t for t in self.threads if not t["thread_metadata"]["archived"]]
                return self._json({"threads": active, "members": []}, path=path)
        return self._error(404, 0, f"404: Not Found ({method} {path})", path)
