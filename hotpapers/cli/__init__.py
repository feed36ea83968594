"""The `hotpapers` command line, one module per command group (`app` holds the root
app). It is an entry point: it may import every package of the core, and nothing in
the core imports it. `hotpapers.cli:main` stays the console script's entry, so an
install made before the move keeps working.
"""


def main() -> None:
    """Run the command line (imported late: a sub-command module loads no other)."""
    from hotpapers.cli.app import main as run

    run()
