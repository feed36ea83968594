"""What a model's answer must be to be shown (one plain sentence of at most 300 characters),
and where the key may come from."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from hotpapers.config import load_settings, masked_dump
from hotpapers.errors import ConfigError
from hotpapers.logs import secret_values
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


# --- the key: from the environment or the secrets file, never the TOML file ------------------


def test_the_key_comes_from_the_secrets_file_and_never_from_the_toml_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in [n for n in os.environ if n.startswith("HOTPAPERS_")]:
        monkeypatch.delenv(name)
    config = tmp_path / "hotpapers.toml"
    config.write_text('[tldr]\nenabled = true\napi_key = "sk-in-the-file"\n')
    with pytest.raises(ConfigError, match="set the environment variable HOTPAPERS_TLDR__API_KEY"):
        load_settings(config)
    config.write_text("[tldr]\nenabled = true\n")
    secrets = tmp_path / "secrets.env"
    secrets.write_text("HOTPAPERS_TLDR__API_KEY=sk-from-the-secrets-file\n")
    monkeypatch.setenv("HOTPAPERS_SECRETS_FILE", str(secrets))
    settings = load_settings(config)
    assert settings.tldr.api_key is not None
    assert settings.tldr.api_key.get_secret_value() == "sk-from-the-secrets-file"
    assert "sk-from-the-secrets-file" not in repr(masked_dump(settings))
    assert "sk-from-the-secrets-file" in secret_values(settings)  # masked in every log line
