"""Atom (RFC 4287) and JSON Feed 1.1 documents of the ranked papers of recent days.

An entry is one paper on one day: its id is the arXiv abstract URL with the listing date as
the fragment, so it stays the same across rebuilds and base-URL changes, and a paper that is
hot again on a later day is a new entry. Every link is absolute (no xml:base).

With the weekly digest on, the main feed also has one entry per week post (`WeekPost`), its id
the site's week page with the week's last day as the fragment.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from xml.etree import ElementTree as ET

from markupsafe import escape

from hotpapers.arxiv.ids import abs_url, pdf_url
from hotpapers.ranking.scoring import RankedPaper, format_number, ranked_record
from hotpapers.render.tex import to_unicode
from hotpapers.site import views
from hotpapers.site.content import slug

ATOM_NS = "http://www.w3.org/2005/Atom"
JSON_FEED_VERSION = "https://jsonfeed.org/version/1.1"
GENERATOR = "hotpapers"


@dataclass(frozen=True)
class Feed:
    title: str
    page_url: str  # the HTML page the feed follows
    atom_url: str
    json_url: str
    entries: Sequence[tuple[date, RankedPaper]]  # newest day first, best first
    fallback_updated: datetime  # `updated` when there is no entry
    weeks: Sequence[WeekPost] = ()  # newest first; only the main feed has them


@dataclass(frozen=True)
class WeekPost:
    """A weekly digest post as a feed entry: the week's trending papers, best first."""

    title: str
    last_day: date
    papers: Sequence[RankedPaper]

    def url(self, site_url: str) -> str:
        return f"{site_url}week/#week-{self.last_day.isoformat()}"

    def content_html(self) -> str:
        items = "".join(
            f'<li><a href="{escape(abs_url(item.paper.arxiv_id))}">'
            f"{escape(to_unicode(item.paper.title))}</a></li>"
            for item in self.papers
        )
        return f"<ol>{items}</ol>" if items else "<p>No paper gained attention this week.</p>"


def entry_id(day: date, item: RankedPaper) -> str:
    return f"{abs_url(item.paper.arxiv_id)}#hot-{day.isoformat()}"


def entry_url(site_url: str, day: date, item: RankedPaper) -> str:
    return f"{site_url}{day.isoformat()}/#paper-{slug(item.paper.arxiv_id)}"


def content_html(item: RankedPaper) -> str:
    """The entry body: abstract, score with its sources, and the arXiv links."""
    paper = item.paper
    score = format_number(round(item.score, 4))
    return (
        f"<p>{escape(to_unicode(paper.abstract))}</p>"
        f"<p>Rank {item.rank}, score {score} ({escape(views.signals_sentence(item))}).</p>"
        f"<p>{escape(', '.join(paper.authors))}</p>"
        f'<p><a href="{escape(abs_url(paper.arxiv_id))}">abs</a> · '
        f'<a href="{escape(pdf_url(paper.arxiv_id))}">pdf</a></p>'
    )


def _feed_updated(feed: Feed) -> datetime:
    times = [views.updated_at(day, item) for day, item in feed.entries]
    times += [views.published_at(week.last_day) for week in feed.weeks]
    return max(times) if times else feed.fallback_updated


def _sub(parent: ET.Element, tag: str, text: str | None = None, **attrs: str) -> ET.Element:
    element = ET.SubElement(parent, f"{{{ATOM_NS}}}{tag}", attrs)
    if text is not None:
        element.text = views.xml_safe(text)
    return element


def atom_document(feed: Feed, site_url: str) -> bytes:
    """The feed as Atom 1.0 XML (UTF-8, with the XML declaration)."""
    ET.register_namespace("", ATOM_NS)
    root = ET.Element(f"{{{ATOM_NS}}}feed")
    _sub(root, "id", feed.atom_url)
    _sub(root, "title", feed.title)
    _sub(root, "updated", views.rfc3339(_feed_updated(feed)))
    _sub(root, "link", rel="self", type="application/atom+xml", href=feed.atom_url)
    _sub(root, "link", rel="alternate", type="text/html", href=feed.page_url)
    author = _sub(root, "author")
    _sub(author, "name", feed.title)  # entries without authors fall back to this
    _sub(root, "generator", GENERATOR)
    for week in feed.weeks:
        _atom_week(root, week, site_url)
    for day, item in feed.entries:
        _atom_entry(root, day, item, site_url)
    ET.indent(root)
    return ET.tostring(root, encoding="utf-8", xml_declaration=True) + b"\n"


def _atom_entry(root: ET.Element, day: date, item: RankedPaper, site_url: str) -> None:
    paper = item.paper
    entry = _sub(root, "entry")
    _sub(entry, "id", entry_id(day, item))
    _sub(entry, "title", to_unicode(paper.title))
    _sub(entry, "updated", views.rfc3339(views.updated_at(day, item)))
    _sub(entry, "published", views.rfc3339(views.published_at(day)))
    _sub(entry, "link", rel="alternate", type="text/html", href=entry_url(site_url, day, item))
    _sub(entry, "link", rel="related", type="text/html", href=abs_url(paper.arxiv_id))
    for name in paper.authors:
        _sub(_sub(entry, "author"), "name", name)
    for category in dict.fromkeys(paper.categories):
        _sub(entry, "category", term=category)
    _sub(entry, "content", content_html(item), type="html")


def _atom_week(root: ET.Element, week: WeekPost, site_url: str) -> None:
    entry = _sub(root, "entry")
    moment = views.rfc3339(views.published_at(week.last_day))
    _sub(entry, "id", week.url(site_url))
    _sub(entry, "title", week.title)
    _sub(entry, "updated", moment)
    _sub(entry, "published", moment)
    _sub(entry, "link", rel="alternate", type="text/html", href=week.url(site_url))
    _sub(entry, "content", week.content_html(), type="html")


def json_document(feed: Feed, site_url: str) -> bytes:
    """The feed as JSON Feed 1.1 (UTF-8, keys in a fixed order)."""
    document = {
        "version": JSON_FEED_VERSION,
        "title": feed.title,
        "home_page_url": feed.page_url,
        "feed_url": feed.json_url,
        "language": "en",
        "authors": [{"name": feed.title}],
        "items": [_json_week(week, site_url) for week in feed.weeks]
        + [_json_item(day, item, site_url) for day, item in feed.entries],
    }
    return (json.dumps(document, ensure_ascii=False, indent=1) + "\n").encode("utf-8")


def _json_item(day: date, item: RankedPaper, site_url: str) -> dict[str, object]:
    paper = item.paper
    found: dict[str, object] = {
        "id": entry_id(day, item),
        "url": entry_url(site_url, day, item),
        "external_url": abs_url(paper.arxiv_id),
        "title": to_unicode(paper.title),
        "content_html": content_html(item),
        "date_published": views.rfc3339(views.published_at(day)),
        "date_modified": views.rfc3339(views.updated_at(day, item)),
        "authors": [{"name": name} for name in paper.authors],
        "tags": list(dict.fromkeys(paper.categories)),
    }
    if not paper.authors:  # 1.1 wants at least one author in the array; the feed's counts
        del found["authors"]
    return found


def _json_week(week: WeekPost, site_url: str) -> dict[str, object]:
    moment = views.rfc3339(views.published_at(week.last_day))
    return {
        "id": week.url(site_url),
        "url": week.url(site_url),
        "external_url": week.url(site_url),
        "title": week.title,
        "content_html": week.content_html(),
        "date_published": moment,
        "date_modified": moment,
        "tags": [],
    }


def scores_document(day: date, ranked: Sequence[RankedPaper], site_url: str) -> bytes:
    """A day's ranking as data (`YYYY-MM-DD/scores.json`): what `hotpapers rank --json`
    prints, with each paper's links and categories and when its X counts were taken."""
    papers = [
        {
            **ranked_record(item),
            "url": entry_url(site_url, day, item),
            "abs_url": abs_url(item.paper.arxiv_id),
            "pdf_url": pdf_url(item.paper.arxiv_id),
            "categories": list(dict.fromkeys(item.paper.categories)),
            "counts_taken_at": (
                views.rfc3339(item.counts_taken_at) if item.counts_taken_at else None
            ),
        }
        for item in ranked
    ]
    document = {"listing_date": day.isoformat(), "papers": papers}
    return (json.dumps(document, ensure_ascii=False, indent=1) + "\n").encode("utf-8")
