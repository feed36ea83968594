"""Local fake services (127.0.0.1 only) for tests, `hotpapers demo` and benchmarks.

One package per service, each speaking that service's real wire format: `arxiv` (RSS, export
API, OAI-PMH), `discord` (REST API v10 and the gateway), `x` (API v2 and oEmbed) and `social`
(Hacker News Algolia, Hugging Face, Bluesky). Each package's `__init__` names its entry points
(`FakeArxiv`, `FakeDiscord`, `FakeX`, `FakeHN`, ..., and the seeded `generate_*` functions);
its modules split wire format, state and routes. The server plumbing they share is
`_server.LocalServer`. A fake imports only this package and the core's plain data helpers
(ids, taxonomy, records), never a client of the service it fakes, and never discord.
"""
