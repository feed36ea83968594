"""Writing rendered posts to the posts directory, atomically."""

from __future__ import annotations

import contextlib
import logging
import os
import stat
import tempfile
from datetime import date
from pathlib import Path

from hotpapers.errors import HotpapersError
from hotpapers.plumbing import failpoints
from hotpapers.render.markdown import post_filename

log = logging.getLogger(__name__)


def write_post(posts_dir: Path, listing_date: date, text: str, name: str | None = None) -> Path:
    """Write `text` (UTF-8) as the post for `listing_date`; readers never see a partial file.

    The text goes to a temporary file in the same directory, is flushed to disk and then
    renamed over the target with `os.replace`. The directory is created if needed. A
    directory that cannot be written is one sentence (HotpapersError), nothing half-written.
    `name` replaces the daily file name (the weekly digest's).
    """
    try:
        return _write_atomically(posts_dir, name or post_filename(listing_date), text)
    except OSError as exc:
        log.debug("writing the post failed", exc_info=True)
        raise HotpapersError(
            f"cannot write the post to {posts_dir}: {exc.strerror or exc}; "
            "check digest.posts_dir (or --out)"
        ) from None


def _write_atomically(posts_dir: Path, name: str, text: str) -> Path:
    posts_dir.mkdir(parents=True, exist_ok=True)
    target = posts_dir / name
    try:
        mode = stat.S_IMODE(target.stat().st_mode)
    except FileNotFoundError:
        mode = 0o644
    _remove_orphans(posts_dir, target.name)
    prefix = f".{target.name}.{os.getpid()}."
    fd, temp_name = tempfile.mkstemp(dir=posts_dir, prefix=prefix, suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(text.encode("utf-8"))
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(temp_name, mode)
        failpoints.reach("digest.before_rename")
        os.replace(temp_name, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temp_name)
        raise
    return target


def _remove_orphans(posts_dir: Path, name: str) -> None:
    """Delete temporary files of writers that died (kill -9) before their rename.

    The writer's pid is in the name, so a live writer's file (another process writing the same
    post right now) is never touched.
    """
    for leftover in posts_dir.glob(f".{name}.*.tmp"):
        pid = leftover.name.removeprefix(f".{name}.").split(".", 1)[0]
        if pid.isdigit() and not _alive(int(pid)):
            with contextlib.suppress(OSError):
                leftover.unlink()


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's live process
        return True
    return True
