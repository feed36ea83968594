"""Progress for long work: a rich bar on a terminal, plain log lines otherwise."""

from __future__ import annotations

import logging
import sys
from contextlib import AbstractContextManager
from types import TracebackType

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, TaskID, TextColumn, TimeRemainingColumn
from rich.progress import Progress as RichProgress

from hotpapers.logs import logging_on

log = logging.getLogger("hotpapers.progress")


class Progress:
    def __init__(self, label: str, *, unit: str) -> None:
        self.label, self.unit = label, unit
        self._bar: RichProgress | None = None
        self._task: TaskID | None = None
        self._logging: AbstractContextManager[None] | None = None

    def __enter__(self) -> Progress:
        if sys.stderr.isatty():
            self._bar = RichProgress(
                TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                TimeRemainingColumn(), transient=True, console=Console(stderr=True),
            )  # fmt: skip
            # Log lines printed past the bar would tear it: they go through rich meanwhile.
            self._logging = logging_on(self._bar.console)
            self._logging.__enter__()
            self._bar.__enter__()
            self._task = self._bar.add_task(self.label, total=None)
        return self

    def update(self, done: int, total: int, message: str = "") -> None:
        if self._bar is not None and self._task is not None:
            self._bar.update(self._task, completed=done, total=total)
        else:
            log.info("%s: %d/%d %s %s", self.label, done, total, self.unit, message)

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
