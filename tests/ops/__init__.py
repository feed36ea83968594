"""Tests of `hotpapers.ops` (and of `bot/` for tests/bot), on real parts."""
