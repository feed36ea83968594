"""One `RequestPacer` per bot: every REST request passes it (`pacer_for(client)`).

It keeps the bot under Discord's global limit of 50 requests/s per bot: discord.py waits out
per-route buckets by itself but only *reacts* to the global limit, after a 429. The bot, the
courier and the share-of-the-budget loop (bot/pace.py) all use it; it imports none of them.
"""

from __future__ import annotations

import asyncio
import re
import weakref

import aiohttp
import discord

from hotpapers.plumbing.metrics import count_request

DEFAULT_PACE = 45.0  # requests/s, when the client has no settings to say otherwise
# Interaction callbacks and webhook follow-ups are not bound to the global limit on Discord.
_UNPACED = re.compile(r"/(interactions/\d+/[^/]+/callback|webhooks/\d+/[^/]+)")


class RequestPacer:
    """At most `rate` REST requests per second, evenly spaced, for one bot (shared by all its
    couriers and workers), counting requests and 429s.

    It hooks into discord.py's aiohttp session as a trace, so it paces each request as it
    actually leaves: after discord.py's per-route bucket waits, and its retries included.
    Even spacing (no bursts) keeps any one-second window of sends under the limit, with
    `50 - rate` requests of margin for jitter on the way to Discord.
    """

    def __init__(self, rate: float) -> None:
        self.set_rate(rate)
        self.requests = 0
        self.failed = 0
        self.global_429 = 0
        self.route_429 = 0
        self._last = float("-inf")
        self._lock = asyncio.Lock()
        self.trace = aiohttp.TraceConfig()
        self.trace.on_request_start.append(self._on_start)
        self.trace.on_request_end.append(self._on_end)
        self.trace.on_request_exception.append(self._on_exception)
        self.trace.freeze()

    def set_rate(self, rate: float) -> None:
        """Pace at `rate` requests/s from the next request on (e.g. a share that changed)."""
        self.rate = rate
        self.interval = 1.0 / rate

    async def wait(self) -> None:
        """Return when the next request may leave (FIFO: the lock queues the waiters)."""
        async with self._lock:
            loop = asyncio.get_running_loop()
            delay = self._last + self.interval - loop.time()
            if delay > 0:
                await asyncio.sleep(delay)
            self._last = loop.time()

    def install(self, http: discord.http.HTTPClient) -> None:
        """Pace `http` from now on, and after any later login."""
        http.http_trace = self.trace  # the session of the next login gets it
        # Already logged in: the live session was made without it. discord.py keeps the
        # session private; aiohttp reads its trace list on every request.
        session = getattr(http, "_HTTPClient__session", None)
        if not isinstance(session, aiohttp.ClientSession):
            return
        if self.trace not in session.trace_configs:
            session.trace_configs.append(self.trace)

    @staticmethod
    def _rest(url: object) -> bool:
        return str(url).startswith(discord.http.Route.BASE)

    async def _on_start(
        self, _session: object, _ctx: object, params: aiohttp.TraceRequestStartParams
    ) -> None:
        if self._rest(params.url) and not _UNPACED.search(params.url.path):
            await self.wait()

    async def _on_end(
        self, _session: object, _ctx: object, params: aiohttp.TraceRequestEndParams
    ) -> None:
        response = params.response
        if not self._rest(response.url):
            return
        self.requests += 1
        failed = response.status >= 400
        self.failed += failed
        if response.status == 429:
            if response.headers.get("X-RateLimit-Global") or (
                response.headers.get("X-RateLimit-Scope") == "global"
            ):
                self.global_429 += 1
            else:
                self.route_429 += 1
        count_request("discord", failed=failed)

    async def _on_exception(
        self, _session: object, _ctx: object, params: aiohttp.TraceRequestExceptionParams
    ) -> None:
        if self._rest(params.url):
            self.requests += 1
            self.failed += 1
            count_request("discord", failed=True)


_PACERS: weakref.WeakKeyDictionary[discord.Client, RequestPacer] = weakref.WeakKeyDictionary()


def pacer_for(client: discord.Client, rate: float | None = None) -> RequestPacer:
    """The client's one pacer, made and installed on first use (best before login).

    `rate` (requests/s) applies only then; by default the bot's
    `settings.discord.max_requests_per_second`.
    """
    found = _PACERS.get(client)
    if found is not None:
        return found
    if rate is None:
        settings = getattr(client, "settings", None)
        rate = settings.discord.max_requests_per_second if settings else DEFAULT_PACE
    pacer = RequestPacer(rate)
    pacer.install(client.http)
    _PACERS[client] = pacer
    return pacer
