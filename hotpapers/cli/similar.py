"""`hotpapers similar <id>` and `hotpapers embed`: similar papers from the command line."""

from __future__ import annotations

from typing import Annotated, Any

import typer


def embed_all(engine: Any) -> None:
    """Embed every stored paper without a vector, with a progress bar and a closing line."""
    from sqlalchemy import func, select

    from hotpapers.cli.common import out
    from hotpapers.plumbing.progress import Progress
    from hotpapers.similar import embed_missing
    from hotpapers.storage.models import Paper, PaperVector

    with engine.connect() as connection:
        papers = connection.execute(select(func.count()).select_from(Paper)).scalar_one()
        held = connection.execute(select(func.count()).select_from(PaperVector)).scalar_one()
    total = max(papers - held, 0)
    with Progress("embed", unit="papers") as progress:
        report = embed_missing(
            engine, on_progress=lambda done: progress.update(done, max(total, done), "embedded")
        )
    out.print(
        f"embedded {report.embedded:,} papers for similar papers"
        + (f" ({report.per_second:,.0f}/s)." if report.embedded else "."),
        highlight=False,
    )


def embed() -> None:
    """Compute the content vectors of stored papers that have none (for similar papers)."""
    from hotpapers.cli.common import cli_engine, cli_settings, friendly

    @friendly
    def _embed() -> None:
        embed_all(cli_engine(cli_settings()))

    _embed()


def similar(
    paper: Annotated[str, typer.Argument(help="An arXiv id or link, such as 2401.12345.")],
    top: Annotated[int, typer.Option("--top", "-n", help="How many papers.")] = 10,
) -> None:
    """The stored papers most like one paper, by title and abstract."""
    from hotpapers.cli.common import cli_engine, cli_settings, friendly

    @friendly
    def _similar() -> None:
        _print_similar(cli_engine(cli_settings()), paper, top)

    _similar()


def _print_similar(engine: Any, paper: str, top: int) -> None:
    from rich.table import Table
    from rich.text import Text

    from hotpapers.arxiv.ids import canonical_id
    from hotpapers.cli.common import out
    from hotpapers.errors import HotpapersError, InputError, quoted
    from hotpapers.similar import similar_to

    if top < 1:
        raise InputError("--top must be at least 1")
    arxiv_id = canonical_id(paper)
    if arxiv_id is None:
        raise InputError(f"{quoted(paper)} is not an arXiv id or URL")
    result = similar_to(engine, arxiv_id, top)
    if result.sentence is not None:
        raise HotpapersError(result.sentence)
    assert result.paper is not None
    table = Table(title=f"Papers like arXiv:{arxiv_id}: {result.paper.title}")
    for column in ("#", "arXiv", "similarity", "category", "title"):
        table.add_column(column, overflow="fold")
    for place, (summary, score) in enumerate(result.neighbours, 1):
        cells = (str(place), summary.arxiv_id, f"{score:.2f}", summary.primary_category)
        table.add_row(*(Text(cell) for cell in cells), Text(summary.title))
    out.print(table)
