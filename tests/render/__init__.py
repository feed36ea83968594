"""Tests of `hotpapers.render` (and of `bot/` for tests/bot), on real parts."""
