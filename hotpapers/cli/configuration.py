"""`hotpapers config ...`: check the effective configuration (named `configuration` so it
is not taken for `hotpapers.config`, the settings it prints)."""

from __future__ import annotations

import json
from typing import Any

import typer

from hotpapers.cli.common import cli_settings, friendly, out
from hotpapers.config import masked_dump

app = typer.Typer(help="Configuration commands.", no_args_is_help=True)


@app.command("check")
@friendly
def check() -> None:
    """Validate the configuration and print it, secrets masked."""
    settings = cli_settings()
    out.print(render_toml(masked_dump(settings)), highlight=False, markup=False)
    out.print("# configuration is valid", highlight=False, markup=False)


def render_toml(data: dict[str, Any], prefix: str = "") -> str:
    """A small TOML writer for the effective configuration (values are JSON-compatible)."""
    scalars = [
        f"{k} = {json.dumps(v, ensure_ascii=False)}"
        for k, v in data.items()
        if not isinstance(v, dict)
    ]
    lines = ([f"[{prefix}]"] if prefix and scalars else []) + scalars
    for key, value in data.items():
        if isinstance(value, dict):
            block = render_toml(value, f"{prefix}.{key}" if prefix else key)
            lines += ["", block] if block else []
    return "\n".join(lines).strip("\n")
