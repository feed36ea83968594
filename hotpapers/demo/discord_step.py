"""The demo's Discord stage: the real daily delivery, through discord.py, to a fake Discord,
and what it posted drawn in the terminal.

The core never imports discord: the bot package registers its delivery under the
`hotpapers.demo_steps` entry point (`discord`), and the stage is skipped when it is not
installed. The messages are drawn from the fake's record of what the bot sent, whatever the
embeds' layout: their title, author, description, fields, footer and buttons, as plain text
(a title holding "[bold]" shows those characters, it never styles anything).
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Iterable
from datetime import date, datetime
from importlib.metadata import entry_points
from typing import Any

from pydantic import SecretStr
from rich.console import Console, Group, RenderableType
from rich.panel import Panel
from rich.text import Text
from sqlalchemy import Engine

from hotpapers.config import DiscordSettings, Settings
from hotpapers.delivery.subscriptions import channel_target, subscribe
from hotpapers.fakes.discord import FakeDiscord

log = logging.getLogger(__name__)

ENTRY_POINTS = "hotpapers.demo_steps"
DEMO_CHANNEL, DEMO_USER = 3000, 7
DEMO_TOP = 5  # papers per subscribed category
DEMO_DISCORD_TOKEN = "demo-discord-token"  # only the local fake accepts it

# bot.runner.deliver_day: (settings, engine, listing_date, *, now) -> DeliveryReport
Deliver = Callable[..., Awaitable[Any]]


def find_delivery() -> Deliver | None:
    """The bot's delivery, through its entry point; None when the bot is not installed."""
    for entry in entry_points(group=ENTRY_POINTS, name="discord"):
        try:
            found: Deliver = entry.load()
        except ImportError:
            log.debug("demo step %s is not available", entry.name, exc_info=True)
            continue
        return found
    return None


async def deliver_to_fake(
    deliver: Deliver, settings: Settings, engine: Engine, day: date, now: datetime
) -> tuple[list[dict[str, Any]], dict[str, str]]:
    """Subscribe a demo channel to the collected categories, run the delivery against a fake
    Discord; the messages it posted (oldest first), the names of the channels and threads."""
    fake = FakeDiscord(channels={DEMO_CHANNEL: "hot-papers"})
    await fake.start()
    try:
        for category in settings.arxiv.categories:
            subscribe(
                engine, target=channel_target(DEMO_CHANNEL), guild_id=fake.guild_id,
                channel_id=DEMO_CHANNEL, user_id=DEMO_USER, kind="category", value=category,
                top_n=DEMO_TOP, now=now,
            )  # fmt: skip
        discord = DiscordSettings(
            token=SecretStr(DEMO_DISCORD_TOKEN), api_url=fake.api_url, gateway_url=fake.gateway_url
        )
        await deliver(settings.model_copy(update={"discord": discord}), engine, day, now=now)
    finally:
        await fake.close()
    names = {str(number): f"#{name}" for number, name in fake.channels.items()}
    names.update({thread["id"]: f"thread “{thread['name']}”" for thread in fake.threads})
    return list(fake.channel_messages), names


def show_messages(
    console: Console, messages: Iterable[dict[str, Any]], where: dict[str, str]
) -> None:
    """Each message as a panel titled with where it was posted."""
    for message in messages:
        place = where.get(str(message.get("channel_id")), "a channel")
        panel = Panel(message_body(message), title=Text(place), title_align="left")
        console.print(panel, soft_wrap=False)  # long lines wrap inside the panel, not cut


def message_body(message: dict[str, Any]) -> RenderableType:
    parts: list[RenderableType] = []
    if message.get("content"):
        parts.append(Text(str(message["content"]), style="bold"))
    parts += [embed_body(embed) for embed in message.get("embeds") or []]
    buttons = button_lines(message.get("components") or [])
    if buttons:
        parts.append(Text("\n".join(buttons), style="cyan"))
    return Group(*parts) if parts else Text("(empty message)", style="dim")


def embed_body(embed: dict[str, Any]) -> RenderableType:
    """An embed as Discord lays it out, top to bottom, in text."""
    text = Text()
    author = (embed.get("author") or {}).get("name")
    if author:
        text.append(f"{author}\n", style="dim")
    if embed.get("title"):
        text.append(str(embed["title"]), style="bold")
        text.append("\n")
    if embed.get("url"):
        text.append(f"{embed['url']}\n", style="blue")
    if embed.get("description"):
        text.append(f"{embed['description']}\n")
    for field in embed.get("fields") or []:
        text.append(f"{field.get('name', '')}: ", style="bold")
        text.append(f"{field.get('value', '')}\n")
    footer = (embed.get("footer") or {}).get("text")
    if footer:
        text.append(str(footer), style="dim")
    text.rstrip()
    return Panel(text, border_style="magenta")


def button_lines(rows: list[dict[str, Any]]) -> list[str]:
    """`[label] url` for link buttons, `[label]` for the others, a line per row."""
    lines = []
    for row in rows:
        items = row.get("components") or [row]
        shown = [
            f"[{item.get('label') or item.get('emoji', {}).get('name') or '…'}]"
            + (f" {item['url']}" if item.get("url") else "")
            for item in items
        ]
        lines.append("  ".join(shown))
    return lines
