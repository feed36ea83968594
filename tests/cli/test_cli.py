"""The command line as a user meets it: help, messages, exit codes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from hotpapers.cli.app import app

COMMANDS = [
    ["db", "upgrade"], ["collect"], ["backfill"], ["import-snapshot"], ["rank"], ["digest"],
    ["config", "check"], ["demo"], ["status"], ["search"],
]  # fmt: skip


@pytest.fixture
def runner(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    for key in list(os.environ):
        if key.startswith("HOTPAPERS_"):
            monkeypatch.delenv(key)
    monkeypatch.chdir(tmp_path)
    return CliRunner()


@pytest.mark.parametrize("command", COMMANDS, ids=" ".join)
def test_every_command_has_help(runner: CliRunner, command: list[str]) -> None:
    """`--help` works on every command and describes it."""
    result = runner.invoke(app, [*command, "--help"])
    assert result.exit_code == 0
    assert "Usage" in result.output


def test_bot_commands_are_mounted_by_entry_point() -> None:
    """`hotpapers bot --help` lists run, sync and invite, though the core never imports bot."""
    result = subprocess.run(
        [sys.executable, "-m", "hotpapers", "bot", "--help"], capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr
    assert all(word in result.stdout for word in ("run", "sync", "invite"))


def test_python_dash_m_runs_the_cli() -> None:
    """`python -m hotpapers --help` lists the commands."""
    result = subprocess.run(
        [sys.executable, "-m", "hotpapers", "--help"], capture_output=True, text=True
    )
    assert result.returncode == 0
    assert "collect" in result.stdout and "import-snapshot" in result.stdout


def test_help_prints_config_section_names_literally() -> None:
    """A docstring's `[tldr]` is a config section, not rich markup to swallow."""
    result = subprocess.run(
        [sys.executable, "-m", "hotpapers", "tldr", "--help"],
        capture_output=True,
        text=True,
        env={**os.environ, "COLUMNS": "200"},
    )
    assert result.returncode == 0, result.stderr
    assert "([tldr] in the config; off by default)" in " ".join(result.stdout.split())


def test_config_check_masks_secrets(runner: CliRunner) -> None:
    """The effective configuration is printed; a token from the environment is not."""
    result = runner.invoke(
        app, ["config", "check"], env={"HOTPAPERS_DISCORD__TOKEN": "tok-123-secret"}
    )
    assert result.exit_code == 0
    assert "tok-123-secret" not in result.output
    assert "**********" in result.output
    assert "[arxiv]" in result.output and "request_interval = 3.0" in result.output


def test_config_check_bad_category_exits_2(runner: CliRunner, tmp_path: Path) -> None:
    """A bad value is one line naming the key, the file and the closest valid category."""
    config = tmp_path / "bad.toml"
    config.write_text('[arxiv]\ncategories = ["cs.CVV"]\n')
    result = runner.invoke(app, ["--config", str(config), "config", "check"])
    assert result.exit_code == 2
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1
    assert "arxiv.categories" in lines[0] and "bad.toml" in lines[0] and "cs.CV" in lines[0]


def test_invalid_date_exits_2(runner: CliRunner) -> None:
    """A date that is not YYYY-MM-DD is refused before anything runs."""
    result = runner.invoke(app, ["collect", "--date", "2021-13-40"])
    assert result.exit_code == 2
    assert "not a date" in result.output


def test_unknown_category_argument_exits_2(runner: CliRunner) -> None:
    """--categories with a typo suggests the closest category."""
    result = runner.invoke(app, ["collect", "--categories", "cs.LG,cs.CVV"])
    assert result.exit_code == 2
    assert "did you mean 'cs.CV'" in result.output


def test_unreachable_database_is_one_sentence(runner: CliRunner) -> None:
    """A database that does not answer gives one sentence and exit 1, no traceback."""
    result = runner.invoke(
        app, ["rank", "--date", "2021-03-15"],
        env={"HOTPAPERS_DATABASE__URL": "postgresql://nobody@127.0.0.1:1/none"},
    )  # fmt: skip
    assert result.exit_code == 1
    assert "cannot reach the database" in result.output
    assert "Traceback" not in result.output


def test_missing_snapshot_file_exits_2(runner: CliRunner) -> None:
    """Importing a file that does not exist says so."""
    result = runner.invoke(app, ["import-snapshot", "nope.json"])
    assert result.exit_code == 2
    assert "no such file" in result.output


def _demo_env(workdir: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("HOTPAPERS_")}
    env["HOTPAPERS_DATABASE__URL"] = f"sqlite:///{workdir / 'demo.db'}"
    return env


def test_demo_runs_the_whole_pipeline(demo: tuple[Path, subprocess.CompletedProcess[str]]) -> None:
    """`hotpapers demo` works offline with no credentials and shows every stage: the post,
    the site (its local URL), the Discord thread as delivered to the fake, the X text."""
    workdir, result = demo
    assert result.returncode == 0, result.stderr
    assert_post_written(workdir, result.stdout)
    assert_site_shown(workdir, result.stdout)
    assert_discord_thread_shown(workdir, result.stdout)
    assert "Hot on arXiv, listing of 2026-11-23:" in result.stdout  # the X summary's text
    # TL;DRs from the fake OpenAI-compatible endpoint, on the site's day page.
    assert "tldr: 2026-11-23: TL;DRs for 5 top papers: 5 made" in result.stdout
    day_page = (workdir / "site" / "2026-11-23" / "index.html").read_text("utf-8")
    assert day_page.count('class="tldr"') == 5
    assert "http://localhost:8080/2026-11-23/" in result.stdout  # its one link
    assert result.stdout.rstrip().splitlines()[-1].startswith("demo finished in ")


def assert_site_shown(workdir: Path, stdout: str) -> None:
    index = workdir / "site" / "index.html"
    assert index.is_file() and (workdir / "site" / "2026-11-23" / "index.html").is_file()
    assert index.resolve().as_uri() in stdout
    assert f"hotpapers site serve --out {workdir / 'site'}" in stdout


def assert_discord_thread_shown(workdir: Path, stdout: str) -> None:
    """Every paper the delivery ledger says went to Discord is shown, by title, in order."""
    from sqlmodel import Session, col, select

    from hotpapers.storage.db import make_engine
    from hotpapers.storage.models import Delivery, Paper

    engine = make_engine(f"sqlite:///{workdir / 'demo.db'}")
    with Session(engine) as session:
        query = select(Paper.title).join(Delivery, col(Delivery.paper_id) == Paper.id)
        query = query.where(Delivery.state == "sent").order_by(col(Delivery.id))
        titles = session.exec(query).all()
    engine.dispose()
    assert len(titles) >= 3
    # The header message that starts the thread, then the papers in the thread.
    assert "Hot Papers 2026-11-23" in stdout
    thread = stdout.split("Hot Papers 2026-11-23", 1)[1]
    where = [thread.index(title) for title in titles]
    assert where == sorted(where)


def assert_post_written(workdir: Path, stdout: str) -> None:
    post = workdir / "posts" / "2026-11-23---Hot-Papers.md"
    assert post.is_file()
    text = post.read_text()
    assert text.startswith("---\ntitle: Hot Papers 2026-11-23\n")
    assert "# 1. " in text and "- retweets: " in text
    assert '<blockquote class="twitter-tweet"' in text  # embeds came from the fake oEmbed
    assert "bluesky: " in text and "hf: " in text  # the other sources' breakdown line
    for source in ("x:", "hn:", "hf:", "bluesky:"):
        assert f"signals: {source}" in stdout
    assert "Hot papers 2026-11-23" in stdout and str(post) in stdout.replace("\n", "")


def test_rank_json_after_demo(
    demo: tuple[Path, subprocess.CompletedProcess[str]], tmp_path: Path
) -> None:
    """`rank --json` prints rank, id, title, score and the per-source breakdown."""
    workdir, run = demo
    assert run.returncode == 0, run.stderr
    env = _demo_env(workdir)
    result = subprocess.run(
        [sys.executable, "-m", "hotpapers", "rank", "--date", "2026-11-23", "--json", "--top", "3"],
        capture_output=True, text=True, env=env, timeout=120, cwd=tmp_path,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    ranked = json.loads(result.stdout)
    assert [r["rank"] for r in ranked] == [1, 2, 3]
    assert set(ranked[0]) == {"rank", "arxiv_id", "title", "score", "signals"}
    assert ranked[0]["score"] >= ranked[1]["score"] >= ranked[2]["score"]
    assert (
        ranked[0]["signals"]["x"]["retweets"] + ranked[0]["signals"]["x"]["likes"]
        == ranked[0]["score"]
    )


def test_rank_explain_shows_each_term(
    demo: tuple[Path, subprocess.CompletedProcess[str]], tmp_path: Path
) -> None:
    """`rank --explain ID` shows how the paper's score was made, and refuses a non-id."""
    workdir, run = demo
    assert run.returncode == 0, run.stderr
    env = _demo_env(workdir)
    ranked = subprocess.run(
        [sys.executable, "-m", "hotpapers", "rank", "--date", "2026-11-23", "--json", "--top", "1"],
        capture_output=True, text=True, env=env, timeout=120, cwd=tmp_path, check=True,
    )  # fmt: skip
    top = json.loads(ranked.stdout)[0]
    result = subprocess.run(
        [sys.executable, "-m", "hotpapers", "rank", "--explain", f"https://arxiv.org/abs/{top['arxiv_id']}v1"],
        capture_output=True, text=True, env=env, timeout=120, cwd=tmp_path,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert top["arxiv_id"] in result.stdout
    assert "x.retweets" in result.stdout and "x.likes" in result.stdout
    assert f"score = {top['score']:g}" in result.stdout
    bad = subprocess.run(
        [sys.executable, "-m", "hotpapers", "rank", "--explain", "not-a-paper"],
        capture_output=True, text=True, env=env, timeout=120, cwd=tmp_path,
    )  # fmt: skip
    assert bad.returncode == 2 and "not an arXiv id" in bad.stderr


def test_unreachable_arxiv_is_one_sentence_and_nothing_written(
    runner: CliRunner, tmp_path: Path
) -> None:
    """arXiv not answering: exit 1, one sentence naming the problem, an empty database."""
    dead = "http://127.0.0.1:9"  # the discard port: nothing listens there
    env = {
        "HOTPAPERS_DATABASE__URL": f"sqlite:///{tmp_path / 'hp.db'}",
        "HOTPAPERS_ARXIV__RSS_URL": f"{dead}/rss",
        "HOTPAPERS_ARXIV__API_URL": f"{dead}/api/query",
        "HOTPAPERS_ARXIV__OAI_URL": f"{dead}/oai",
        "HOTPAPERS_ARXIV__REQUEST_INTERVAL": "0.05",
        "HOTPAPERS_ARXIV__MAX_RETRIES": "1",
    }
    result = runner.invoke(app, ["collect", "--date", "2021-03-15"], env=env)
    assert result.exit_code == 1
    lines = [line for line in result.output.splitlines() if line.startswith("error:")]
    assert len(lines) == 1 and "arXiv" in lines[0]
    assert "Traceback" not in result.output
    import sqlite3

    with sqlite3.connect(tmp_path / "hp.db") as connection:
        assert connection.execute("SELECT count(*) FROM paper").fetchone() == (0,)


HOSTILE = "\x1b[31mred\x1b[0m\nforged: line\r\u202e" + "x" * 100_000


@pytest.mark.parametrize(
    "command",
    [
        ["collect", "--date", HOSTILE],
        ["collect", "--categories", HOSTILE],
        ["import-snapshot", HOSTILE],
        ["rank", "--explain", HOSTILE],
    ],
    ids=["date", "categories", "file", "explain"],
)
def test_hostile_argument_is_quoted_cut_and_escaped(runner: CliRunner, command: list[str]) -> None:
    """An argument with ANSI escapes, line breaks, a bidi override and 100,000 characters is
    echoed as a cut, escaped quotation: one line, no control character reaches the terminal."""
    result = runner.invoke(app, command)
    assert result.exit_code == 2
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1, result.output[:500]
    assert not any(not ch.isprintable() for ch in lines[0])
    assert "'\\x1b[31mred\\x1b[0m\\nforged: line\\r\\u202ex" in lines[0]
    quotation = lines[0][lines[0].index("'") : lines[0].rindex("'") + 1]
    assert len(quotation) <= 80 and quotation.endswith("x…'")


def test_any_error_message_reaches_the_terminal_escaped(runner: CliRunner) -> None:
    """Whatever a message embeds (here the --config path, in a sentence that does not quote
    it), no control character reaches the terminal: the CLI prints the sentence escaped."""
    result = runner.invoke(app, ["--config", "\x1b[2Jnope\n.toml", "config", "check"])
    assert result.exit_code == 2
    assert "\x1b" not in result.output and "\\x1b[2Jnope\\n.toml" in result.output


def test_demo_without_the_bot_skips_discord_in_one_line(tmp_path: Path) -> None:
    """With no bot package to load, the Discord stage is one line and the rest still runs."""
    shadow = tmp_path / "shadow" / "bot"
    shadow.mkdir(parents=True)
    (shadow / "__init__.py").write_text("raise ImportError('the bot is not installed here')\n")
    env = {k: v for k, v in os.environ.items() if not k.startswith("HOTPAPERS_")}
    env["PYTHONPATH"] = os.pathsep.join([str(shadow.parent), *sys.path])
    workdir = tmp_path / "demo"
    result = subprocess.run(
        [sys.executable, "-m", "hotpapers", "demo", "--workdir", str(workdir)],
        capture_output=True, text=True, env=env, timeout=300, cwd=tmp_path,  # not beside bot/
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "discord: skipped (the bot package is not installed)" in result.stdout
    assert (workdir / "site" / "index.html").is_file()
    assert "Hot on arXiv, listing of 2026-11-23:" in result.stdout


def _search_db(tmp_path: Path) -> dict[str, str]:
    from hotpapers.arxiv.importer import import_snapshot
    from hotpapers.storage import migrate
    from hotpapers.storage.db import make_engine

    url = f"sqlite:///{tmp_path / 'search.db'}"
    migrate.upgrade(url)
    lines = [
        {"id": f"2103.0000{n}", "authors": "", "title": title, "abstract": "Plain words.",
         "categories": "cs.LG", "authors_parsed": [["Doe", "Jane", ""]],
         "versions": [{"version": "v1", "created": f"Mon, {n} Mar 2021 10:00:00 GMT"}]}
        for n, title in enumerate(["Graph transformers", "A transformer for graphs"], 1)
    ]  # fmt: skip
    snapshot = tmp_path / "snapshot.jsonl"
    snapshot.write_text("".join(json.dumps(line) + "\n" for line in lines), encoding="utf-8")
    engine = make_engine(url)
    import_snapshot(engine, snapshot)
    engine.dispose()
    return {"HOTPAPERS_DATABASE__URL": url}


def test_search_prints_the_most_relevant_first(runner: CliRunner, tmp_path: Path) -> None:
    env = _search_db(tmp_path)
    result = runner.invoke(app, ["search", "graph", "transformers", "-n", "5"], env=env)
    assert result.exit_code == 0, result.output
    assert result.output.index("2103.00001") < result.output.index("2103.00002")
    result = runner.invoke(app, ["search", '"graph transformers"'], env=env)
    assert "2103.00001" in result.output and "2103.00002" not in result.output
    result = runner.invoke(app, ["search", "quasar"], env=env)
    assert result.exit_code == 0 and "No stored paper matches 'quasar'." in result.output


def test_search_of_stop_words_exits_2_with_a_sentence(runner: CliRunner, tmp_path: Path) -> None:
    result = runner.invoke(app, ["search", "the", "of", "and"], env=_search_db(tmp_path))
    assert result.exit_code == 2
    assert "add a word about the topic" in result.output and "Traceback" not in result.output
    result = runner.invoke(app, ["search", "x" * 5444])
    assert result.exit_code == 2
    assert "up to 200 characters long, and this one has 5,444" in result.output


def test_similar_and_embed_from_the_command_line(tmp_path: Path) -> None:
    """`hotpapers embed` then `hotpapers similar ID`: a table; bad and unknown ids: a sentence."""
    env = {**os.environ, **_search_db(tmp_path), "COLUMNS": "200"}

    def hotpapers(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "hotpapers", *args],
            env=env, capture_output=True, text=True, timeout=300, check=False,
        )  # fmt: skip

    done = hotpapers("embed")
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("embedded 2 papers for similar papers (")
    assert hotpapers("embed").stdout == "embedded 0 papers for similar papers.\n"
    found = hotpapers("similar", "https://arxiv.org/abs/2103.00001v2", "-n", "3")
    assert found.returncode == 0, found.stderr
    assert "Papers like arXiv:2103.00001: Graph transformers" in found.stdout
    assert "2103.00002" in found.stdout and "A transformer for graphs" in found.stdout
    unknown = hotpapers("similar", "2999.00001")
    assert unknown.returncode == 1
    assert "arXiv:2999.00001 is not in the database yet" in unknown.stderr
    assert "Traceback" not in unknown.stderr
    bad = hotpapers("similar", "not-an-id")
    assert bad.returncode == 2 and "is not an arXiv id or URL" in bad.stderr


def test_import_snapshot_embeds_unless_told_not_to(tmp_path: Path) -> None:
    """After the import, the vectors of similar papers; `--no-embed` leaves them to `embed`."""
    from hotpapers.storage import migrate

    line = {"id": "2103.00001", "authors": "", "title": "Graph transformers", "abstract": "Words.",
            "categories": "cs.LG", "authors_parsed": [["Doe", "Jane", ""]],
            "versions": [{"version": "v1", "created": "Mon, 1 Mar 2021 10:00:00 GMT"}]}  # fmt: skip
    snapshot = tmp_path / "snapshot.jsonl"
    snapshot.write_text(json.dumps(line) + "\n", encoding="utf-8")
    for flag, expected in (("--no-embed", False), ("--embed", True)):
        url = f"sqlite:///{tmp_path / f'{flag}.db'}"
        migrate.upgrade(url)
        done = subprocess.run(
            [sys.executable, "-m", "hotpapers", "import-snapshot", str(snapshot), flag],
            env={**os.environ, "HOTPAPERS_DATABASE__URL": url, "COLUMNS": "200"},
            capture_output=True, text=True, timeout=300, check=False,
        )  # fmt: skip
        assert done.returncode == 0, done.stderr
        assert ("embedded 1 papers for similar papers" in done.stdout) is expected
