"""Tests of `hotpapers.tldr` (and of `bot/` for tests/bot), on real parts."""
