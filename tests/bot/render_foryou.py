"""⭐, /foryou and /forget-me as a user sees them, drawn in Discord's dark theme by headless
Chromium (the same drawing as tests/bot/render_discord_thread.py).

`python -m tests.bot.render_foryou` regenerates docs/screenshots/discord-foryou.png: the real bot,
logged into the fake Discord, answers /paper, a ⭐ press, /foryou (papers embedded by the real
/similar model) and /forget-me with its Delete press; the page shows what the fake recorded.
tests/bot/test_bot_foryou.py does the same into a temporary directory.
"""

from __future__ import annotations

import asyncio
import html
import sys
from pathlib import Path
from typing import Any

from sqlalchemy import Engine
from sqlmodel import SQLModel

from hotpapers.fakes.discord import FakeDiscord
from hotpapers.similar import embed_missing
from hotpapers.storage.db import make_engine, transaction
from hotpapers.storage.store import upsert_papers
from tests.bot.discord_support import running_bot, running_fake
from tests.bot.render_discord_thread import CHROMIUM, STYLE, _embed, markdown, screenshot
from tests.foryou.test_foryou import NOW, REAL, _paper, _subscribe

SCREENSHOT = Path(__file__).resolve().parents[2] / "docs" / "screenshots" / "discord-foryou.png"
USER = 424242424242


def sample_engine(workdir: Path) -> Engine:
    """A SQLite database with the sample papers, embedded, and a keyword subscription."""
    import hotpapers.storage.models  # noqa: F401  (registers the tables)

    engine = make_engine(f"sqlite:///{workdir / 'foryou.db'}")
    SQLModel.metadata.create_all(engine)
    records = [_paper(key, title, days, abstract=text) for key, (title, text, days) in REAL.items()]
    with transaction(engine) as session:
        upsert_papers(session, records)
    embed_missing(engine)
    _subscribe(engine, USER, "keyword", "dark matter")
    return engine


async def record(fake: FakeDiscord, engine: Engine) -> list[tuple[str, dict[str, Any]]]:
    """(what the user did, the message they saw) for each step."""
    steps: list[tuple[str, dict[str, Any]]] = []
    async with running_bot(fake, engine, clock=lambda: NOW):
        shown = await fake.send_interaction("paper", {"id": "2610.00201"}, user_id=USER)
        steps.append(("/paper id:2610.00201", dict(shown.message)))
        star = next(
            button["custom_id"]
            for row in shown.message["components"]
            for button in row["components"]
            if button["custom_id"].startswith("hp:star:")
        )
        pressed = await fake.send_interaction(
            custom_id=star, message_id=int(shown.message["id"]), user_id=USER
        )
        steps.append(("pressed ⭐ Star", dict(pressed.message)))
        picks = await fake.send_interaction("foryou", {}, user_id=USER)
        steps.append(("/foryou", dict(picks.message)))
        asked = await fake.send_interaction("forget-me", {}, user_id=USER)
        steps.append(("/forget-me", dict(asked.message)))
        await fake.send_interaction(
            custom_id="hp:forget:yes", message_id=int(asked.message["id"]), user_id=USER
        )
        steps.append(("pressed Delete it all", dict(fake.messages[int(asked.message["id"])])))
    return steps


def _buttons(message: dict[str, Any]) -> str:
    labels = [
        f"{(b.get('emoji') or {}).get('name', '')} {b.get('label') or ''}".strip()
        for row in message.get("components") or []
        for b in row.get("components") or []
    ]
    inner = "".join(f'<span class="button">{html.escape(label)}</span>' for label in labels)
    return f'<div class="row">{inner}</div>' if labels else ""


def page(steps: list[tuple[str, dict[str, Any]]]) -> str:
    body = []
    for action, message in steps:
        private = int(message.get("flags") or 0) & 64
        note = '<div class="note">👁 Only you can see this</div>' if private else ""
        content = markdown(message["content"]) if message.get("content") else ""
        embeds = "".join(_embed(e) for e in message.get("embeds") or [])
        body.append(
            f'<div class="msg"><div class="did">{html.escape(action)}</div>'
            f'<div class="content">{content}</div>{embeds}{_buttons(message)}{note}</div>'
        )
    extra = ".did{color:#949ba4;font-size:12px;margin:12px 0 2px}.note{color:#949ba4;"
    extra += "font-size:12px;margin-top:4px}.msg{padding:2px 16px 6px 24px}"
    return (
        f'<!doctype html><html><head><meta charset="utf-8"><style>{STYLE}{extra}</style>'
        f"</head><body>{''.join(body)}</body></html>"
    )


async def render(png: Path, workdir: Path) -> list[tuple[str, dict[str, Any]]]:
    engine = sample_engine(workdir)
    async with running_fake(FakeDiscord()) as fake:
        steps = await record(fake, engine)
    engine.dispose()
    target = workdir / "discord-foryou.html"
    target.write_text(page(steps), encoding="utf-8")
    screenshot(target, png, 880)
    return steps


if __name__ == "__main__":
    if CHROMIUM is None:
        sys.exit("chromium is not installed")
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        asyncio.run(render(SCREENSHOT, Path(tmp)))
    print(SCREENSHOT)
