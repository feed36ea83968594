"""`hotpapers demo`: the whole pipeline against built-in local fake services, offline.

It starts fake arXiv, X, Hacker News, Hugging Face and Bluesky servers on 127.0.0.1, collects
a built-in realistic day through the real arXiv client, measures attention through the real
signal sources (tweepy, aiohttp, atproto), ranks, writes the day's post, builds the site,
delivers the day to a fake Discord through the bot (shown in the terminal) and shows the X
summary a dry run would post. Each stage has its progress bar on a terminal.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AsyncExitStack
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path

import aiohttp
from pydantic import SecretStr
from rich.console import Console
from rich.panel import Panel
from rich.text import Text
from sqlalchemy import Engine

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
from hotpapers.demo.discord_step import deliver_to_fake, find_delivery, show_messages
from hotpapers.fakes.arxiv import FakeArxiv, generate_papers
from hotpapers.fakes.openai import FakeOpenAI
from hotpapers.fakes.social import (
    FakeBluesky,
    FakeHF,
    FakeHN,
    generate_bluesky_posts,
    generate_hf_daily,
    generate_hn_stories,
)
from hotpapers.fakes.x import FakeX, generate_posts
from hotpapers.plumbing.progress import Stages
from hotpapers.publish.x import XPostReport, publish_daily
from hotpapers.ranking.scoring import RankedPaper
from hotpapers.service import use_cases as jobs
from hotpapers.signals.base import SignalSource
from hotpapers.signals.bluesky import BlueskySource
from hotpapers.signals.embeds import refresh_embeds
from hotpapers.signals.hf import HFSource
from hotpapers.signals.hn import HNSource
from hotpapers.signals.measure import measure
from hotpapers.signals.x import XSource
from hotpapers.site.build import build_site
from hotpapers.storage import migrate
from hotpapers.storage.db import make_engine
from hotpapers.tldr.job import summarise_day
from hotpapers.tldr.settings import TldrSettings

DEMO_LISTING = date(2026, 11, 23)
DEMO_CATEGORIES = ["cs.LG", "cs.CV", "cs.CL", "cs.AI", "stat.ML"]
DEMO_PAPERS = 60
DEMO_TOKEN = "demo-bearer-token"  # only the local fake accepts it
DEMO_HANDLE, DEMO_PASSWORD = "demo.bsky.social", "demo-app-password"
DEMO_OPENAI_KEY = "demo-openai-key"


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
    openai: FakeOpenAI


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
        tldr=TldrSettings(
            enabled=True,
            base_url=fakes.openai.base_url,
            model="fake-mini",
            api_key=SecretStr(DEMO_OPENAI_KEY),
        ),
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
        openai=FakeOpenAI(api_key=DEMO_OPENAI_KEY),
    )  # fmt: skip
    fakes.hf.add_daily(DEMO_LISTING, *generate_hf_daily(ids, DEMO_LISTING, seed=2021))
    fakes.bluesky.add(*generate_bluesky_posts(ids, seed=2021))
    for server in (fakes.arxiv, fakes.x, fakes.hn, fakes.hf, fakes.bluesky, fakes.openai):
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


STAGES = ("collect", "signals", "rank", "tldr", "post", "site", "discord", "x")


async def run_demo(
    workdir: Path,
    *,
    console: Console | None = None,
    show_ranking: Callable[[date, list[RankedPaper]], None] | None = None,
) -> DemoResult:
    """The whole pipeline, a progress bar per stage; each stage's result on `console`."""
    console = console or Console(stderr=True)
    workdir.mkdir(parents=True, exist_ok=True)
    (workdir / "demo.db").unlink(missing_ok=True)
    now = calendar.announced_at(DEMO_LISTING) + timedelta(hours=13)
    async with AsyncExitStack() as stack:
        fakes = await start_fakes(stack, now)
        settings = demo_settings(workdir, fakes)
        migrate.upgrade(settings.database.url)
        engine = make_engine(settings.database.url)
        stack.callback(engine.dispose)
        say = Say(console)
        say(f"fake services listening on 127.0.0.1 (arXiv at {fakes.arxiv.base_url})")
        stages = stack.enter_context(Stages(STAGES))
        with stages.stage("collect"):
            report = await jobs.collect(settings, engine, now=now)
        say(f"collect: {report.sentence()}")
        with stages.stage("signals"):
            await measure_signals(settings, engine, fakes, now, say)
        with stages.stage("rank"):
            ranked = jobs.rank(settings, engine, DEMO_LISTING, now=now)
        if show_ranking is not None:
            show_ranking(DEMO_LISTING, ranked)
        with stages.stage("tldr"):
            tldrs = await summarise_day(settings, engine, DEMO_LISTING, now=now)
        say(f"tldr: {tldrs.sentence()}")
        with stages.stage("post"):
            path = jobs.write_post(settings, engine, DEMO_LISTING, now=now)
        say(f"post written to {path}")
        with stages.stage("site"):
            site = build_site(settings, engine, workdir / "site", now=now)
        show_site(say, site.out_dir)
        with stages.stage("discord"):
            await show_discord(settings, engine, now, console)
        with stages.stage("x"):
            x_report = await publish_daily(settings, engine, DEMO_LISTING, dry_run=True, now=now)
        show_x(console, x_report)
        return DemoResult(DEMO_LISTING, ranked, path, settings.database.url)


class Say:
    """A line of plain text: what the demo prints is data, never rich markup."""

    def __init__(self, console: Console) -> None:
        self.console = console

    def __call__(self, line: str) -> None:
        self.console.print(line, markup=False, highlight=False)


async def measure_signals(
    settings: Settings, engine: Engine, fakes: Fakes, now: datetime, say: Say
) -> None:
    async with aiohttp.ClientSession() as http:
        for source_report in await measure(settings, engine, demo_sources(settings, http), now=now):
            say(f"signals: {source_report.sentence()}")
        ids = [p.record.arxiv_id for p in fakes.arxiv.papers]
        embeds = await refresh_embeds(settings.signals.x, engine, http, ids, now)
        say(f"oembed: {embeds} posts embedded")


def show_site(say: Say, out_dir: Path) -> None:
    say(f"site built: {(out_dir / 'index.html').resolve().as_uri()}")
    say(f"  to browse it over HTTP: hotpapers site serve --out {out_dir}")


async def show_discord(settings: Settings, engine: Engine, now: datetime, console: Console) -> None:
    deliver = find_delivery()
    if deliver is None:
        console.print("discord: skipped (the bot package is not installed)", highlight=False)
        return
    messages, where = await deliver_to_fake(deliver, settings, engine, DEMO_LISTING, now)
    console.rule(Text(f"discord: what the bot posted to a fake server ({len(messages)} messages)"))
    show_messages(console, messages, where)


def show_x(console: Console, report: XPostReport) -> None:
    console.rule(Text("x: the daily summary (dry run: no credentials, nothing sent)"))
    console.print(f"x: {report.sentence()}", markup=False, highlight=False)
    for number, text in enumerate(report.texts, 1):
        title = Text(f"X post {number}/{len(report.texts)}")
        panel = Panel(Text(text), title=title, title_align="left", expand=False)
        console.print(panel, soft_wrap=False)
