"""The fake Discord's answers: JSON bodies and error JSON, message objects, multipart uploads, and
the global and per-route rate limits with Discord's headers."""

from __future__ import annotations

import collections
import email.parser
import email.policy
import hashlib
import json
import math
import re
import time
from typing import Any

from aiohttp import web

from hotpapers.fakes.discord.gateway import DiscordGateway
from hotpapers.fakes.discord.state import RouteBucket
from hotpapers.fakes.discord.wire import (
    DEFAULT_BUCKET,
    EPHEMERAL,
    GLOBAL_EXEMPT,
    ROUTE_BUCKETS,
    limit_errors,
    now_iso,
)


class DiscordResponses(DiscordGateway):
    """Building Discord's answers and enforcing its rate limits."""

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
            "timestamp": now_iso(),
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
        message["edited_timestamp"] = now_iso()
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

    def _enforce_global(self, token: str, path: str, now: float) -> web.Response | None:
        """Discord's global limit: at most N requests in any second per bot token."""
        if self.global_rate_limit is None or GLOBAL_EXEMPT.match(path):
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
    ) -> tuple[str, RouteBucket] | web.Response | None:
        if not self.route_buckets:
            return None
        name, major, limit, per = self._bucket_rule(method, path)
        bucket = self._buckets.setdefault((token, f"{name}:{major}"), RouteBucket(limit, per))
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
        response: web.StreamResponse, name: str, bucket: RouteBucket, now: float
    ) -> None:
        after = max(bucket.reset - now, 0.0)
        response.headers["X-RateLimit-Bucket"] = name
        response.headers["X-RateLimit-Limit"] = str(bucket.limit)
        response.headers["X-RateLimit-Remaining"] = str(max(bucket.limit - bucket.used, 0))
        response.headers["X-RateLimit-Reset"] = f"{time.time() + after:.3f}"
        response.headers["X-RateLimit-Reset-After"] = f"{after:.3f}"

    @staticmethod
    def _form_error(errors: dict[str, Any]) -> dict[str, Any]:
        return {"code": 50035, "message": "Invalid Form Body", "errors": errors}
