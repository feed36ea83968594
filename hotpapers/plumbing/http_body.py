"""Reading an HTTP body with a cap that holds while it is decompressed.

A few kilobytes of gzip can expand to gigabytes ("gzip bomb"); aiohttp decompresses as it
reads, so the cap must be checked chunk by chunk, not on the finished body. The arXiv client
and the JSON clients of the social sources share this.
"""

from __future__ import annotations

import aiohttp

_CHUNK = 1 << 16


class BodyTooLarge(Exception):
    """The decompressed body passed `limit` bytes; reading stopped there."""

    def __init__(self, limit: int) -> None:
        super().__init__(f"over the {limit // 2**20} MB limit once decompressed")
        self.limit = limit


async def read_capped(response: aiohttp.ClientResponse, limit: int) -> bytes:
    """The body (decompressed), or BodyTooLarge as soon as it grows past `limit` bytes."""
    body = bytearray()
    async for chunk in response.content.iter_chunked(_CHUNK):
        body += chunk
        if len(body) > limit:
            raise BodyTooLarge(limit)
    return bytes(body)
