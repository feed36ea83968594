"""Tests of `hotpapers.site` (and of `bot/` for tests/bot), on real parts."""
