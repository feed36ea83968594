"""`hotpapers site ...`: build and serve the static web archive."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Annotated

import typer

app = typer.Typer(help="The static web archive and its feeds.", no_args_is_help=True)

OutOpt = Annotated[
    Path | None, typer.Option("--out", "-o", help="The site folder (default: site.out_dir).")
]


@app.command()
def build(out_dir: OutOpt = None) -> None:
    """Write the static site: a page per day, category and paper, Atom and JSON feeds."""
    from hotpapers.cli.common import cli_engine, cli_settings, friendly, out
    from hotpapers.site.build import build_site

    @friendly
    def _build() -> None:
        settings = cli_settings()
        engine = cli_engine(settings)
        try:
            report = build_site(settings, engine, out_dir)
        finally:
            engine.dispose()
        out.print(report.sentence(), highlight=False, markup=False)

    _build()


@app.command()
def serve(
    out_dir: OutOpt = None,
    host: Annotated[str | None, typer.Option(help="Address (default: site.host).")] = None,
    port: Annotated[int | None, typer.Option(help="Port (default: site.port).")] = None,
) -> None:
    """Serve the built site over HTTP until interrupted."""
    from hotpapers.cli.common import cli_settings, friendly, out
    from hotpapers.errors import HotpapersError, InputError
    from hotpapers.site.serve import serve_site, site_path

    @friendly
    def _serve() -> None:
        settings = cli_settings()
        folder = out_dir or settings.site.out_dir
        if not (folder / "index.html").is_file():
            raise InputError(f"{folder} holds no site yet; run `hotpapers site build` first")
        address, number = host or settings.site.host, settings.site.port if port is None else port
        out.print(f"serving {folder} at http://{address}:{number}/", highlight=False, markup=False)
        try:
            asyncio.run(serve_site(folder, address, number, site_path(settings)))
        except OSError as exc:
            raise HotpapersError(f"cannot listen on {address}:{number}: {exc.strerror}") from exc

    _serve()
