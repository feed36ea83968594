"""The lifecycle every local fake shares: serve an aiohttp app on 127.0.0.1, stop, async with."""

from __future__ import annotations

from typing import Self

from aiohttp import web


class LocalServer:
    """Subclasses build their routes in `make_app()`; `start()` returns the base URL."""

    prefix = ""  # the API's base path under the address, e.g. "/xrpc"
    address = ""
    _runner: web.AppRunner | None = None

    @property
    def base_url(self) -> str:
        return self.address + self.prefix

    def make_app(self) -> web.Application:
        raise NotImplementedError

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> str:
        """Listen on `host:port` (0 = any free port) and return the base URL."""
        runner = web.AppRunner(
            self.make_app(), handler_cancellation=True, shutdown_timeout=1.0, access_log=None
        )
        await runner.setup()
        await web.TCPSite(runner, host, port).start()
        self._runner = runner
        self.address = f"http://{host}:{runner.addresses[0][1]}"
        return self.base_url

    async def close(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()
