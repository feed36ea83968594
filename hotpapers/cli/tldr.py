"""`hotpapers tldr [--date D]`: make the missing TL;DRs of a listing's top papers."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Annotated

import typer


def tldr(
    date_: Annotated[
        str | None,
        typer.Option("--date", "-d", help="arXiv listing date, YYYY-MM-DD; default: the newest."),
    ] = None,
) -> None:
    """One-sentence TL;DRs for the day's top papers from the configured OpenAI-compatible
    endpoint (\\[tldr] in the config; off by default). Papers that have one are not asked again."""
    from hotpapers.cli.common import cli_engine, cli_settings, friendly, out, parse_date
    from hotpapers.service import use_cases as jobs
    from hotpapers.tldr.job import summarise_day

    @friendly
    def _tldr() -> None:
        settings = cli_settings()
        now = datetime.now(UTC)
        day = jobs.resolve_listing_date(settings, parse_date(date_), now)
        engine = cli_engine(settings)
        try:
            report = asyncio.run(summarise_day(settings, engine, day, now=now))
        finally:
            engine.dispose()
        out.print(report.sentence(), highlight=False, markup=False)

    _tldr()
