"""What a user sees in the terminal: the rank table, numbers, and logs beside progress bars."""

from __future__ import annotations

import io
import logging
import os
import re
import sys
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
from rich.logging import RichHandler
from typer.testing import CliRunner

from hotpapers import logs
from hotpapers.cli.app import app
from hotpapers.plumbing.progress import Progress, Stages
from hotpapers.ranking.scoring import format_number
from hotpapers.storage import migrate
from hotpapers.storage.db import make_engine, transaction
from hotpapers.storage.models import SocialPost
from hotpapers.storage.records import PaperRecord
from hotpapers.storage.store import record_announcements, upsert_papers

DAY = date(2026, 11, 20)
TITLES = ["Markup [/] closes nothing", "A [bold]loud[/bold] title with [link=x]no link[/link]"]


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        (729.0, "729"), (12.5, "12.5"), (12345.6, "12345.6"), (12345.6789, "12345.7"),
        (1234.56, "1234.6"), (0.1234567, "0.1235"), (999.95, "1000"), (-2.5, "-2.5"),
        (0.00012345, "0.0001234"), (float("inf"), "inf"),
    ],
)  # fmt: skip
def test_format_number_never_prints_an_exponent(value: float, shown: str) -> None:
    assert format_number(value) == shown


def _paper(n: int, title: str) -> PaperRecord:
    return PaperRecord(
        arxiv_id=f"2611.{n:05d}",
        version=1,
        title=title,
        abstract="a",
        authors=("Ada",),
        categories=("cs.LG",),
        primary_category="cs.LG",
        submitted=datetime(2026, 11, 19, tzinfo=UTC),
    )


def _post(n: int) -> SocialPost:
    return SocialPost(
        source="x",
        post_id=str(n),
        paper_id=f"2611.{n:05d}",
        author_id=f"u{n}",
        author_handle=f"@u{n}",
        text="read this",
        url=f"https://x.com/u{n}/status/{n}",
        created_at=datetime(2026, 11, 20, tzinfo=UTC),
        taken_at=datetime(2026, 11, 21, tzinfo=UTC),
        reposts=5000 * n,
        likes=7345 * n,
    )


@pytest.fixture
def ranked_db(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """A listing whose titles look like rich markup, with X posts behind their scores."""
    for key in list(os.environ):
        if key.startswith("HOTPAPERS_"):
            monkeypatch.delenv(key)
    monkeypatch.chdir(tmp_path)
    url = f"sqlite:///{tmp_path / 'hp.db'}"
    migrate.upgrade(url)
    records = [_paper(n, title) for n, title in enumerate(TITLES, start=1)]
    posts = [_post(n) for n in (1, 2)]
    engine = make_engine(url)
    with transaction(engine) as session:
        upsert_papers(session, records)
        record_announcements(session, DAY, records, ["cs.LG"])
        session.add_all(posts)
    engine.dispose()
    monkeypatch.setenv("HOTPAPERS_DATABASE__URL", url)
    monkeypatch.setenv("HOTPAPERS_RANKING__DECAY_HOURS", "100000")  # fractional scores
    monkeypatch.setenv("COLUMNS", "120")
    return url


def test_rank_prints_titles_literally_in_a_table_with_the_breakdown(
    ranked_db: str, tmp_path: Path
) -> None:
    result = CliRunner().invoke(app, ["rank", "--date", DAY.isoformat()])
    (tmp_path / "rank.txt").write_text(result.output, encoding="utf-8")  # a sample to look at
    assert result.exit_code == 0, result.output
    text = " ".join(result.output.split())
    assert "Markup [/] closes nothing" in text
    assert "A [bold]loud[/bold] title with [link=x]no link[/link]" in text
    assert "X: 10000 retweets, 14690 likes" in text  # the breakdown, per source
    scores = [line.split("│")[3].strip() for line in result.output.splitlines() if "2611." in line]
    # The decay makes the scores depend on today's date: one decimal, or none when it rounds
    # to a whole number (12310.0 prints as 12310; CI met that on 2026-12-06).
    assert len(scores) == 2 and all(re.fullmatch(r"\d+(\.\d)?", score) for score in scores), scores
    assert result.output.index("[bold]") < result.output.index("[/]")  # best first


def test_rank_json_is_unchanged_by_the_table(ranked_db: str) -> None:
    result = CliRunner().invoke(app, ["rank", "--date", DAY.isoformat(), "--json"])
    assert result.exit_code == 0, result.output
    assert '"title": "A [bold]loud[/bold] title with [link=x]no link[/link]"' in result.output


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.fixture
def terminal(monkeypatch: pytest.MonkeyPatch) -> Iterator[_Terminal]:
    """stderr as a terminal, the logging set up on it as the CLI does (call in the test body:
    pytest puts its own stderr back between a fixture and the test)."""
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    screen = _Terminal()

    def attach() -> _Terminal:
        monkeypatch.setattr(sys, "stderr", screen)
        monkeypatch.setenv("COLUMNS", "160")  # each log line on one screen line
        logs.setup_logging("INFO", secrets=["progress-secret-123"])
        return screen

    yield attach  # type: ignore[misc]
    root.handlers[:] = handlers
    root.setLevel(level)


def _plain(screen: str) -> str:
    """The screen's text without colours and cursor moves."""
    return re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", screen)


def test_logs_go_through_rich_above_a_live_progress_bar(terminal: Any) -> None:
    screen = terminal()
    log = logging.getLogger("hotpapers.test")
    with Progress("import", unit="rows") as progress:
        handlers = logging.getLogger().handlers
        (handler,) = [h for h in handlers if isinstance(h, RichHandler)]
        assert not any(getattr(h, "stream", None) is screen for h in handlers)
        assert progress._bar is not None and handler.console is progress._bar.console
        progress.update(1, 10)
        log.info("halfway with token progress-secret-123 [bold]x[/bold]")
    assert not any(isinstance(h, RichHandler) for h in logging.getLogger().handlers)
    log.info("after the bar")
    lines = _plain(screen.getvalue()).splitlines()
    (during,) = [line for line in lines if "halfway" in line]
    # Its own line, above the bar: rich's time and level, then the message as text, redacted.
    assert re.fullmatch(
        r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d INFO +hotpapers\.test: halfway with token \*\*\* "
        r"\[bold\]x\[/bold\] *",
        during,
    ), during
    assert "progress-secret-123" not in screen.getvalue()
    assert lines[-1].endswith("INFO hotpapers.test: after the bar")


def test_each_stage_has_its_bar_and_logs_print_above_them(terminal: Any) -> None:
    """The demo's stages: a bar each from the start, each full with its time once done; a log
    line during a stage gets a line of its own instead of tearing the bars."""
    screen = terminal()
    log = logging.getLogger("hotpapers.test")
    with Stages(["collect", "site", "discord"]) as stages:
        with stages.stage("collect"):
            log.warning("arXiv was slow [bold]today[/bold]")
        with stages.stage("site"):
            pass
        assert stages._bar is not None
        assert [task.finished for task in stages._bar.tasks] == [True, True, False]
    lines = _plain(screen.getvalue()).splitlines()
    assert any(re.search(r"WARNING +hotpapers\.test: arXiv was slow \[bold\]today", line)
               for line in lines)  # fmt: skip
    final = lines[-3:]  # the bars as they are left on the screen
    assert [line.split()[0] for line in final] == ["collect", "site", "discord"]
    assert re.search(r"━+ 0:00:0\d$", final[0].rstrip()) and final[1].rstrip().endswith("0:00:00")
    assert final[2].rstrip().endswith("-:--:--")  # never started


@pytest.mark.parametrize(
    ("name", "quiet"),
    [("apscheduler.scheduler", logging.WARNING), ("aiohttp.access", logging.WARNING),
     ("asyncio", logging.WARNING), ("httpx", logging.WARNING), ("discord.gateway", logging.INFO),
     ("discord.http", logging.INFO)],
)  # fmt: skip
def test_library_chatter_is_quiet_unless_verbose(name: str, quiet: int, terminal: Any) -> None:
    terminal()
    logs.setup_logging("DEBUG")  # a DEBUG log level is for our own lines, not the libraries'
    logger = logging.getLogger(name)
    assert logging.getLogger("hotpapers.service.use_cases").isEnabledFor(logging.DEBUG)
    assert logger.getEffectiveLevel() == quiet
    logs.setup_logging("INFO", verbose=True)
    assert logger.isEnabledFor(logging.DEBUG) == (name not in logs.LEAKY_LOGGERS)
