"""`hotpapers site ...`: build and serve the static web archive."""

from __future__ import annotations

import typer

app = typer.Typer(help="The static web archive and its feeds.", no_args_is_help=True)
