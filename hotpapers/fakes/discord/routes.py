"""The fake Discord's REST routes for interactions (callbacks, follow-ups, webhook messages),
channels, messages, forum posts and threads."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from hotpapers.fakes.discord.responses import DiscordResponses
from hotpapers.fakes.discord.wire import (
    AUTOCOMPLETE_RESULT,
    CHANNEL_MESSAGE,
    DEFERRED_CHANNEL_MESSAGE,
    DEFERRED_UPDATE_MESSAGE,
    EPHEMERAL,
    UPDATE_MESSAGE,
    limit_errors,
)


class DiscordRoutes(DiscordResponses):
    """The REST routes the bot's sends and edits reach."""

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
