"""Ranking: loading a day's candidates, scoring and ordering them (pure functions), the
classic profile, papers rising from earlier days, trending over a week or a month and the
weekly digest's choice, and why a ranking is empty. It may import storage, arxiv, plumbing
and the base modules; never render, publish, delivery or the entry points.
"""
