"""What a model's answer must be to be shown: one plain sentence of at most 300 characters."""

from __future__ import annotations

import pytest

from hotpapers.tldr.text import MAX_CHARS, Refused, checked, user_prompt

GOOD = "A sparse attention scheme matches dense attention at a fraction of the cost."


@pytest.mark.parametrize(
    "answer",
    [
        GOOD,
        f"  {GOOD}\n",
        f"**TL;DR:** {GOOD}",
        f"TLDR - {GOOD}",
        f"> {GOOD}",
        f"“{GOOD}”",
        "A sparse attention scheme matches *dense* attention at a fraction of the `cost`.",
        "A sparse attention scheme matches [dense attention](https://x.example) at a fraction "
        "of the cost.",
        GOOD.rstrip("."),  # a missing full stop is added
    ],
)
def test_markdown_labels_and_quotes_are_stripped(answer: str) -> None:
    assert checked(answer) == GOOD


@pytest.mark.parametrize(
    ("answer", "why"),
    [
        ("", "empty"),
        ("**  **", "empty"),
        (f"{GOOD} It also does more. And more.", "3 sentences"),
        ("word " * 100, "characters long (at most 300)"),
        ("x" * 5000, "5,000 characters long, not one sentence"),
        ("Sure!", "too short"),
    ],
)
def test_anything_but_one_sentence_is_refused_with_the_reason(answer: str, why: str) -> None:
    with pytest.raises(Refused, match=why.replace("(", r"\(").replace(")", r"\)")):
        checked(answer)


def test_a_quoted_title_with_its_own_question_mark_is_one_sentence() -> None:
    answer = "The paper “When Does Flow Matching Help? A Study” finds it helps video prediction."
    assert checked(answer) == answer
    assert checked('It asks "Why? Because." and answers it well.') == (
        'It asks "Why? Because." and answers it well.'
    )


def test_control_characters_never_survive() -> None:
    shown = checked("A scheme\x00 that\u202e works\x1b[31m well on every benchmark we tried.")
    assert all(ch.isprintable() for ch in shown) and len(shown) <= MAX_CHARS


def test_the_prompt_is_the_title_and_the_flattened_abstract() -> None:
    prompt = user_prompt("A  title\n", "Line one\n  line two.")
    assert prompt == "Title: A title\n\nAbstract: Line one line two."
