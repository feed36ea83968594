"""Tests of `hotpapers.similar` (and of `bot/` for tests/bot), on real parts."""
