"""Named points where the fault suite (`tests/faults/`) can kill this process, as kill -9 would.

`HOTPAPERS_FAILPOINT=collect.before_commit` (a comma-separated list is allowed) makes the
process send itself SIGKILL the first time it reaches that point: no `finally`, no rollback,
no flush, exactly like a power cut or the OOM killer. The tests then re-run the same command
and compare the result with an undisturbed run. `collect.before_commit:stop` sends SIGSTOP
instead, so a test can break something (restart the database) while the process is frozen
in the middle of its transaction, then let it go on with SIGCONT. `delivery.after_send@5`
acts the fifth time the point is reached (the middle of a run, not its start). Unset (always,
outside the tests), `reach` is one dictionary look-up.
"""

from __future__ import annotations

import os
import signal

ENV = "HOTPAPERS_FAILPOINT"
_reached: dict[str, int] = {}


def reach(name: str) -> None:
    """Die here, at once, if the fault suite asked for `name`."""
    wanted = os.environ.get(ENV)
    if not wanted:
        return
    _reached[name] = times = _reached.get(name, 0) + 1
    for point in wanted.split(","):
        point, _, nth = point.partition("@")
        if nth and int(nth) != times:
            continue
        if point == name:
            os.kill(os.getpid(), signal.SIGKILL)
        elif point == f"{name}:stop":
            os.kill(os.getpid(), signal.SIGSTOP)
