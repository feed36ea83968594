"""Publish: the post written to disk and the daily summary on X (text, client, budget).
It may import render, ranking, signals, arxiv, storage, plumbing and the base modules.
"""

from hotpapers.publish.files import write_post

__all__ = ["write_post"]
