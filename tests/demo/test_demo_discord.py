"""The demo's drawing of what the bot posted to the fake Discord: generic, and plain text."""

from __future__ import annotations

from typing import Any

from rich.console import Console

from hotpapers.demo.discord_step import show_messages

THREAD = "4000"


def recorded(**message: Any) -> dict[str, Any]:
    """A message as the fake Discord records it (the parts the drawing reads)."""
    empty = {"id": "1", "channel_id": THREAD, "content": "", "embeds": [], "components": []}
    return empty | message


def drawn(*messages: dict[str, Any]) -> str:
    console = Console(record=True, width=120, soft_wrap=True)
    show_messages(console, messages, {THREAD: "thread “Hot Papers”"})
    return console.export_text()


def test_every_part_of_an_embed_and_its_buttons_is_drawn() -> None:
    embed = {
        "title": "Scaling laws again",
        "url": "https://arxiv.org/abs/2611.00101",
        "author": {"name": "arXiv cs.LG"},
        "description": "We scale things.",
        "fields": [{"name": "Authors", "value": "A. Person, B. Person"}],
        "footer": {"text": "arXiv:2611.00101 · #1"},
    }
    buttons = [
        {"type": 1, "components": [
            {"type": 2, "style": 5, "label": "PDF", "url": "https://arxiv.org/pdf/2611.00101"},
            {"type": 2, "style": 2, "label": "Why?", "custom_id": "why:2611.00101"},
        ]},
    ]  # fmt: skip
    text = drawn(recorded(embeds=[embed], components=buttons))
    for part in (
        "thread “Hot Papers”", "Scaling laws again", "https://arxiv.org/abs/2611.00101",
        "arXiv cs.LG", "We scale things.", "Authors: A. Person, B. Person",
        "arXiv:2611.00101 · #1", "[PDF] https://arxiv.org/pdf/2611.00101", "[Why?]",
    ):  # fmt: skip
        assert part in text, part


def test_text_that_looks_like_markup_is_shown_as_it_is() -> None:
    """A title or content holding rich markup prints those characters; nothing is styled away."""
    hostile = "[bold]Attention[/bold] is [link=http://x]all[/link] you need"
    text = drawn(recorded(content="[red]header[/red]", embeds=[{"title": hostile}]))
    assert hostile in text and "[red]header[/red]" in text


def test_a_long_line_wraps_inside_the_panel_instead_of_being_cut() -> None:
    """The CLI's console does not wrap (soft_wrap): the panels must, or abstracts are cut."""
    abstract = " ".join(f"word{n}" for n in range(80))
    text = drawn(recorded(embeds=[{"description": abstract}]))
    assert "word79" in text
