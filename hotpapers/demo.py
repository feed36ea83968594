"""`hotpapers demo`: the whole pipeline against built-in local fake services, offline.

It starts a fake arXiv on 127.0.0.1, collects a built-in realistic day through the real
client, seeds the social posts that the signals stage would measure, ranks, and writes the post.
"""

from __future__ import annotations

import random
import zlib
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from rich.console import Console
from sqlalchemy import Engine

from hotpapers import jobs, migrate
from hotpapers.arxiv import calendar
from hotpapers.config import (
    ArxivSettings,
    DatabaseSettings,
    DigestSettings,
    RankingSettings,
    Settings,
)
from hotpapers.db import make_engine, transaction
from hotpapers.fakes.arxiv import FakeArxiv, FakePaper, generate_papers
from hotpapers.models import SocialPost
from hotpapers.ranking import RankedPaper
from hotpapers.store import insert_ignore

DEMO_LISTING = date(2026, 11, 23)
DEMO_CATEGORIES = ["cs.LG", "cs.CV", "cs.CL", "cs.AI", "stat.ML"]
DEMO_PAPERS = 60
_ACCOUNTS = ["ak92501", "hardmaru", "karpathy", "ylecun", "fchollet", "_akhaliq", "rasbt", "jeremyphoward"]


@dataclass(slots=True)
class DemoResult:
    listing_date: date
    ranked: list[RankedPaper]
    post_path: Path
    database_url: str


def demo_settings(workdir: Path, fake: FakeArxiv) -> Settings:
    """Settings that point at the fakes only; the user's config and environment are not read."""
    return Settings.model_construct(
        database=DatabaseSettings(url=f"sqlite:///{(workdir / 'demo.db').resolve()}"),
        arxiv=ArxivSettings(
            categories=DEMO_CATEGORIES,
            rss_url=fake.rss_url,
            api_url=fake.api_url,
            oai_url=fake.oai_url,
            request_interval=0.2,  # allowed below 3 s only because the fake is on loopback
            contact="demo@localhost",
        ),
        ranking=RankingSettings(),
        digest=DigestSettings(posts_dir=workdir / "posts"),
    )


async def run_demo(workdir: Path, *, console: Console | None = None) -> DemoResult:
    console = console or Console(stderr=True)
    workdir.mkdir(parents=True, exist_ok=True)
    (workdir / "demo.db").unlink(missing_ok=True)
    papers = generate_papers(DEMO_LISTING, DEMO_CATEGORIES, DEMO_PAPERS, seed=2021)
    fake = FakeArxiv(papers, feed_date=DEMO_LISTING)
    await fake.start()
    try:
        settings = demo_settings(workdir, fake)
        migrate.upgrade(settings.database.url)
        engine = make_engine(settings.database.url)
        now = calendar.announced_at(DEMO_LISTING) + timedelta(hours=13)
        console.print(f"fake arXiv listening on {fake.rss_url.rsplit('/', 1)[0]}", highlight=False)
        report = await jobs.collect(settings, engine, now=now)
        console.print(f"collect: {report.sentence()}", highlight=False)
        seeded = seed_demo_posts(engine, papers, taken_at=now - timedelta(minutes=5))
        console.print(f"signals: {seeded} X posts measured (demo data)", highlight=False)
        ranked = jobs.rank(settings, engine, DEMO_LISTING, now=now)
        path = jobs.write_post(settings, engine, DEMO_LISTING, now=now)
        engine.dispose()
        return DemoResult(DEMO_LISTING, ranked, path, settings.database.url)
    finally:
        await fake.close()


def seed_demo_posts(engine: Engine, papers: list[FakePaper], *, taken_at: datetime, seed: int = 7) -> int:
    """Posts that link a third of the papers: originals with heavy-tailed counts, plus retweet
    copies that carry the original's counts (ranking must not count those twice)."""
    rng = random.Random(seed)
    rows: list[dict[str, object]] = []
    for paper in rng.sample(papers, k=len(papers) // 3):
        arxiv_id = paper.record.arxiv_id
        for n in range(rng.randint(1, 4)):
            rows += _posts_for(rng, arxiv_id, paper.record.title, n, taken_at)
    with transaction(engine) as session:
        insert_ignore(session, SocialPost, rows)
    return len(rows)


def _posts_for(rng: random.Random, arxiv_id: str, title: str, n: int, taken_at: datetime) -> list[dict[str, object]]:
    handle = _ACCOUNTS[(zlib.crc32(arxiv_id.encode()) + n) % len(_ACCOUNTS)]
    post_id = str(1_860_000_000_000_000_000 + rng.randrange(10**15))
    retweets, likes = int(rng.paretovariate(1.2) * 12), int(rng.paretovariate(1.1) * 30)
    created = taken_at - timedelta(hours=rng.randint(1, 12))
    original = {
        "source": "x", "post_id": post_id, "paper_id": arxiv_id, "author_id": handle,
        "author_handle": handle, "text": f"{title} https://arxiv.org/abs/{arxiv_id}",
        "url": f"https://twitter.com/{handle}/status/{post_id}", "created_at": created,
        "reposts": retweets, "likes": likes, "is_repost": False, "taken_at": taken_at,
        "oembed_html": _oembed(handle, post_id, title, arxiv_id, created),
    }  # fmt: skip
    copy = dict(original, post_id=str(int(post_id) + 1), author_id="fan", author_handle="fan",
                is_repost=True, oembed_html=None)  # fmt: skip
    return [original, copy] if rng.random() < 0.5 else [original]


def _oembed(handle: str, post_id: str, title: str, arxiv_id: str, created: datetime) -> str:
    """An embed in the shape publish.twitter.com's oEmbed returns (the blockquote part)."""
    when = created.astimezone(UTC).strftime("%B %-d, %Y")
    return (
        f'<blockquote class="twitter-tweet"><p lang="en" dir="ltr">{_escape(title)}<br>'
        f'abs: <a href="https://arxiv.org/abs/{arxiv_id}">https://arxiv.org/abs/{arxiv_id}</a></p>'
        f"&mdash; {handle} (@{handle}) "
        f'<a href="https://twitter.com/{handle}/status/{post_id}?ref_src=twsrc%5Etfw">{when}</a></blockquote>'
    )


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
