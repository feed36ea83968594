"""Tests of `hotpapers.signals` (and of `bot/` for tests/bot), on real parts."""
