"""`hotpapers trending [week|month]`: the papers that gained the most attention lately."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table
from rich.text import Text

from hotpapers.errors import InputError, quoted

if TYPE_CHECKING:
    from hotpapers.ranking.trending import TrendingPaper, Window


def trending(
    period: Annotated[
        str, typer.Argument(help="week (the last 7 days) or month (the last 30 days).")
    ] = "week",
    category: Annotated[
        str | None,
        typer.Option("--category", help="Only papers in this category (primary or cross-list)."),
    ] = None,
    date_: Annotated[
        str | None,
        typer.Option("--date", "-d", help="The window's last day, YYYY-MM-DD (default: today)."),
    ] = None,
    top: Annotated[int | None, typer.Option("--top", "-n", help="How many papers.")] = None,
) -> None:
    """The papers that gained the most attention in the last week or month."""
    from hotpapers.cli.common import friendly

    friendly(_trending)(period, category, date_, top)


def _trending(period: str, category: str | None, date_: str | None, top: int | None) -> None:
    from hotpapers.cli.common import cli_engine, cli_settings, out, parse_date
    from hotpapers.config import require_category
    from hotpapers.ranking.trending import (
        CLI_HINT,
        find_trending,
        nothing_sentence,
        parse_period,
        window,
    )

    chosen = parse_period(period)
    if top is not None and top < 1:
        raise InputError("--top must be at least 1")
    try:
        categories = [require_category(category)] if category else None
    except ValueError as exc:
        raise InputError(f"--category: {exc}") from None
    now = datetime.now(UTC)
    last_day = parse_date(date_) or now.date()
    if last_day > now.date():
        raise InputError(f"--date {quoted(date_ or '')} is in the future; trending looks back")
    settings = cli_settings()
    engine = cli_engine(settings)
    try:
        span = window(chosen, last_day, now)
        found = find_trending(
            engine, settings.ranking, span, top=top or settings.ranking.top, categories=categories
        )
    finally:
        engine.dispose()
    if not found:
        out.print(nothing_sentence(span, categories, CLI_HINT), highlight=False, markup=False)
        return
    out.print(trending_table(span, found, categories))


def trending_table(span: Window, found: list[TrendingPaper], categories: list[str] | None) -> Table:
    """The `rank` table with the listing date beside each paper; attention is the gain."""
    from hotpapers.ranking.scoring import format_number
    from hotpapers.ranking.trending import title
    from hotpapers.site.views import signals_sentence

    table = Table(title=title(span, categories))
    for column in ("#", "arXiv", "listed", "gained", "title", "attention gained"):
        table.add_column(column, overflow="fold", justify="right" if column == "gained" else "left")
    for item in found:
        r = item.ranked
        cells = (str(r.rank), r.paper.arxiv_id, str(item.listed), format_number(r.score))
        # Titles are data: Text cells print "[/]" or "[bold]" as written, never as markup.
        table.add_row(*(Text(cell) for cell in (*cells, r.paper.title, signals_sentence(r))))
    return table


def digest_week(
    date_: Annotated[
        str | None,
        typer.Option("--date", "-d", help="The week's last day, YYYY-MM-DD (default: today)."),
    ] = None,
    out_dir: Annotated[
        Path | None,
        typer.Option("--out", "-o", help="Posts folder (default: digest.posts_dir)."),
    ] = None,
) -> None:
    """Write the week's Markdown post, YYYY-MM-DD---Hot-Papers-Week.md."""
    from hotpapers.cli.common import friendly

    friendly(_digest_week)(date_, out_dir)


def _digest_week(date_: str | None, out_dir: Path | None) -> None:
    from hotpapers.cli.common import cli_engine, cli_settings, out, parse_date
    from hotpapers.service.weekly import write_week_post

    now = datetime.now(UTC)
    last_day = parse_date(date_) or now.date()
    if last_day > now.date():
        raise InputError(f"--date {quoted(date_ or '')} is in the future; a week is written after")
    settings = cli_settings()
    engine = cli_engine(settings)
    try:
        path = write_week_post(settings, engine, last_day, now, out_dir)
    finally:
        engine.dispose()
    out.print(f"wrote {path}", highlight=False, markup=False)
