"""No import circles between the modules of hotpapers/ and bot/.

Every ``import`` counts, including those inside functions (two of the old circles closed
only through them); imports under ``if TYPE_CHECKING:`` do not, since they never run.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).parents[1]
PACKAGES = ("hotpapers", "bot")

# Circles that are known and left for a later step, each with why. Keyed by the sorted
# modules of the strongly connected component; empty when the tree is clean.
KNOWN_CIRCLES: dict[tuple[str, ...], str] = {}


def module_name(path: Path) -> str:
    """The dotted module name of a source file under ROOT."""
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def all_modules() -> dict[str, Path]:
    """Every module of the project's packages, by dotted name."""
    found: dict[str, Path] = {}
    for package in PACKAGES:
        for path in (ROOT / package).rglob("*.py"):
            found[module_name(path)] = path
    return found


def _is_type_checking(test: ast.expr) -> bool:
    """True for ``TYPE_CHECKING`` and ``typing.TYPE_CHECKING``."""
    if isinstance(test, ast.Name):
        return test.id == "TYPE_CHECKING"
    return isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"


def run_time_imports(tree: ast.AST) -> Iterator[ast.Import | ast.ImportFrom]:
    """Import statements that run, anywhere in the tree, skipping TYPE_CHECKING blocks."""
    for node in ast.iter_child_nodes(tree):
        if isinstance(node, ast.If) and _is_type_checking(node.test):
            for child in node.orelse:
                yield from run_time_imports(ast.Module(body=[child], type_ignores=[]))
            continue
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            yield node
        yield from run_time_imports(node)


def _absolute_base(node: ast.ImportFrom, importer: str, is_package: bool) -> str:
    """The absolute module a (possibly relative) ``from ... import`` names."""
    if not node.level:
        return node.module or ""
    parts = importer.split(".")
    keep = len(parts) - node.level + (1 if is_package else 0)
    base = ".".join(parts[:keep])
    return f"{base}.{node.module}" if node.module else base


def imported_modules(name: str, path: Path, known: set[str]) -> set[str]:
    """The project modules one module imports at run time."""
    targets: set[str] = set()
    tree = ast.parse(path.read_text(encoding="utf-8"))
    for node in run_time_imports(tree):
        if isinstance(node, ast.Import):
            targets |= {alias.name for alias in node.names if alias.name in known}
            continue
        base = _absolute_base(node, name, path.name == "__init__.py")
        for alias in node.names:
            submodule = f"{base}.{alias.name}"
            if submodule in known:
                targets.add(submodule)
            elif base in known:
                targets.add(base)
    targets.discard(name)
    return targets


def import_graph() -> dict[str, set[str]]:
    """Module -> the project modules it imports at run time."""
    modules = all_modules()
    known = set(modules)
    return {name: imported_modules(name, path, known) for name, path in modules.items()}


def circles(graph: dict[str, set[str]]) -> list[tuple[str, ...]]:
    """The strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[tuple[str, ...]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in sorted(graph.get(node, ())):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(tuple(sorted(component)))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def test_the_walker_sees_imports_inside_functions_and_skips_type_checking() -> None:
    """A function-level import counts; one under ``if TYPE_CHECKING:`` does not."""
    source = (
        "from typing import TYPE_CHECKING\n"
        "if TYPE_CHECKING:\n    import bot.client\n"
        "def f():\n    from bot import pace\n"
    )
    names = {
        alias.name if isinstance(node, ast.Import) else f"{node.module}.{alias.name}"
        for node in run_time_imports(ast.parse(source))
        for alias in node.names
    }
    assert names == {"typing.TYPE_CHECKING", "bot.pace"}


def test_the_finder_reports_a_circle_closed_through_three_modules() -> None:
    """a -> b -> c -> a is one circle; d hanging off it is not part of it."""
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a", "d"}, "d": set()}
    assert circles(graph) == [("a", "b", "c")]


def test_no_import_circles_between_modules() -> None:
    """hotpapers/ and bot/ import in one direction only, apart from the listed exceptions."""
    found = circles(import_graph())
    unexpected = [circle for circle in found if circle not in KNOWN_CIRCLES]
    assert unexpected == [], "\n".join(" <-> ".join(circle) for circle in unexpected)
    stale = [circle for circle in KNOWN_CIRCLES if circle not in found]
    assert stale == [], f"listed circles that no longer exist: {stale}"
