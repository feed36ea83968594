"""The daily "Hot Papers" Markdown post, rendered from a Jinja2 template.

The shipped template (`hotpapers/templates/post.md.j2`) reproduces the classic post layout
byte for byte; `DigestSettings.template` (or `template_path`) names a user template instead.
Autoescaping is off: the post is Markdown, and the X embeds are HTML that must pass as is.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path

import jinja2

from hotpapers.arxiv.ids import abs_url, pdf_url
from hotpapers.config import DigestSettings
from hotpapers.errors import ConfigError
from hotpapers.ranking import classic
from hotpapers.ranking.scoring import PaperView, PostSignal, RankedPaper, X, format_number

DEFAULT_TEMPLATE = "post.md.j2"
_PACKAGE_TEMPLATES = Path(__file__).resolve().parent.parent / "templates"
PACKAGE_TEMPLATES = _PACKAGE_TEMPLATES  # the weekly digest's template lives beside the post's
_TRAILING_WIDGET_SCRIPT = re.compile(
    r"\s*<script\b[^>]*platform\.twitter\.com/widgets\.js[^>]*>\s*</script>\s*$", re.IGNORECASE
)


def post_filename(listing_date: date) -> str:
    """The post's file name: `YYYY-MM-DD---Hot-Papers.md`."""
    return f"{listing_date.isoformat()}---Hot-Papers.md"


def select_embeds(
    posts: Iterable[PostSignal], *, min_engagement: int, limit: int
) -> list[PostSignal]:
    """The posts to embed, in the given (most engaging first) order.

    The classic rules (`hotpapers.ranking.classic`): of the first `limit` posts, each one - the
    first
    too - is embedded only when its retweets + likes reach `min_engagement`, and identical
    embed HTML is printed once. Posts without embed HTML are left out (the paper itself stays
    in the post), and a post id appears once.
    """
    chosen: list[PostSignal] = []
    seen: set[tuple[str, str]] = set()
    shown: set[str] = set()
    for post in posts:
        key = (post.source, post.post_id)
        if key in seen:
            continue
        seen.add(key)
        if len(seen) > limit:
            break
        markup = embed_markup(post.embed_html or "")
        if not markup or post.reposts + post.likes < min_engagement:
            continue
        if classic.ONE_COPY_OF_EACH_EMBED and markup in shown:
            continue
        shown.add(markup)
        chosen.append(post)
    return chosen


def embed_markup(html: str) -> str:
    """oEmbed HTML without surrounding whitespace or its own widgets.js script tag.

    The template writes the script line after every embed, so an oEmbed answer fetched
    without `omit_script` must not bring a second copy.
    """
    return _TRAILING_WIDGET_SCRIPT.sub("", html.strip()).strip()


def iso_utc(moment: datetime) -> str:
    """`2021-03-16T09:09:31.000Z`: UTC, milliseconds, `Z` (naive times are taken as UTC).

    The front matter's `date`: the moment the post was written, really in UTC (the original
    wrote its Japan-time clock with a `Z`; see `hotpapers.ranking.classic`)."""
    moment = _as_utc(moment)
    return f"{moment:%Y-%m-%dT%H:%M:%S}.{moment.microsecond // 1000:03d}Z"


def counts_time(moment: datetime) -> str:
    """`03/16/2021 09:09:31` in UTC, as the classic post prints when counts were taken."""
    return f"{_as_utc(moment):%m/%d/%Y %H:%M:%S}"


def _as_utc(moment: datetime) -> datetime:
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def category_link(category: str) -> str:
    return f"[{category}](https://arxiv.org/list/{category}/recent)"


def signal_breakdown(signals: dict[str, dict[str, float]]) -> str:
    """`hn: 230 points, 55 comments · hf: 41 upvotes` for the sources other than X ('' if none)."""
    parts = []
    for source, metrics in signals.items():
        # Zero counts say nothing; the "posts"/"stories" tallies repeat what the sums show.
        shown = {k: v for k, v in metrics.items() if v and k not in _TALLIES}
        if source == X or not shown:
            continue
        counts = ", ".join(
            f"{format_number(value)} {name.replace('_', ' ')}" for name, value in shown.items()
        )
        parts.append(f"{source}: {counts}")
    return " · ".join(parts)


_TALLIES = frozenset({"posts", "stories"})


@dataclass(frozen=True)
class PaperEntry:
    """What the template sees for one paper (all text already formatted)."""

    rank: int
    arxiv_id: str
    title: str
    authors: str
    retweets: str
    favorites: str
    counts_taken_at: str
    breakdown: str
    abs_url: str
    pdf_url: str
    category_links: str
    abstract: str
    embeds: tuple[str, ...]
    ranked: RankedPaper


def paper_entry(ranked: RankedPaper, settings: DigestSettings) -> PaperEntry:
    paper = ranked.paper
    x = ranked.signals.get(X, {})
    embeds = select_embeds(
        ranked.posts, min_engagement=settings.embed_min_engagement, limit=settings.max_embeds
    )
    return PaperEntry(
        rank=ranked.rank,
        arxiv_id=paper.arxiv_id,
        title=paper.title,
        authors=", ".join(paper.authors),
        retweets=format_number(x.get("retweets", 0.0)),
        favorites=format_number(x.get("likes", 0.0)),
        counts_taken_at=counts_time(ranked.counts_taken_at) if ranked.counts_taken_at else "",
        breakdown=signal_breakdown(ranked.signals),
        abs_url=abs_url(paper.arxiv_id),
        pdf_url=pdf_url(paper.arxiv_id),
        category_links=" | ".join(category_link(c) for c in _categories(paper)),
        abstract=paper.abstract,
        embeds=tuple(embed_markup(post.embed_html or "") for post in embeds),
        ranked=ranked,
    )


def _categories(paper: PaperView) -> list[str]:
    categories = list(paper.categories)
    if paper.primary_category and paper.primary_category not in categories:
        categories.insert(0, paper.primary_category)
    elif paper.primary_category and categories[0] != paper.primary_category:
        categories.remove(paper.primary_category)
        categories.insert(0, paper.primary_category)
    return categories


def _yaml_str(value: object) -> str:
    """A YAML double-quoted scalar (JSON string syntax is valid YAML)."""
    return json.dumps(str(value), ensure_ascii=False)


def _environment(loader: jinja2.BaseLoader) -> jinja2.Environment:
    env = jinja2.Environment(
        loader=loader,
        autoescape=False,  # Markdown out; embeds are trusted oEmbed HTML
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
        undefined=jinja2.StrictUndefined,
    )
    env.filters["yaml_str"] = _yaml_str
    return env


def load_template(template_path: Path | None) -> jinja2.Template:
    """The user's template file, or the shipped one; ConfigError naming the file if unusable."""
    if template_path is None:
        folder, name = _PACKAGE_TEMPLATES, DEFAULT_TEMPLATE
    else:
        folder, name = template_path.parent, template_path.name
    shown = template_path if template_path is not None else folder / name
    if not (folder / name).is_file():
        raise ConfigError(f"Post template {shown} does not exist or is not a file.")
    try:
        return _environment(jinja2.FileSystemLoader(str(folder))).get_template(name)
    except jinja2.TemplateSyntaxError as exc:
        raise ConfigError(
            f"Post template {shown} has a syntax error on line {exc.lineno}: {exc.message}."
        ) from None
    except (jinja2.TemplateError, OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"Post template {shown} cannot be read: {exc}.") from None


def render_post(
    listing_date: date,
    ranked: Sequence[RankedPaper],
    settings: DigestSettings,
    *,
    generated_at: datetime,
    template_path: Path | None = None,
    rising: Sequence[Mapping[str, str]] = (),
) -> str:
    """The Markdown post for one listing date: front matter, then each ranked paper (and the
    optional "Rising from earlier days" entries, `hotpapers.ranking.rising.post_entries`)."""
    path = template_path if template_path is not None else settings.template
    template = load_template(path)
    context = {
        "listing_date": listing_date.isoformat(),
        "generated_at": iso_utc(generated_at),
        "draft": "true" if settings.draft else "false",
        "category": settings.category,
        "tags": list(settings.tags),
        "social_image": settings.social_image,
        "papers": [paper_entry(item, settings) for item in ranked],
        "rising": list(rising),
        "settings": settings,
    }
    try:
        return template.render(context)
    except jinja2.TemplateError as exc:
        shown = path if path is not None else _PACKAGE_TEMPLATES / DEFAULT_TEMPLATE
        message = getattr(exc, "message", None) or str(exc)
        raise ConfigError(f"Post template {shown} failed to render: {message}.") from None
