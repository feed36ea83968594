"""Tests of `hotpapers.demo` (and of `bot/` for tests/bot), on real parts."""
