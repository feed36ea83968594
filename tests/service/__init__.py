"""Tests of `hotpapers.service` (and of `bot/` for tests/bot), on real parts."""
