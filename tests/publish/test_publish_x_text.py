"""The X summary's texts: weighted length, inert titles, truncation, hostile titles."""

from __future__ import annotations

import re

from sqlalchemy import Engine

from hotpapers.fakes.x import FakeX, fake_weighted_length
from hotpapers.publish.x import publish_daily
from hotpapers.publish.x_text import (
    WORD_JOINER,
    SummaryItem,
    compose,
    inert,
    truncate,
    weighted_length,
)
from tests.publish._x_support import DAY, DAY_PAGE, NOW, make_settings, seed

HOSTILE_TITLE = (
    "@elonmusk @\uff20jack #AI \u202eRTL override\u202c \u05e9\u05dc\u05d5\u05dd \U0001f916"
    "\U0001f468\u200d\U0001f469\u200d\U0001f467 see evil.com or https://evil.example/x "
) + "x" * 6000
MENTION_RE = re.compile(r"[@\uff20#\uff03]\w")
BIDI_RE = re.compile("[\u202a-\u202e\u2066-\u2069]")


async def test_hostile_titles_fit_and_ping_nobody(fake: FakeX, engine: Engine) -> None:
    """Mentions, hashtags, links, RTL overrides, emoji and 6,000 characters: every post fits
    280 weighted characters, mentions nobody, tags nothing and links only the day's page."""
    seed(engine, [("2611.00301", HOSTILE_TITLE, 500), ("2611.00302", "中文" * 200, 400)])
    report = await publish_daily(make_settings(fake, thread=True), engine, DAY, now=NOW)
    assert report.status == "posted" and len(fake.created) == 3  # X accepted every post
    for text in report.texts:
        assert weighted_length(text) <= 280 and fake_weighted_length(text) <= 280
        assert not MENTION_RE.search(text) and not BIDI_RE.search(text)
        assert "evil.com" not in text and "https://evil" not in text
    assert re.findall(r"https?://\S+", report.texts[0]) == [DAY_PAGE]
    assert "…" in report.texts[1] and "@" + WORD_JOINER + "elonmusk" in report.texts[1]


def test_weighted_length_follows_x() -> None:
    """Latin weighs 1, CJK and emoji 2, any shortened link 23, a link X keeps counts in full."""
    assert weighted_length("abc") == 3
    assert weighted_length("中文") == 4
    assert weighted_length("\U0001f916") == 2
    assert weighted_length("see https://papers.example.org/" + "a" * 100) == 4 + 23
    assert weighted_length("http://localhost:8080/2026-11-20/") == 33


def test_inert_and_truncate() -> None:
    """inert() breaks mentions, tags and links invisibly; truncate() cuts to the budget."""
    text = inert("Hi @bob and #tag at evil.com \u202elol\n\n x")
    assert text == f"Hi @{WORD_JOINER}bob and #{WORD_JOINER}tag at evil.{WORD_JOINER}com lol x"
    assert truncate("a" * 50, 10) == "a" * 8 + "…"  # "…" (U+2026) weighs 2 on X
    assert weighted_length(truncate("中" * 50, 11)) <= 11
    assert truncate("short", 10) == "short"


def test_many_papers_leave_room_for_titles() -> None:
    """With 25 papers the summary lists the first few readably and links to the rest."""
    items = [SummaryItem(n, f"2611.{n:05d}", f"A long title about topic {n} " * 3, 1000.0 - n)
             for n in range(1, 26)]  # fmt: skip
    (head,) = compose(items, DAY, DAY_PAGE)
    assert weighted_length(head) <= 280
    assert re.search(r"\+\d+ more: " + re.escape(DAY_PAGE), head)
    assert "1. A long title about topic 1" in head
