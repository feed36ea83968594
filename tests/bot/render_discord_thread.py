"""The Discord daily thread as the fake Discord recorded it, drawn as a page in Discord's dark
theme and photographed with headless Chromium.

`python -m tests.bot.render_discord_thread` regenerates docs/screenshots/discord-thread.png: it
posts a sample digest (header, three papers, closing message) through the real courier and
discord.py into the fake Discord, then renders what the fake recorded. The tests do the same
into a temporary directory (tests/bot/test_bot_thread.py).
"""

from __future__ import annotations

import asyncio
import html
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import discord

from bot.courier import DiscordCourier
from hotpapers.fakes.discord import FakeDiscord
from hotpapers.ranking.scoring import PaperView, PostSignal, RankedPaper
from tests.bot.discord_support import running_fake

SCREENSHOT = Path(__file__).resolve().parents[2] / "docs" / "screenshots" / "discord-thread.png"
CHANNEL = 3000
TITLE = "Hot Papers 2026-11-20 · cs.LG, cs.CL"
WIDTH = 860
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


def _post(source: str, post_id: str, url: str, likes: int, text: str = "") -> PostSignal:
    return PostSignal(source, post_id, "", "", text, url, 0, likes)


def sample_papers() -> list[RankedPaper]:
    """Three ranked papers in the shapes the signals store: HN stories, an HF page with its
    repository, Discord reactions, a TL;DR; one paper with X alone."""
    attention = PaperView(
        arxiv_id="2611.00042",
        title="Sparse attention in $O(n \\log n)$: linear-time transformers that still scale",
        authors=("Ada Lovelace", "Alan Turing", "Grace Hopper", "Edsger W. Dijkstra"),
        categories=("cs.LG", "cs.CL", "stat.ML"),
        abstract=(
            "We show that sparse attention with $O(n \\log n)$ cost matches dense attention on "
            "language modelling up to 70B parameters. The trick is a learned routing of each "
            "query to $k = \\sqrt{n}$ keys. Training is 3.1x faster at 32k tokens of context. "
            "Code: https://github.com/hotpapers-demo/sparse-attn. We also release the "
            "checkpoints and the evaluation harness, and discuss where routing fails."
        ),
        primary_category="cs.LG",
    )
    diffusion = PaperView(
        arxiv_id="2611.00077",
        title="Diffusion models are secretly good at arithmetic",
        authors=("Emmy Noether", "Sofia Kovalevskaya"),
        categories=("cs.LG",),
        abstract=(
            "Small diffusion language models solve multi-digit addition that autoregressive "
            "models of the same size fail. We trace it to the denoising order."
        ),
        primary_category="cs.LG",
    )
    survey = PaperView(
        arxiv_id="2611.00103",
        title="A survey of evaluation for large language models, 2026 edition",
        authors=tuple(f"Author {i}" for i in range(1, 41)),
        categories=("cs.CL", "cs.AI"),
        abstract="We review 400 benchmarks. Most of them measure something else.",
        primary_category="cs.CL",
    )
    hn = "https://news.ycombinator.com/item?id={}"
    hf = "https://huggingface.co/papers/{}"
    return [
        RankedPaper(
            1,
            attention,
            1011.0,
            {
                "x": {"retweets": 512.0, "likes": 300.0, "replies": 40.0, "posts": 6.0},
                "hn": {"points": 140.0, "comments": 61.0, "stories": 2.0},
                "hf": {"upvotes": 35.0, "comments": 4.0, "github_stars": 1200.0},
                "discord": {"reactions": 12.0, "reactors": 9.0},
            },
            (),
            None,
            discussions=(
                _post("hn", "41234567", hn.format("41234567"), 131),
                _post(
                    "hf",
                    "2611.00042",
                    hf.format("2611.00042"),
                    35,
                    "Sparse attention\nhttps://github.com/hotpapers-demo/sparse-attn",
                ),
                _post("hn", "41230001", hn.format("41230001"), 9),
            ),
            # A TL;DR made for it (hotpapers/tldr/); the other two papers have none.
            tldr=(
                "Routing each query to about √n keys makes attention O(n log n) and matches "
                "dense attention up to 70B parameters, training 3.1x faster at long context."
            ),
        ),
        RankedPaper(
            2,
            diffusion,
            402.0,
            {"x": {"retweets": 150.0, "likes": 221.0}, "hn": {"points": 31.0}},
            (),
            None,
            discussions=(_post("hn", "41239999", hn.format("41239999"), 31),),
        ),
        RankedPaper(3, survey, 188.0, {"x": {"retweets": 60.0, "likes": 128.0}}, (), None),
    ]


async def record_thread(fake: FakeDiscord, papers: list[RankedPaper]) -> list[dict[str, Any]]:
    """Post a digest of `papers` through the real courier into the (running) fake; the
    messages it recorded, header first."""
    discord.http.Route.BASE = fake.api_url.rstrip("/")
    client = discord.Client(intents=discord.Intents.none())
    await client.login("fake-token")
    try:
        courier = DiscordCourier(client)
        target = f"channel:{CHANNEL}"
        header_id, thread_id = await courier.start_digest(target, TITLE, "thread")
        for ranked in papers:
            await courier.send_paper(target, thread_id, ranked)
        await courier.finish_digest(target, thread_id, TITLE)
    finally:
        await client.close()
    header = [m for m in fake.in_channel(CHANNEL) if m["id"] == header_id]
    return header + fake.in_channel(thread_id or CHANNEL)


# -- drawing -----------------------------------------------------------------------------------

_LINK = re.compile(r"\[([^\]]+)\]\((https?://[^)\s]+)\)")
_BOLD = re.compile(r"\*\*(.+?)\*\*")
_CODE = re.compile(r"`([^`]+)`")
_ESCAPE = re.compile(r"\\([\\*_`~|>#\[\]()-])")


def markdown(text: str) -> str:
    """The little Markdown the bot writes (bold, code, links, escapes) as HTML."""
    out = html.escape(text, quote=False)
    out = _CODE.sub(r"<code>\1</code>", out)
    out = _BOLD.sub(r"<b>\1</b>", out)
    out = _LINK.sub(r'<a href="\2">\1</a>', out)
    return _ESCAPE.sub(r"\1", out).replace("\n", "<br>")


def _embed(embed: dict[str, Any]) -> str:
    colour = f"#{int(embed.get('color') or 0):06x}"
    title = html.escape(embed.get("title") or "")
    parts = [f'<a class="title" href="{html.escape(embed.get("url") or "")}">{title}</a>']
    if embed.get("description"):
        parts.append(f'<div class="desc">{markdown(embed["description"])}</div>')
    fields = "".join(
        f'<div class="field{" inline" if f.get("inline") else ""}">'
        f'<div class="fname">{markdown(f["name"])}</div>'
        f'<div class="fvalue">{markdown(f["value"])}</div></div>'
        for f in embed.get("fields") or []
    )
    parts.append(f'<div class="fields">{fields}</div>')
    if embed.get("footer"):
        parts.append(f'<div class="foot">{html.escape(embed["footer"]["text"])}</div>')
    return f'<div class="embed" style="border-color:{colour}">{"".join(parts)}</div>'


def _buttons(rows: list[dict[str, Any]]) -> str:
    return "".join(
        '<div class="row">'
        + "".join(
            f'<a class="button" href="{html.escape(b.get("url") or "")}">'
            f"{html.escape(b.get('label') or '')} <span>↗</span></a>"
            for b in row.get("components") or []
        )
        + "</div>"
        for row in rows
    )


def _message(message: dict[str, Any], first: bool) -> str:
    author = html.escape(message["author"].get("global_name") or message["author"]["username"])
    head = (
        f'<div class="who"><span class="avatar">hp</span><b>{author}</b>'
        '<span class="tag">APP</span><span class="when">Today at 08:00</span></div>'
        if first
        else ""
    )
    body = (
        f'<div class="content">{markdown(message["content"])}</div>' if message["content"] else ""
    )
    embeds = "".join(_embed(e) for e in message.get("embeds") or [])
    return f'<div class="msg">{head}{body}{embeds}{_buttons(message.get("components") or [])}</div>'


STYLE = """
body { margin:0; background:#313338; color:#dbdee1; font:15px/1.4 "gg sans","Noto Sans",
  "DejaVu Sans",Helvetica,Arial,"Noto Color Emoji",sans-serif; }
.bar { background:#2b2d31; padding:12px 16px; font-weight:600; color:#f2f3f5;
  border-bottom:1px solid #1e1f22; }
.bar span { color:#949ba4; font-weight:400; margin-left:8px; }
.msg { padding:2px 16px 6px 72px; position:relative; }
.who { margin:10px 0 2px -56px; display:flex; align-items:center; gap:8px; }
.avatar { width:40px; height:40px; border-radius:50%; background:#b31b1b; color:#fff;
  display:inline-flex; align-items:center; justify-content:center; font-weight:700; }
.who b { color:#f2f3f5; } .tag { background:#5865f2; color:#fff; font-size:10px;
  padding:1px 4px; border-radius:3px; } .when { color:#949ba4; font-size:12px; }
.content { margin-bottom:6px; }
.embed { background:#2b2d31; border-left:4px solid; border-radius:4px; padding:10px 16px 12px 12px;
  margin-top:4px; max-width:620px; }
.title { color:#00a8fc; font-weight:600; text-decoration:none; display:block; margin-bottom:6px; }
.desc { font-size:14px; margin-bottom:6px; }
.fields { display:flex; flex-wrap:wrap; gap:6px 18px; }
.field { flex:1 1 100%; font-size:14px; } .field.inline { flex:1 1 40%; }
.fname { font-weight:600; color:#f2f3f5; font-size:13px; }
.foot { color:#949ba4; font-size:12px; margin-top:8px; }
.row { display:flex; gap:8px; margin-top:6px; }
.button { background:#4e5058; color:#fff; text-decoration:none; padding:3px 14px;
  border-radius:3px; font-size:14px; } .button span { color:#b5bac1; font-size:12px; }
a { color:#00a8fc; text-decoration:none; }
code { background:#1e1f22; padding:0 3px; border-radius:3px; font-size:13px; }
"""


def thread_html(messages: list[dict[str, Any]], title: str = TITLE) -> str:
    """A page showing the recorded messages as Discord's dark theme draws a thread."""
    body = "".join(_message(m, i == 0 or i == 1) for i, m in enumerate(messages))
    bar = f'<div class="bar"># papers <span>› {html.escape(title)}</span></div>'
    return (
        f'<!doctype html><html><head><meta charset="utf-8"><style>{STYLE}</style></head>'
        f"<body>{bar}{body}</body></html>"
    )


def screenshot(page: Path, png: Path, height: int) -> None:
    """`page` photographed by headless Chromium at WIDTH x `height`."""
    assert CHROMIUM is not None
    png.parent.mkdir(parents=True, exist_ok=True)
    subprocess.run(
        [
            CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
            "--no-first-run", f"--user-data-dir={page.parent / 'chromium-profile'}",
            f"--screenshot={png}", f"--window-size={WIDTH},{height}", page.as_uri(),
        ],
        check=True, capture_output=True, timeout=60,
    )  # fmt: skip


def page_height(messages: list[dict[str, Any]]) -> int:
    """A window tall enough for the thread (Chromium's --screenshot takes the window only)."""
    return 40 + sum(335 if m.get("embeds") else 100 for m in messages)


async def render(png: Path, workdir: Path) -> list[dict[str, Any]]:
    """Record the sample thread in a fresh fake and photograph it to `png`."""
    async with running_fake(FakeDiscord(channels={CHANNEL: "papers"})) as fake:
        messages = await record_thread(fake, sample_papers())
    page = workdir / "discord-thread.html"
    page.write_text(thread_html(messages), encoding="utf-8")
    screenshot(page, png, page_height(messages))
    return messages


if __name__ == "__main__":
    if CHROMIUM is None:
        sys.exit("chromium is not installed")
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        asyncio.run(render(SCREENSHOT, Path(tmp)))
    print(SCREENSHOT)
