"""Serve the built archive over HTTP (aiohttp): files only, nothing outside `out_dir`.

aiohttp's FileResponse brings ETag, Last-Modified, conditional GETs and ranges. The folder
is looked up on every request, so a rebuild (which swaps the folder) is served at once.
"""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path
from urllib.parse import urlsplit

from aiohttp import web

from hotpapers.config import Settings

log = logging.getLogger(__name__)

CONTENT_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".atom": "application/atom+xml; charset=utf-8",
    ".json": "application/json; charset=utf-8",
    ".png": "image/png",
    ".svg": "image/svg+xml",
    ".js": "text/javascript; charset=utf-8",
}
FEED_JSON = "application/feed+json; charset=utf-8"
# Pages change once a day; a short lifetime keeps readers current without hammering.
CACHE_CONTROL = "public, max-age=300"
# The site loads nothing from other hosts and runs one script of its own (the search page);
# say so to the browser.
SITE_ROOT = web.AppKey("site_root", Path)
BASE_PATH = web.AppKey("base_path", str)
SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'none'; style-src 'self'; img-src 'self'; "
    "script-src 'self'; connect-src 'self'; "
    "base-uri 'none'; form-action 'none'; frame-ancestors 'self'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}


def site_path(settings: Settings) -> str:
    """The path of `site.base_url` ("/hot/" for https://host/hot/), with both slashes."""
    path = urlsplit(settings.site.base_url).path.strip("/")
    return f"/{path}/" if path else "/"


def site_app(out_dir: Path, base_path: str = "/") -> web.Application:
    """An application serving the static site in `out_dir`, at `/` and at `base_path`.

    The 404 page (shown at any depth) links absolutely, to `base_path`: serving the site
    there too keeps those links working whether a proxy strips the path or not.
    """
    app = web.Application()
    app[SITE_ROOT] = Path(out_dir)
    app[BASE_PATH] = base_path
    app.router.add_get("/{tail:.*}", _serve)
    return app


def _site_tail(request: web.Request) -> tuple[str, str]:
    """(the prefix the request came under, the path inside the site)."""
    tail, base = request.match_info["tail"], request.app[BASE_PATH]
    if base != "/" and f"/{tail}".startswith(base):
        return base, f"/{tail}".removeprefix(base)
    if base != "/" and f"/{tail}/" == base:
        return base, ""
    return "/", tail


def resolve(root: Path, url_path: str) -> Path | None:
    """The file for `url_path` inside `root`, or None (missing, hidden, or outside `root`)."""
    parts = [part for part in url_path.split("/") if part]
    if any(part.startswith(".") or "\\" in part or "\x00" in part for part in parts):
        return None  # `..`, dotfiles (the build marker, staging folders) and odd names
    base = root.resolve()
    candidate = base.joinpath(*parts).resolve()
    if candidate != base and base not in candidate.parents:
        return None  # a symlink pointing elsewhere
    if candidate.is_dir():
        candidate = candidate / "index.html"
    return candidate if candidate.is_file() else None


def content_type(path: Path) -> str:
    if path.name == "feed.json":
        return FEED_JSON
    return CONTENT_TYPES.get(path.suffix, "application/octet-stream")


async def _serve(request: web.Request) -> web.StreamResponse:
    root = request.app[SITE_ROOT]
    prefix, tail = _site_tail(request)
    path = resolve(root, tail)
    is_folder = path is not None and path.name == "index.html"
    if is_folder and not request.path.endswith(("/", "index.html")):
        # A folder's page links relatively, so its address must end with a slash.
        folder = "/".join(part for part in tail.split("/") if part)
        raise web.HTTPMovedPermanently(f"{prefix}{folder}/" if folder else prefix)
    if path is None:
        return _not_found(root)
    headers = {"Content-Type": content_type(path), "Cache-Control": CACHE_CONTROL}
    return web.FileResponse(path, headers={**headers, **SECURITY_HEADERS})


def _not_found(root: Path) -> web.Response:
    page = resolve(root, "404.html")
    body = page.read_bytes() if page else b"<!doctype html><title>Not found</title>Not found"
    headers = {"Cache-Control": "no-store", **SECURITY_HEADERS}
    return web.Response(
        status=404, body=body, content_type="text/html", charset="utf-8", headers=headers
    )


async def serve_site(out_dir: Path, host: str, port: int, base_path: str = "/") -> None:
    """Serve `out_dir` on host:port until cancelled (Ctrl-C in the CLI)."""
    runner = web.AppRunner(site_app(out_dir, base_path), access_log=None)
    await runner.setup()
    try:
        site = web.TCPSite(runner, host, port)
        await site.start()
        log.info("serving %s at http://%s:%s/", out_dir, host, port)
        await asyncio.Event().wait()
    finally:
        await runner.cleanup()
