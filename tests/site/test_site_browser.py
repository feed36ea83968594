"""The archive in a real browser: headless Chromium on a phone-sized screen, light and dark.

Chromium is driven over its DevTools protocol (a WebSocket, through aiohttp), so the pages
are checked as served by `site_app`, with its security headers, and nothing is injected
into them. Skipped when Chromium is not installed (`.ci/run` installs Debian's package).
"""

from __future__ import annotations

import asyncio
import base64
import io
import json
import shutil
import subprocess
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp.test_utils import TestServer
from PIL import Image
from sqlmodel import SQLModel

import hotpapers.storage.models  # noqa: F401  (registers the tables)
from hotpapers.similar import embed_missing
from hotpapers.site.build import build_site
from hotpapers.site.serve import site_app, site_path
from hotpapers.storage.db import make_engine
from tests.site.test_site_support import (
    EXPECTED,
    HOSTILE_ID,
    NEWER,
    NOW,
    OLDER,
    seed,
    site_settings,
)

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
PHONE = {"width": 390, "height": 844}

pytestmark = pytest.mark.skipif(
    CHROMIUM is None, reason="chromium is not installed (apt-get install chromium; .ci/run does)"
)

# What a reader sees, measured in the page after it has loaded.
LOOK = """(() => {
  const style = (el) => getComputedStyle(el);
  const rect = (el) => el.getBoundingClientRect();
  const skip = document.querySelector('a.skip');
  const link = document.querySelector('main a');
  return JSON.stringify({
    innerWidth: innerWidth,
    scrollWidth: document.documentElement.scrollWidth,
    headings: [...document.querySelectorAll('h1, h2')].map((h) => h.innerText),
    titleLinks: [...document.querySelectorAll('article h2 a')].map((a) => a.href),
    text: document.body.innerText,
    background: style(document.body).backgroundColor,
    color: style(document.body).color,
    linkColor: link ? style(link).color : null,
    maxWidth: style(document.body).maxWidth,
    fontSize: parseFloat(style(document.body).fontSize),
    skipRight: rect(skip).right,
    images: [...document.images].map((i) => [i.alt, i.naturalWidth]),
  });
})()"""


class DevTools:
    """A minimal DevTools-protocol client for one page target."""

    def __init__(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        self.ws, self.counter = ws, 0
        self.events: list[dict[str, Any]] = []  # what the browser reported meanwhile

    async def call(self, method: str, **params: Any) -> dict[str, Any]:
        self.counter += 1
        await self.ws.send_json({"id": self.counter, "method": method, "params": params})
        while True:
            message = await self.ws.receive_json()
            if "method" in message:
                self.events.append(message)
            if message.get("id") == self.counter:
                assert "error" not in message, message
                return dict(message["result"])

    def errors(self) -> list[str]:
        """Console errors, uncaught exceptions and browser log errors (CSP refusals, failed
        loads) reported since the last call, which are then forgotten."""
        found = []
        for event in self.events:
            params = event.get("params", {})
            if event["method"] == "Runtime.exceptionThrown":
                found.append(str(params["exceptionDetails"]))
            elif event["method"] == "Runtime.consoleAPICalled" and params["type"] == "error":
                found.append(str(params["args"]))
            elif event["method"] == "Log.entryAdded" and params["entry"]["level"] == "error":
                found.append(f"{params['entry']['text']} {params['entry'].get('url', '')}")
        self.events.clear()
        return found

    async def evaluate(self, expression: str) -> Any:
        result = await self.call("Runtime.evaluate", expression=expression, returnByValue=True)
        return result["result"].get("value")

    async def open(self, url: str) -> dict[str, Any]:
        """Navigate, wait for the load to finish, and return what the reader sees."""
        await self.call("Page.navigate", url=url)
        while await self.evaluate("document.readyState + ' ' + location.href") != f"complete {url}":
            await asyncio.sleep(0.05)
        return dict(json.loads(await self.evaluate(LOOK)))

    async def color_scheme(self, scheme: str) -> None:
        feature = {"name": "prefers-color-scheme", "value": scheme}
        await self.call("Emulation.setEmulatedMedia", features=[feature])


async def _devtools_port(profile: Path, chromium: asyncio.subprocess.Process) -> int:
    """Chromium writes its DevTools port into the profile once it listens."""
    port_file = profile / "DevToolsActivePort"
    for _ in range(1200):  # up to a minute on a loaded machine; no result depends on it
        if port_file.exists() and port_file.read_text().strip():
            return int(port_file.read_text().split()[0])
        assert chromium.returncode is None, "chromium exited early"
        await asyncio.sleep(0.05)
    raise AssertionError("chromium did not open its DevTools port")


@pytest.fixture
async def browser(tmp_path: Path) -> AsyncIterator[DevTools]:
    assert CHROMIUM is not None
    profile = tmp_path / "profile"
    log = (tmp_path / "chromium.log").open("wb")
    chromium = await asyncio.create_subprocess_exec(
        CHROMIUM, "--headless=new", "--no-sandbox", "--disable-gpu", "--no-first-run",
        "--disable-extensions", "--remote-debugging-port=0", "--remote-allow-origins=*",
        f"--user-data-dir={profile}", f"--window-size={PHONE['width']},{PHONE['height']}",
        "about:blank",
        stdout=subprocess.DEVNULL, stderr=log,
    )  # fmt: skip
    try:
        port = await _devtools_port(profile, chromium)
        async with aiohttp.ClientSession() as http:
            async with http.get(f"http://127.0.0.1:{port}/json/list") as response:
                targets = await response.json()
            page = next(t for t in targets if t["type"] == "page")
            async with http.ws_connect(page["webSocketDebuggerUrl"], max_msg_size=0) as ws:
                tools = DevTools(ws)
                await tools.call(
                    "Emulation.setDeviceMetricsOverride",
                    **PHONE, deviceScaleFactor=1, mobile=True,
                )  # fmt: skip
                yield tools
    finally:
        chromium.terminate()
        await chromium.wait()
        log.close()


@pytest.fixture
async def served(tmp_path: Path) -> AsyncIterator[str]:
    """The seeded archive (SQLite: the pages do not depend on the database), built and
    served by site_app on 127.0.0.1."""
    engine = make_engine(f"sqlite:///{tmp_path / 'browser.db'}")
    SQLModel.metadata.create_all(engine)
    seed(engine)
    embed_missing(engine)  # the paper pages show their "Similar papers" too
    out = tmp_path / "www" / "site"
    build_site(site_settings(), engine, out, now=NOW)
    engine.dispose()
    server = TestServer(site_app(out, site_path(site_settings())), host="127.0.0.1")
    await server.start_server()
    yield str(server.make_url("/"))
    await server.close()


def _luminance(css_color: str) -> float:
    """Relative luminance (WCAG 2) of an `rgb(r, g, b)` computed colour."""
    channels = [int(part) / 255 for part in css_color.split("(")[1].split(")")[0].split(",")[:3]]
    linear = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def contrast(foreground: str, background: str) -> float:
    light, dark = sorted((_luminance(foreground), _luminance(background)), reverse=True)
    return (light + 0.05) / (dark + 0.05)


async def test_a_reader_on_a_phone_sees_the_day_in_rank_order(
    browser: DevTools, served: str
) -> None:
    """The day page on a 390 px phone: headings, titles linking to arXiv, no sideways scroll
    (even with a 6,000-character title), the stylesheet applied under the site's CSP."""
    seen = await browser.open(f"{served}{NEWER.isoformat()}/")
    assert seen["innerWidth"] == PHONE["width"]  # the viewport meta tag is honoured
    assert seen["scrollWidth"] <= seen["innerWidth"]
    assert seen["headings"][0] == "Hot papers of Friday, 20 November 2026"
    assert seen["titleLinks"] == [f"https://arxiv.org/abs/{i}" for i in EXPECTED[NEWER]]
    assert "<script>alert('t')</script>" in seen["text"]  # shown as text, not run
    assert seen["maxWidth"] == "736px" and seen["fontSize"] >= 16
    assert seen["skipRight"] <= 0  # the skip link waits off screen until focused
    page = (await browser.call("Page.captureScreenshot", format="png"))["data"]
    image = Image.open(io.BytesIO(base64.b64decode(page)))
    assert image.size == (PHONE["width"], PHONE["height"])
    colors = image.convert("RGB").getcolors(PHONE["width"] * PHONE["height"]) or []
    assert len(colors) > 20  # text was drawn, not a blank page


async def test_index_category_and_paper_pages_in_the_browser(
    browser: DevTools, served: str
) -> None:
    """The index lists the days; a category page and a paper page fit the phone too."""
    index = await browser.open(served)
    assert index["headings"][:2] == ["Hot Papers", "Days"]
    assert "Thursday, 19 November 2026" in index["text"]
    category = await browser.open(f"{served}category/cs.CV/")
    assert category["headings"] == [
        "Hot papers in cs.CV", "Friday, 20 November 2026", "Thursday, 19 November 2026",
    ]  # fmt: skip
    assert category["scrollWidth"] <= category["innerWidth"]
    paper = await browser.open(f"{served}paper/{HOSTILE_ID}/")
    assert paper["scrollWidth"] <= paper["innerWidth"]
    assert all(width > 0 for _alt, width in paper["images"])  # any chart actually loads
    missing = await browser.open(f"{served}{OLDER.isoformat()}/nothing-here")
    assert missing["headings"] == ["Page not found"]


async def test_text_contrast_in_light_and_dark_mode(browser: DevTools, served: str) -> None:
    """Body text and links keep a WCAG AA contrast (4.5:1) in both colour schemes."""
    backgrounds = set()
    for scheme in ("light", "dark"):
        await browser.color_scheme(scheme)
        seen = await browser.open(f"{served}{NEWER.isoformat()}/")
        assert contrast(seen["color"], seen["background"]) >= 4.5, scheme
        assert contrast(seen["linkColor"], seen["background"]) >= 4.5, scheme
        backgrounds.add(seen["background"])
    assert len(backgrounds) == 2  # dark mode really changes the page


# Every kind of page, by its address under the served site.
PAGE_TYPES = {
    "index": "",
    "day": f"{NEWER.isoformat()}/",
    "category": "category/cs.LG/",
    "paper": "paper/2611.00202/",
    "search": "search/?q=vision",
    "404": "no-such-day/deeper/",
}
SCREENS = {"phone": (375, 812, True), "desktop": (1280, 800, False)}
# Every address a page loads or links to, absolute (the browser resolves them).
ADDRESSES = """JSON.stringify([...new Set([
  ...[...document.querySelectorAll('a[href], link[href]')].map((e) => e.href),
  ...[...document.querySelectorAll('img[src], script[src]')].map((e) => e.src),
  ...[...document.querySelectorAll('source[srcset]')].map((e) => new URL(e.srcset, location).href),
])])"""
SEARCH_DONE = "document.querySelectorAll('#results li').length"


async def _links_resolve(
    http: aiohttp.ClientSession, site: str, page_url: str, addresses: list[str]
) -> None:
    """Every address on our site answers 200 (others are arXiv, X...: no network here)."""
    for address in addresses:
        target = address.split("#")[0]
        if address.startswith(site) and target != page_url:  # not a jump within the page
            async with http.get(target) as response:
                assert response.status == 200, (page_url, address)


async def test_every_page_type_at_phone_and_desktop_width_light_and_dark(
    browser: DevTools, served: str, tmp_path: Path
) -> None:
    """Each page type at 375 and 1280 px, light and dark: no sideways scroll, no console
    error (a CSP refusal or a failed load included), every link of ours resolves, the search
    finds papers. Screenshots of each go to the test's folder (docs/screenshots/ holds a set)."""
    await browser.call("Runtime.enable")
    await browser.call("Log.enable")
    shots = tmp_path / "screenshots"
    shots.mkdir()
    async with aiohttp.ClientSession() as http:
        for screen, (width, height, mobile) in SCREENS.items():
            await browser.call(
                "Emulation.setDeviceMetricsOverride",
                width=width, height=height, deviceScaleFactor=1, mobile=mobile,
            )  # fmt: skip
            for scheme in ("light", "dark"):
                await browser.color_scheme(scheme)
                for kind, path in PAGE_TYPES.items():
                    seen = await browser.open(served + path)
                    if kind == "search":
                        for _ in range(200):  # the index loads asynchronously
                            if await browser.evaluate(SEARCH_DONE):
                                break
                            await asyncio.sleep(0.05)
                        assert "2611.00202" in await browser.evaluate(
                            "document.getElementById('results').innerHTML"
                        )
                        seen = dict(json.loads(await browser.evaluate(LOOK)))
                    where = (kind, screen, scheme)
                    assert seen["innerWidth"] == width, where
                    assert seen["scrollWidth"] <= seen["innerWidth"], where
                    assert all(w > 0 for _alt, w in seen["images"]), where  # charts load
                    if mobile:  # the charts drawn for phones, not the wide ones shrunk
                        assert all(w <= 420 for _alt, w in seen["images"]), where
                    await browser.evaluate("1")  # collect the events of the load
                    errors = browser.errors()
                    if kind == "404":  # the browser notes the page's own status; nothing else
                        errors = [
                            e for e in errors if not e.endswith(f"(Not Found) {served}{path}")
                        ]
                    assert errors == [], where
                    shot = await browser.call("Page.captureScreenshot", format="png")
                    name = f"site-{kind}-{screen}-{scheme}.png"
                    (shots / name).write_bytes(base64.b64decode(shot["data"]))
                    if screen == "phone" and scheme == "light":
                        addresses = json.loads(await browser.evaluate(ADDRESSES))
                        await _links_resolve(http, served, served + path, addresses)
    assert len(list(shots.iterdir())) == len(PAGE_TYPES) * len(SCREENS) * 2
