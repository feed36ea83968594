"""Tests of `hotpapers.arxiv` (and of `bot/` for tests/bot), on real parts."""
