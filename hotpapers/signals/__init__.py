"""Measure: one module or package per social source (packages `x` and `bluesky`, modules `hn`
and `hf`) behind the `SignalSource` Protocol, embeds, and the measuring use-case that stores
snapshots. It may import arxiv, storage, plumbing and the base modules.
"""
