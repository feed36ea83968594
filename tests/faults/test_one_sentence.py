"""Every failure a user can meet on the command line is one sentence, never a traceback.

Each row is a path found by trying the CLI as a new user would (a bad config value, a bad
environment variable, a database that is not one, an output directory that cannot be written,
...). The command runs as a real process (`python -m hotpapers`), so the last-resort handler in
`main()` is part of what is tested: a row fails if the output says "unexpected error", shows a
traceback, or takes more than one line.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from sqlalchemy import Engine
from sqlmodel import Session


@dataclass(frozen=True)
class Case:
    name: str
    args: list[str]
    exit_code: int
    says: str  # a phrase the one sentence must contain
    env: dict[str, str] = field(default_factory=dict)
    config: str = ""  # config.toml written in the working directory
    files: dict[str, str] = field(default_factory=dict)  # other files to create
    demo: bool = False  # run on the demo's database (a collected and measured day)


CASES = [
    Case(
        "env list not JSON",
        ["rank"],
        2,
        "HOTPAPERS_ARXIV__CATEGORIES",
        env={"HOTPAPERS_ARXIV__CATEGORIES": "cs.LG"},
    ),
    Case(
        "env table not JSON",
        ["rank"],
        2,
        "HOTPAPERS_RANKING__WEIGHTS",
        env={"HOTPAPERS_RANKING__WEIGHTS": "x"},
    ),
    Case(
        "database url not a url",
        ["rank"],
        2,
        "database.url",
        env={"HOTPAPERS_DATABASE__URL": "notaurl"},
    ),
    Case(
        "database driver unsupported",
        ["rank"],
        2,
        "database.url",
        config='[database]\nurl = "mysql://x@127.0.0.1/x"\n',
    ),
    Case(
        "sqlite file is not a database",
        ["rank"],
        1,
        "not a database",
        config='[database]\nurl = "sqlite:///corrupt.db"\n',
        files={"corrupt.db": "this is not a database file\n" * 100},
    ),
    Case(
        "posts dir under a file",
        ["digest", "--date", "2026-11-23"],
        1,
        "cannot write",
        config='[digest]\nposts_dir = "afile/posts"\n',
        files={"afile": ""},
        demo=True,
    ),
    Case(
        "secrets file not parsable",
        ["config", "check"],
        2,
        "HOTPAPERS_SECRETS_FILE",
        env={"HOTPAPERS_SECRETS_FILE": "secrets.env"},
        files={"secrets.env": "discord: [\n"},
    ),
    Case(
        "snapshot path is a directory",
        ["import-snapshot", "adir"],
        2,
        "is a directory",
        files={"adir/.keep": ""},
    ),
    Case("no signal source enabled", ["signals"], 0, "[signals.x]"),
    Case(
        "digest before anything was collected",
        ["digest", "--date", "2021-03-15"],
        1,
        "hotpapers collect --date 2021-03-15",
    ),
    Case(
        "rank before anything was collected",
        ["rank", "--date", "2021-03-15"],
        1,
        "hotpapers collect --date 2021-03-15",
    ),
    Case("tldr while off", ["tldr"], 0, "tldr.enabled = false"),
    Case(
        "tldr on without a key",
        ["tldr"],
        0,
        "HOTPAPERS_TLDR__API_KEY",
        config="[tldr]\nenabled = true\n",
    ),
    Case(
        "tldr of a day before arXiv",
        ["tldr", "--date", "1990-01-01"],
        2,
        "before arXiv's first announcement",
        config="[tldr]\nenabled = true\n",
    ),
]


def _clean_env(tmp_path: Path, extra: dict[str, str]) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("HOTPAPERS_")}
    env["HOTPAPERS_DATABASE__URL"] = f"sqlite:///{tmp_path / 'hp.db'}"
    env["COLUMNS"] = "200"  # one sentence is one line, whatever the terminal
    env.update(extra)
    return env


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
def test_failure_is_one_sentence(
    case: Case, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    for name, content in case.files.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(content)
    env = _clean_env(tmp_path, case.env)
    if case.demo:  # a copy of the session's demo run: this case writes to its database
        workdir, run = request.getfixturevalue("demo")
        assert run.returncode == 0, run.stderr
        shutil.copytree(workdir, tmp_path / "demo")
        env["HOTPAPERS_DATABASE__URL"] = f"sqlite:///{tmp_path / 'demo' / 'demo.db'}"
    if case.config:
        (tmp_path / "config.toml").write_text(case.config)
        if "[database]" in case.config:
            env.pop("HOTPAPERS_DATABASE__URL")
    result = subprocess.run(
        [sys.executable, "-m", "hotpapers", *case.args],
        capture_output=True, text=True, env=env, cwd=tmp_path, timeout=120,
    )  # fmt: skip
    shown = result.stdout + result.stderr
    lines = [line for line in shown.splitlines() if line.strip()]
    assert result.returncode == case.exit_code, shown
    assert "Traceback" not in shown and "unexpected error" not in shown, shown
    assert len(lines) == 1, shown
    assert case.says in lines[0], shown


def test_port_in_use_is_one_sentence(tmp_path: Path) -> None:
    """`hotpapers run` whose /healthz port is taken says so and names the setting."""
    import socket

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        env = _clean_env(tmp_path, {"HOTPAPERS_OPS__PORT": str(port),
                                    "HOTPAPERS_SITE__ENABLED": "false"})  # fmt: skip
        result = subprocess.run(
            [sys.executable, "-m", "hotpapers", "run"],
            capture_output=True, text=True, env=env, cwd=tmp_path, timeout=120,
        )  # fmt: skip
    errors = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert result.returncode == 1, result.stderr
    assert "unexpected" not in result.stderr and "Traceback" not in result.stderr
    assert len(errors) == 1 and "ops.port" in errors[0] and str(port) in errors[0]


def test_unreachable_discord_is_one_sentence(tmp_path: Path) -> None:
    """`bot sync` with Discord out of reach: one sentence naming discord.api_url."""
    with socket_closed_port() as port:
        env = _clean_env(
            tmp_path,
            {
                "HOTPAPERS_DISCORD__TOKEN": "abc.def.ghi",
                "HOTPAPERS_DISCORD__API_URL": f"http://127.0.0.1:{port}/api/v10",
            },
        )
        result = subprocess.run(
            [sys.executable, "-m", "hotpapers", "bot", "sync"],
            capture_output=True, text=True, env=env, cwd=tmp_path, timeout=120,
        )  # fmt: skip
    shown = result.stdout + result.stderr
    errors = [line for line in shown.splitlines() if line.startswith("error:")]
    assert result.returncode == 1, shown
    assert "unexpected" not in shown and "Traceback" not in shown, shown
    assert len(errors) == 1 and "cannot reach Discord" in errors[0], shown


@contextlib.contextmanager
def socket_closed_port() -> Iterator[int]:
    """A loopback port nothing listens on (bound, never listening, so nobody takes it)."""
    import socket

    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        yield holder.getsockname()[1]


def test_an_empty_day_says_why_and_what_to_run(engine: Engine) -> None:
    """Not collected, collected but not measured, measured but under the threshold: three
    different sentences, the first two naming the command that fixes it."""
    from datetime import UTC, datetime

    from hotpapers.ranking.why_empty import NothingToRank, below_threshold, require_rankable
    from hotpapers.storage.models import SignalSnapshot
    from tests.signals.test_measure import DAY, seed

    with pytest.raises(NothingToRank, match=f"run `hotpapers collect --date {DAY}` first"):
        require_rankable(engine, DAY)
    ids = seed(engine, count=3)
    with pytest.raises(NothingToRank, match=r"none of the 3 papers .* run `hotpapers signals`"):
        require_rankable(engine, DAY)
    with Session(engine) as session:
        session.add(SignalSnapshot(paper_id=ids[0], source="x", taken_at=datetime.now(UTC),
                                   metrics={"retweets": 1.0, "likes": 2.0}))  # fmt: skip
        session.commit()
    contents = require_rankable(engine, DAY)
    assert below_threshold(DAY, contents, 50) == (
        f"{DAY}: none of the 1 measured papers (of 3 listed) reached the ranking threshold of 50"
    )
