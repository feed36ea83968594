"""`hotpapers demo`: the whole pipeline against built-in local fake services, offline.

It starts fake arXiv, X, Hacker News, Hugging Face and Bluesky servers on 127.0.0.1, collects
a built-in realistic day through the real arXiv client, measures attention through the real
signal sources (tweepy, aiohttp, atproto), ranks, and writes the day's post.
"""

from __future__ import annotations

from contextlib import AsyncExitStack
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path

import aiohttp
from pydantic import SecretStr
from rich.console import Console

from hotpapers import jobs, migrate
from hotpapers.arxiv import calendar
from hotpapers.config import (
    ArxivSettings,
    BlueskySettings,
    DatabaseSettings,
    DigestSettings,
    HackerNewsSettings,
    HuggingFaceSettings,
    RankingSettings,
    Settings,
    SignalsSettings,
    XSignalSettings,
)
from hotpapers.db import make_engine
from hotpapers.fakes.arxiv import FakeArxiv, generate_papers
from hotpapers.fakes.social import (
    FakeBluesky,
    FakeHF,
    FakeHN,
    generate_bluesky_posts,
    generate_hf_daily,
    generate_hn_stories,
)
from hotpapers.fakes.x import FakeX, generate_posts
from hotpapers.ranking import RankedPaper
from hotpapers.signals.base import SignalSource
from hotpapers.signals.bluesky import BlueskySource
from hotpapers.signals.embeds import refresh_embeds
from hotpapers.signals.hf import HFSource
from hotpapers.signals.hn import HNSource
from hotpapers.signals.measure import measure
from hotpapers.signals.x import XSource

DEMO_LISTING = date(2026, 11, 23)
DEMO_CATEGORIES = ["cs.LG", "cs.CV", "cs.CL", "cs.AI", "stat.ML"]
DEMO_PAPERS = 60
DEMO_TOKEN = "demo-bearer-token"  # only the local fake accepts it
DEMO_HANDLE, DEMO_PASSWORD = "demo.bsky.social", "demo-app-password"


@dataclass(slots=True)
class DemoResult:
    listing_date: date
    ranked: list[RankedPaper]
    post_path: Path
    database_url: str


@dataclass(slots=True)
class Fakes:
    arxiv: FakeArxiv
    x: FakeX
    hn: FakeHN
    hf: FakeHF
    bluesky: FakeBluesky


def demo_settings(workdir: Path, fakes: Fakes) -> Settings:
    """Settings that point at the fakes only; the user's config and environment are not read."""
    arxiv = fakes.arxiv
    return Settings.model_construct(
        database=DatabaseSettings(url=f"sqlite:///{(workdir / 'demo.db').resolve()}"),
        arxiv=ArxivSettings(
            categories=DEMO_CATEGORIES,
            rss_url=arxiv.rss_url,
            api_url=arxiv.api_url,
            oai_url=arxiv.oai_url,
            request_interval=0.2,  # allowed below 3 s only because the fake is on loopback
            contact="demo@localhost",
        ),
        signals=SignalsSettings(
            x=XSignalSettings(
                enabled=True,
                api_url=fakes.x.api_url,
                oembed_url=fakes.x.oembed_url,
                bearer_token=SecretStr(DEMO_TOKEN),
                daily_budget_usd=5.0,
            ),
            hn=HackerNewsSettings(enabled=True, api_url=fakes.hn.base_url),
            hf=HuggingFaceSettings(enabled=True, api_url=fakes.hf.base_url),
            bluesky=BlueskySettings(
                enabled=True,
                api_url=fakes.bluesky.base_url,
                handle=DEMO_HANDLE,
                app_password=SecretStr(DEMO_PASSWORD),
            ),
        ),
        ranking=RankingSettings(),
        digest=DigestSettings(posts_dir=workdir / "posts"),
    )


async def start_fakes(stack: AsyncExitStack, now: datetime) -> Fakes:
    """The built-in day: arXiv papers, and the posts, stories and upvotes that link them."""
    papers = generate_papers(DEMO_LISTING, DEMO_CATEGORIES, DEMO_PAPERS, seed=2021)
    ids = [p.record.arxiv_id for p in papers]
    since = calendar.announced_at(DEMO_LISTING)
    fakes = Fakes(
        arxiv=FakeArxiv(papers, feed_date=DEMO_LISTING),
        x=FakeX(generate_posts(ids, seed=2021, now=now, since=since, linked_fraction=0.4,
                              unrelated=200),
                bearer_token=DEMO_TOKEN, now=now),
        hn=FakeHN(generate_hn_stories(ids, seed=2021)),
        hf=FakeHF(),
        bluesky=FakeBluesky({DEMO_HANDLE: DEMO_PASSWORD}),
    )  # fmt: skip
    fakes.hf.add_daily(DEMO_LISTING, *generate_hf_daily(ids, DEMO_LISTING, seed=2021))
    fakes.bluesky.add(*generate_bluesky_posts(ids, seed=2021))
    for server in (fakes.arxiv, fakes.x, fakes.hn, fakes.hf, fakes.bluesky):
        await server.start()
        stack.push_async_callback(server.close)
    return fakes


def demo_sources(settings: Settings, http: aiohttp.ClientSession) -> list[SignalSource]:
    """The real adapters; paced faster than the public services allow, as the fakes are local."""
    signals = settings.signals
    return [
        XSource(signals.x, http),
        HNSource(signals.hn, http, rate=200.0),
        HFSource(signals.hf, http, rate=200.0),
        BlueskySource(signals.bluesky, rate=200.0),
    ]


async def run_demo(workdir: Path, *, console: Console | None = None) -> DemoResult:
    console = console or Console(stderr=True)
    workdir.mkdir(parents=True, exist_ok=True)
    (workdir / "demo.db").unlink(missing_ok=True)
    now = calendar.announced_at(DEMO_LISTING) + timedelta(hours=13)
    async with AsyncExitStack() as stack:
        fakes = await start_fakes(stack, now)
        settings = demo_settings(workdir, fakes)
        migrate.upgrade(settings.database.url)
        engine = make_engine(settings.database.url)
        console.print(
            f"fake services listening on 127.0.0.1 (arXiv at {fakes.arxiv.base_url})",
            highlight=False,
        )
        report = await jobs.collect(settings, engine, now=now)
        console.print(f"collect: {report.sentence()}", highlight=False)
        async with aiohttp.ClientSession() as http:
            for source_report in await measure(
                settings, engine, demo_sources(settings, http), now=now
            ):
                console.print(f"signals: {source_report.sentence()}", highlight=False)
            ids = [p.record.arxiv_id for p in fakes.arxiv.papers]
            embeds = await refresh_embeds(settings.signals.x, engine, http, ids, now)
            console.print(f"oembed: {embeds} posts embedded", highlight=False)
        ranked = jobs.rank(settings, engine, DEMO_LISTING, now=now)
        path = jobs.write_post(settings, engine, DEMO_LISTING, now=now)
        engine.dispose()
        return DemoResult(DEMO_LISTING, ranked, path, settings.database.url)
