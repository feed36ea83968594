"""Tests of `hotpapers.delivery` (and of `bot/` for tests/bot), on real parts."""
