"""Sending tweepy's requests to the configured X API address (the local fake in tests and the
demo, a proxy in production): shared by X signals and X publishing, so neither reaches into the
other."""

from __future__ import annotations

import aiohttp
from yarl import URL

TWEEPY_HOSTS = frozenset({"api.twitter.com", "api.x.com"})


def route_middleware(api_url: str) -> aiohttp.ClientMiddlewareType:
    """A client middleware sending tweepy's api.twitter.com requests to `api_url`."""
    base = URL(api_url)
    prefix = base.raw_path.rstrip("/")

    async def route(
        request: aiohttp.ClientRequest, handler: aiohttp.ClientHandlerType
    ) -> aiohttp.ClientResponse:
        if request.url.host in TWEEPY_HOSTS and request.url.host != base.host:
            target = URL.build(
                scheme=base.scheme,
                host=base.raw_host or "",
                port=base.explicit_port,
                path=prefix + request.url.raw_path,
                query_string=request.url.raw_query_string,
                encoded=True,
            )
            request.url = target
            port = f":{target.explicit_port}" if target.explicit_port else ""
            request.headers["Host"] = f"{target.raw_host}{port}"
        return await handler(request)

    return route
