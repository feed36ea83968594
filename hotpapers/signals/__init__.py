"""Measure: one module per social source (X, Bluesky, Hacker News, Hugging Face) behind
the `SignalSource` Protocol, embeds, and the measuring use-case that stores snapshots.
It may import arxiv, storage, plumbing and the base modules.
"""
