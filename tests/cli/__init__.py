"""Tests of `hotpapers.cli` (and of `bot/` for tests/bot), on real parts."""
