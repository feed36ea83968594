"""Tests of `hotpapers.publish` (and of `bot/` for tests/bot), on real parts."""
