"""Plumbing several stages share: the retry policy, capped and uncompressed HTTP bodies,
the Prometheus metrics, routing tweepy's requests to the configured X address (signals and
publishing both use it), failpoints for the fault suite, text helpers and progress bars. It
owns no tables and knows no stage: it may import only the base modules (`hotpapers.config`,
`errors`, `logs`).
"""
