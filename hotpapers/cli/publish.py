"""`hotpapers publish ...`: post the day's summary to other destinations (X)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Annotated

import typer

app = typer.Typer(help="Publish the day's summary (X).", no_args_is_help=True)


@app.command()
def x(
    date_: Annotated[
        str | None,
        typer.Option("--date", "-d", help="arXiv listing date, YYYY-MM-DD; default: the newest."),
    ] = None,
    dry_run: Annotated[
        bool | None,
        typer.Option(
            "--dry-run/--no-dry-run",
            help="Print exactly what would be posted, post by post; post nothing, record "
            "nothing. Default: publish.x.dry_run.",
            show_default=False,
        ),
    ] = None,
) -> None:
    """Post the day's top papers to X as one summary (or a short thread), at most once a day."""
    from hotpapers.cli.common import cli_engine, cli_settings, friendly, out, parse_date
    from hotpapers.publish.x import publish_daily
    from hotpapers.service import use_cases as jobs

    @friendly
    def _x() -> None:
        settings = cli_settings()
        now = datetime.now(UTC)
        day = jobs.resolve_listing_date(settings, parse_date(date_), now)
        engine = cli_engine(settings)
        try:
            report = asyncio.run(publish_daily(settings, engine, day, dry_run=dry_run, now=now))
        finally:
            engine.dispose()
        if report.status == "dry-run":
            for number, text in enumerate(report.texts, 1):
                out.print(f"--- post {number} of {len(report.texts)} ---", markup=False)
                out.print(text, highlight=False, markup=False)
            out.print("---", markup=False)
        out.print(report.sentence(), highlight=False, markup=False)

    _x()
