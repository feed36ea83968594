"""What the Bluesky tests share: the papers, the account, the known posts and a source set up
for the local fake (fast pacing, short back-off)."""

from __future__ import annotations

from datetime import UTC, datetime

from pydantic import SecretStr

from hotpapers.config import BlueskySettings
from hotpapers.fakes.social import FakeBluesky, bluesky_post
from hotpapers.signals.base import PaperRef
from hotpapers.signals.bluesky import BlueskySource

A, B, C = "2611.01234", "2611.05678", "2611.09999"
NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
PAPERS = [PaperRef(i, f"Paper {i}", datetime(2026, 11, 20, 1, tzinfo=UTC)) for i in (A, B, C)]
HANDLE, PASSWORD = "hotpapers.bsky.social", "abcd-efgh-ijkl-mnop"


def known_posts() -> list[dict[str, object]]:
    alice = bluesky_post(
        "alice.bsky.social",
        "Our new paper!",
        links=[f"https://arxiv.org/abs/{A}"],
        likes=10,
        reposts=2,
        replies=1,
        quotes=1,
        rkey="3lalice0000a",
    )
    return [
        alice,
        # alice again in her thread: the same author counts once per paper (her best post)
        bluesky_post(
            "alice.bsky.social",
            "2/ details",
            links=[f"https://arxiv.org/pdf/{A}v2"],
            likes=3,
            rkey="3lalice0000b",
        ),
        # a link card only, versioned pdf
        bluesky_post(
            "bob.bsky.social",
            "Reading this",
            card=f"https://arxiv.org/pdf/{A}v1",
            likes=5,
            reposts=1,
            rkey="3lbob000000a",
        ),
        # a quote post that does not link again: its own post all the same
        bluesky_post(
            "carol.bsky.social",
            "This is great",
            quote_of=alice,
            likes=4,
            replies=2,
            rkey="3lcarol0000a",
        ),
        # mentions A but links B: counts for B only
        bluesky_post(
            "dave.bsky.social",
            f"Unlike {A}, this works:",
            links=[f"https://arxiv.org/abs/{B}"],
            likes=7,
            rkey="3ldave00000a",
        ),
        # not arXiv links: never counted
        bluesky_post(
            "erin.bsky.social",
            f"Code for {A}",
            links=[f"https://github.com/e/{A}"],
            likes=50,
            rkey="3lerin00000a",
        ),
        bluesky_post(
            "frank.bsky.social",
            f"Mirror of {A}",
            links=[f"https://notarxiv.org/abs/{A}"],
            likes=60,
            rkey="3lfrank0000a",
        ),
    ]


def source(fake: FakeBluesky, password: str | None = PASSWORD, **kwargs: object) -> BlueskySource:
    settings = BlueskySettings(
        enabled=True,
        api_url=fake.base_url,
        handle=HANDLE,
        app_password=SecretStr(password) if password is not None else None,
    )
    options: dict[str, object] = {"rate": 1000.0, "backoff": 0.01, "timeout": 5.0}
    options.update(kwargs)
    return BlueskySource(settings, **options)  # type: ignore[arg-type]
