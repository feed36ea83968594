"""Tests of `hotpapers.cluster` (and of `bot/` for tests/bot), on real parts."""
