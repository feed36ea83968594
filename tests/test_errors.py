"""`quoted`: how an error message shows a value the user supplied."""

from __future__ import annotations

import pytest

from hotpapers.errors import quoted


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        ("cs.LG", "'cs.LG'"),
        ("", "''"),
        ("a\nb\tc\x1b[2J\x00", "'a\\nb\\tc\\x1b[2J\\x00'"),
        ("\u202eevil\u200b", "'\\u202eevil\\u200b'"),
        ("\ud800", "'\\ud800'"),
        ("x" * 78, "'" + "x" * 77 + "…'"),
        ("x" * 77, "'" + "x" * 77 + "'"),
        ("é" * 100_000, "'" + "é" * 77 + "…'"),
    ],
)
def test_quoted_escapes_and_cuts(value: str, shown: str) -> None:
    assert quoted(value) == shown
    assert len(quoted(value)) <= 80


def test_an_escape_is_never_cut_in_half() -> None:
    """Near the limit an escaped character goes whole or not at all."""
    text = "y" * 74 + "\x1b" + "z"
    assert quoted(text) == "'" + "y" * 74 + "…'"


def test_other_marks_and_limit() -> None:
    assert quoted("abcdef", 6, "“”") == "“abc…”"


def test_subscription_input_errors_escape_what_they_echo() -> None:
    """The core's subscription checks (the bot's and the CLI's) quote through the same helper."""
    from hotpapers.delivery.subscriptions import validate_value
    from hotpapers.errors import InputError

    with pytest.raises(InputError) as caught:
        validate_value("\x1b[2Jcategory\n" + "k" * 500, "cs.LG")
    message = str(caught.value)
    assert message.startswith("“\\x1b[2Jcategory\\nkkk")
    assert all(ch.isprintable() for ch in message) and len(message) < 140
