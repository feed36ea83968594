"""Tests of `hotpapers.ranking` (and of `bot/` for tests/bot), on real parts."""
