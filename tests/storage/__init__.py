"""Tests of `hotpapers.storage` (and of `bot/` for tests/bot), on real parts."""
