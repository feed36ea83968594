"""/similar and /paper's Similar button, through the real discord.py client and the fake Discord."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine

from bot.client import HotpapersBot
from hotpapers.fakes.discord import FakeDiscord
from hotpapers.similar import embed_missing
from hotpapers.storage.db import transaction
from hotpapers.storage.records import PaperRecord
from hotpapers.storage.store import upsert_papers
from tests.bot.discord_support import running_bot, running_fake
from tests.bot.render_discord_thread import CHROMIUM, page_height, screenshot, thread_html

NOW = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)
PAPERS = {
    "2611.00001": ("Graph neural networks for molecules", "Message passing on molecular graphs."),
    "2611.00002": ("Molecular graph networks", "Neural message passing predicts molecule traits."),
    "2611.00003": ("Graph learning for chemistry", "Graph neural networks model molecules."),
    "2611.00004": ("Dark matter halo profiles", "N-body simulations of dark matter halos."),
    "2611.00005": ("Galaxy rotation curves", "Rotation curves constrain dark matter halos."),
    "2611.00006": ("Superconducting qubits", "Surface codes on superconducting processors."),
}


def _record(arxiv_id: str, title: str, abstract: str) -> PaperRecord:
    return PaperRecord(
        arxiv_id=arxiv_id,
        version=1,
        title=title,
        abstract=abstract,
        authors=("Ada Lovelace",),
        categories=("cs.LG",),
        primary_category="cs.LG",
        submitted=datetime(2026, 11, 19, tzinfo=UTC),
    )


@pytest.fixture
def papers(engine: Engine) -> Engine:
    """Six papers on three topics, embedded, and one more without a vector."""
    with transaction(engine) as session:
        upsert_papers(session, [_record(i, t, a) for i, (t, a) in PAPERS.items()])
    embed_missing(engine)
    with transaction(engine) as session:
        upsert_papers(session, [_record("2611.00007", "Not embedded yet", "Fresh paper.")])
    return engine


@pytest.fixture
async def fake() -> AsyncIterator[FakeDiscord]:
    async with running_fake(FakeDiscord()) as running:
        yield running


@pytest.fixture
async def bot(fake: FakeDiscord, papers: Engine) -> AsyncIterator[HotpapersBot]:
    async with running_bot(fake, papers, clock=lambda: NOW) as client:
        yield client


def _titles(embed: dict[str, object]) -> list[str]:
    return [str(f["name"]).split(". ", 1)[1] for f in embed["fields"]]  # type: ignore[attr-defined]


async def test_similar_lists_papers_on_the_same_topic_first(
    bot: HotpapersBot, fake: FakeDiscord
) -> None:
    result = await fake.send_interaction("similar", {"id": "https://arxiv.org/abs/2611.00001v2"})
    assert not result.ephemeral
    [embed] = result.embeds
    assert embed["title"].startswith("Papers like arXiv:2611.00001: Graph neural networks")
    titles = _titles(embed)
    assert set(titles[:2]) == {"Molecular graph networks", "Graph learning for chemistry"}
    assert "Graph neural networks for molecules" not in titles  # never the paper itself
    assert all(
        "similarity 0." in f["value"] or "similarity 1." in f["value"] for f in embed["fields"]
    )


@pytest.mark.parametrize(
    ("given", "sentence"),
    [
        ("2699.99999", "arXiv:2699.99999 is not in the database yet"),
        ("2611.00007", "arXiv:2611.00007 has no content vector yet"),
        ("not an id", "is not an arXiv id"),
    ],
)
async def test_similar_refuses_in_one_sentence(
    bot: HotpapersBot, fake: FakeDiscord, given: str, sentence: str
) -> None:
    result = await fake.send_interaction("similar", {"id": given})
    assert result.ephemeral
    assert sentence in result.content and "\n" not in result.content


async def test_paper_has_a_similar_button_that_lists_similar_papers(
    bot: HotpapersBot, fake: FakeDiscord, tmp_path: Path
) -> None:
    # A generous hang guard: /paper draws its chart (matplotlib) on a shared, loaded machine.
    shown = await fake.send_interaction("paper", {"id": "2611.00004"}, timeout=60)
    buttons = [c for row in shown.message["components"] for c in row["components"]]
    assert [(b["label"], b["custom_id"]) for b in buttons] == [
        ("Similar", "hp:similar:2611.00004"),
        ("Star", "hp:star:2611.00004"),
    ]
    pressed = await fake.send_interaction(
        custom_id="hp:similar:2611.00004",
        message_id=int(shown.message["id"]),
        user_id=8,
        timeout=60,
    )
    assert pressed.ephemeral  # only the person who pressed it sees the list
    [embed] = pressed.embeds
    assert _titles(embed)[0] == "Galaxy rotation curves"
    _photograph([shown.message, {**shown.message, "content": "", "embeds": [embed],
                                 "components": []}], tmp_path / "discord-similar.png")  # fmt: skip


def _photograph(messages: list[dict[str, Any]], png: Path) -> None:
    """What the user saw, drawn as Discord does (docs/screenshots/discord-similar.png is one)."""
    if CHROMIUM is None:
        return
    page = png.with_suffix(".html")
    page.write_text(thread_html(messages, "/paper, then its Similar button"), encoding="utf-8")
    screenshot(page, png, page_height(messages) + 500)
    assert png.stat().st_size > 0


async def test_nothing_close_enough_is_one_private_sentence_on_command_and_button(
    bot: HotpapersBot, fake: FakeDiscord, tmp_path: Path
) -> None:
    """The qubit paper's only neighbours are on other topics (cosine near 0): /similar and the
    Similar button say so in one sentence instead of listing five unrelated papers."""
    sentence = (
        "No stored paper is close enough to arXiv:2611.00006 by title and abstract "
        "(none reaches a similarity of 0.20)."
    )
    asked = await fake.send_interaction("similar", {"id": "2611.00006"})
    assert asked.ephemeral and asked.content == sentence and not asked.embeds
    shown = await fake.send_interaction("paper", {"id": "2611.00006"}, timeout=60)
    pressed = await fake.send_interaction(
        custom_id="hp:similar:2611.00006", message_id=int(shown.message["id"]), user_id=8
    )
    assert pressed.ephemeral and pressed.content == sentence and not pressed.embeds
    sample = tmp_path / "similar-nothing-close.html"
    sample.write_text(thread_html([asked.message], "/similar 2611.00006"), encoding="utf-8")
    assert sentence in sample.read_text("utf-8")


async def test_only_neighbours_close_enough_are_listed(
    bot: HotpapersBot, fake: FakeDiscord
) -> None:
    """The graph paper's list stops at the papers on its own topic."""
    result = await fake.send_interaction("similar", {"id": "2611.00001"})
    [embed] = result.embeds
    assert set(_titles(embed)) == {"Molecular graph networks", "Graph learning for chemistry"}
