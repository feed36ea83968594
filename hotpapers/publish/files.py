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
from hotpapers.render.markdown import post_filename

log = logging.getLogger(__name__)


def write_post(posts_dir: Path, listing_date: date, text: str) -> Path:
    """Write `text` (UTF-8) as the post for `listing_date`; readers never see a partial file.

    The text goes to a temporary file in the same directory, is flushed to disk and then
    renamed over the target with `os.replace`. The directory is created if needed. A
    directory that cannot be written is one sentence (HotpapersError), nothing half-written.
    """
    try:
        return _write_atomically(posts_dir, listing_date, text)
    except OSError as exc:
        log.debug("writing the post failed", exc_info=True)
        raise HotpapersError(
            f"cannot write the post to {posts_dir}: {exc.strerror or exc}; "
            "check digest.posts_dir (or --out)"
        ) from None


def _write_atomically(posts_dir: Path, listing_date: date, text: str) -> Path:
    posts_dir.mkdir(parents=True, exist_ok=True)
    target = posts_dir / post_filename(listing_date)
    try:
        mode = stat.S_IMODE(target.stat().st_mode)
    except FileNotFoundError:
        mode = 0o644
    fd, temp_name = tempfile.mkstemp(dir=posts_dir, prefix=f".{target.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(text.encode("utf-8"))
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(temp_name, mode)
        os.replace(temp_name, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temp_name)
        raise
    return target
