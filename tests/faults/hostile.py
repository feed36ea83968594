"""A local HTTP server that misbehaves on purpose, for `test_hostile_servers.py`.

Every path answers with the `answer` currently chosen (XXE, billion laughs, gzip bomb, a body
that trickles, an HTML error page, 429 with Retry-After, 500, a truncated or malformed
document, an empty body), shaped as XML or JSON as the client under test expects. `/canary`
is the loopback target of the XXE-by-URL answer: a client that resolves the entity fetches
it, and `canary_hits` counts that.
"""

from __future__ import annotations

import asyncio
import functools
import json
import zlib
from dataclasses import dataclass
from typing import Literal

from aiohttp import web

from hotpapers.fakes._server import LocalServer

Shape = Literal["xml", "json"]

BOMB_EXPANDED = 200 * 1024 * 1024
"""What the gzip bomb expands to: far past every client's cap, small enough that a client
that does read it all cannot take the machine down."""
TRICKLE_EVERY = 0.1  # seconds between two bytes of the slow body
TRICKLE_FOR = 60.0  # the slow body gives up after this long (every client must stop sooner)
ONE_DAY = 86_400

ANSWERS = (
    "xxe_file", "xxe_url", "billion_laughs", "gzip_bomb", "slow_body", "html_200", "html_503",
    "retry_after_short", "retry_after_day", "http_500", "truncated", "malformed_json",
    "empty_body",
)  # fmt: skip
XML_ONLY = frozenset({"xxe_file", "xxe_url", "billion_laughs"})
JSON_ONLY = frozenset({"malformed_json"})

_ATOM = (
    '<?xml version="1.0" encoding="UTF-8"?>\n'
    '<feed xmlns="http://www.w3.org/2005/Atom" '
    'xmlns:opensearch="http://a9.com/-/spec/opensearch/1.1/">\n'
    "<title>ArXiv Query</title><opensearch:totalResults>1</opensearch:totalResults>\n"
    "<entry><id>http://arxiv.org/abs/2611.00001v1</id><title>{title}</title>"
    "<summary>An abstract that goes on and on about results.</summary>"
    "<author><name>Ada Lovelace</name></author></entry>\n</feed>\n"
)
_JSON = (
    '{"hits": [{"objectID": "1", "title": "A paper", "url": "https://arxiv.org/abs/2611.00001",'
    ' "points": 10, "num_comments": 2}], "nbPages": 1, "page": 0, "data": []}'
)
_HTML = (
    "<!DOCTYPE html><html><head><title>Service Unavailable</title></head>"
    "<body><h1>Oops</h1><p>Something went wrong; our engineers are on it.</p></body></html>"
)
_LAUGHS = (
    '<?xml version="1.0"?>\n<!DOCTYPE lolz [\n<!ENTITY lol "lol">\n'
    + "".join(
        f'<!ENTITY lol{n} "{("&lol" + (str(n - 1) if n > 1 else "") + ";") * 10}">\n'
        for n in range(1, 10)
    )
    + "]>\n"
)


@functools.cache
def gzip_bomb() -> bytes:
    """BOMB_EXPANDED bytes of spaces, gzip-compressed (about 200 KB)."""
    packer = zlib.compressobj(9, zlib.DEFLATED, 31)
    chunk = b" " * (1024 * 1024)
    parts = [packer.compress(chunk) for _ in range(BOMB_EXPANDED // len(chunk))]
    return b"".join(parts) + packer.flush()


def xxe_document(system_id: str) -> bytes:
    """An Atom feed whose title is an external entity pointing at `system_id`."""
    head = f'<?xml version="1.0"?>\n<!DOCTYPE feed [<!ENTITY xxe SYSTEM "{system_id}">]>\n'
    return (head + _ATOM.split("\n", 1)[1].format(title="&xxe;")).encode()


def laughs_document() -> bytes:
    return (_LAUGHS + _ATOM.split("\n", 1)[1].format(title="&lol9;")).encode()


def whole_document(shape: Shape) -> bytes:
    return (_ATOM.format(title="A paper") if shape == "xml" else _JSON).encode()


@dataclass
class HostileServer(LocalServer):
    """Answers every request with `answer`, as `shape`; counts requests and canary hits."""

    answer: str = "http_500"
    shape: Shape = "json"
    secret_path: str = ""  # the local file the XXE-by-file answer points at
    requests: int = 0
    canary_hits: int = 0

    @property
    def canary_url(self) -> str:
        return f"{self.address}/canary"

    def make_app(self) -> web.Application:
        app = web.Application()
        app.router.add_route("*", "/canary", self._canary)
        app.router.add_route("*", "/{tail:.*}", self._answer)
        return app

    async def _canary(self, request: web.Request) -> web.Response:
        self.canary_hits += 1
        return web.Response(text="CANARY-FETCHED")

    @property
    def _type(self) -> str:
        return "application/atom+xml" if self.shape == "xml" else "application/json"

    async def _answer(self, request: web.Request) -> web.StreamResponse:
        self.requests += 1
        await request.read()
        handler = getattr(self, f"_{self.answer}")
        response: web.StreamResponse = await handler(request)
        return response

    def _body(
        self, body: bytes, status: int = 200, headers: dict[str, str] | None = None
    ) -> web.Response:
        return web.Response(body=body, status=status, headers={"Content-Type": self._type,
                                                               **(headers or {})})  # fmt: skip

    async def _xxe_file(self, request: web.Request) -> web.Response:
        return self._body(xxe_document(f"file://{self.secret_path}"))

    async def _xxe_url(self, request: web.Request) -> web.Response:
        return self._body(xxe_document(self.canary_url))

    async def _billion_laughs(self, request: web.Request) -> web.Response:
        return self._body(laughs_document())

    async def _gzip_bomb(self, request: web.Request) -> web.Response:
        return self._body(gzip_bomb(), headers={"Content-Encoding": "gzip"})

    async def _slow_body(self, request: web.Request) -> web.StreamResponse:
        whole = whole_document(self.shape)
        response = web.StreamResponse(headers={"Content-Type": self._type})
        response.content_length = len(whole) + int(TRICKLE_FOR / TRICKLE_EVERY)
        await response.prepare(request)
        loop = asyncio.get_running_loop()
        end = loop.time() + TRICKLE_FOR
        try:
            await response.write(whole[:-1])
            while loop.time() < end:
                await response.write(b" ")
                await asyncio.sleep(TRICKLE_EVERY)
        except (ConnectionError, RuntimeError):
            pass  # the client gave up, as it should
        return response

    async def _html_200(self, request: web.Request) -> web.Response:
        return self._body(_HTML.encode(), headers={"Content-Type": "text/html; charset=utf-8"})

    async def _html_503(self, request: web.Request) -> web.Response:
        return self._body(_HTML.encode(), 503, {"Content-Type": "text/html; charset=utf-8"})

    def _too_many(self, seconds: int) -> web.Response:
        # Discord reads its wait from the JSON body; everyone else from the header.
        body = json.dumps({"message": "You are being rate limited.", "retry_after": seconds,
                           "global": False})  # fmt: skip
        headers = {"Retry-After": str(seconds), "Content-Type": "application/json"}
        return self._body(body.encode(), 429, headers)

    async def _retry_after_short(self, request: web.Request) -> web.Response:
        return self._too_many(1)

    async def _retry_after_day(self, request: web.Request) -> web.Response:
        return self._too_many(ONE_DAY)

    async def _http_500(self, request: web.Request) -> web.Response:
        return self._body(b"Internal Server Error", 500, {"Content-Type": "text/plain"})

    async def _truncated(self, request: web.Request) -> web.Response:
        whole = whole_document(self.shape)
        return self._body(whole[: len(whole) // 2])

    async def _malformed_json(self, request: web.Request) -> web.Response:
        return self._body(b"{'hits': [1, 2,, ], nbPages: one}")

    async def _empty_body(self, request: web.Request) -> web.Response:
        return self._body(b"")
