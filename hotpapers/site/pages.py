"""The site's HTML pages, rendered from Jinja2 templates with autoescaping on.

Every piece of stored text (titles, abstracts, author names, post text) goes through the
autoescaper; links from stored data pass `safe_url` first. Links between pages are
relative, so the site works under any path prefix.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import jinja2

from hotpapers.arxiv.ids import abs_url, pdf_url
from hotpapers.config import Settings
from hotpapers.ranking.scoring import RankedPaper, format_number
from hotpapers.render.tex import to_html, to_unicode
from hotpapers.site import views
from hotpapers.site.content import Day, Listing, PaperLinks, SimilarPaper, slug

_TEMPLATES = Path(__file__).resolve().parent / "templates"


@dataclass(frozen=True)
class Chart:
    """A PNG written beside a page; width and height keep the layout from jumping."""

    width: int
    height: int
    alt: str = ""  # the chart in words, for readers who cannot see it
    narrow: Chart | None = None  # a version drawn for phones (`-narrow.png` beside it)


@dataclass(frozen=True)
class Preview:
    """The picture a shared link shows (Open Graph / Twitter card): a chart, by absolute URL."""

    url: str
    width: int
    height: int
    alt: str


def environment(settings: Settings) -> jinja2.Environment:
    """Autoescaping on; filters bound to this build's weights and embed rules."""
    weights, digest = dict(settings.ranking.weights), settings.digest
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(_TEMPLATES),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
    )
    env.filters.update(
        slug=slug,
        abs_url=abs_url,
        pdf_url=pdf_url,
        num=lambda value: format_number(round(float(value), 4)),
        safe_url=views.safe_url,
        shorten=views.shorten,
        # Titles and abstracts: MathML in the page, Unicode where only text fits (<title>).
        tex=to_html,
        tex_text=to_unicode,
        score_terms=lambda item: views.score_terms(item, weights),
        decay_factor=lambda item: views.decay_factor(item, weights),
        signal_rows=views.signal_rows,
        signals_sentence=views.signals_sentence,
        posts_to_show=lambda item: views.posts_to_show(item, digest),
    )
    return env


class Renderer:
    """Renders the pages of one build with the settings' title and weights."""

    def __init__(
        self,
        settings: Settings,
        category_pages: list[str],
        links: Mapping[str, PaperLinks] | None = None,
        tldrs: Mapping[str, str] | None = None,
    ) -> None:
        self.common = {
            "site_title": settings.site.title,
            "category_pages": category_pages,
            "paper_links": links or {},
            "tldrs": tldrs or {},
        }
        self.site_url = settings.site.base_url.rstrip("/") + "/"
        self.env = environment(settings)

    def _render(
        self, template: str, root: str, path: str | None, image: Preview | None, **values: Any
    ) -> str:
        """`path`: the page's folder in the site, for its absolute URL in link previews."""
        page_url = None if path is None else self.site_url + path
        return self.env.get_template(template).render(
            root=root, page_url=page_url, image=image, **self.common, **values
        )

    def index(
        self, days: list[Day], archived: Sequence[date] = (), image: Preview | None = None
    ) -> str:
        return self._render("index.html.j2", "", "", image, days=days, archived=archived)

    def day(
        self,
        day: Day,
        newer: date | None,
        older: date | None,
        chart: Chart | None,
        image: Preview | None = None,
    ) -> str:
        return self._render(
            "day.html.j2",
            "../",
            f"{day.day.isoformat()}/",
            image,
            day=day.day,
            ranked=day.ranked,
            rising=day.rising,
            newer=newer,
            older=older,
            chart=chart,
        )

    def category(self, category: str, listings: list[Listing], image: Preview | None = None) -> str:
        path = f"category/{slug(category)}/"
        return self._render(
            "category.html.j2", "../../", path, image, category=category, listings=listings
        )

    def paper(
        self,
        appearances: list[tuple[date, RankedPaper]],
        chart: Chart | None,
        image: Preview | None = None,
        similar: Sequence[SimilarPaper] | None = None,
    ) -> str:
        latest = appearances[0][1]
        return self._render(
            "paper.html.j2",
            "../../",
            f"paper/{slug(latest.paper.arxiv_id)}/",
            image,
            og_type="article",
            latest=latest,
            appearances=appearances,
            chart=chart,
            similar=similar or (),
        )

    def week(self, heading: str, span: Any, found: Sequence[Any]) -> str:
        """The week's trending papers (hotpapers/ranking/trending.py), when the weekly digest is
        on."""
        return self._render(
            "week.html.j2", "../", "week/", None, heading=heading,
            first_day=span.first_day, last_day=span.last_day, found=found,
        )  # fmt: skip

    def search(self, image: Preview | None = None) -> str:
        return self._render("search.html.j2", "../", "search/", image)

    def not_found(self, root: str) -> str:
        return self._render("404.html.j2", root, None, None)
