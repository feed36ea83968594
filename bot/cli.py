"""`hotpapers bot ...`: run the Discord bot, publish its slash commands, print its invite link."""

from __future__ import annotations

import asyncio
from typing import Annotated

import typer

app = typer.Typer(help="The Discord bot.", no_args_is_help=True)


@app.command()
def run() -> None:
    """Connect to Discord and answer slash commands until interrupted."""
    from bot.runner import require_token, run_bot
    from hotpapers.cli.common import cli_engine, cli_settings, friendly

    @friendly
    def _run() -> None:
        settings = cli_settings()
        require_token(settings)  # before touching the database
        asyncio.run(run_bot(settings, cli_engine(settings)))

    _run()


@app.command()
def sync(
    guild: Annotated[
        int | None,
        typer.Option("--guild", help="Publish to this server only (instant); default: globally."),
    ] = None,
) -> None:
    """Publish the slash commands to Discord."""
    from bot.runner import sync_commands
    from hotpapers.cli.common import cli_settings, friendly, out

    @friendly
    def _sync() -> None:
        names = asyncio.run(sync_commands(cli_settings(), guild))
        where = f"server {guild}" if guild else "all servers (may take up to an hour to show)"
        out.print(f"published {len(names)} commands to {where}: {', '.join(sorted(names))}")

    _sync()


@app.command()
def invite(
    application_id: Annotated[
        int, typer.Argument(help="The application id from the Discord developer portal.")
    ],
) -> None:
    """Print the link that adds the bot to a server, with exactly the permissions it needs."""
    from bot.runner import invite_url

    typer.echo(invite_url(application_id))


@app.command()
def deliver(
    date_: Annotated[
        str | None,
        typer.Option("--date", "-d", help="arXiv listing date, YYYY-MM-DD; default: the newest."),
    ] = None,
) -> None:
    """Deliver one listing's hot papers to every subscribed channel and DM, then log out."""
    from bot.runner import deliver_day, require_token
    from hotpapers.cli.common import cli_engine, cli_settings, friendly, out, parse_date
    from hotpapers.service.use_cases import no_listing

    @friendly
    def _deliver() -> None:
        settings = cli_settings()
        require_token(settings)  # before touching the database
        day = parse_date(date_)
        engine = cli_engine(settings)
        try:
            report = asyncio.run(deliver_day(settings, engine, day))
        finally:
            engine.dispose()
        if not report.targets:
            nothing = no_listing(settings, report.listing_date, "nothing to deliver")
            out.print(nothing or f"{report.listing_date}: nothing to deliver.", markup=False)
        for target in report.targets:
            line = (
                f"{report.listing_date} {target.target}: {target.outcome}, {target.sent} sent,"
                f" {target.recovered + target.resent} recovered, {target.edited} edited"
            )
            if target.error:
                line += f" ({target.error})"
            out.print(line, markup=False, highlight=False)

    _deliver()


def mount(parent: typer.Typer) -> None:
    """Add these commands to `parent` as `parent bot ...` (the `hotpapers.commands` entry point)."""
    parent.add_typer(app, name="bot")
