"""Publish to the web: the static archive, a page per day and per category, its Atom
and JSON feeds and search. It may import render, ranking, arxiv, storage, plumbing and
the base modules.
"""
