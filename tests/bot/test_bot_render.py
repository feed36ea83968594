"""Discord rendering: escaping and every message/embed limit, respected by construction."""

from __future__ import annotations

import dataclasses
from datetime import UTC, date, datetime
from typing import Any

import discord
import pytest

from bot.cogs._input import BadInput, clean, parse_arxiv_id, parse_category, parse_date
from bot.cogs.help import help_embed
from bot.cogs.papers import category_choices
from bot.courier import paper_message_embed
from bot.render import (
    CONTENT_LIMIT,
    DESCRIPTION_LIMIT,
    ELLIPSIS,
    EMBED_TOTAL_LIMIT,
    FIELD_NAME_LIMIT,
    FIELD_VALUE_LIMIT,
    FOOTER_LIMIT,
    TITLE_LIMIT,
    Field,
    author_list,
    build_embed,
    choice_name,
    clip,
    clip_content,
    embed_size,
    fit_embeds,
    join_lines,
    safe,
)
from bot.views import list_embed, paper_embed, ranked_pages
from hotpapers.fakes.discord import limit_errors
from hotpapers.ranking.scoring import PaperView, RankedPaper, Rise
from hotpapers.service.lookup import PaperScore
from hotpapers.storage.queries import PaperDetail, PaperSummary

URL = "https://arxiv.org/abs/2611.00001"
HOSTILE = "@everyone **bold** [link](x) <@123> @here `code` _it_ ~~s~~ ||spoiler|| > quote"


def accepted(*embeds: discord.Embed, content: str | None = None) -> bool:
    """What the fake Discord (Discord's rules) would say about a message with these parts."""
    payload: dict[str, Any] = {"embeds": [embed.to_dict() for embed in embeds]}
    if content is not None:
        payload["content"] = content
    return limit_errors(payload) == {}


# -- clip ------------------------------------------------------------------------------------


@pytest.mark.parametrize("limit", [1, 2, 10, 100, 256, 1024, 2000, 4096])
def test_clip_never_exceeds_the_limit(limit: int) -> None:
    assert clip("a" * limit, limit) == "a" * limit
    cut = clip("a" * (limit + 1), limit)
    assert len(cut) <= limit and cut.endswith(ELLIPSIS)
    linked = clip("word " * 2000, limit, more_url=URL)
    assert len(linked) <= limit


def test_clip_links_to_the_rest_when_there_is_room() -> None:
    text = clip("x" * 5000, DESCRIPTION_LIMIT, more_url=URL)
    assert len(text) == DESCRIPTION_LIMIT
    assert text.endswith(f"{ELLIPSIS} [more]({URL})")


def test_clip_never_leaves_a_dangling_escape() -> None:
    escaped = safe("*" * 100)  # every star becomes \*
    cut = clip(escaped, 51)
    assert not cut[:-1].endswith("\\")
    assert len(cut) <= 51


def test_clip_content_and_choice_names() -> None:
    assert len(clip_content("z" * 10_000)) == CONTENT_LIMIT
    assert len(choice_name("n" * 150)) == 100
    assert choice_name("   ") == "?"


# -- escaping --------------------------------------------------------------------------------


def test_safe_escapes_markdown_and_breaks_mentions() -> None:
    text = safe(HOSTILE + "\n\nsecond line")
    assert "@everyone" not in text and "@here" not in text
    assert "@\u200beveryone" in text
    assert "\\*\\*bold\\*\\*" in text and "\\[link](x)" in text
    assert "\\`code\\`" in text and "\\_it\\_" in text and "\\|\\|spoiler\\|\\|" in text
    assert "\n" not in text


# -- embeds ----------------------------------------------------------------------------------


def test_build_embed_clips_every_part_to_its_limit() -> None:
    embed = build_embed(
        title="T" * 1000,
        url=URL,
        description="D" * 10_000,
        fields=[Field("N" * 500, "V" * 5000) for _ in range(30)],
        footer="F" * 3000,
    )
    assert len(embed.title or "") <= TITLE_LIMIT
    assert len(embed.description or "") <= DESCRIPTION_LIMIT
    assert len(embed.fields) <= 25
    assert all(len(f.name or "") <= FIELD_NAME_LIMIT for f in embed.fields)
    assert all(len(f.value or "") <= FIELD_VALUE_LIMIT for f in embed.fields)
    assert len(embed.footer.text or "") <= FOOTER_LIMIT
    assert embed_size(embed) <= EMBED_TOTAL_LIMIT
    assert accepted(embed)


def test_build_embed_keeps_small_embeds_whole() -> None:
    embed = build_embed(title="Title", url=URL, description="Short.", fields=[Field("a", "b")])
    assert (embed.title, embed.description) == ("Title", "Short.")
    assert [(f.name, f.value) for f in embed.fields] == [("a", "b")]


def test_build_embed_gives_the_description_what_is_left() -> None:
    fields = [Field("n" * 200, "v" * 1000) for _ in range(4)]  # 4,800 characters
    embed = build_embed(title="t" * 100, url=URL, description="d" * 4096, fields=fields)
    assert embed_size(embed) <= EMBED_TOTAL_LIMIT
    assert (embed.description or "").endswith(f"[more]({URL})")
    assert accepted(embed)


def test_build_embed_replaces_empty_field_text() -> None:
    embed = build_embed(title="t", fields=[Field("", "")])
    assert embed.fields[0].name and embed.fields[0].value
    assert accepted(embed)


def test_fit_embeds_keeps_ten_within_6000() -> None:
    embeds = [build_embed(title="t", description="d" * 700) for _ in range(12)]
    kept = fit_embeds(embeds)
    assert len(kept) <= 10
    assert sum(embed_size(e) for e in kept) <= EMBED_TOTAL_LIMIT
    assert accepted(*kept)
    assert len(fit_embeds([build_embed(title="t")] * 12)) == 10


def test_author_list_and_join_lines_fit() -> None:
    authors = [f"Author Number {i}" for i in range(500)]
    text = author_list(authors)
    assert len(text) <= FIELD_VALUE_LIMIT and text.endswith("more")
    assert author_list([]) == "unknown"
    assert author_list(["@everyone"]) == "@\u200beveryone"
    lines = join_lines([f"line {i}" for i in range(1000)], 100, more="…and more")
    assert len(lines) <= 100 and lines.endswith("…and more")


# -- whole views -----------------------------------------------------------------------------


def _huge_detail() -> PaperDetail:
    return PaperDetail(
        arxiv_id="2611.00001",
        latest_version=3,
        title=HOSTILE * 20,
        abstract=HOSTILE * 200,
        authors=tuple(f"{HOSTILE} {i}" for i in range(300)),
        categories=tuple(["cs.LG", "cs.AI", "stat.ML"] * 10),
        primary_category="cs.LG",
        comment=HOSTILE,
        journal_ref=None,
        doi=None,
        submitted=datetime(2026, 11, 19, tzinfo=UTC),
        updated=None,
        versions=(),
    )


def _ranked(rank: int, title: str) -> RankedPaper:
    view = PaperView(
        arxiv_id=f"2611.{rank:05d}",
        title=title,
        authors=tuple(f"{HOSTILE} {i}" for i in range(100)),
        categories=("cs.LG",),
        abstract="a",
        primary_category="cs.LG",
    )
    signals = {"x": {"retweets": 1e9, "likes": 123.5, "posts": 3.0}, HOSTILE: {HOSTILE: 1.0}}
    return RankedPaper(rank, view, 1e9, signals, (), None)


def test_paper_embed_of_a_huge_hostile_paper_is_accepted() -> None:
    detail = _huge_detail()
    embed = paper_embed(detail, PaperScore(date(2026, 11, 20), _ranked(1, detail.title)))
    assert accepted(embed)
    assert "@everyone" not in str(embed.to_dict())
    assert embed.url == "https://arxiv.org/abs/2611.00001"
    assert accepted(paper_embed(detail, None))


def test_ranked_pages_and_lists_are_accepted() -> None:
    ranked = [_ranked(rank, HOSTILE * 30) for rank in range(1, 51)]
    pages = ranked_pages(ranked, date(2026, 11, 20), "cs.LG")
    assert len(pages) == 10
    assert all(accepted(page) for page in pages)
    assert (pages[-1].footer.text or "").startswith("Page 10/10")
    summaries = [
        PaperSummary(f"2611.{i:05d}", HOSTILE * 30, (HOSTILE,) * 100, "cs.LG", None, None, 1)
        for i in range(20)
    ]
    assert accepted(list_embed(HOSTILE * 30, summaries))
    assert accepted(help_embed())


def test_a_rising_paper_message_says_why_and_is_accepted() -> None:
    rise = Rise(listed=date(2026, 11, 17), before=50.0, growth=1e9 - 50)
    embed = paper_message_embed(dataclasses.replace(_ranked(2, HOSTILE * 30), rise=rise))
    assert accepted(embed)
    assert "@everyone" not in str(embed.to_dict())
    fields = {field.name: field.value for field in embed.fields}
    assert fields["Rising from earlier days"] == (
        "Listed 2026-11-17 · up 999999950 since last shown"
    )
    assert "Score" in fields
    assert embed.footer.text == "arXiv:2611.00002 · rising from earlier days #2"
    plain = paper_message_embed(_ranked(2, "A paper"))
    assert [field.name for field in plain.fields] == ["Authors", "Categories", "Score"]
    assert plain.footer.text == "arXiv:2611.00002 · #2"


# -- input checks ----------------------------------------------------------------------------


def test_clean_removes_invisible_and_control_characters() -> None:
    assert clean("\u202e2611.00001\u200b\x00 ") == "2611.00001"
    assert clean("ｃｓ．ＬＧ") == "cs.LG"  # full-width forms normalized
    assert clean(None) == ""


@pytest.mark.parametrize(
    "text",
    [
        "2611.00001",
        "arXiv:2611.00001v2",
        "https://arxiv.org/abs/2611.00001",
        "arxiv.org/pdf/2611.00001v1",
    ],
)
def test_parse_arxiv_id_accepts_every_form(text: str) -> None:
    assert parse_arxiv_id(text) == "2611.00001"


@pytest.mark.parametrize("text", ["", "hello", "2611.1", "x" * 6000, "%' OR 1=1 --"])
def test_parse_arxiv_id_refuses_with_a_sentence(text: str) -> None:
    with pytest.raises(BadInput) as caught:
        parse_arxiv_id(text)
    assert str(caught.value).endswith(".")
    assert len(str(caught.value)) < 300


def test_parse_date_and_category() -> None:
    assert parse_date(" 2026-11-20 ") == date(2026, 11, 20)
    assert parse_date("") is None
    with pytest.raises(BadInput, match="is not a date"):
        parse_date("20/11/2026")
    assert parse_category("CS.lg") == "cs.LG"
    assert parse_category(None) is None
    with pytest.raises(BadInput, match=r"did you mean `cs\.LG`"):
        parse_category("cs.LGG")
    with pytest.raises(BadInput) as caught:
        parse_category("@everyone")
    assert "@everyone" not in str(caught.value)


def test_category_choices_match_ids_and_names() -> None:
    assert len(category_choices("")) == 25
    assert category_choices("cs.CV")[0].value == "cs.CV"
    assert "cs.CV" in [c.value for c in category_choices("Vision")]
    assert category_choices("no such thing at all") == []
    assert all(1 <= len(c.name) <= 100 for c in category_choices("a"))
