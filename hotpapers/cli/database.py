"""`hotpapers db ...`: the database schema (named `database` so it is not taken for
`hotpapers.storage.db`, the engine it uses)."""

from __future__ import annotations

import typer

from hotpapers.cli.common import cli_settings, friendly, out

app = typer.Typer(help="Database commands.", no_args_is_help=True)


@app.command("upgrade")
@friendly
def upgrade() -> None:
    """Create or migrate the database schema to the newest version."""
    # Imported here: `hotpapers --help` starts without SQLAlchemy/Alembic.
    from hotpapers.storage import migrate
    from hotpapers.storage.db import check_connection, describe_url, make_engine

    settings = cli_settings()
    engine = make_engine(settings.database.url)
    check_connection(engine)
    migrate.upgrade(settings.database.url)
    out.print(f"database at {describe_url(engine)} is at revision {migrate.current_head()}")
