"""Progress for long work: a rich bar on a terminal, plain log lines otherwise."""

from __future__ import annotations

import logging
import sys
import time
from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from types import TracebackType

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.progress import Progress as RichProgress

from hotpapers.logs import logging_on

log = logging.getLogger("hotpapers.plumbing.progress")


class _LiveBars:
    """A rich progress display on stderr (a terminal only), with log lines printed above it
    meanwhile: printed past the bars, they would tear them."""

    _bar: RichProgress | None = None
    _logging: AbstractContextManager[None] | None = None

    def _show(self, bar: RichProgress) -> None:
        self._bar = bar
        self._logging = logging_on(bar.console)
        self._logging.__enter__()
        bar.__enter__()

    def __exit__(
        self,
        kind: type[BaseException] | None,
        value: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._bar is not None:
            self._bar.__exit__(kind, value, tb)
        if self._logging is not None:
            self._logging.__exit__(kind, value, tb)


class Progress(_LiveBars):
    def __init__(self, label: str, *, unit: str) -> None:
        self.label, self.unit = label, unit
        self._task: TaskID | None = None

    def __enter__(self) -> Progress:
        if sys.stderr.isatty():
            bar = RichProgress(
                TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                TimeRemainingColumn(), transient=True, console=Console(stderr=True),
            )  # fmt: skip
            self._show(bar)
            self._task = bar.add_task(self.label, total=None)
        return self

    def update(self, done: int, total: int, message: str = "") -> None:
        if self._bar is not None and self._task is not None:
            self._bar.update(self._task, completed=done, total=total)
        else:
            log.info("%s: %d/%d %s %s", self.label, done, total, self.unit, message)


class Stages(_LiveBars):
    """A bar per stage of a run, all shown from the start and each filled (with its time)
    when its stage ends; on a terminal only. Elsewhere each stage's end is a log line."""

    def __init__(self, names: Sequence[str]) -> None:
        self.names = list(names)
        self._tasks: dict[str, TaskID] = {}

    def __enter__(self) -> Stages:
        if sys.stderr.isatty():
            bar = RichProgress(
                TextColumn("{task.description:<10}"), BarColumn(), TimeElapsedColumn(),
                console=Console(stderr=True),
                # Lines printed on stdout go above the bars, unless stdout is not this terminal.
                redirect_stdout=sys.stdout.isatty(),
            )  # fmt: skip
            self._show(bar)
            self._tasks = {name: bar.add_task(name, total=1, start=False) for name in self.names}
        return self

    @contextmanager
    def stage(self, name: str) -> Iterator[None]:
        """The work of stage `name`: its bar runs meanwhile and is full once it is done."""
        started = time.perf_counter()
        task = self._tasks.get(name)
        if self._bar is not None and task is not None:
            self._bar.start_task(task)
            self._bar.update(task, total=None)  # no end known: the bar pulses meanwhile
        yield
        if self._bar is not None and task is not None:
            self._bar.update(task, total=1, completed=1)
            self._bar.stop_task(task)
        log.info("%s: done in %.1f s", name, time.perf_counter() - started)
