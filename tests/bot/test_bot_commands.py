"""The slash commands, through the real discord.py client logged into the fake Discord."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import discord
import pytest
import typer
from sqlalchemy import Engine
from typer.testing import CliRunner

from bot.client import HotpapersBot
from bot.runner import invite_url, sync_commands
from hotpapers.fakes.discord import FakeDiscord
from hotpapers.storage.db import transaction
from hotpapers.storage.models import SocialPost
from hotpapers.storage.records import PaperRecord
from hotpapers.storage.store import record_announcements, upsert_papers
from tests.bot.discord_support import bot_settings, running_bot, running_fake

LISTING = date(2026, 11, 20)
NOW = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)
HOSTILE = "@everyone **bold** [link](x)"


def _record(arxiv_id: str, title: str, authors: tuple[str, ...], **extra: object) -> PaperRecord:
    fields: dict[str, object] = {
        "arxiv_id": arxiv_id,
        "version": 1,
        "title": title,
        "abstract": f"We study {title.lower()}.",
        "authors": authors,
        "categories": ("cs.LG", "cs.AI"),
        "primary_category": "cs.LG",
        "submitted": datetime(2026, 11, 19, tzinfo=UTC) + timedelta(minutes=int(arxiv_id[-2:])),
    }
    fields.update(extra)
    return PaperRecord(**fields)  # type: ignore[arg-type]


def _post(paper_id: str, number: int, likes: int) -> SocialPost:
    return SocialPost(
        source="x",
        post_id=f"{paper_id}-{number}",
        paper_id=paper_id,
        author_id=f"user{number}",
        author_handle=f"@user{number}",
        text=f"read https://arxiv.org/abs/{paper_id}",
        url=f"https://x.com/user{number}/status/{number}",
        created_at=datetime(2026, 11, 21, tzinfo=UTC),
        taken_at=datetime(2026, 11, 22, tzinfo=UTC),
        reposts=10,
        likes=likes,
    )


@pytest.fixture
def papers(engine: Engine) -> Engine:
    """Twelve ranked papers, one with an accented author, one hostile, one with a wildcard."""
    records = [
        _record(f"2611.000{n:02d}", f"Paper number {n} on scaling", (f"Author {n}", "Ada Lovelace"))
        for n in range(1, 11)
    ]
    records.append(
        _record("2611.00011", "Attention is still all you need", ("Philipp Krähenbühl",))
    )
    records.append(
        _record(
            "2611.00012",
            HOSTILE,
            ("<@123> @here",),
            abstract=("@here **spam** " * 600).strip(),
        )
    )
    records.append(_record("2611.00013", "Reaching 100% accuracy", ("Zed Zero",)))
    with transaction(engine) as session:
        upsert_papers(session, records)
        record_announcements(session, LISTING, records, ["cs.LG", "cs.AI"])
        for index, record in enumerate(records[:12]):
            session.add(_post(record.arxiv_id, 1, likes=100 + 10 * index))
    return engine


@pytest.fixture
async def fake() -> AsyncIterator[FakeDiscord]:
    async with running_fake(FakeDiscord()) as running:
        yield running


@pytest.fixture
async def bot(fake: FakeDiscord, papers: Engine) -> AsyncIterator[HotpapersBot]:
    async with running_bot(fake, papers, clock=lambda: NOW) as client:
        yield client


async def test_login_ready_minimal_intents(bot: HotpapersBot, fake: FakeDiscord) -> None:
    assert bot.user is not None and bot.user.id == fake.application_id
    assert [guild.id for guild in bot.guilds] == [fake.guild_id]
    assert fake.identify is not None
    intents = discord.Intents._from_value(fake.identify["intents"])
    assert intents == discord.Intents(guilds=True, guild_reactions=True)
    assert not (intents.members or intents.presences or intents.message_content)


async def test_paper_shows_the_right_embed(bot: HotpapersBot, fake: FakeDiscord) -> None:
    result = await fake.send_interaction("paper", {"id": "https://arxiv.org/abs/2611.00011v1"})
    assert not result.ephemeral
    [embed] = result.embeds
    assert embed["title"] == "Attention is still all you need"
    assert embed["url"] == "https://arxiv.org/abs/2611.00011"
    assert embed["description"] == "We study attention is still all you need."
    fields = {field["name"]: field["value"] for field in embed["fields"]}
    assert fields["Authors"] == "Philipp Krähenbühl"
    assert "https://arxiv.org/pdf/2611.00011" in fields["Links"]
    assert "`cs.LG` Machine Learning" in fields["Categories"]
    [score_name] = [name for name in fields if name.startswith("Score")]
    assert score_name.startswith("Score (#") and "2026-11-20 listing" in score_name
    assert fields[score_name].startswith("**")  # the score, then its breakdown
    assert "retweets" in fields[score_name] and "likes" in fields[score_name]


async def test_hot_paginates_and_refuses_other_users(bot: HotpapersBot, fake: FakeDiscord) -> None:
    result = await fake.send_interaction("hot", {"date": "2026-11-20", "limit": 12}, user_id=7)
    assert result.deferred and not result.ephemeral
    first = result.embeds[0]
    assert first["footer"]["text"].startswith("Page 1/3")
    assert first["fields"][0]["name"].startswith("#1 · ")
    message_id = int(result.message["id"])
    buttons = [c for row in result.message["components"] for c in row["components"]]
    assert [b["custom_id"] for b in buttons] == ["hp:prev", "hp:next"]

    turned = await fake.send_interaction(custom_id="hp:next", message_id=message_id, user_id=7)
    assert turned.callback_type == 7  # the message itself was updated
    assert turned.message["embeds"][0]["footer"]["text"].startswith("Page 2/3")

    refused = await fake.send_interaction(custom_id="hp:next", message_id=message_id, user_id=8)
    assert refused.ephemeral
    assert "Only the person who ran this command" in refused.content
    still = fake.messages[message_id]["embeds"][0]["footer"]["text"]
    assert still.startswith("Page 2/3")


async def test_page_buttons_are_disabled_when_the_view_times_out(
    bot: HotpapersBot, fake: FakeDiscord
) -> None:
    bot.paginator_timeout = 0.2
    result = await fake.send_interaction("hot", {"date": "2026-11-20", "limit": 12})
    message = fake.messages[int(result.message["id"])]

    def disabled() -> list[bool]:
        return [
            c.get("disabled", False) for row in message["components"] for c in row["components"]
        ]

    assert disabled() == [True, False]  # on the first page only "Previous" is off
    for _ in range(50):
        if disabled() == [True, True]:
            break
        await asyncio.sleep(0.05)
    assert disabled() == [True, True]


async def test_author_autocomplete_is_accent_and_case_insensitive(
    bot: HotpapersBot, fake: FakeDiscord
) -> None:
    for typed in ("krahenb", "KRÄH", "philipp kra"):
        result = await fake.send_interaction("author", {"name": typed}, focused="name")
        assert result.callback_type == 8
        assert [c["value"] for c in result.choices] == ["Philipp Krähenbühl"], typed
    shown = await fake.send_interaction("author", {"name": "philipp krahenbuhl"})
    assert not shown.ephemeral
    assert "Attention is still all you need" in shown.embeds[0]["fields"][0]["name"]


async def test_author_autocomplete_finds_surnames_with_particles(
    bot: HotpapersBot, fake: FakeDiscord, papers: Engine
) -> None:
    authors = ("Laurens van der Maaten", "Łukasz Kaiser", "Yann Le Cun")
    with transaction(papers) as session:
        upsert_papers(session, [_record("2611.00014", "Visualizing data", authors)])
    for typed, expected in (
        ("van der m", "Laurens van der Maaten"),
        ("Maaten", "Laurens van der Maaten"),
        ("lukasz", "Łukasz Kaiser"),
        ("LeCun", "Yann Le Cun"),
    ):
        result = await fake.send_interaction("author", {"name": typed}, focused="name")
        assert [c["value"] for c in result.choices] == [expected], typed


async def test_category_autocomplete_offers_at_most_25(
    bot: HotpapersBot, fake: FakeDiscord
) -> None:
    everything = await fake.send_interaction("category", {"category": ""}, focused="category")
    assert len(everything.choices) == 25
    vision = await fake.send_interaction("category", {"category": "vision"}, focused="category")
    assert 1 <= len(vision.choices) <= 25
    assert "cs.CV" in [c["value"] for c in vision.choices]
    collected = await fake.send_interaction("hot", {"category": ""}, focused="category")
    assert sorted(c["value"] for c in collected.choices) == sorted(bot.settings.arxiv.categories)
    listed = await fake.send_interaction("category", {"category": "cs.lg"})
    assert listed.embeds[0]["title"].startswith("Latest in cs.LG")
    assert len(listed.embeds[0]["fields"]) == 10


async def test_hostile_title_cannot_ping_or_format(bot: HotpapersBot, fake: FakeDiscord) -> None:
    result = await fake.send_interaction("paper", {"id": "2611.00012"})
    message = result.message
    assert message["allowed_mentions"] == {"parse": []}
    embed = message["embeds"][0]
    assert "@everyone" not in embed["title"]  # broken with a zero-width space
    assert "\\*\\*bold\\*\\*" in embed["title"] and "\\[link](x)" in embed["title"]
    assert len(embed["description"]) <= 4096
    assert embed["description"].endswith("[more](https://arxiv.org/abs/2611.00012)")
    assert "@here" not in embed["description"]
    assert fake.rejected == []

    listing = await fake.send_interaction("hot", {"date": "2026-11-20", "limit": 50})
    assert listing.message["allowed_mentions"] == {"parse": []}
    assert all("@everyone" not in f["name"] for e in listing.embeds for f in e["fields"])


async def test_search_escapes_like_wildcards(bot: HotpapersBot, fake: FakeDiscord) -> None:
    found = await fake.send_interaction("search", {"words": "100%"})
    names = [field["name"] for field in found.embeds[0]["fields"]]
    assert names == ["1. Reaching 100% accuracy"]
    nothing = await fake.send_interaction("search", {"words": "%_%"})
    assert nothing.ephemeral and "Please give some words to look for" in nothing.content


BAD_INPUTS: list[tuple[str, dict[str, Any], str]] = [
    ("paper", {"id": ""}, "Please give an arXiv id"),
    (
        "paper",
        {"id": "x" * 6000},
        "An arXiv id or link can be up to 200 characters long, and this one has 6,000",
    ),
    ("paper", {"id": "1234.5"}, "is not an arXiv id"),
    ("paper", {"id": "2601.99999"}, "not in the database"),
    ("paper", {"id": "\u202e\u200b\u0000"}, "Please give an arXiv id"),
    ("hot", {"date": "2026-13-45"}, "is not a date"),
    ("hot", {"date": "2099-01-01"}, "not announced yet"),
    ("hot", {"category": "cs.LGG"}, "did you mean `cs.LG`"),
    ("hot", {"category": "math.PR"}, "`math.PR` is not one of them"),
    ("hot", {"limit": 0, "category": "quant-ph"}, "`quant-ph` is not one of them"),
    ("category", {"category": "@everyone"}, "is not an arXiv category"),
    ("search", {"words": "'; DROP TABLE paper; --"}, "No stored paper"),
    ("search", {"words": "@nobody **x** [y](z)"}, "No stored paper"),
    ("search", {"words": "   "}, "Please give some words"),
    ("search", {"words": "!!! ???"}, "Please give some words to look for"),
    ("search", {"words": "the of and"}, "add a word about the topic"),
    ("search", {"words": "x" * 5444}, "up to 200 characters long, and this one has 5,444"),
    ("search", {"words": "diffusion category:@everyone"}, "is not an arXiv category"),
    ("search", {"words": "diffusion author:@everyone"}, "No stored paper has an author whose"),
    ("search", {"words": " ".join(["word"] * 1000)}, "up to 200 characters long"),
    ("author", {"name": "Nobody Known"}, "No author named"),
]


async def test_bad_input_gets_one_ephemeral_sentence(bot: HotpapersBot, fake: FakeDiscord) -> None:
    for command, options, expected in BAD_INPUTS:
        result = await fake.send_interaction(command, options)
        assert result.ephemeral, (command, options)
        assert expected in result.content, (command, options, result.content)
        assert "@everyone" not in result.content
        assert result.message["allowed_mentions"] == {"parse": []}
        assert len(result.content) <= 2000
    assert fake.rejected == []
    assert bot.is_ready() and not bot.is_closed()


async def test_a_failing_database_gets_a_sentence_not_a_crash(
    bot: HotpapersBot, fake: FakeDiscord, papers: Engine
) -> None:
    SocialPost.__table__.drop(papers)  # type: ignore[attr-defined]
    result = await fake.send_interaction("hot", {"date": "2026-11-20"})
    assert result.deferred and result.edits  # the "thinking" placeholder was replaced
    assert "went wrong on our side" in result.content
    assert result.embeds == []
    listed = await fake.send_interaction("category", {"category": "cs.LG"})
    assert listed.embeds  # the bot is still up and answering
    assert fake.rejected == []


async def test_commands_work_in_direct_messages(bot: HotpapersBot, fake: FakeDiscord) -> None:
    result = await fake.send_interaction("paper", {"id": "2611.00001"}, in_guild=False)
    assert result.embeds[0]["url"] == "https://arxiv.org/abs/2611.00001"


async def test_slow_look_ups_are_deferred_and_still_answered(
    bot: HotpapersBot, fake: FakeDiscord
) -> None:
    bot.thinking_after = 0.0  # every look-up counts as slow
    found = await fake.send_interaction("search", {"words": "scaling"})
    assert found.deferred and not found.ephemeral
    assert len(found.embeds[0]["fields"]) == 10
    missing = await fake.send_interaction("paper", {"id": "2601.99999"})
    assert missing.deferred and missing.ephemeral  # a private sentence, not a public one
    assert "not in the database" in missing.content
    assert missing.original is None and len(missing.deleted) == 1  # no "thinking..." left
    shown = await fake.send_interaction("paper", {"id": "2611.00001"})
    assert shown.embeds[0]["url"] == "https://arxiv.org/abs/2611.00001"
    assert fake.rejected == []


async def test_help_lists_every_command(bot: HotpapersBot, fake: FakeDiscord) -> None:
    result = await fake.send_interaction("help")
    assert result.ephemeral
    names = " ".join(field["name"] for field in result.embeds[0]["fields"])
    for command in (
        "/hot",
        "/paper",
        "/author",
        "/category",
        "/search",
        "/subscribe",
        "/settings",
        "/trending",
        "/foryou",
        "/forget-me",
        "/help",
    ):
        assert command in names


async def test_sync_commands_publishes_to_one_guild(fake: FakeDiscord) -> None:
    names = await asyncio.wait_for(sync_commands(bot_settings(fake), guild_id=2000), 10)
    assert sorted(names) == [
        "author", "category", "forget-me", "foryou", "help", "hot", "paper", "search",
        "settings", "similar", "subscribe", "subscriptions", "trending", "unsubscribe",
    ]  # fmt: skip
    published = {c["name"]: c for c in fake.guild_commands[2000]}
    assert set(published) == set(names)
    assert all(len(c["description"]) <= 100 for c in published.values())
    options = {o["name"]: o for o in published["author"]["options"]}
    assert options["name"]["autocomplete"] is True


def test_invite_url_asks_exactly_the_needed_permissions() -> None:
    url = invite_url(1000)
    query = parse_qs(urlsplit(url).query)
    assert query["client_id"] == ["1000"]
    assert query["scope"] == ["bot applications.commands"]
    granted = discord.Permissions(int(query["permissions"][0]))
    expected = discord.Permissions(
        view_channel=True,
        send_messages=True,
        send_messages_in_threads=True,
        create_public_threads=True,
        embed_links=True,
        read_message_history=True,
        add_reactions=True,
    )
    assert granted == expected
    assert not granted.administrator and not granted.mention_everyone


def test_cli_prints_the_invite_and_refuses_to_run_without_a_token(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from bot.cli import app, mount

    monkeypatch.chdir(tmp_path)
    for name in ("HOTPAPERS_DISCORD__TOKEN", "HOTPAPERS_CONFIG", "HOTPAPERS_SECRETS_FILE"):
        monkeypatch.delenv(name, raising=False)
    runner = CliRunner()
    parent = typer.Typer()
    parent.callback()(lambda: None)
    mount(parent)
    assert runner.invoke(parent, ["bot", "invite", "1000"]).output.strip() == invite_url(1000)
    invited = runner.invoke(app, ["invite", "1000"])
    assert invited.exit_code == 0
    assert invited.output.strip() == invite_url(1000)
    refused = runner.invoke(app, ["run"])
    assert refused.exit_code == 2
    assert "HOTPAPERS_DISCORD__TOKEN" in refused.output
    assert not (tmp_path / "hotpapers.db").exists()  # refused before touching the database


@pytest.mark.parametrize(
    "payload",
    [
        {"id": "not-a-number", "type": 2, "token": "t"},  # an interaction missing most fields
        {"type": 2, "application_id": "1"},  # no id at all
        {},  # nothing
    ],
    ids=["bad-id", "no-id", "empty"],
)
async def test_malformed_gateway_payloads_are_ignored(
    bot: HotpapersBot, fake: FakeDiscord, payload: dict[str, Any], caplog: pytest.LogCaptureFixture
) -> None:
    """A malformed INTERACTION_CREATE is logged and ignored: the bot keeps answering."""
    await fake.dispatch("INTERACTION_CREATE", payload)
    await fake.dispatch("MESSAGE_REACTION_ADD", {"emoji": None})
    result = await fake.send_interaction("help")
    assert result.ephemeral and result.embeds
    assert not bot.is_closed()
    assert "ignored a malformed INTERACTION_CREATE payload" in caplog.text
