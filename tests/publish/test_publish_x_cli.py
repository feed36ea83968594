"""`hotpapers publish x` from the command line, against a FakeX on its own thread."""

from __future__ import annotations

import asyncio
import os
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine
from typer.testing import CliRunner

from hotpapers.fakes.x import FakeX
from hotpapers.storage.db import make_engine
from tests.publish._x_support import BASE_URL, DAY_PAGE, KEY, NOW, SECRETS, TOKEN, publication, seed


@pytest.fixture
def threaded_fake() -> Iterator[FakeX]:
    """FakeX on its own event loop thread, for the synchronous CLI runner."""
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    server = FakeX(now=NOW, consumer_key=KEY, access_token=TOKEN)
    asyncio.run_coroutine_threadsafe(server.start(), loop).result(timeout=30)
    yield server
    asyncio.run_coroutine_threadsafe(server.close(), loop).result(timeout=30)
    loop.call_soon_threadsafe(loop.stop)
    thread.join(timeout=30)
    loop.close()


@pytest.fixture
def cli(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, db_url: str, threaded_fake: FakeX
) -> tuple[CliRunner, Path, dict[str, str]]:
    for key in list(os.environ):
        if key.startswith("HOTPAPERS_"):
            monkeypatch.delenv(key)
    monkeypatch.chdir(tmp_path)
    config = tmp_path / "hotpapers.toml"
    config.write_text(
        f'[database]\nurl = "{db_url}"\n[arxiv]\ncategories = ["cs.LG", "cs.CV"]\n'
        f'[site]\nbase_url = "{BASE_URL}"\n'
        f'[publish.x]\nenabled = true\napi_url = "{threaded_fake.api_url}"\n'
    )
    env = {f"HOTPAPERS_PUBLISH__X__{name.upper()}": value for name, value in SECRETS.items()}
    return CliRunner(), config, env


def _app() -> Any:
    from hotpapers.cli.app import app, mount_subcommands

    mount_subcommands(app)
    return app


def test_cli_dry_run_prints_each_post(
    cli: tuple[CliRunner, Path, dict[str, str]], threaded_fake: FakeX, db_url: str
) -> None:
    """The default (dry_run = true) prints the posts one by one and posts nothing."""
    runner, config, env = cli
    engine = make_engine(db_url)
    seed_after_migration(runner, config, env, engine)
    result = runner.invoke(
        _app(), ["--config", str(config), "publish", "x", "--date", "2026-11-20"], env=env
    )
    assert result.exit_code == 0, result.output
    assert "--- post 1 of 1 ---" in result.output and DAY_PAGE in result.output
    assert "Vision transformers, again (720)" in result.output
    assert "dry run: would post the X summary for 2026-11-20" in result.output
    assert threaded_fake.requests == 0 and publication(engine) is None
    engine.dispose()


def test_cli_posts_and_reports(
    cli: tuple[CliRunner, Path, dict[str, str]], threaded_fake: FakeX, db_url: str
) -> None:
    """--no-dry-run posts once and prints one sentence; a second run says it is done."""
    runner, config, env = cli
    engine = make_engine(db_url)
    seed_after_migration(runner, config, env, engine)
    args = ["--config", str(config), "publish", "x", "--date", "2026-11-20", "--no-dry-run"]
    first = runner.invoke(_app(), args, env=env)
    second = runner.invoke(_app(), args, env=env)
    assert first.exit_code == 0 and second.exit_code == 0, first.output + second.output
    assert "posted the X summary for 2026-11-20: 1 post ($0.20)" in first.output
    assert "already posted" in second.output and len(threaded_fake.created) == 1
    engine.dispose()


def test_cli_refusal_is_one_line(
    cli: tuple[CliRunner, Path, dict[str, str]], threaded_fake: FakeX, db_url: str
) -> None:
    """X's 401 reaches the user as one plain sentence and exit code 1."""
    runner, config, env = cli
    engine = make_engine(db_url)
    seed_after_migration(runner, config, env, engine)
    env = {**env, "HOTPAPERS_PUBLISH__X__API_KEY": "wrong"}
    args = ["--config", str(config), "publish", "x", "--date", "2026-11-20", "--no-dry-run"]
    result = runner.invoke(_app(), args, env=env)
    assert result.exit_code == 1
    assert "error: X rejected the credentials (HTTP 401)" in result.output
    assert "Traceback" not in result.output
    engine.dispose()


def seed_after_migration(
    runner: CliRunner, config: Path, env: dict[str, str], engine: Engine
) -> None:
    """Create the schema the way a user does (`db upgrade`), then seed the listing."""
    result = runner.invoke(_app(), ["--config", str(config), "db", "upgrade"], env=env)
    assert result.exit_code == 0, result.output
    seed(engine)
