"""⭐ under /paper, reactions as likes, /foryou and /forget-me: the real discord.py client
logged into the fake Discord, on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine
from sqlmodel import Session, select

from bot.client import HotpapersBot
from hotpapers import foryou
from hotpapers.fakes.discord import FakeDiscord
from hotpapers.storage.db import transaction
from hotpapers.storage.models import Delivery, PaperReaction, PaperStar
from hotpapers.storage.store import upsert_papers
from tests.bot.discord_support import running_bot, running_fake
from tests.bot.render_discord_thread import CHROMIUM
from tests.bot.render_foryou import render
from tests.foryou.test_foryou import NOW, _add_papers, _rows_naming, _subscribe, vectors

ME, OTHER = 424242424242, 818181818181


@pytest.fixture
async def fake() -> AsyncIterator[FakeDiscord]:
    async with running_fake(FakeDiscord()) as running:
        yield running


@pytest.fixture
async def bot(fake: FakeDiscord, engine: Engine) -> AsyncIterator[HotpapersBot]:
    _add_papers(engine)
    async with running_bot(fake, engine, clock=lambda: NOW) as client:
        client.vectors = vectors
        yield client


def _buttons(message: dict[str, Any]) -> list[dict[str, Any]]:
    return [c for row in message.get("components") or [] for c in row["components"]]


def _stars(engine: Engine) -> list[tuple[str, str]]:
    with Session(engine) as session:
        return [(s.user_id, s.paper_id) for s in session.exec(select(PaperStar)).all()]


async def test_the_star_under_paper_toggles_and_survives_a_restart(
    bot: HotpapersBot, fake: FakeDiscord, engine: Engine
) -> None:
    """⭐ stars the paper for whoever presses it (privately confirmed), again takes it back;
    the button is persistent: a new bot process answers it on the old message."""
    shown = await fake.send_interaction("paper", {"id": "2610.00001"}, user_id=ME)
    [_similar, star] = _buttons(shown.message)  # Similar (tests/bot/test_bot_similar.py), ⭐ Star
    assert star["custom_id"] == "hp:star:2610.00001" and star["label"] == "Star"
    message_id = int(shown.message["id"])

    pressed = await fake.send_interaction(
        custom_id=star["custom_id"], message_id=message_id, user_id=ME
    )
    assert pressed.ephemeral and pressed.content.startswith("Starred arXiv:2610.00001.")
    assert _stars(engine) == [(str(ME), "2610.00001")]
    other = await fake.send_interaction(
        custom_id=star["custom_id"], message_id=message_id, user_id=OTHER
    )
    assert other.ephemeral and sorted(_stars(engine)) == sorted(
        [(str(ME), "2610.00001"), (str(OTHER), "2610.00001")]
    )

    await bot.close()
    async with running_bot(fake, engine, clock=lambda: NOW):
        again = await fake.send_interaction(
            custom_id=star["custom_id"], message_id=message_id, user_id=ME
        )
    assert again.content == "Took your star back from arXiv:2610.00001."
    assert _stars(engine) == [(str(OTHER), "2610.00001")]


async def test_foryou_without_history_says_how_to_get_picks(
    bot: HotpapersBot, fake: FakeDiscord
) -> None:
    result = await fake.send_interaction("foryou", {}, user_id=ME)
    assert result.ephemeral
    assert result.content == foryou.NO_HISTORY and not result.embeds


async def test_foryou_shows_picks_with_reasons_only_to_the_user(
    bot: HotpapersBot, fake: FakeDiscord, engine: Engine
) -> None:
    foryou.toggle_star(engine, ME, "2610.00001", NOW)
    _subscribe(engine, ME, "keyword", "diffusion")
    result = await fake.send_interaction("foryou", {}, user_id=ME)
    assert result.ephemeral and fake.rejected == []
    [embed] = result.embeds
    assert embed["title"] == "For you · new in the last 7 days"
    names = [field["name"] for field in embed["fields"]]
    assert names[0] in ("1. Recent vision paper", "1. Another recent vision paper")
    values = {field["name"].split(". ", 1)[1]: field["value"] for field in embed["fields"]}
    assert values["Recent graphs paper on diffusion"].startswith(
        "matches your keyword “diffusion”\n`cs.LG` · [abs]("
    )
    assert values["Recent vision paper"].startswith("like 2610.00001 you starred\n")
    assert "Only you can see this" in embed["footer"]["text"]


async def _paper_message(bot: HotpapersBot, engine: Engine, paper_id: str) -> dict[str, Any]:
    """A message of ours in channel 3000 that the ledger says shows `paper_id`."""
    channel = bot.get_partial_messageable(3000)
    sent = await channel.send(f"https://arxiv.org/abs/{paper_id}")
    with transaction(engine) as session:
        session.add(
            Delivery(
                target="channel:3000",
                listing_date=NOW.date(),
                paper_id=paper_id,
                state="sent",
                message_id=str(sent.id),
                channel_id="3000",
            )
        )
    return {"id": str(sent.id), "channel_id": "3000"}


def _reaction(fake: FakeDiscord, message: dict[str, Any], user: int, emoji: str) -> dict[str, Any]:
    return {
        "user_id": str(user),
        "channel_id": message["channel_id"],
        "message_id": message["id"],
        "message_author_id": str(fake.application_id),
        "guild_id": str(fake.guild_id),
        "emoji": {"id": None, "name": emoji},
        "type": 0,
        "burst": False,
    }


async def _reactions(engine: Engine, expected: int) -> list[PaperReaction]:
    for _ in range(100):
        with Session(engine) as session:
            found = list(session.exec(select(PaperReaction)).all())
        if len(found) == expected:
            return found
        await asyncio.sleep(0.05)
    raise AssertionError(f"expected {expected} reactions, found {found}")


async def test_a_reaction_on_a_paper_message_is_a_like_until_taken_back(
    bot: HotpapersBot, fake: FakeDiscord, engine: Engine
) -> None:
    message = await _paper_message(bot, engine, "2610.00002")
    fake.react(message["id"], "🔥", ME)
    await fake.dispatch("MESSAGE_REACTION_ADD", _reaction(fake, message, ME, "🔥"))
    await fake.dispatch("MESSAGE_REACTION_ADD", _reaction(fake, message, fake.application_id, "🔥"))
    [stored] = await _reactions(engine, 1)
    assert (stored.user_id, stored.paper_id) == (str(ME), "2610.00002")
    result = await fake.send_interaction("foryou", {}, user_id=ME)
    first = result.embeds[0]["fields"][0]
    assert first["name"] == "1. Recent language paper"
    assert first["value"].startswith("like 2610.00002 you reacted to")

    removal = _reaction(fake, message, ME, "🔥")
    del removal["message_author_id"]  # Discord does not send it with a removal
    await fake.dispatch("MESSAGE_REACTION_REMOVE", removal)
    await _reactions(engine, 0)


async def test_forget_me_asks_then_deletes_everything_of_the_user(
    bot: HotpapersBot, fake: FakeDiscord, engine: Engine
) -> None:
    """Nothing to forget says so; otherwise one question with Delete / Keep, which only the
    asker can answer; after Delete nothing in any table names them and others keep theirs."""
    nothing = await fake.send_interaction("forget-me", {}, user_id=ME)
    assert nothing.ephemeral and nothing.content.startswith("I store nothing about you")

    for user in (ME, OTHER):
        foryou.toggle_star(engine, user, "2610.00001", NOW)
        foryou.toggle_star(engine, user, "2610.00002", NOW)
        _subscribe(engine, user, "keyword", "diffusion")
    _subscribe(engine, ME, "category", "cs.LG", channel=3000)
    others = _rows_naming(engine, str(OTHER))

    asked = await fake.send_interaction("forget-me", {}, user_id=ME)
    assert asked.ephemeral
    assert asked.content == (
        "Delete your 2 stars and 1 DM subscription? The 1 channel subscription you set up "
        "will stay for the channel, without your name."
    )
    assert [b["label"] for b in _buttons(asked.message)] == ["Delete it all", "Keep it"]
    message_id = int(asked.message["id"])

    kept = await fake.send_interaction("forget-me", {}, user_id=ME)
    await fake.send_interaction(
        custom_id="hp:forget:no", message_id=int(kept.message["id"]), user_id=ME
    )
    assert len(_stars(engine)) == 4  # "Keep it" deletes nothing

    refused = await fake.send_interaction(
        custom_id="hp:forget:yes", message_id=message_id, user_id=OTHER
    )
    assert refused.ephemeral and "Only the person who ran /forget-me" in refused.content
    done = await fake.send_interaction(custom_id="hp:forget:yes", message_id=message_id, user_id=ME)
    assert done.callback_type == 7  # the question itself became the answer
    assert fake.messages[message_id]["content"] == (
        "Deleted your 2 stars and 1 DM subscription. Your name is off the 1 channel "
        "subscription you set up."
    )
    assert _buttons(fake.messages[message_id]) == []
    assert _rows_naming(engine, str(ME)) == []
    assert _rows_naming(engine, str(OTHER)) == others


async def test_foryou_reads_the_stored_paper_vectors_by_default(
    fake: FakeDiscord, engine: Engine
) -> None:
    """The bot as deployed: /similar's stored vectors decide, no lookup passed in."""
    from hotpapers.similar import embed_missing
    from tests.foryou.test_foryou import REAL, _paper

    records = [_paper(key, title, days, abstract=text) for key, (title, text, days) in REAL.items()]
    with transaction(engine) as session:
        upsert_papers(session, records)
    embed_missing(engine)
    foryou.toggle_star(engine, ME, "2610.00201", NOW)
    async with running_bot(fake, engine, clock=lambda: NOW):
        result = await fake.send_interaction("foryou", {}, user_id=ME)
    first = result.embeds[0]["fields"][0]
    assert first["name"] == "1. Faster sampling for text-to-image diffusion models"
    assert first["value"].startswith("like 2610.00201 you starred")


@pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed (apt-get install chromium)")
async def test_the_foryou_screens_render(tmp_path: Path) -> None:
    """The sample session (docs/screenshots/discord-foryou.png) draws; each step answered."""
    png = tmp_path / "foryou.png"
    steps = await render(png, tmp_path)
    assert steps[0][0] == "/paper id:2610.00201"
    assert steps[2][1]["embeds"][0]["title"].startswith("For you")
    assert steps[-1][1]["content"].startswith("Deleted your 1 star")
    assert png.stat().st_size > 10_000
