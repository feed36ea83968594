"""Optional one-sentence TL;DRs of the day's top papers from an OpenAI-compatible endpoint.

Owns: its settings (`settings`), the prompt and the checks an answer must pass (`text`), the
HTTP client (`client`, on the shared retry policy and capped reads), the per-version cache
(`store`, the `tldr` table) and the use-case that fills it for a listing under the daily
requests/spend cap (`job`). It may import the storage, ranking and shared HTTP plumbing; the
surfaces (Discord, the site) only read the cache through `store`. Nothing here is imported by
`hotpapers.config` except `settings`, so this `__init__` imports nothing.
"""
