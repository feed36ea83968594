"""`build_site`: render the whole archive into a fresh folder, then swap it into place.

A reader never sees a half-built site and a failed build leaves the previous one as it
was: everything is written into a temporary folder beside `out_dir`, which only replaces
`out_dir` once it is complete. The output depends only on the database (and `now`, which
bounds the counts used), so rebuilding an unchanged archive gives the same bytes.
"""

from __future__ import annotations

import dataclasses
import functools
import importlib
import logging
import os
import shutil
import struct
import tempfile
import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from types import ModuleType
from urllib.parse import urlsplit

from sqlalchemy import Engine

from hotpapers.config import Settings
from hotpapers.errors import HotpapersError, InputError
from hotpapers.ranking.scoring import RankedPaper
from hotpapers.site import search
from hotpapers.site.content import Day, SiteContent, gather, measurements, slug
from hotpapers.site.feeds import (
    Feed,
    WeekPost,
    atom_document,
    json_document,
    scores_document,
)
from hotpapers.site.pages import Chart, Preview, Renderer
from hotpapers.site.views import attention_alt, published_at, top_chart_alt

log = logging.getLogger(__name__)

# Marks a folder as ours: a build replaces only an empty folder or one it built before.
MARKER = ".hotpapers-site"
_STATIC = Path(__file__).resolve().parent / "static"


@dataclass(slots=True)
class SiteReport:
    out_dir: Path
    days: int = 0
    categories: int = 0
    papers: int = 0
    pages: int = 0
    feeds: int = 0
    charts: int = 0

    def sentence(self) -> str:
        return (
            f"site written to {self.out_dir}: {self.days} days, {self.categories} categories, "
            f"{self.papers} papers ({self.pages} pages, {self.feeds} feeds, "
            f"{self.charts} charts)."
        )


def build_site(
    settings: Settings,
    engine: Engine,
    out_dir: Path | None = None,
    *,
    now: datetime | None = None,
) -> SiteReport:
    """Write the static archive (pages, feeds, charts) of the recent ranked days."""
    out = Path(out_dir or settings.site.out_dir)
    _check_out_dir(out)
    now = now or datetime.now(UTC)
    content = gather(settings, engine, now)
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=f".{out.name}.new-", dir=out.parent))
    except OSError as exc:
        raise _cannot_write(out, exc) from exc
    try:
        report = _Writer(settings, engine, staging, now, live=out).write(content)
        staging.chmod(0o755)  # mkdtemp makes it private; a web server must read it
        _swap(staging, out)
    except OSError as exc:
        shutil.rmtree(staging, ignore_errors=True)
        raise _cannot_write(out, exc) from exc
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    report.out_dir = out
    log.info("site %s", report.sentence())
    return report


def _cannot_write(out: Path, exc: OSError) -> HotpapersError:
    log.debug("site build failed", exc_info=True)
    return HotpapersError(f"cannot write the site to {out}: {exc.strerror or exc}")


def _check_out_dir(out: Path) -> None:
    if out.exists() and not out.is_dir():
        raise InputError(f"the site folder {out} is a file; choose a folder")
    if out.is_dir() and not (out / MARKER).exists() and any(out.iterdir()):
        raise InputError(
            f"{out} holds files that hotpapers did not write; "
            "choose an empty or new folder for the site"
        )


def _keep_unchanged_times(new: Path, out: Path) -> None:
    """Files equal to the live ones keep their modification time, so their ETag and
    Last-Modified stay the same and readers' caches stay valid across rebuilds."""
    for path in new.rglob("*"):
        live = out / path.relative_to(new)
        if path.is_file() and live.is_file() and live.read_bytes() == path.read_bytes():
            stat = live.stat()
            os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns))


def _swap(new: Path, out: Path) -> None:
    """Put the finished folder in place: two renames, the old folder deleted afterwards."""
    if not out.exists():
        new.rename(out)
        return
    _keep_unchanged_times(new, out)
    old = out.with_name(f".{out.name}.old-{uuid.uuid4().hex[:8]}")
    out.rename(old)
    new.rename(out)
    shutil.rmtree(old, ignore_errors=True)


def archived_days(live: Path) -> list[date]:
    """The day pages an earlier build left in `live`, newest first."""
    if not (live / MARKER).exists():
        return []
    days = []
    for folder in live.iterdir():
        try:
            day = date.fromisoformat(folder.name)
        except ValueError:
            continue
        if folder.is_dir() and (folder / "index.html").is_file():
            days.append(day)
    return sorted(days, reverse=True)


def charts_module() -> ModuleType | None:
    """`hotpapers.render.charts` when it is installed (the site works without pictures)."""
    try:
        return importlib.import_module("hotpapers.render.charts")
    except ImportError:
        return None


def png_size(data: bytes) -> Chart | None:
    """Width and height from a PNG's header, or None if `data` is not a PNG."""
    if len(data) < 24 or not data.startswith(b"\x89PNG\r\n\x1a\n"):
        return None
    width, height = struct.unpack(">II", data[16:24])
    return Chart(width, height)


class _Writer:
    """Writes one build into `root`, counting what it wrote."""

    def __init__(
        self, settings: Settings, engine: Engine, root: Path, now: datetime, live: Path
    ) -> None:
        self.settings, self.engine, self.root, self.now = settings, engine, root, now
        self.live = live  # the site being replaced: its pages that left the window stay
        self.report = SiteReport(out_dir=root)
        self.charts = charts_module()
        base = settings.site.base_url.rstrip("/") + "/"
        self.site_url = base
        self.site_path = urlsplit(base).path or "/"

    def write(self, content: SiteContent) -> SiteReport:
        renderer = Renderer(self.settings, list(content.categories), content.links, content.tldrs)
        self._file(MARKER, "built by hotpapers site build\n")
        for name in ("site.css", "search.js", "favicon.svg"):
            shutil.copyfile(_STATIC / name, self.root / name)
        fresh = {day.day for day in content.days}
        archived = [day for day in archived_days(self.live) if day not in fresh]
        self._page("404.html", renderer.not_found(self.site_path))
        previews: dict[date, Preview] = {}  # each day's chart, the picture of shared links
        for position, day in enumerate(content.days):
            newer = content.days[position - 1].day if position else None
            older = content.days[position + 1].day if position + 1 < len(content.days) else None
            older = older or next((old for old in archived if old < day.day), None)
            chart = self._top_chart(day)
            if chart is not None:
                previews[day.day] = self._preview(f"{day.day.isoformat()}/top.png", chart)
            html = renderer.day(day, newer, older, chart, previews.get(day.day))
            self._page(f"{day.day.isoformat()}/index.html", html)
            scores = scores_document(day.day, day.ranked, self.site_url)
            self._file(f"{day.day.isoformat()}/scores.json", scores)
        newest = previews.get(content.days[0].day) if content.days else None
        self._page("index.html", renderer.index(content.days, archived, newest))
        self._page("search/index.html", renderer.search(newest))
        for category, listings in content.categories.items():
            html = renderer.category(category, listings, previews.get(listings[0].day))
            self._page(f"category/{slug(category)}/index.html", html)
        for paper_id, appearances in content.papers.items():
            chart = self._attention_chart(paper_id, appearances[0][1])
            image = previews.get(appearances[0][0])
            if chart is not None:
                image = self._preview(f"paper/{slug(paper_id)}/attention.png", chart)
            html = renderer.paper(appearances, chart, image, content.similar.get(paper_id))
            self._page(f"paper/{slug(paper_id)}/index.html", html)
        if self.settings.digest.weekly.enabled:
            self._week(renderer)
        self._feeds(content)
        self._keep_old_pages(archived)
        entries = [search.entry(paper_id, seen) for paper_id, seen in content.papers.items()]
        entries += search.kept_entries(self.live, set(content.papers), self.root)
        self._file(search.INDEX, search.document(entries))
        self.report.days, self.report.categories = len(content.days), len(content.categories)
        self.report.papers = len(content.papers)
        return self.report

    def _week(self, renderer: Renderer) -> None:
        """`week/`: the last 7 days' trending papers, as the weekly post lists them."""
        from hotpapers.ranking.trending import title
        from hotpapers.ranking.week import week_of

        span, found = week_of(self.settings, self.engine, self.now.date(), self.now)
        self._page("week/index.html", renderer.week(title(span), span, found))

    def _keep_old_pages(self, archived: list[date]) -> None:
        """Pages of earlier builds stay where they were, as they were published: day pages
        that left the window, and paper and category pages no longer rebuilt (links to
        them must not break). Only the feeds keep a window."""
        folders = [day.isoformat() for day in archived]
        for parent in ("paper", "category"):
            if (self.live / parent).is_dir():
                folders += [f"{parent}/{p.name}" for p in sorted((self.live / parent).iterdir())]
        for folder in folders:
            source, target = self.live / folder, self.root / folder
            if source.is_dir() and not source.is_symlink() and not target.exists():
                shutil.copytree(source, target, symlinks=True)

    def _preview(self, relative: str, chart: Chart) -> Preview:
        return Preview(self.site_url + relative, chart.width, chart.height, chart.alt)

    def _file(self, relative: str, data: str | bytes) -> None:
        path = self.root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data.encode("utf-8") if isinstance(data, str) else data)

    def _page(self, relative: str, html: str) -> None:
        self._file(relative, html)
        self.report.pages += 1

    def _feeds(self, content: SiteContent) -> None:
        title = self.settings.site.title
        fallback = _fallback(content)
        everything = [(day.day, item) for day in content.days for item in day.ranked]
        self._feed("", title, everything, fallback, self._week_posts(content))
        for category, listings in content.categories.items():
            entries = [(listing.day, item) for listing in listings for item in listing.ranked]
            self._feed(f"category/{slug(category)}/", f"{title}: {category}", entries, fallback)

    def _week_posts(self, content: SiteContent) -> list[WeekPost]:
        """The week posts written since the feed's oldest day, newest first: one a week on
        the configured weekday, each with that week's trending papers."""
        from hotpapers.ranking.trending import title
        from hotpapers.ranking.week import is_weekly_day, week_of

        if not content.days:
            return []
        posts, day = [], self.now.date()
        while day >= content.days[-1].day:
            if is_weekly_day(self.settings, day):
                span, found = week_of(self.settings, self.engine, day, self.now)
                posts.append(WeekPost(title(span), day, [item.ranked for item in found]))
            day -= timedelta(days=1)
        return posts

    def _feed(
        self,
        folder: str,
        title: str,
        entries: list[tuple[date, RankedPaper]],
        fallback: datetime,
        weeks: list[WeekPost] | None = None,
    ) -> None:
        page = self.site_url + folder
        atom, json_url = page + "feed.atom", page + "feed.json"
        feed = Feed(title, page, atom, json_url, entries, fallback, weeks or [])
        self._file(folder + "feed.atom", atom_document(feed, self.site_url))
        self._file(folder + "feed.json", json_document(feed, self.site_url))
        self.report.feeds += 2

    def _top_chart(self, day: Day) -> Chart | None:
        if self.charts is None:
            return None
        title = f"{self.settings.site.title} {day.day.isoformat()}"
        # The configured weights: the bars must add up to the scores the list shows.
        weights = dict(self.settings.ranking.weights)
        data = self._chart(self.charts.top_papers_chart_png, day.ranked, title, weights)
        alt = top_chart_alt(day.day, day.ranked)
        chart = self._save_chart(f"{day.day.isoformat()}/top.png", data, alt)
        narrow = self._chart(
            functools.partial(self.charts.top_papers_chart_png, narrow=True),
            day.ranked, title, weights,
        )  # fmt: skip
        return self._with_narrow(chart, f"{day.day.isoformat()}/top-narrow.png", narrow)

    def _with_narrow(self, chart: Chart | None, relative: str, data: bytes | None) -> Chart | None:
        """`chart` with its phone-sized version, saved at `relative` (if both were drawn)."""
        size = png_size(data) if data else None
        if chart is None or data is None or size is None:
            return chart
        self._file(relative, data)
        self.report.charts += 1
        return dataclasses.replace(chart, narrow=size)

    def _attention_chart(self, paper_id: str, latest: RankedPaper) -> Chart | None:
        if self.charts is None:
            return None
        data = self._chart(self.charts.attention_chart_png, self.engine, paper_id)
        if data is None:
            return None
        alt = attention_alt(latest, *measurements(self.engine, paper_id, self.now))
        chart = self._save_chart(f"paper/{slug(paper_id)}/attention.png", data, alt)
        draw = functools.partial(self.charts.attention_chart_png, narrow=True)
        narrow = self._chart(draw, self.engine, paper_id) if chart else None
        return self._with_narrow(chart, f"paper/{slug(paper_id)}/attention-narrow.png", narrow)

    def _chart(self, draw: object, *args: object) -> bytes | None:
        """A chart that cannot be drawn is left out of the page, not the build's end."""
        try:
            data = draw(*args)  # type: ignore[operator]
        except Exception:
            log.warning("a chart could not be drawn; the page goes without it", exc_info=True)
            return None
        return data if isinstance(data, bytes) else None

    def _save_chart(self, relative: str, data: bytes | None, alt: str) -> Chart | None:
        size = png_size(data) if data else None
        if size is None or data is None:
            return None
        self._file(relative, data)
        self.report.charts += 1
        return Chart(size.width, size.height, alt)


def _fallback(content: SiteContent) -> datetime:
    """`updated` of an empty feed: the newest day's announcement, or a fixed old time."""
    if content.days:
        return published_at(content.days[0].day)
    return datetime(2000, 1, 1, tzinfo=UTC)
