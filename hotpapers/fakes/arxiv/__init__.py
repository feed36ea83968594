"""A local fake arXiv (aiohttp.web on 127.0.0.1) speaking the real wire formats.

Used by the tests, by `hotpapers demo` and by the benchmarks. It serves

* `GET /rss/{cats}` - rss.arxiv.org's RSS 2.0 feed of the listing `feed_date` (ETag, 304),
* `GET|POST /api/query` - the export API (`id_list`, `search_query`, paging, sorting),
* `GET|POST /oai` - OAI-PMH `ListRecords` with `arXivRaw` metadata and resumption tokens,

records every request (`requests`, `max_in_flight`) and injects faults into the next requests
(`fail_next`, `slow_next`, `truncate_next`, `disconnect_next`, `empty_page_next`,
`html_error_next`, `redirect_next`, `gzip_bomb_next`).

Modules: `state` (papers, recorded requests, faults), `query` (the export API's search_query
and the feeds' filters), `server` (FakeArxiv: routes and fault injection), `wire` (the Atom,
RSS and OAI-PMH bodies), `generate` (realistic made-up papers).
"""

from __future__ import annotations

from hotpapers.fakes.arxiv.generate import generate_papers, generate_past_day
from hotpapers.fakes.arxiv.server import FakeArxiv
from hotpapers.fakes.arxiv.state import FakePaper, Fault, RecordedRequest

__all__ = [
    "FakeArxiv",
    "FakePaper",
    "Fault",
    "RecordedRequest",
    "generate_papers",
    "generate_past_day",
]
