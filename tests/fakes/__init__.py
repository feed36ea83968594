"""Tests of `hotpapers.fakes` (and of `bot/` for tests/bot), on real parts."""
