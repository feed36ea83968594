"""Where TL;DRs are shown: the Discord thread (real courier and discord.py into the fake
Discord) and the site's day and paper pages; never the classic Markdown post. When the
endpoint failed, the same surfaces go out without TL;DRs and say nothing about it."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine
from sqlmodel import Session

from hotpapers.config import Settings
from hotpapers.delivery import plan
from hotpapers.delivery.subscriptions import subscribe
from hotpapers.fakes.discord import FakeDiscord
from hotpapers.fakes.openai import FakeOpenAI
from hotpapers.service import use_cases as jobs
from hotpapers.site.build import build_site
from hotpapers.tldr.job import summarise_day
from hotpapers.tldr.store import save_tldr
from tests.bot.discord_support import bot_settings, running_bot, running_fake
from tests.bot.render_discord_thread import CHANNEL, record_thread, thread_html
from tests.tldr.test_tldr import DAY, FAULT_DETAIL, KEY, NOW, RANKED_IDS, make_settings, seed

FIRST = (
    "The paper “Vision transformers, again” shows a simple idea that works better than expected."
)


@pytest.fixture
async def fake() -> Any:
    async with FakeOpenAI(api_key=KEY) as server:
        yield server


@pytest.fixture
def seeded(engine: Engine) -> Engine:
    seed(engine)
    subscribe(
        engine, target=f"channel:{CHANNEL}", guild_id="2000", channel_id=str(CHANNEL),
        user_id="7", kind="category", value="cs.LG",
    )  # fmt: skip
    return engine


async def discord_thread(engine: Engine, settings: Settings) -> list[dict[str, Any]]:
    """The day's thread as the fake Discord recorded it, from the delivery plan."""
    with Session(engine) as session:
        [target_plan] = plan(session, settings, DAY, NOW)
    assert [item.paper.arxiv_id for item in target_plan.papers] == RANKED_IDS
    async with running_fake(FakeDiscord(channels={CHANNEL: "papers"})) as discord_fake:
        messages = await record_thread(discord_fake, list(target_plan.papers))
        assert discord_fake.rejected == []
    return messages


def site_pages(engine: Engine, settings: Settings, out: Path) -> tuple[str, str]:
    """The day page and the first paper's page of a fresh build."""
    site = settings.site.model_copy(update={"out_dir": out})
    settings = settings.model_copy(update={"site": site})
    build_site(settings, engine, out, now=NOW)
    day = (out / DAY.isoformat() / "index.html").read_text("utf-8")
    return day, (out / "paper" / RANKED_IDS[0] / "index.html").read_text("utf-8")


async def test_the_thread_and_the_site_show_them_and_the_post_does_not(
    fake: FakeOpenAI, seeded: Engine, tmp_path: Path
) -> None:
    settings = make_settings(fake)
    await summarise_day(settings, seeded, DAY, now=NOW)
    _header, *papers, _closing = await discord_thread(seeded, settings)
    descriptions = [m["embeds"][0]["description"] for m in papers]
    assert descriptions[0].startswith(f"**TL;DR:** {FIRST}\n\nWe study vision transformers")
    assert all(d.startswith("**TL;DR:** The paper “") for d in descriptions)
    day_page, paper_page = site_pages(seeded, settings, tmp_path / "site")
    assert f'<p class="tldr" dir="auto"><strong>TL;DR</strong> {FIRST}</p>' in day_page
    assert day_page.count('class="tldr"') == 3 and FIRST in paper_page
    post = jobs.write_post(settings, seeded, DAY, now=NOW, out_dir=tmp_path / "posts")
    text = post.read_text("utf-8")
    assert "TL;DR" not in text and "simple idea" not in text


def shown(messages: list[dict[str, Any]]) -> list[tuple[Any, ...]]:
    """What a reader gets from recorded messages (no ids, no timestamps)."""
    return [(m["content"], m["embeds"], m["components"]) for m in messages]


@pytest.mark.parametrize("kind", sorted(FAULT_DETAIL))
async def test_after_a_failing_endpoint_everything_goes_out_as_without_them(
    kind: str, fake: FakeOpenAI, seeded: Engine, tmp_path: Path
) -> None:
    """The thread and the pages are exactly what they are with TL;DRs off: no trace of it."""
    off = make_settings(fake, enabled=False)
    thread_off = shown(await discord_thread(seeded, off))
    pages_off = site_pages(seeded, off, tmp_path / "off")
    fake.fail(kind, times=None, retry_after=0, delay=3.0)
    settings = make_settings(fake, request_timeout=0.5)
    report = await summarise_day(settings, seeded, DAY, now=NOW)
    assert report.failed == 3
    thread = shown(await discord_thread(seeded, settings))
    assert thread == thread_off and len(thread) == 5  # header, three papers, closing
    assert "TL;DR" not in json.dumps(thread, ensure_ascii=False)
    pages = site_pages(seeded, settings, tmp_path / "site")
    assert pages == pages_off
    assert not any('class="tldr"' in page for page in pages)


# --- /paper and /hot: the cached sentence, never a request -----------------------------------

CACHED = "Vision transformers work again when trained longer."


def cache_one(engine: Engine) -> None:
    """A TL;DR cached for the top paper only (the others have none)."""
    save_tldr(
        engine, RANKED_IDS[0], 1, CACHED, model="fake-mini", tokens=(50, 10), now=NOW
    )  # fmt: skip


async def paper_and_hot(engine: Engine, settings: Settings) -> tuple[dict[str, Any], ...]:
    """/paper on the top paper and /hot of the day, as the fake Discord recorded them."""
    async with running_fake(FakeDiscord(channels={CHANNEL: "papers"})) as discord_fake:
        bot = bot_settings(discord_fake)
        chosen = bot.model_copy(update={"arxiv": settings.arxiv, "tldr": settings.tldr})
        async with running_bot(discord_fake, engine, chosen, clock=lambda: NOW):
            paper = await discord_fake.send_interaction("paper", {"id": RANKED_IDS[0]}, timeout=60)
            hot = await discord_fake.send_interaction("hot", {"date": DAY.isoformat()})
    return paper.message, hot.message


async def test_paper_and_hot_show_the_cached_tldr_and_ask_nothing(
    fake: FakeOpenAI, seeded: Engine, tmp_path: Path
) -> None:
    """With [tldr] on, /paper opens with the cached sentence and /hot's entry has it; a paper
    without one shows none; the endpoint is never asked from a slash command."""
    cache_one(seeded)
    paper, hot = await paper_and_hot(seeded, make_settings(fake))
    assert fake.requests == []
    description = paper["embeds"][0]["description"]
    abstract = "We study vision transformers, again and find that it works. It scales, too."
    assert description == f"**TL;DR:** {CACHED}\n\n{abstract}"
    entries = [field["value"] for field in hot["embeds"][0]["fields"]]
    assert f"\n**TL;DR:** {CACHED}\n" in entries[0]
    assert not any("TL;DR" in entry for entry in entries[1:])
    sample = tmp_path / "paper-and-hot-tldr.html"
    sample.write_text(thread_html([paper, hot], "/paper, then /hot"), encoding="utf-8")


async def test_paper_and_hot_are_unchanged_with_tldr_off(fake: FakeOpenAI, seeded: Engine) -> None:
    """A sentence cached earlier is not shown once [tldr] is off: the answers are exactly
    those of a database without it."""
    off = make_settings(fake, enabled=False)
    before = [shown([m]) for m in await paper_and_hot(seeded, off)]
    cache_one(seeded)
    after = [shown([m]) for m in await paper_and_hot(seeded, off)]
    assert after == before and "TL;DR" not in json.dumps(after, ensure_ascii=False)


async def test_the_thread_and_the_site_show_none_with_tldr_off(
    fake: FakeOpenAI, seeded: Engine, tmp_path: Path
) -> None:
    """Turning [tldr] off hides sentences made while it was on, everywhere /paper and /hot
    already hide them: the day's thread and the site are those of a database without them."""
    off = make_settings(fake, enabled=False)
    thread_before = shown(await discord_thread(seeded, off))
    pages_before = site_pages(seeded, off, tmp_path / "before")
    cache_one(seeded)
    assert shown(await discord_thread(seeded, off)) == thread_before
    assert site_pages(seeded, off, tmp_path / "after") == pages_before
