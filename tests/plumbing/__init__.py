"""Tests of `hotpapers.plumbing` (and of `bot/` for tests/bot), on real parts."""
