"""The core never imports Discord: the rule the design rests on."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

CORE = Path(__file__).parents[1] / "hotpapers"


def test_core_source_never_imports_discord() -> None:
    """No module under hotpapers/ imports discord or the bot package."""
    offenders = []
    for path in CORE.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            offenders += [f"{path}: {n}" for n in names if n.split(".")[0] in {"discord", "bot"}]
    assert offenders == []


def test_importing_the_core_loads_no_discord() -> None:
    """Importing every core module in a fresh interpreter leaves discord unloaded."""
    modules = sorted(
        ".".join(p.relative_to(CORE.parent).with_suffix("").parts)
        for p in CORE.rglob("*.py")
        if "migrations" not in p.parts and p.name != "__main__.py"
    )
    code = "import importlib, sys\n" + "".join(f"importlib.import_module({m!r})\n" for m in modules)
    code += "print('discord' in sys.modules)"
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "False"


# --- The layer order (issue #15) --------------------------------------------------------------
# Written for the tree after the stage-package move, by package name below `hotpapers.`
# ("" is the base at the top: config, errors, logs). The pipeline reads bottom to top: a module
# may import its own package and any package on an EARLIER line, never a later one, and never
# a package on its own line. Short names on purpose: the move script rewrites dotted module
# names, and these are package names it must leave alone.
LAYERS: list[tuple[str, ...]] = [
    ("",),  # config, errors, logs
    ("plumbing",),  # retry, capped HTTP bodies, metrics, failpoints, text, progress
    ("storage",),  # tables, engine, writes, reads, the spend ledger
    ("migrations",),  # Alembic scripts
    ("arxiv",),  # collect: client, parsers, calendar, snapshot import
    ("signals", "fakes"),  # measure; the local fake services
    ("ranking", "similar"),  # rank; papers like a paper (#13)
    ("tldr",),  # one-line summaries (#13)
    ("render",),  # Markdown, TeX, charts
    ("publish", "site"),  # files, X; the static web archive
    ("delivery",),  # the exactly-once delivery plan and its run
    ("foryou",),  # a ranking per reader, from their subscriptions and likes (#13)
    ("cluster",),  # several processes: leader, queue, drain
    ("ops",),  # job status, /healthz, freshness
    ("service",),  # the use-cases and the scheduler that runs them
    ("demo",),  # `hotpapers demo`: the pipeline against the fakes
    ("cli",),  # the command line
    ("__main__",),  # `python -m hotpapers`
    ("bot",),  # the Discord adapter, on top of everything
]

# Imports against the order that are there on purpose: (importer, imported) -> why.
# Old dotted names are fine here: the move script rewrites them with the modules.
LAYER_EXCEPTIONS: dict[tuple[str, str], str] = {
    ("hotpapers.config._sections", "hotpapers.arxiv.holidays"): "holidays default to the table",
    ("hotpapers.config._sections", "hotpapers.arxiv.taxonomy"): "settings check category names",
    ("hotpapers.config._sections", "hotpapers.ranking.classic"): "classic defaults are settings",
    ("hotpapers.config._settings", "hotpapers.tldr.settings"): "[tldr] lives with its feature",
    ("hotpapers.storage.queries", "hotpapers.arxiv.ids"): "pure id parsing, any id form",
    ("hotpapers.plumbing.metrics", "hotpapers.storage.models"): "gauges read tables",
    ("hotpapers.plumbing.metrics", "hotpapers.storage.spend"): "spend gauge in dollars",
    ("hotpapers.publish.x", "hotpapers.service.use_cases"): "posting to X ranks the day",
    ("hotpapers.site.content", "hotpapers.service.use_cases"): "the site ranks days",
    ("hotpapers.tldr.job", "hotpapers.service.use_cases"): "TL;DRs follow the day's ranking",
}

# Modules still loose at the top of hotpapers/ (or due to move package) until the stage-package
# move runs; they are left out of the layer check until then. The move script empties this.
NOT_YET_MOVED: frozenset[str] = frozenset(
    # layout-move: not-yet-moved begin
    # layout-move: not-yet-moved end
)
ROOT = CORE.parent
BASE_MODULES = {"hotpapers", "hotpapers.config", "hotpapers.errors", "hotpapers.logs"}
# Base modules that are packages: their private modules are the base too.
BASE_PACKAGES = {"hotpapers.config"}


def _is_base(module: str) -> bool:
    """True for the base modules and the modules inside a base package."""
    return module in BASE_MODULES or any(module.startswith(p + ".") for p in BASE_PACKAGES)


def _module_name(path: Path) -> str:
    """The dotted name of a source file under the repository root."""
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _source_files(*tops: str) -> list[Path]:
    """The project's .py files under the given top folders (migration scripts excepted)."""
    return sorted(
        path for top in tops for path in (ROOT / top).rglob("*.py") if "versions" not in path.parts
    )


def _layer_of(module: str) -> int | None:
    """The index of a module's package in LAYERS; None when it is loose or not ours."""
    parts = module.split(".")
    loose = any(module == m or module.startswith(m + ".") for m in NOT_YET_MOVED)
    if loose or parts[0] not in {"hotpapers", "bot"}:
        return None
    if parts[0] == "bot":
        name = "bot"
    elif _is_base(module):
        name = ""
    else:
        name = parts[1]
    for index, layer in enumerate(LAYERS):
        if name in layer:
            return index
    return -1


def _package_of(module: str) -> str:
    """The LAYERS name a module belongs to."""
    parts = module.split(".")
    return "bot" if parts[0] == "bot" else "" if _is_base(module) else parts[1]


def _imported_modules(tree: ast.AST, modules: set[str]) -> set[str]:
    """The project modules an import names, inside functions too.

    `from a import b` counts as a.b when that is a module, else as a.
    """
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            for alias in node.names:
                full = f"{node.module}.{alias.name}"
                found.add(full if full in modules else node.module)
    return {name for name in found if name in modules}


def _layer_violations() -> list[str]:
    """Imports that go up the pipeline or sideways between peers, exceptions left out."""
    files = {_module_name(p): p for p in _source_files("hotpapers", "bot")}
    violations = []
    for module, path in files.items():
        mine = _layer_of(module)
        if mine is None:
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for imported in sorted(_imported_modules(tree, set(files))):
            theirs = _layer_of(imported)
            if theirs is None or _package_of(imported) == _package_of(module):
                continue
            if theirs >= mine and (module, imported) not in LAYER_EXCEPTIONS:
                violations.append(f"{module} imports {imported}")
    return violations


def test_every_package_has_a_place_in_the_layers() -> None:
    """Each package of hotpapers/ is named in LAYERS (a new package needs a line there)."""
    modules = [_module_name(p) for p in _source_files("hotpapers", "bot")]
    assert sorted({m for m in modules if _layer_of(m) == -1}) == []


def test_imports_follow_the_layer_order() -> None:
    """No import goes back up the pipeline or sideways between packages on one line."""
    assert _layer_violations() == []


def test_layer_exceptions_are_still_needed() -> None:
    """Once the move has run, every listed exception is an import that exists."""
    if NOT_YET_MOVED:
        return
    files = {_module_name(p): p for p in _source_files("hotpapers", "bot")}
    stale = []
    for importer, imported in LAYER_EXCEPTIONS:
        path = files.get(importer)
        tree = ast.parse(path.read_text("utf-8")) if path else None
        if tree is None or imported not in _imported_modules(tree, set(files)):
            stale.append(f"{importer} -> {imported}")
    assert stale == []


# --- Size (issue #15, STYLE.md) ---------------------------------------------------------------
MAX_MODULE_LINES = 500
MAX_FUNCTION_LINES = 60
SIZED_TREES = ("hotpapers", "bot", "tests", "bench")

# Modules over 500 lines today -> why they stay for now. Dotted names (the move rewrites them).
LONG_MODULES: dict[str, str] = {
    "tests.bot.test_bot_delivery": "scenarios of the paced delivery; to split by topic",
    "tests.delivery.test_delivery": "plan, run and ledger tests; to split by topic",
    "tests.arxiv.test_import": "follows the importer split",
    "tests.arxiv.test_parse": "one fixture page per case; to split listing / OAI",
    "tests.site.test_site": "to split: pages, feeds, search",
}

# Functions over 60 lines today ("module:function") -> why they stay for now.
LONG_FUNCTIONS: dict[str, str] = {
    "hotpapers.arxiv.client:_request": "one request's whole retry/politeness loop; to split",
    "hotpapers.delivery.subscriptions:subscribe": "checks, limits and the write: one transaction",
    "tests.bot.render_discord_thread:sample_papers": "literal sample data, not logic",
    "tests.render.test_render:parse_reference": "1 line over: a parser of the reference post",
    "tests.signals.bluesky._support:known_posts": "literal sample data, not logic",
    "bench.bench_fanout:run_bot": "benchmark script: set-up, run and measure in one place",
    "bench.bench_fanout:main": "benchmark script: argument parsing and the report",
    "bench.bench_queries:main": "benchmark script: argument parsing and the report",
    "bench.bench_signals_sweep:run": "benchmark script: set-up, run and measure in one place",
    "bench.bench_x_reads:main": "benchmark script: argument parsing and the report",
}


def _sizes() -> tuple[dict[str, int], dict[str, int]]:
    """Lines per module over the module limit, and per "module:function" over the other."""
    modules: dict[str, int] = {}
    functions: dict[str, int] = {}
    for path in _source_files(*SIZED_TREES):
        source = path.read_text(encoding="utf-8")
        name = _module_name(path)
        if len(source.splitlines()) > MAX_MODULE_LINES:
            modules[name] = len(source.splitlines())
        for node in ast.walk(ast.parse(source)):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.end_lineno:
                length = node.end_lineno - node.lineno + 1
                if length > MAX_FUNCTION_LINES:
                    functions[f"{name}:{node.name}"] = length
    return modules, functions


def test_no_module_over_500_lines_but_the_listed() -> None:
    """A module past 500 lines is split, or listed in LONG_MODULES with why."""
    modules, _ = _sizes()
    assert {m: n for m, n in modules.items() if m not in LONG_MODULES} == {}


def test_no_function_over_60_lines_but_the_listed() -> None:
    """A function past 60 lines is split, or listed in LONG_FUNCTIONS with why."""
    _, functions = _sizes()
    assert {f: n for f, n in functions.items() if f not in LONG_FUNCTIONS} == {}


def test_size_exceptions_are_still_needed() -> None:
    """An entry whose module or function has shrunk (or gone) comes off the lists."""
    modules, functions = _sizes()
    stale = sorted(set(LONG_MODULES) - set(modules)) + sorted(set(LONG_FUNCTIONS) - set(functions))
    assert stale == []
