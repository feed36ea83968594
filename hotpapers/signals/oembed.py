"""Embeddable post markup from X's oEmbed endpoint (free, no auth, not rate limited).

`fetch_oembed` asks `GET {oembed_url}?url=<post url>&omit_script=true&dnt=true` and returns
the blockquote markup or None (any failure is logged, never raised). The caller stores the
html in `SocialPost.oembed_html` and `oembed_expiry(...)` in `SocialPost.oembed_expires`.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import aiohttp

from hotpapers.plumbing.uncompressed import UNCOMPRESSED

__all__ = ["DEFAULT_CACHE_AGE", "OEmbed", "fetch_oembed", "oembed_expiry"]

log = logging.getLogger(__name__)

DEFAULT_CACHE_AGE = 86_400  # seconds, when the answer names no usable cache_age
MAX_CACHE_AGE = 3_153_600_000  # what X sends (~100 years); larger values are capped to it


@dataclass(frozen=True, slots=True)
class OEmbed:
    html: str
    cache_age: int  # seconds the html may be cached
    author_name: str = ""


async def fetch_oembed(
    session: aiohttp.ClientSession,
    oembed_url: str,
    post_url: str,
    *,
    timeout: float = 15.0,
) -> OEmbed | None:
    """The oEmbed markup of `post_url`, or None when it cannot be had (logged)."""
    params = {"url": post_url, "omit_script": "true", "dnt": "true"}
    try:
        async with session.get(
            oembed_url, params=params, timeout=aiohttp.ClientTimeout(total=timeout), **UNCOMPRESSED
        ) as response:
            body = await response.text()
            if response.status != 200:
                log.warning(
                    "oembed: HTTP %s for %s: %s", response.status, post_url, body[:200].strip()
                )
                return None
    except (TimeoutError, aiohttp.ClientError, ValueError) as exc:
        log.warning("oembed: request for %s failed: %r", post_url, exc)
        return None
    try:
        payload: Any = json.loads(body)
    except ValueError as exc:
        log.warning("oembed: malformed JSON for %s (%s): %r", post_url, exc, body[:200])
        return None
    if not isinstance(payload, dict) or not isinstance(payload.get("html"), str):
        log.warning("oembed: no html in the answer for %s: %r", post_url, body[:200])
        return None
    html = payload["html"].strip()
    if not html:
        log.warning("oembed: empty html for %s", post_url)
        return None
    return OEmbed(
        html=html,
        cache_age=_cache_age(payload.get("cache_age")),
        author_name=str(payload.get("author_name") or ""),
    )


def _cache_age(value: object) -> int:
    try:
        seconds = int(str(value))
    except ValueError:
        return DEFAULT_CACHE_AGE
    if seconds <= 0:
        return DEFAULT_CACHE_AGE
    return min(seconds, MAX_CACHE_AGE)


def oembed_expiry(fetched_at: datetime, cache_age: int) -> datetime:
    """When html fetched at `fetched_at` stops being fresh: fetched_at + cache_age (capped)."""
    return fetched_at + timedelta(seconds=min(max(cache_age, 0), MAX_CACHE_AGE))
