"""The `hotpapers` command line. Every command maps errors to one sentence and an exit code."""

from __future__ import annotations

import asyncio
import json
import logging
import sys
import time
from collections.abc import Callable
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.markup import escape
from rich.table import Table
from rich.text import Text

from hotpapers.cli import configuration, database
from hotpapers.cli.common import (
    cli_engine,
    cli_settings,
    err,
    friendly,
    out,
    parse_date,
    state,
)
from hotpapers.config import Settings, require_category
from hotpapers.errors import InputError, quoted
from hotpapers.logs import setup_logging
from hotpapers.ranking.scoring import ranked_record

log = logging.getLogger("hotpapers")
app = typer.Typer(
    help="hotpapers: which new arXiv papers people are talking about.", no_args_is_help=True
)
# Mounted here, not in mount_subcommands: `hotpapers --help` keeps listing them before site
# and publish, and tests that import `app` without mounting still find them.
app.add_typer(database.app, name="db")
app.add_typer(configuration.app, name="config")


@app.callback()
def _options(
    config: Annotated[
        Path | None,
        typer.Option(
            "--config", "-c", help="TOML file (default: $HOTPAPERS_CONFIG, then ./config.toml)."
        ),
    ] = None,
    verbose: Annotated[
        bool, typer.Option("--verbose", "-v", help="Debug logging with tracebacks.")
    ] = False,
) -> None:
    state.config, state.verbose = config, verbose


def _path_is(path: Path, test: Callable[[Path], bool]) -> bool:
    try:
        return test(path)
    except OSError:  # e.g. a name too long for the file system
        return False


def parse_categories(values: list[str] | None) -> list[str] | None:
    """Accept `--categories cs.LG --categories cs.CV` and `--categories cs.LG,cs.CV`."""
    if not values:
        return None
    found = []
    for value in values:
        for item in filter(None, (part.strip() for part in value.replace("+", ",").split(","))):
            try:
                found.append(require_category(item))
            except ValueError as exc:
                raise InputError(f"--categories: {exc}") from None
    return list(dict.fromkeys(found))


DateOpt = Annotated[
    str | None, typer.Option("--date", "-d", help="arXiv listing date, YYYY-MM-DD.")
]
CategoriesOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--categories", help="Categories (repeat or comma-separate); default from config."
    ),
]


@app.command()
@friendly
def collect(date_: DateOpt = None, categories: CategoriesOpt = None) -> None:
    """Collect one arXiv listing (default: the newest announced) into the database; by default
    the configured categories and those subscriptions need (see `hotpapers status`)."""
    from hotpapers.service import use_cases as jobs

    cats = parse_categories(categories)
    day = parse_date(date_)
    settings = cli_settings()
    engine = cli_engine(settings)
    report = asyncio.run(jobs.collect(settings, engine, day, cats))
    out.print(report.sentence(), highlight=False)


@app.command()
@friendly
def status() -> None:
    """Which categories are collected, and what those subscriptions add cost."""
    from hotpapers.arxiv.subscribed import status_lines

    settings = cli_settings()
    engine = cli_engine(settings)
    for line in status_lines(settings.arxiv, engine):
        out.print(line, highlight=False, markup=False)


@app.command()
@friendly
def backfill(
    from_: Annotated[str, typer.Option("--from", help="First listing date, YYYY-MM-DD.")],
    to: Annotated[str, typer.Option("--to", help="Last listing date, YYYY-MM-DD.")],
    categories: CategoriesOpt = None,
) -> None:
    """Collect every listing between two dates from arXiv's archive (OAI-PMH, or the export API)."""
    from hotpapers.plumbing.progress import Progress
    from hotpapers.service import use_cases as jobs

    start, end = parse_date(from_, "--from"), parse_date(to, "--to")
    cats = parse_categories(categories)
    settings = cli_settings()
    engine = cli_engine(settings)
    assert start is not None and end is not None
    with Progress("backfill", unit="days") as progress:

        def on_day(report: jobs.CollectReport, index: int, total: int) -> None:
            progress.update(index, total, report.sentence())

        result = asyncio.run(jobs.backfill(settings, engine, start, end, cats, on_day=on_day))
    out.print(f"backfilled {len(result.reports)} listings, {result.papers} papers.")


@app.command("import-snapshot")
@friendly
def import_snapshot(
    file: Annotated[
        Path, typer.Argument(help="arxiv-metadata-oai-snapshot.json (JSON lines; .gz ok).")
    ],
    batch_size: Annotated[int, typer.Option(help="Papers per transaction.")] = 5000,
    embed: Annotated[
        bool, typer.Option(help="Then compute the vectors of similar papers (or later: embed).")
    ] = True,
) -> None:
    """Import the Kaggle arXiv metadata snapshot, streamed."""
    from hotpapers.arxiv.importer import import_snapshot as run_import
    from hotpapers.cli.similar import embed_all
    from hotpapers.plumbing.progress import Progress

    if _path_is(file, Path.is_dir):
        raise InputError(f"{quoted(file)} is a directory; name the snapshot's .json file inside it")
    if not _path_is(file, Path.is_file):
        raise InputError(f"{quoted(file)}: no such file")
    settings = cli_settings()
    engine = cli_engine(settings)
    total = file.stat().st_size
    with Progress("import", unit="bytes") as progress:
        report = run_import(
            engine,
            file,
            batch_size=batch_size,
            holidays=settings.arxiv.holidays,
            on_progress=lambda p: progress.update(
                getattr(p, "bytes_read", 0), total, f"{p.read} read"
            ),
        )
    out.print(
        f"imported {report.imported} papers from {report.read} lines; "
        f"{report.skipped} malformed lines skipped."
    )
    if embed:
        embed_all(engine)  # vectors for similar papers: hotpapers/similar/


@app.command()
@friendly
def rank(
    date_: DateOpt = None,
    top: Annotated[int | None, typer.Option("--top", "-n", help="How many papers.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")] = False,
    categories: CategoriesOpt = None,
    explain: Annotated[
        str | None, typer.Option("--explain", help="Show how one paper's score was made.")
    ] = None,
) -> None:
    """Rank one listing's papers by attention."""
    from hotpapers.arxiv.ids import canonical_id
    from hotpapers.service import use_cases as jobs

    if top is not None and top < 1:
        raise InputError("--top must be at least 1")
    arxiv_id = None if explain is None else canonical_id(explain)
    if explain is not None and arxiv_id is None:
        raise InputError(f"--explain: {quoted(explain)} is not an arXiv id or URL")
    settings = cli_settings()
    engine = cli_engine(settings)
    now = datetime.now(UTC)
    if arxiv_id is not None:
        for line in jobs.explain_paper(settings, engine, arxiv_id, now=now):
            out.print(line, highlight=False, markup=False)
        return
    day = jobs.resolve_listing_date(settings, parse_date(date_), now)
    if (no_listing := jobs.no_listing(settings, day, "nothing to rank")) is not None:
        if as_json:
            print("[]")  # stdout stays JSON; the sentence goes to stderr
        (err if as_json else out).print(no_listing, highlight=False)
        return
    ranked = jobs.rank(
        settings, engine, day, now=now, top=top, categories=parse_categories(categories)
    )
    if as_json:
        records = [ranked_record(item) for item in ranked]
        print(json.dumps(records, ensure_ascii=False, indent=2))
    elif ranked:
        print_ranked(day, ranked)
    else:
        say_why_empty(settings, engine, day)


@app.command()
@friendly
def search(
    words: Annotated[
        list[str],
        typer.Argument(
            help='Words, "a phrase", -excluded, category:cs.LG, author:LeCun, since:2024-01-31.'
        ),
    ],
    top: Annotated[int, typer.Option("--top", "-n", help="How many papers.")] = 20,
) -> None:
    """Papers whose title or abstract match the words, most relevant first."""
    from sqlmodel import Session

    from hotpapers.storage.search import search_papers
    from hotpapers.storage.search_query import parse_search

    if top < 1:
        raise InputError("--top must be at least 1")
    query = parse_search(" ".join(words))  # before the database: bad input costs nothing
    engine = cli_engine(cli_settings())
    with Session(engine) as session:
        found = search_papers(session, query, top)
    if not found:
        out.print(f"No stored paper matches {quoted(query.text)}.", highlight=False, markup=False)
        return
    table = Table(title=f"Papers matching {escape(query.text)}")
    for column in ("#", "arXiv", "submitted", "title"):
        table.add_column(column, overflow="fold")
    for place, paper in enumerate(found, 1):
        when = paper.submitted.date().isoformat() if paper.submitted else ""
        table.add_row(*(Text(cell) for cell in (str(place), paper.arxiv_id, when, paper.title)))
    out.print(table)


def say_why_empty(settings: Settings, engine: Any, day: date) -> None:
    """One sentence on why `day` ranks nothing: an error (exit 1) when it is not collected or
    not measured yet, a plain line when everything measured stayed under the threshold."""
    from hotpapers.ranking.why_empty import below_threshold, require_rankable

    contents = require_rankable(engine, day)
    out.print(below_threshold(day, contents, settings.ranking.threshold), markup=False)


def print_ranked(day: date, ranked: list[Any]) -> None:
    if not ranked:
        out.print(f"{day}: no paper reached the ranking threshold.")
        return
    from hotpapers.ranking.scoring import format_number
    from hotpapers.site.views import signals_sentence

    table = Table(title=f"Hot papers {day}")
    for column in ("#", "arXiv", "score", "title", "attention"):
        table.add_column(column, overflow="fold", justify="right" if column == "score" else "left")
    for r in ranked:
        # Titles are data: Text cells print "[/]" or "[bold]" as written, never as markup.
        cells = (str(r.rank), r.paper.arxiv_id, format_number(r.score), r.paper.title)
        table.add_row(*(Text(cell) for cell in (*cells, signals_sentence(r))))
    out.print(table)


@app.command()
@friendly
def signals() -> None:
    """Measure social attention (X, Bluesky, Hacker News, Hugging Face) for recent papers."""
    from hotpapers.service import use_cases as jobs

    settings = cli_settings()
    engine = cli_engine(settings)
    reports = asyncio.run(jobs.measure_signals(settings, engine))
    if not reports:
        out.print(
            "no signal source is enabled; switch one on under [signals.x], [signals.bluesky], "
            "[signals.hn] or [signals.hf] in the config.",
            markup=False,
            highlight=False,
        )
    for report in reports:
        out.print(report.sentence(), highlight=False, markup=False)


@app.command()
@friendly
def digest(
    date_: DateOpt = None,
    out_dir: Annotated[
        Path | None, typer.Option("--out", help="Directory (default: digest.posts_dir).")
    ] = None,
) -> None:
    """Write the day's Markdown post (YYYY-MM-DD---Hot-Papers.md)."""
    from hotpapers.service import use_cases as jobs

    settings = cli_settings()
    engine = cli_engine(settings)
    now = datetime.now(UTC)
    day = jobs.resolve_listing_date(settings, parse_date(date_), now)
    if (no_listing := jobs.no_listing(settings, day)) is not None:
        # Not an error: arXiv announced nothing, so there is nothing to post.
        out.print(no_listing, highlight=False, markup=False)
        return
    from hotpapers.ranking.why_empty import require_rankable

    # Refuse before writing: a post for a day never collected or measured would look like a
    # day nobody talked about.
    contents = require_rankable(engine, day)
    path = jobs.write_post(settings, engine, day, now=now, out_dir=out_dir)
    out.print(f"wrote {path}", highlight=False, markup=False)
    if not jobs.rank(settings, engine, day, now=now):
        from hotpapers.ranking.why_empty import below_threshold

        out.print(below_threshold(day, contents, settings.ranking.threshold), markup=False)


@app.command()
@friendly
def demo(
    workdir: Annotated[
        Path, typer.Option(help="Where the demo database, post and site go.")
    ] = Path("hotpapers-demo"),
) -> None:
    """Run the whole pipeline against built-in local fake services (no network, no credentials):
    the post, the site, the Discord thread and the X summary."""
    from hotpapers.demo.pipeline import run_demo

    setup_logging("WARNING", verbose=state.verbose)
    started = time.perf_counter()
    asyncio.run(run_demo(workdir, console=out, show_ranking=print_ranked))
    out.print(f"demo finished in {time.perf_counter() - started:.1f} s", highlight=False)


def mount_subcommands(parent: typer.Typer) -> None:
    """Commands that live beside their code (site, publish, run, tldr)."""
    from hotpapers.cli.publish import app as publish_app
    from hotpapers.cli.service import run
    from hotpapers.cli.similar import embed, similar
    from hotpapers.cli.site import app as site_app
    from hotpapers.cli.tldr import tldr
    from hotpapers.cli.trending import digest_week, trending

    parent.add_typer(site_app, name="site")
    parent.add_typer(publish_app, name="publish")
    parent.command("run")(run)
    parent.command("tldr")(tldr)
    parent.command("similar")(similar)
    parent.command("embed")(embed)
    parent.command("trending")(trending)
    parent.command("digest-week")(digest_week)


def mount_plugins(parent: typer.Typer) -> None:
    """Adapters (e.g. the Discord bot) add their commands through the `hotpapers.commands`
    entry points, so the core never imports them."""
    from importlib.metadata import entry_points

    for entry in entry_points(group="hotpapers.commands"):
        try:
            entry.load()(parent)
        except ImportError:
            log.debug("command plugin %s is not available", entry.name, exc_info=True)


def main() -> None:
    mount_subcommands(app)
    mount_plugins(app)
    try:
        app()
    except SystemExit:
        raise
    except Exception:  # the last resort: one sentence, the detail in the log
        logging.getLogger("hotpapers").error("unexpected error", exc_info=True)
        err.print("error: an unexpected error occurred; run again with --verbose for details.")
        sys.exit(1)
