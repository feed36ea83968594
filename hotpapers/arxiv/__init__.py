"""Collect: arXiv identifiers, taxonomy and the announcement calendar (pure), the listing
and OAI parsers, the polite client, which categories are collected, and the import of
the Kaggle snapshot. It may import storage, plumbing and the base modules.
"""
