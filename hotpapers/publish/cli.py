"""`hotpapers publish ...`: post the day's summary to other destinations (X)."""

from __future__ import annotations

import typer

app = typer.Typer(help="Publish the day's summary (X).", no_args_is_help=True)
