"""The archive's search index: one JSON list of every paper that has a page.

The search page filters it in the browser (`static/search.js`), so the site stays static.
Papers whose pages were kept from earlier builds (they left the feed window) keep their
entries: the index covers the whole archive, not the window.
"""

from __future__ import annotations

import json
import logging
from datetime import date
from pathlib import Path
from typing import Any

from hotpapers.ranking.scoring import RankedPaper
from hotpapers.render.tex import to_unicode
from hotpapers.site.content import slug

log = logging.getLogger(__name__)

INDEX = "search.json"


def entry(paper_id: str, appearances: list[tuple[date, RankedPaper]]) -> dict[str, Any]:
    """What the search looks through for one paper (newest appearance first)."""
    paper = appearances[0][1].paper
    return {
        "id": paper_id,
        "title": to_unicode(paper.title),
        "authors": list(paper.authors),
        "categories": list(dict.fromkeys(paper.categories)),
        "days": [day.isoformat() for day, _ in appearances],
        "url": f"paper/{slug(paper_id)}/",
    }


def kept_entries(live: Path, fresh: set[str], root: Path) -> list[dict[str, Any]]:
    """Entries of the previous index for papers not rebuilt whose page was kept in `root`."""
    try:
        previous = json.loads((live / INDEX).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return []  # no earlier site (or a damaged index): the new one starts afresh
    if not isinstance(previous, list):
        return []
    return [
        item
        for item in previous
        if isinstance(item, dict)
        and item.get("id") not in fresh
        and isinstance(item.get("url"), str)
        and (root / item["url"] / "index.html").is_file()
    ]


def document(entries: list[dict[str, Any]]) -> str:
    """The index, newest papers first, in a stable order."""
    ordered = sorted(entries, key=lambda item: (max(item.get("days") or [""]), item["id"]))
    return json.dumps(ordered[::-1], ensure_ascii=False, separators=(",", ":")) + "\n"
