"""Tests of `hotpapers.signals.bluesky`: the real atproto SDK (httpx) against the local fake
XRPC server."""
