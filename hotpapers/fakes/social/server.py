"""What every social fake shares: the request log, fault injection (`fail(kind, ...)`) and small
request helpers."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from aiohttp import web

from hotpapers.fakes._server import LocalServer

FAULT_KINDS = (
    "429",
    "500",
    "html",
    "malformed",
    "missing_fields",
    "wrong_types",
    "slow",
    "401",
)


_HTML_PAGE = (
    "<!DOCTYPE html>\n<html><head><title>502 Bad Gateway</title></head>"
    "<body><h1>Bad Gateway</h1><p>The upstream server is temporarily unavailable.</p>"
    "</body></html>"
)


@dataclass(slots=True)
class Fault:
    """A failure the fake serves instead of (or before, for "slow") the real answer."""

    kind: str
    times: int | None = 1  # None: every matching request
    match: str | None = None  # substring of the decoded "path?query"
    retry_after: float = 1.0  # seconds, for "429"
    delay: float = 2.0  # seconds, for "slow"
    status: int | None = None  # override the status code (e.g. an HTML page with 503)
    used: int = 0


_FAULT = web.RequestKey("fault", Fault)


@dataclass(slots=True)
class LoggedRequest:
    method: str
    path: str
    query: dict[str, str]
    authorization: str | None
    at: float = field(default_factory=time.monotonic)
    fault: str | None = None


class SocialFake(LocalServer):
    """aiohttp.web app on 127.0.0.1 with a request log and fault injection."""

    def __init__(self) -> None:
        self.requests: list[LoggedRequest] = []
        self.faults: list[Fault] = []

    def make_app(self) -> web.Application:
        app = web.Application(middlewares=[self._middleware])
        self.routes(app)
        return app

    def routes(self, app: web.Application) -> None:
        raise NotImplementedError

    # --- faults ----------------------------------------------------------------------
    def fail(
        self,
        kind: str,
        *,
        times: int | None = 1,
        match: str | None = None,
        retry_after: float = 1.0,
        delay: float = 2.0,
        status: int | None = None,
    ) -> Fault:
        """Serve fault `kind` for the next `times` requests matching `match`."""
        if kind not in FAULT_KINDS:
            raise ValueError(f"unknown fault kind {kind!r}; expected one of {FAULT_KINDS}")
        fault = Fault(kind, times, match, retry_after, delay, status)
        self.faults.append(fault)
        return fault

    def requests_to(self, path_part: str) -> list[LoggedRequest]:
        return [r for r in self.requests if path_part in r.path]

    def _take_fault(self, target: str) -> Fault | None:
        for fault in self.faults:
            if fault.times is not None and fault.used >= fault.times:
                continue
            if fault.match is not None and fault.match not in target:
                continue
            fault.used += 1
            return fault
        return None

    @web.middleware
    async def _middleware(
        self, request: web.Request, handler: Callable[[web.Request], Any]
    ) -> web.StreamResponse:
        query = dict(request.query)
        target = request.path + "?" + "&".join(f"{k}={v}" for k, v in query.items())
        entry = LoggedRequest(
            request.method, request.path, query, request.headers.get("Authorization")
        )
        self.requests.append(entry)
        fault = self._take_fault(target)
        if fault is not None:
            entry.fault = fault.kind
            request[_FAULT] = fault
            if fault.kind == "slow":
                await asyncio.sleep(fault.delay)
            elif fault.kind not in ("missing_fields", "wrong_types"):
                return self.fault_response(fault)
        response: web.StreamResponse = await handler(request)
        return response

    def fault_response(self, fault: Fault) -> web.StreamResponse:
        if fault.kind == "429":
            return web.json_response(
                {"message": "Too Many Requests"},
                status=fault.status or 429,
                headers={"Retry-After": f"{fault.retry_after:g}"},
            )
        if fault.kind == "500":
            return web.json_response(
                {"message": "Internal Server Error"}, status=fault.status or 500
            )
        if fault.kind == "html":
            return web.Response(
                text=_HTML_PAGE, status=fault.status or 200, content_type="text/html"
            )
        if fault.kind == "malformed":
            return web.Response(
                body=b'{"hits": [{"title": "Attention',
                status=fault.status or 200,
                content_type="application/json",
            )
        return web.json_response({"message": "Unauthorized"}, status=fault.status or 401)

    @staticmethod
    def damage_kind(request: web.Request) -> str | None:
        fault = request.get(_FAULT)
        return fault.kind if fault is not None else None


def int_param(request: web.Request, name: str, default: int) -> int:
    try:
        return int(request.query.get(name, default))
    except ValueError:
        raise web.HTTPBadRequest(
            text=json.dumps({"message": f"invalid {name}"}), content_type="application/json"
        ) from None


def iso_time(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")
