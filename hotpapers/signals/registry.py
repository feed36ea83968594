"""Building the enabled sources from settings, each with the shared HTTP session."""

from __future__ import annotations

import aiohttp

from hotpapers.config import Settings
from hotpapers.signals.base import SignalSource


def enabled_sources(settings: Settings, session: aiohttp.ClientSession) -> list[SignalSource]:
    """Every source switched on in configuration (missing credentials are reported later,
    by the source's own `problem()`, so the user hears about each one once)."""
    signals = settings.signals
    sources: list[SignalSource] = []
    if signals.x.enabled:
        from hotpapers.signals.x import XSource

        sources.append(XSource(signals.x, session))
    if signals.bluesky.enabled:
        from hotpapers.signals.bluesky import BlueskySource

        sources.append(BlueskySource(signals.bluesky))
    if signals.hn.enabled:
        from hotpapers.signals.hn import HNSource

        reach = signals.unreachable_after
        sources.append(HNSource(signals.hn, session, unreachable_after=reach))
    if signals.hf.enabled:
        from hotpapers.signals.hf import HFSource

        reach = signals.unreachable_after
        sources.append(HFSource(signals.hf, session, unreachable_after=reach))
    return sources
