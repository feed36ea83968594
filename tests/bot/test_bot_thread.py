"""The Discord daily thread: header, one embed with link buttons per paper, closing message.

Golden payloads are what the fake Discord recorded from the real courier and discord.py
(`HOTPAPERS_UPDATE_GOLDEN=1` rewrites them after an intended change; review the diff).
"""

from __future__ import annotations

import dataclasses
import json
import os
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from bot.render import (
    CONTENT_LIMIT,
    TEASER_LIMIT,
    code_url,
    footer_content,
    header_content,
    link_rows,
    paper_buttons,
    paper_message,
    score_line,
    short_authors,
    teaser,
)
from hotpapers.fakes.discord import FakeDiscord, limit_errors
from hotpapers.ranking.scoring import PaperView, PostSignal, RankedPaper, Rise
from tests.bot.discord_support import running_fake
from tests.bot.render_discord_thread import (
    CHANNEL,
    CHROMIUM,
    TITLE,
    record_thread,
    render,
    sample_papers,
)

GOLDEN = Path(__file__).parents[1] / "fixtures" / "discord" / "thread.json"
HOSTILE = "@everyone **bold** [link](x) <@123> @here `code` _it_ ~~s~~ ||spoiler|| > quote"
NO_PINGS: dict[str, list[str]] = {"parse": []}


def _shown(message: dict[str, Any]) -> dict[str, Any]:
    """What a reader gets from a recorded message (no ids, no timestamps)."""
    keys = ("content", "embeds", "components", "allowed_mentions")
    return {key: message[key] for key in keys}


async def test_the_recorded_thread_matches_the_golden_payloads() -> None:
    async with running_fake(FakeDiscord(channels={CHANNEL: "papers"})) as fake:
        messages = await record_thread(fake, sample_papers())
        assert fake.rejected == []
    shown = [_shown(m) for m in messages]
    if os.environ.get("HOTPAPERS_UPDATE_GOLDEN"):
        GOLDEN.parent.mkdir(parents=True, exist_ok=True)
        GOLDEN.write_text(json.dumps(shown, indent=2, ensure_ascii=False) + "\n", "utf-8")
    assert shown == json.loads(GOLDEN.read_text("utf-8"))


async def test_every_message_of_the_thread_pings_nobody_and_has_its_buttons() -> None:
    async with running_fake(FakeDiscord(channels={CHANNEL: "papers"})) as fake:
        header, *papers, closing = await record_thread(fake, sample_papers())
    assert all(m["allowed_mentions"] == NO_PINGS for m in [header, *papers, closing])
    assert header["content"] == header_content(TITLE)
    assert "ranked by social attention" in header["content"]
    assert closing["content"] == footer_content(TITLE) and "/subscribe" in closing["content"]
    labels = [[b["label"] for r in m["components"] for b in r["components"]] for m in papers]
    assert labels == [
        ["abs", "PDF", "HTML", "Code", "Hacker News", "Hugging Face"],
        ["abs", "PDF", "HTML", "Hacker News"],
        ["abs", "PDF", "HTML"],
    ]
    first = papers[0]
    assert [len(row["components"]) for row in first["components"]] == [5, 1]  # 5 per row
    urls = {b["label"]: b["url"] for r in first["components"] for b in r["components"]}
    assert urls == {
        "abs": "https://arxiv.org/abs/2611.00042",
        "PDF": "https://arxiv.org/pdf/2611.00042",
        "HTML": "https://arxiv.org/html/2611.00042",
        "Code": "https://github.com/hotpapers-demo/sparse-attn",
        "Hacker News": "https://news.ycombinator.com/item?id=41234567",  # the top story
        "Hugging Face": "https://huggingface.co/papers/2611.00042",
    }
    fields = {f["name"]: f["value"] for f in first["embeds"][0]["fields"]}
    assert fields["Score"] == "**1,011** · X 812 · HN 140 · HF 35 · 🔥 12"
    assert fields["Authors"] == "Ada Lovelace, Alan Turing, Grace Hopper et al."
    assert fields["Categories"] == "**cs.LG** Machine Learning · also cs.CL, stat.ML"


# -- the parts ---------------------------------------------------------------------------------


def _view(**changes: Any) -> PaperView:
    base = PaperView(
        arxiv_id="2611.00001",
        title="A title",
        authors=("A. One",),
        categories=("cs.LG",),
        abstract="One sentence.",
        primary_category="cs.LG",
    )
    return dataclasses.replace(base, **changes)


def _ranked(
    view: PaperView, signals: dict[str, dict[str, float]] | None = None, **extra: Any
) -> RankedPaper:
    return RankedPaper(1, view, 10.0, signals or {"x": {"likes": 10.0}}, (), None, **extra)


def test_authors_are_the_first_three_then_et_al() -> None:
    assert short_authors(()) == "unknown"
    assert short_authors(("A", "B", "C")) == "A, B, C"
    assert short_authors(("A", "B", "C", "D")) == "A, B, C et al."
    assert "@everyone" not in short_authors((HOSTILE,) * 5)


def test_the_score_line_names_each_source_once_in_a_fixed_order() -> None:
    signals = {
        "discord": {"reactions": 3.0, "reactors": 2.0},
        "hn": {"points": 0.0, "comments": 9.0},  # no points: nothing to show for HN
        "x": {"retweets": 1.0, "likes": 2.5, "replies": 7.0, "posts": 2.0},
        "mastodon": {"boosts": 4.0, "posts": 1.0},
    }
    assert score_line(12.5, signals) == "**12.5** · X 3.5 · 🔥 3 · mastodon 4"


def test_the_abstract_is_cut_at_a_sentence_end() -> None:
    sentence = "This sentence is forty characters long. "
    abstract = sentence * 40
    cut = teaser(abstract)
    assert len(cut) <= TEASER_LIMIT
    assert cut.endswith("long. …")
    assert teaser("Short. Enough.") == "Short. Enough."
    one_long = teaser("word " * 400)  # no sentence end at all: clipped
    assert len(one_long) <= TEASER_LIMIT and one_long.endswith("…")


def test_links_are_only_those_the_signals_found() -> None:
    plain = _ranked(_view(has_pdf=False))
    assert [b.label for b in paper_buttons(plain)] == ["abs", "HTML"]
    # HF measured it (its page exists) but no HN story was stored: no HN button.
    listed = _ranked(_view(), {"hf": {"upvotes": 3.0}})
    assert [b.label for b in paper_buttons(listed)] == ["abs", "PDF", "HTML", "Hugging Face"]
    named = _ranked(_view(abstract="Code at github.com/someone/thing."))
    assert code_url(named) == "https://github.com/someone/thing"


# -- Discord's limits for the longest papers one can construct ---------------------------------


def _monster(**extra: Any) -> RankedPaper:
    view = _view(
        title=("$\\mathcal{O}(n^2)$ " + HOSTILE) * 40,
        authors=tuple(f"{HOSTILE} Collaboration member number {i}" * 3 for i in range(3000)),
        categories=tuple(f"cs.{c}{c}" for c in "ABCDEFGHIJKLMNOPQRSTUVWXYZ") * 2,
        abstract=("$\\alpha_i^{2}$ " + HOSTILE + ". ") * 400,
        primary_category="cs.LG",
    )
    signals = {f"{HOSTILE}-{i}": {HOSTILE: 1e15, "posts": 1.0} for i in range(40)}
    signals.update({"x": {"retweets": 1e15, "likes": 1e15}, "discord": {"reactions": 9e9}})
    long_url = "https://news.ycombinator.com/item?id=" + "9" * 600  # too long for a button
    discussions = (
        PostSignal("hn", "1", "", "", "", long_url, 0, 9),
        PostSignal(
            "hf", "2611.00001", "", "", "t\nhttps://github.com/a/b", "https://hf.co/x", 0, 1
        ),
    )
    return _ranked(view, signals, discussions=discussions, **extra)


@pytest.mark.parametrize("note", ["", "updated to v2 " * 300])
@pytest.mark.parametrize("rise", [None, Rise(listed=date(2026, 11, 17), before=1.0, growth=9e15)])
def test_every_message_fits_discords_limits_for_the_longest_papers(
    note: str, rise: Rise | None
) -> None:
    built = paper_message(_monster(rise=rise), note)
    payload = {"embeds": [built.embed.to_dict()], "components": built.components()}
    assert limit_errors(payload) == {}
    assert "@everyone" not in json.dumps(payload)
    assert len(link_rows(built.buttons)) <= 5
    assert all(len(b.url) <= 512 for b in built.buttons)
    title = "Hot Papers 2026-11-20 · " + ", ".join([HOSTILE] * 200)
    for content in (header_content(title), footer_content(title)):
        assert len(content) <= CONTENT_LIMIT
        assert limit_errors({"content": content}) == {}
        assert "@everyone" not in content


def test_a_tldr_leads_the_description_inert_and_within_discords_limits() -> None:
    """The TL;DR (text from a model) is escaped like any other text and never breaks a limit."""
    built = paper_message(_monster(tldr=HOSTILE * 20))
    payload = {"embeds": [built.embed.to_dict()], "components": built.components()}
    assert limit_errors(payload) == {}
    assert "@everyone" not in json.dumps(payload)
    assert (built.embed.description or "").startswith("**TL;DR:** @\u200beveryone \\*\\*bold")
    plain = paper_message(_ranked(_view()))
    assert plain.embed.description == "One sentence."


@pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed (apt-get install chromium)")
async def test_the_thread_is_photographed_from_the_fakes_record(tmp_path: Path) -> None:
    png = tmp_path / "discord-thread.png"
    messages = await render(png, tmp_path)
    page = (tmp_path / "discord-thread.html").read_text("utf-8")
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    for message in messages:  # every message of the record is on the page
        for embed in message["embeds"]:
            assert embed["url"] in page
    assert "Hacker News" in page and "/subscribe" in page
