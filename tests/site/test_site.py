"""The static archive: pages in rank order, escaping, atomic rebuilds, valid feeds, serving."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiohttp
import feedparser
import pytest
from aiohttp.test_utils import TestServer
from lxml import etree, html
from sqlalchemy import Engine
from yarl import URL

from hotpapers.errors import HotpapersError, InputError
from hotpapers.service import use_cases as jobs
from hotpapers.site.build import MARKER, build_site, charts_module, png_size
from hotpapers.site.content import slug
from hotpapers.site.serve import site_app, site_path
from hotpapers.storage import migrate
from hotpapers.storage.db import make_engine, transaction
from tests.site.test_site_support import (
    EXPECTED,
    HOSTILE_ABSTRACT,
    HOSTILE_ID,
    HOSTILE_TITLE,
    NEWER,
    NOW,
    OLDER,
    seed,
    site_settings,
)

ATOM = "{http://www.w3.org/2005/Atom}"
RFC3339 = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$")
BASE = "https://papers.example.org/hot/"


@pytest.fixture
def site(engine: Engine, tmp_path: Path) -> Path:
    """The archive of the two seeded days, built into its own folder (www/site)."""
    seed(engine)
    out = tmp_path / "www" / "site"
    build_site(site_settings(), engine, out, now=NOW)
    return out


def page(path: Path) -> Any:
    return html.fromstring(path.read_bytes())


def paper_ids(document: Any) -> list[str]:
    return [a.get("id").removeprefix("paper-") for a in document.iter("article")]


def all_files(root: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()
    }


# --- pages ---------------------------------------------------------------------------------


def test_day_pages_list_the_ranked_papers_in_order(site: Path) -> None:
    """Each day's page shows its papers best first; a paper under the threshold is absent."""
    for day, expected in EXPECTED.items():
        document = page(site / day.isoformat() / "index.html")
        assert paper_ids(document) == expected
        assert day.strftime("%d %B %Y") in document.findtext(".//h1/time")
    assert "2611.00103" not in (site / OLDER.isoformat() / "index.html").read_text()


def test_index_lists_days_newest_first_with_links(site: Path) -> None:
    """The index links every ranked day, newest first, and each category page."""
    document = page(site / "index.html")
    days = [a.get("href") for a in document.xpath("//ul[@class='days']/li/a")]
    assert days == [f"{NEWER.isoformat()}/", f"{OLDER.isoformat()}/"]
    categories = document.xpath("//section[h2[@id='categories']]//a/@href")
    assert categories == ["category/cs.CV/", "category/cs.LG/"]
    assert document.get("lang") == "en"
    assert document.xpath("//a[@class='skip']/@href") == ["#main"]


def test_category_pages_hold_that_categorys_papers_by_day(site: Path) -> None:
    """cs.CV shows its own (and cross-listed) papers per day, newest day first."""
    document = page(site / "category/cs.CV/index.html")
    sections = document.xpath("//main/section")
    assert [s.xpath("string(h2//time/@datetime)") for s in sections] == [
        NEWER.isoformat(),
        OLDER.isoformat(),
    ]
    assert [paper_ids(s) for s in sections] == [["2611.00202"], ["2611.00101", "2611.00102"]]


def test_a_paper_shows_links_score_breakdown_and_posts(site: Path) -> None:
    """Title links to arXiv; the score is explained per weight and source; posts are quotes."""
    document = page(site / NEWER.isoformat() / "index.html")
    article = document.xpath("//article[@id='paper-2611.00202']")[0]
    assert article.xpath(".//h2/a/@href") == ["https://arxiv.org/abs/2611.00202"]
    assert "https://arxiv.org/pdf/2611.00202" in article.xpath(".//p[@class='links']/a/@href")
    terms = [li.text_content() for li in article.xpath(".//details/ul/li")]
    assert terms == [
        "x.retweets: 20 × 1 = 20",
        "x.likes: 700 × 1 = 700",
        "discord.reactions: 0 × 5 = 0",  # the default blend counts reactions on our posts
    ]
    assert article.xpath("string(.//summary/strong)") == "720"
    sources = dict(zip(article.xpath(".//dt/text()"), article.xpath(".//dd/text()"), strict=True))
    assert sources["Hacker News"] == "45 comments, 120 points"
    quote = article.xpath(".//blockquote")[0]
    assert quote.xpath(".//a/@href") == ["https://x.com/fan/status/202"]
    assert "@fan202" in quote.text_content()


def test_paper_page_lists_its_days(site: Path) -> None:
    """A paper's own page names the days it was ranked on with its place."""
    document = page(site / "paper/2611.00202/index.html")
    assert document.findtext(".//h1") == "Vision transformers, again"
    assert "#1 of the day, score 720" in document.xpath("string(//ul[@class='appearances'])")


def test_paper_page_lists_similar_papers_when_vectors_exist(engine: Engine, tmp_path: Path) -> None:
    """Its nearest papers by content, best first, linking to their own page here if it has one."""
    from hotpapers.similar import embed_missing

    seed(engine)
    out = tmp_path / "site"
    build_site(site_settings(), engine, out, now=NOW)
    assert not page(out / "paper/2611.00202/index.html").xpath("//ol[@class='similar']")
    embed_missing(engine)
    build_site(site_settings(), engine, out, now=NOW)
    document = page(out / "paper/2611.00202/index.html")
    assert document.xpath("//h2[text()='Similar papers']")
    items = document.xpath("//ol[@class='similar']/li")
    assert 1 <= len(items) <= 5
    hrefs = [item.xpath("string(a/@href)") for item in items]
    assert "../../paper/2611.00202/" not in hrefs  # never the paper itself
    assert all(h.startswith(("../../paper/", "https://arxiv.org/abs/")) for h in hrefs)
    scores = [float(item.xpath("string(span)").rsplit(" ", 1)[1]) for item in items]
    assert scores == sorted(scores, reverse=True)


def test_paper_pages_list_no_paper_below_the_similarity_floor(
    engine: Engine, tmp_path: Path
) -> None:
    """A paper whose nearest papers are all on other topics (the hostile one: cosine near 0)
    gets no "Similar papers" section; no page lists a paper under the floor."""
    from hotpapers.similar import SIMILARITY_FLOOR, embed_missing

    seed(engine)
    embed_missing(engine)
    out = tmp_path / "site"
    build_site(site_settings(), engine, out, now=NOW)
    lonely = page(out / f"paper/{slug(HOSTILE_ID)}/index.html")
    assert not lonely.xpath("//h2[text()='Similar papers'] | //ol[@class='similar']")
    shown = [
        float(span.text_content().rsplit(" ", 1)[1])
        for path in (out / "paper").glob("*/index.html")
        for span in page(path).xpath("//ol[@class='similar']/li/span")
    ]
    assert shown and min(shown) >= SIMILARITY_FLOOR


def test_hostile_text_is_escaped_everywhere(site: Path) -> None:
    """HTML in titles, abstracts, names and posts is shown as text, never run or linked."""
    for path in site.rglob("*.html"):
        document = page(path)
        # Only the search page's own script file; never a script from stored text.
        scripts = document.xpath("//script/@src")
        assert scripts in ([], ["../search.js"]) and len(document.xpath("//script")) == len(
            scripts
        ), path
        assert not document.xpath("//img[@onerror] | //b | //i"), path
        assert not document.xpath("//@href[starts-with(., 'javascript')]"), path
    article = page(site / NEWER.isoformat() / "index.html").xpath(
        f"//article[@id='paper-{HOSTILE_ID}']"
    )[0]
    assert article.xpath("string(.//h2/a)") == HOSTILE_TITLE
    assert article.xpath("string(.//p[@class='abstract'])") == HOSTILE_ABSTRACT
    assert article.xpath(".//h2/a/@dir") == ["auto"]  # RTL text is isolated
    assert not article.xpath(".//blockquote//a")  # the javascript: post link is dropped


def test_same_database_gives_the_same_bytes(engine: Engine, tmp_path: Path) -> None:
    """Two builds of an unchanged database are byte-identical."""
    seed(engine)
    build_site(site_settings(), engine, tmp_path / "a", now=NOW)
    build_site(site_settings(), engine, tmp_path / "b", now=NOW)
    first, second = all_files(tmp_path / "a"), all_files(tmp_path / "b")
    assert first == second and len(first) > 10


def test_an_unchanged_page_keeps_its_validators(site: Path, engine: Engine) -> None:
    """Rebuilding keeps the modification time (so ETag and Last-Modified) of equal files."""
    index, day = site / "index.html", site / NEWER.isoformat() / "index.html"
    os.utime(index, (1_000_000_000, 1_000_000_000))
    os.utime(day, (1_000_000_000, 1_000_000_000))
    day.write_text("an older version of the page")
    build_site(site_settings(), engine, site, now=NOW)
    assert index.stat().st_mtime == 1_000_000_000
    assert day.stat().st_mtime != 1_000_000_000 and "Vision transformers" in day.read_text()


def test_rebuild_replaces_the_site_and_leaves_no_staging(site: Path, engine: Engine) -> None:
    """A rebuild shows the new ranking and leaves no temporary folder behind."""
    build_site(site_settings(feed_days=1), engine, site, now=NOW)
    assert (site / NEWER.isoformat() / "index.html").exists()
    assert sorted(p.name for p in site.parent.iterdir()) == ["site"]


def test_day_and_paper_pages_outlive_the_feed_window(engine: Engine, tmp_path: Path) -> None:
    """A day that leaves the feed window keeps its page, chart, JSON and paper pages;
    the index and the next day's pager still link it, only the feed forgets it."""
    seed(engine)
    out = tmp_path / "site"
    build_site(site_settings(feed_days=2), engine, out, now=NOW)
    first = all_files(out)
    assert f"{OLDER.isoformat()}/index.html" in first
    build_site(site_settings(feed_days=1), engine, out, now=NOW)  # OLDER leaves the window
    kept = all_files(out)
    for name in (
        f"{OLDER.isoformat()}/index.html",
        f"{OLDER.isoformat()}/scores.json",
        "paper/2611.00101/index.html",
        "paper/2611.00102/index.html",
    ):
        assert kept[name] == first[name], name
    days = page(out / "index.html").xpath("//main//a/@href")
    assert f"{NEWER.isoformat()}/" in days and f"{OLDER.isoformat()}/" in days
    pager = page(out / NEWER.isoformat() / "index.html").xpath("//a[@rel='next']/@href")
    assert pager == [f"../{OLDER.isoformat()}/"]
    assert OLDER.isoformat() not in (out / "feed.atom").read_text()


def test_a_failing_build_keeps_the_old_site(
    site: Path, engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The disk filling up mid-build: one sentence, the old site untouched, no leftovers."""
    before = all_files(site)
    writes = {"count": 0}
    real_write = Path.write_bytes

    def disk_fills_up(self: Path, data: bytes) -> int:
        writes["count"] += 1
        if writes["count"] > 5:
            raise OSError(28, "No space left on device")
        return real_write(self, data)

    monkeypatch.setattr(Path, "write_bytes", disk_fills_up)
    with pytest.raises(HotpapersError, match="No space left on device"):
        build_site(site_settings(), engine, site, now=NOW)
    monkeypatch.undo()
    assert all_files(site) == before
    assert sorted(p.name for p in site.parent.iterdir()) == ["site"]


def test_a_folder_of_other_files_is_never_replaced(engine: Engine, tmp_path: Path) -> None:
    """--out pointing at a folder hotpapers did not write is refused, and left alone."""
    seed(engine)
    (tmp_path / "notes.txt").write_text("mine")
    with pytest.raises(InputError, match="did not write"):
        build_site(site_settings(), engine, tmp_path, now=NOW)
    assert (tmp_path / "notes.txt").read_text() == "mine"
    with pytest.raises(InputError, match="is a file"):
        build_site(site_settings(), engine, tmp_path / "notes.txt", now=NOW)


def test_an_empty_archive_builds_an_index(engine: Engine, tmp_path: Path) -> None:
    """No ranked day yet: the index says so and the feeds are valid and empty."""
    build_site(site_settings(), engine, tmp_path / "site", now=NOW)
    assert "No day has a ranking yet" in (tmp_path / "site/index.html").read_text()
    assert check_atom(tmp_path / "site/feed.atom") == []
    assert check_json_feed(tmp_path / "site/feed.json") == []


# --- feeds ---------------------------------------------------------------------------------


def _absolute(url: str | None) -> bool:
    if not url:
        return False
    parsed = URL(url)
    return parsed.is_absolute() and parsed.scheme in ("http", "https") and bool(parsed.host)


def check_atom(path: Path) -> list[str]:
    """The RFC 4287 rules readers rely on; returns the entry ids. Fails on any breach."""
    parser = etree.XMLParser(resolve_entities=False, no_network=True)
    feed = etree.parse(str(path), parser).getroot()
    assert feed.tag == f"{ATOM}feed"
    assert not feed.xpath("//@xml:base"), "no xml:base: every link is absolute"
    for name in ("id", "title", "updated"):
        assert len(feed.findall(f"{ATOM}{name}")) == 1, name
    assert RFC3339.match(feed.findtext(f"{ATOM}updated") or "")
    self_links = [link for link in feed.findall(f"{ATOM}link") if link.get("rel") == "self"]
    assert len(self_links) == 1 and _absolute(self_links[0].get("href"))
    feed_has_author = feed.find(f"{ATOM}author/{ATOM}name") is not None
    ids = []
    for entry in feed.findall(f"{ATOM}entry"):
        for name in ("id", "title", "updated"):
            assert len(entry.findall(f"{ATOM}{name}")) == 1, name
        assert RFC3339.match(entry.findtext(f"{ATOM}updated") or "")
        assert RFC3339.match(entry.findtext(f"{ATOM}published") or "")
        alternates = [
            link
            for link in entry.findall(f"{ATOM}link")
            if link.get("rel", "alternate") == "alternate"
        ]
        assert len(alternates) == 1 and _absolute(alternates[0].get("href"))
        assert all(_absolute(link.get("href")) for link in entry.findall(f"{ATOM}link"))
        assert feed_has_author or entry.find(f"{ATOM}author/{ATOM}name") is not None
        assert entry.find(f"{ATOM}content").get("type") == "html"
        assert _absolute(entry.findtext(f"{ATOM}id"))  # an IRI
        ids.append(entry.findtext(f"{ATOM}id"))
    assert len(ids) == len(set(ids)), "entry ids are unique"
    return ids


def check_json_feed(path: Path) -> list[str]:
    """JSON Feed 1.1's required and typed fields; returns the item ids."""
    document = json.loads(path.read_text(encoding="utf-8"))
    assert document["version"] == "https://jsonfeed.org/version/1.1"
    assert isinstance(document["title"], str) and document["title"]
    assert _absolute(document["home_page_url"]) and _absolute(document["feed_url"])
    assert isinstance(document["items"], list)
    ids = []
    for item in document["items"]:
        assert isinstance(item["id"], str) and item["id"]
        assert _absolute(item["url"]) and _absolute(item["external_url"])
        assert isinstance(item["title"], str)
        assert isinstance(item["content_html"], str) and item["content_html"]
        assert RFC3339.match(item["date_published"]) and RFC3339.match(item["date_modified"])
        assert all(isinstance(a["name"], str) for a in item.get("authors", []))
        assert item.get("authors", [None]), "authors, when present, is not empty"
        assert all(isinstance(tag, str) for tag in item["tags"])
        ids.append(item["id"])
    assert len(ids) == len(set(ids))
    return ids


def test_feeds_are_valid_atom_and_json_feed(site: Path) -> None:
    """Every feed passes the checks, and Atom and JSON list the same entries in order."""
    feeds = [site, site / "category/cs.LG", site / "category/cs.CV"]
    for folder in feeds:
        ids = check_atom(folder / "feed.atom")
        assert ids == check_json_feed(folder / "feed.json")
        parsed = feedparser.parse((folder / "feed.atom").read_bytes())  # a second opinion
        assert parsed.version == "atom10" and not parsed.bozo
        assert [entry.id for entry in parsed.entries] == ids
    expected = [
        f"https://arxiv.org/abs/{paper_id}#hot-{day.isoformat()}"
        for day in (NEWER, OLDER)
        for paper_id in EXPECTED[day]
    ]
    assert check_atom(site / "feed.atom") == expected
    cv = check_atom(site / "category/cs.CV/feed.atom")
    assert [i.split("/")[-1] for i in cv] == [
        "2611.00202#hot-2026-11-20",
        "2611.00101#hot-2026-11-19",
        "2611.00102#hot-2026-11-19",
    ]


def test_feed_entries_carry_text_dates_and_links(site: Path) -> None:
    """An entry links to its place on the day page; hostile text stays text."""
    document = json.loads((site / "feed.json").read_text(encoding="utf-8"))
    first, hostile = document["items"][0], document["items"][1]
    assert first["url"] == f"{BASE}2026-11-20/#paper-2611.00202"
    assert first["date_published"] == "2026-11-20T01:00:00Z"  # 20:00 New York, the evening before
    assert first["date_modified"] == "2026-11-22T06:00:00Z"  # when the counts were taken
    assert first["tags"] == ["cs.CV", "cs.LG"]
    assert hostile["title"] == HOSTILE_TITLE
    assert "<img" not in hostile["content_html"] and "&lt;img" in hostile["content_html"]
    atom = etree.parse(str(site / "feed.atom")).getroot()
    assert atom.findtext(f"{ATOM}entry[2]/{ATOM}title") == HOSTILE_TITLE


def test_each_day_has_its_ranking_as_json(site: Path) -> None:
    """`YYYY-MM-DD/scores.json`: the `rank --json` records of the day, plus links and the
    time the counts were taken; the day's page links it."""
    for day, expected in EXPECTED.items():
        document = json.loads((site / day.isoformat() / "scores.json").read_text("utf-8"))
        assert document["listing_date"] == day.isoformat()
        assert [p["arxiv_id"] for p in document["papers"]] == expected
        assert [p["rank"] for p in document["papers"]] == list(range(1, len(expected) + 1))
        links = page(site / day.isoformat() / "index.html").xpath("//a[@href='scores.json']")
        assert len(links) == 1
    first = json.loads((site / NEWER.isoformat() / "scores.json").read_text("utf-8"))["papers"][0]
    assert list(first)[:5] == ["rank", "arxiv_id", "title", "score", "signals"]  # as rank --json
    assert first["title"] == "Vision transformers, again"
    assert (first["signals"]["x"]["likes"], first["signals"]["x"]["retweets"]) == (700, 20)
    assert first["url"] == f"{BASE}{NEWER.isoformat()}/#paper-2611.00202"
    assert first["abs_url"] == "https://arxiv.org/abs/2611.00202"
    assert first["categories"] == ["cs.CV", "cs.LG"]
    assert first["counts_taken_at"] == "2026-11-22T06:00:00Z"


# --- serving -------------------------------------------------------------------------------


@pytest.fixture
async def served(site: Path) -> Any:
    server = TestServer(site_app(site))
    await server.start_server()
    async with aiohttp.ClientSession() as session:
        yield server, session
    await server.close()


async def test_serve_pages_and_feeds_with_their_types(served: Any) -> None:
    """Pages, feeds and the stylesheet come with the right content types and validators."""
    server, session = served
    expected = {
        "/": "text/html",
        f"/{NEWER.isoformat()}/": "text/html",
        f"/{NEWER.isoformat()}/scores.json": "application/json",
        "/feed.atom": "application/atom+xml",
        "/feed.json": "application/feed+json",
        "/category/cs.LG/feed.json": "application/feed+json",
        "/site.css": "text/css",
    }
    for path, content_type in expected.items():
        async with session.get(server.make_url(path)) as response:
            assert response.status == 200, path
            assert response.content_type == content_type, path
            assert response.headers["ETag"] and response.headers["Last-Modified"]
            assert "max-age" in response.headers["Cache-Control"]
    async with session.get(server.make_url("/")) as response:
        etag = response.headers["ETag"]
        assert "Hot Papers" in await response.text()
    async with session.get(server.make_url("/"), headers={"If-None-Match": etag}) as response:
        assert response.status == 304


async def test_a_folder_without_slash_redirects(served: Any) -> None:
    """/2026-11-20 redirects to /2026-11-20/ so the page's relative links work."""
    server, session = served
    url = server.make_url(f"/{NEWER.isoformat()}")
    async with session.get(url, allow_redirects=False) as response:
        assert response.status == 301
        assert response.headers["Location"] == f"/{NEWER.isoformat()}/"


async def test_missing_hidden_and_outside_paths_are_404(served: Any, site: Path) -> None:
    """Unknown pages get the 404 page; `..`, dotfiles and escaping symlinks are refused."""
    server, session = served
    (site / "escape").symlink_to("/etc")
    for raw in (
        "/no-such-day/",
        "/%2e%2e/%2e%2e/etc/passwd",
        "/..%2f..%2fetc%2fpasswd",
        "/category/..%2f..%2f..%2fetc/passwd",
        f"/{MARKER}",
        "/escape/passwd",
    ):
        url = URL(str(server.make_url("/"))).with_path(raw, encoded=True)
        async with session.get(url) as response:
            assert response.status == 404, raw
            assert "Page not found" in await response.text(), raw


async def test_the_404_page_links_resolve_under_a_base_path(site: Path) -> None:
    """base_url https://host/hot/: the 404 page links /hot/...; served directly or behind a
    proxy that strips /hot/, every link of it (and the pages under /hot/) must load."""
    server = TestServer(site_app(site, base_path=site_path(site_settings())))
    await server.start_server()
    try:
        async with aiohttp.ClientSession() as session:
            for missing in ("/hot/no-such/deep/page", "/no-such-day/"):
                async with session.get(server.make_url(missing)) as response:
                    assert response.status == 404
                    document = html.fromstring(await response.read())
                links = document.xpath("//a/@href | //link/@href")
                assert "/hot/site.css" in links
                for link in links:
                    if link.startswith("/") and not link.startswith("#"):
                        async with session.get(server.make_url(link)) as linked:
                            assert linked.status == 200, (missing, link)
            async with session.get(server.make_url(f"/hot/{NEWER.isoformat()}/")) as response:
                assert response.status == 200
            url = server.make_url(f"/hot/{NEWER.isoformat()}")
            async with session.get(url, allow_redirects=False) as response:
                assert response.headers["Location"] == f"/hot/{NEWER.isoformat()}/"
    finally:
        await server.close()


# --- the command line ----------------------------------------------------------------------


def test_cli_build_writes_the_site(tmp_path: Path) -> None:
    """`hotpapers site build --out DIR` builds from the configured database; a foreign
    folder is refused with one sentence and exit code 2."""
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    migrate.upgrade(url)
    engine = make_engine(url)
    seed(engine)
    engine.dispose()
    env = {k: v for k, v in os.environ.items() if not k.startswith("HOTPAPERS_")}
    env |= {"HOTPAPERS_DATABASE__URL": url, "HOTPAPERS_ARXIV__CATEGORIES": '["cs.LG"]'}

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        command = [sys.executable, "-m", "hotpapers", "site", "build", *args]
        return subprocess.run(command, capture_output=True, text=True, env=env, cwd=tmp_path)

    built = run("--out", str(tmp_path / "public"))
    assert built.returncode == 0, built.stderr
    assert "site written to" in built.stdout and "2 days" in built.stdout
    assert (
        paper_ids(page(tmp_path / "public" / NEWER.isoformat() / "index.html")) == EXPECTED[NEWER]
    )
    refused = run("--out", str(tmp_path))
    assert refused.returncode == 2
    assert "did not write" in refused.stderr and "Traceback" not in refused.stderr


def test_cli_serve_without_a_site_says_what_to_do(tmp_path: Path) -> None:
    """`hotpapers site serve` on an empty folder: one sentence naming the build command."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("HOTPAPERS_")}
    command = [sys.executable, "-m", "hotpapers", "site", "serve", "--out", str(tmp_path)]
    result = subprocess.run(command, capture_output=True, text=True, env=env, cwd=tmp_path)
    assert result.returncode == 2
    assert "hotpapers site build" in result.stderr and "Traceback" not in result.stderr


def test_paths_never_climb_out_of_their_folder() -> None:
    """Old-style ids and odd names become one safe path segment."""
    assert slug("hep-th/9901001") == "hep-th_9901001"
    assert slug("../etc") == "_.._etc"
    assert slug("cs.LG") == "cs.LG"


@pytest.mark.skipif(charts_module() is None, reason="hotpapers.render.charts is not installed yet")
def test_charts_are_written_with_text_alternatives(site: Path) -> None:
    """The day's bar chart and a paper's attention chart are PNGs with words for them."""
    day = page(site / NEWER.isoformat() / "index.html")
    images = day.xpath("//figure//img")
    assert [img.get("src") for img in images] == ["top.png"]
    assert "Vision transformers, again: 720" in images[0].get("alt")
    size = png_size((site / NEWER.isoformat() / "top.png").read_bytes())
    assert size is not None and images[0].get("width") == str(size.width)
    paper = page(site / "paper/2611.00202/index.html")
    alt = paper.xpath("//figure//img/@alt")[0]
    assert "Hacker News: 45 comments, 120 points" in alt and "1 measurement" in alt
    assert png_size((site / "paper/2611.00202/attention.png").read_bytes()) is not None


def test_every_image_on_a_page_was_written(site: Path) -> None:
    """Every <img> on every page points at a chart file that was written."""
    for path in site.rglob("*.html"):
        for src in page(path).xpath("//img/@src | //source/@srcset"):
            assert (path.parent / src).is_file(), (path, src)


def test_charts_have_a_phone_sized_version(site: Path) -> None:
    """Phones get charts drawn about their width; scaled down, the wide ones are unreadable."""
    if charts_module() is None:
        pytest.skip("matplotlib is not installed")
    document = page(site / NEWER.isoformat() / "index.html")
    assert document.xpath("//picture/source/@srcset") == ["top-narrow.png"]
    narrow = png_size((site / NEWER.isoformat() / "top-narrow.png").read_bytes())
    assert narrow is not None and narrow.width <= 420
    paper = page(site / "paper/2611.00202/index.html")
    assert paper.xpath("//picture/source/@srcset") == ["attention-narrow.png"]
    narrow = png_size((site / "paper/2611.00202/attention-narrow.png").read_bytes())
    assert narrow is not None and narrow.width <= 420


def test_every_page_has_link_preview_tags(site: Path) -> None:
    """Open Graph and Twitter card tags: title, description, the page's absolute URL and
    an image of a chart that exists (the day's chart on a day page)."""
    has_charts = charts_module() is not None
    for path in site.rglob("*.html"):
        document = page(path)

        def meta(key: str, document: Any = document, path: Path = path) -> str:
            found = document.xpath(f"//meta[@property='{key}' or @name='{key}']/@content")
            assert len(found) == 1, (path, key)
            return str(found[0])

        assert meta("og:title") and meta("og:description"), path
        assert meta("og:title") == meta("twitter:title"), path
        assert meta("og:site_name") == "Hot Papers"
        if path.name == "404.html":
            continue
        folder = path.parent.relative_to(site).as_posix()
        assert meta("og:url") == BASE + ("" if folder == "." else folder + "/"), path
        if has_charts:
            image = meta("og:image")
            assert image.startswith(BASE) and (site / image.removeprefix(BASE)).is_file(), path
            assert meta("twitter:card") == "summary_large_image"
            assert meta("og:image:alt"), path
    day = page(site / NEWER.isoformat() / "index.html")
    if has_charts:
        assert day.xpath("//meta[@property='og:image']/@content") == [
            f"{BASE}{NEWER.isoformat()}/top.png"
        ]
    description = day.xpath("string(//meta[@property='og:description']/@content)")
    assert "Vision transformers, again" in description and len(description) <= 300


def _discussions(engine: Engine) -> None:
    """A Hacker News story and a Hugging Face page (with its code repository) of 2611.00202,
    as the HN and HF sources store them; a hostile repository link for the hostile paper."""
    from hotpapers.storage.models import SocialPost

    taken = datetime(2026, 11, 22, 6, 0, tzinfo=UTC)
    rows = [
        ("hn", "41", "2611.00202", "ViT", "https://news.ycombinator.com/item?id=41", 9),
        ("hn", "42", "2611.00202", "ViT again", "https://news.ycombinator.com/item?id=42", 120),
        ("hf", "2611.00202", "2611.00202", "Vision transformers\nhttps://github.com/org/vit",
         "https://huggingface.co/papers/2611.00202", 30),
        ("hf", HOSTILE_ID, HOSTILE_ID, "t\njavascript:alert(1)",
         f"https://huggingface.co/papers/{HOSTILE_ID}", 1),
    ]  # fmt: skip
    with transaction(engine) as session:
        for source, post_id, paper_id, text, url, likes in rows:
            session.add(SocialPost(source=source, post_id=post_id, paper_id=paper_id, text=text,
                                   url=url, likes=likes, taken_at=taken))  # fmt: skip


def test_papers_link_their_discussions_and_code(engine: Engine, tmp_path: Path) -> None:
    """The busiest HN thread, the HF paper page and the code repository, where known."""
    seed(engine)
    _discussions(engine)
    build_site(site_settings(), engine, tmp_path / "site", now=NOW)
    for path in (f"{NEWER.isoformat()}/index.html", "paper/2611.00202/index.html"):
        article = page(tmp_path / "site" / path).xpath("//article[@id='paper-2611.00202']")[0]
        links = dict(zip(article.xpath(".//p[@class='links']/a/text()"),
                         article.xpath(".//p[@class='links']/a/@href"), strict=True))  # fmt: skip
        assert links["Hacker News"] == "https://news.ycombinator.com/item?id=42", path
        assert links["Hugging Face"] == "https://huggingface.co/papers/2611.00202", path
        assert links["code"] == "https://github.com/org/vit", path
    day = page(tmp_path / "site" / NEWER.isoformat() / "index.html")
    hostile = day.xpath(f"//article[@id='paper-{HOSTILE_ID}']//p[@class='links']/a/text()")
    assert "code" not in hostile and "Hugging Face" in hostile
    plain = day.xpath("//article[@id='paper-2611.00201']//p[@class='links']/a/text()")
    assert "Hacker News" not in plain and "code" not in plain


def test_a_search_index_covers_the_archive(engine: Engine, tmp_path: Path) -> None:
    """search.json lists every paper with a page (those of days that left the window too):
    title, authors, categories and its page; the search page loads its own script only."""
    seed(engine)
    out = tmp_path / "site"
    build_site(site_settings(feed_days=2), engine, out, now=NOW)
    build_site(site_settings(feed_days=1), engine, out, now=NOW)  # OLDER leaves the window
    entries = json.loads((out / "search.json").read_text())
    by_id = {entry["id"]: entry for entry in entries}
    assert set(by_id) == {*EXPECTED[NEWER], *EXPECTED[OLDER]}
    seeing = by_id["2611.00102"]
    assert seeing["title"] == "Seeing in the dark" and seeing["categories"] == ["cs.CV"]
    assert seeing["authors"] == ["Ada Lovelace", "Alan Turing"]
    assert seeing["days"] == [OLDER.isoformat()]
    for entry in entries:
        assert (out / entry["url"] / "index.html").is_file(), entry["url"]
    search = page(out / "search/index.html")
    assert search.xpath("//input[@type='search']/@id") == ["q"]
    scripts = search.xpath("//script/@src")
    assert scripts == ["../search.js"] and (out / "search.js").is_file()
    assert not search.xpath("//script[not(@src)]")  # no inline script: the CSP forbids it
    assert page(out / "index.html").xpath("//nav//a[.='Search']/@href") == ["search/"]


def test_the_day_chart_draws_the_scores_the_list_shows(engine: Engine, tmp_path: Path) -> None:
    """With weights other than 1, the bars are the weighted scores, not raw counts."""
    charts = charts_module()
    if charts is None:
        pytest.skip("matplotlib is not installed")
    seed(engine)
    settings = site_settings()
    settings.ranking.weights = {"x.likes": 3.0, "x.retweets": 0.5}
    build_site(settings, engine, tmp_path / "site", now=NOW)
    ranked = jobs.rank(settings, engine, NEWER, now=NOW)
    title = f"{settings.site.title} {NEWER.isoformat()}"
    drawn = (tmp_path / "site" / NEWER.isoformat() / "top.png").read_bytes()
    assert drawn == charts.top_papers_chart_png(ranked, title, settings.ranking.weights)
    assert drawn != charts.top_papers_chart_png(ranked, title)
