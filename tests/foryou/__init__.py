"""Tests of `hotpapers.foryou` (and of `bot/` for tests/bot), on real parts."""
