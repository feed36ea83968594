"""Tests of `hotpapers.bot` (and of `bot/` for tests/bot), on real parts."""
