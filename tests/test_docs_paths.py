"""The documentation names the tree as it is: every file, folder and module it mentions exists.

Checked: full paths (`hotpapers/...`, `bot/...`, `tests/...`, `bench/...`, `docs/...`), dotted
names (`hotpapers.x.y`, a module or a name in one; `python -m x.y`), and short names in
backticks (`models.py`, `cogs/`) read inside the folder that the same paragraph or table row
last named in full (as in the module table of docs/ARCHITECTURE.md); a short `.py` name with
no such folder must at least be a file somewhere in the tree.
"""

from __future__ import annotations

import importlib
import importlib.util
import re
import tomllib
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).parents[1]
DOCUMENTS = sorted(
    [
        ROOT / "README.md",
        ROOT / "BENCHMARKS.md",
        ROOT / "config.example.toml",
        *ROOT.glob("CONTRIBUTING.md"),
        *ROOT.glob("docs/*.md"),
        *ROOT.glob("bench/*.py"),
        *ROOT.glob("hotpapers/**/__init__.py"),
        *ROOT.glob("bot/**/__init__.py"),
    ]
)
# What the benchmarks write when they run (ignored by git), so absent from a checkout.
GENERATED = ("bench", "data")
ROOTS = ("hotpapers/", "bot/", "tests/", "bench/", "docs/")

_FULL_PATH = re.compile(rf"(?<![\w./-])((?:{'|'.join(ROOTS)})[\w./-]*[\w/])")
_DOTTED = re.compile(r"(?<![\w./-])(hotpapers(?:\.\w+)+)")
_RUN_MODULE = re.compile(r"python -m ([\w.]+)")
_SHORT_NAME = re.compile(r"`(\w[\w/]*(?:\.py|/))`")


def _blocks(text: str) -> Iterator[str]:
    """Paragraphs, with each table row on its own: the unit a short name is read in."""
    for paragraph in re.split(r"\n\s*\n", text):
        if paragraph.lstrip().startswith("|"):
            yield from paragraph.splitlines()
        else:
            yield paragraph


def _missing_paths(block: str) -> Iterator[str]:
    """The names in one block that are neither a file nor a folder of the tree."""
    folder: str | None = None
    for match in re.finditer(f"{_FULL_PATH.pattern}|{_SHORT_NAME.pattern}", block):
        name = match.group(1) or match.group(2)
        if name.startswith(ROOTS):
            if Path(name).parts[:2] != GENERATED and not (ROOT / name).exists():
                yield name
            if name.endswith("/"):
                folder = name
        elif folder is not None and not (ROOT / folder / name).exists():
            yield f"{name} (in {folder})"
        elif folder is None and name.endswith(".py") and not _somewhere(name):
            yield name


def _somewhere(name: str) -> bool:
    """A short name with no folder around it: at least a file of that name in the tree."""
    return any(next(ROOT.glob(f"{root}**/{name}"), None) for root in ROOTS)


def _entry_point_groups() -> set[str]:
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    return set(pyproject["project"]["entry-points"])


def _is_module(dotted: str) -> bool:
    try:
        return importlib.util.find_spec(dotted) is not None
    except ModuleNotFoundError:  # a parent is missing, or is a module, not a package
        return False


def _resolves(dotted: str) -> bool:
    """A module, or a name defined in one (`hotpapers.delivery.deliver`)."""
    module, _, name = dotted.rpartition(".")
    if _is_module(dotted):
        return True
    return _is_module(module) and hasattr(importlib.import_module(module), name)


def _missing_modules(text: str) -> Iterator[str]:
    groups = _entry_point_groups()
    for dotted in _DOTTED.findall(text):
        if dotted not in groups and not _resolves(dotted):
            yield dotted
    for module in _RUN_MODULE.findall(text):
        if not _is_module(module):
            yield f"python -m {module}"


def test_every_path_in_the_documentation_exists() -> None:
    """Each path a document names is a file or folder of the tree (GENERATED aside)."""
    missing = [
        f"{doc.relative_to(ROOT)}: {name}"
        for doc in DOCUMENTS
        for block in _blocks(doc.read_text(encoding="utf-8"))
        for name in _missing_paths(block)
    ]
    assert not missing, "not in the tree:\n" + "\n".join(missing)


def test_every_module_name_in_the_documentation_exists() -> None:
    """Each `hotpapers.x.y` a document names is a module, a name in one, or an entry-point group."""
    missing = [
        f"{doc.relative_to(ROOT)}: {name}"
        for doc in DOCUMENTS
        for name in _missing_modules(doc.read_text(encoding="utf-8"))
    ]
    assert not missing, "not in the tree:\n" + "\n".join(missing)
