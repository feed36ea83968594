"""The snapshot file to batches of row tuples, parsed ahead of the writer: in a thread, or in
a parser process for big files (then parsing and writing use two CPUs)."""

from __future__ import annotations

import contextlib
import gc
import gzip
import logging
import os
import pickle
import queue
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import IO

from hotpapers.arxiv.importer.listing import FirstListings
from hotpapers.arxiv.importer.rows import AUTHOR_CACHE_SIZE, Keys, Rec, fold_keys, to_rec
from hotpapers.arxiv.snapshot import parse_snapshot_line

log = logging.getLogger(__name__)

MAX_SKIPPED_LINES = 100  # line numbers kept in the report (all are logged)
# Files at least this big are parsed in a separate process (2 CPUs: parse and write overlap;
# a thread cannot, both halves need the GIL). Smaller ones in a thread (no process start-up).
PROCESS_MIN_BYTES = 32 * 1024 * 1024


@dataclass(frozen=True, slots=True)
class ParseOptions:
    """How records become rows (plain values: they travel to the parser process in argv)."""

    aware: bool = False  # times with their UTC offset (see rows.stamp)
    holidays: tuple[date, ...] = ()  # arXiv's calendar, for the first listing dates

    def to_argv(self) -> list[str]:
        return ["aware" if self.aware else "naive", ",".join(d.isoformat() for d in self.holidays)]

    @classmethod
    def from_argv(cls, argv: list[str]) -> ParseOptions:
        days = tuple(date.fromisoformat(d) for d in argv[1].split(",") if d)
        return cls(aware=argv[0] == "aware", holidays=days)


@dataclass(frozen=True, slots=True)
class Batch:
    records: list[Rec]
    read: int  # totals so far
    skipped: int
    position: int
    skips: list[tuple[int, str]]  # (line number, reason) of the lines skipped in this batch
    # Search keys of names not sent in an earlier batch (the parser process folds them).
    folds: dict[str, Keys] | None = None
    by_weekday_rule: int = 0  # papers so far dated by the weekday rule (listing.FirstListings)


DONE = "done"


def parse_batches(
    path: Path,
    batch_size: int,
    stopping: Callable[[], bool],
    fold_names: bool = False,
    options: ParseOptions = ParseOptions(),
) -> Iterator[Batch]:
    """The file's records in batches (a last batch with only skips if lines were skipped).

    `fold_names`: each batch carries the folded keys of the names first seen in it."""
    read = skipped = 0
    sent: set[str] = set()
    listings = FirstListings(options.holidays)
    aware = options.aware

    def batch(records: list[Rec], skips: list[tuple[int, str]]) -> Batch:
        return Batch(
            records, read, skipped, position(), skips, folds(records), listings.by_weekday_rule
        )

    def folds(records: list[Rec]) -> dict[str, Keys] | None:
        if not fold_names:
            return None
        if len(sent) > AUTHOR_CACHE_SIZE:
            sent.clear()
        found = {}
        for record in records:
            for name in record[4]:
                if name not in sent:
                    sent.add(name)
                    found[name] = fold_keys(name)
        return found

    with open_lines(path) as (lines, position):
        records: list[Rec] = []
        skips: list[tuple[int, str]] = []
        for number, line in enumerate(lines, 1):
            if not line.strip():
                continue
            read += 1
            try:
                records.append(to_rec(parse_snapshot_line(line), aware, listings))
            except ValueError as exc:
                skipped += 1
                skips.append((number, str(exc)))
                continue
            if len(records) >= batch_size:
                if stopping():
                    return
                yield batch(records, skips)
                records, skips = [], []
        if records or skipped:
            yield batch(records, skips)


class Reader:
    """Reads and parses the file in a thread, a bounded queue of batches ahead of the writer."""

    def __init__(self, path: Path, batch_size: int, options: ParseOptions) -> None:
        self.path = path
        self.batch_size = batch_size
        self.options = options
        self.read = 0
        self.by_weekday_rule = 0
        self.skipped = 0
        self.skipped_lines: list[int] = []
        self._queue: queue.Queue[object] = queue.Queue(maxsize=2)
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._run, name="snapshot-reader", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stopping.set()
        with contextlib.suppress(queue.Empty):
            while True:
                self._queue.get_nowait()
        self._thread.join()

    def _get(self) -> object:
        return self._queue.get()

    def batches(self) -> Iterator[Batch]:
        while True:
            item = self._get()
            if isinstance(item, str) and item == DONE:
                return
            if isinstance(item, BaseException):
                raise item
            assert isinstance(item, Batch)
            self.read, self.skipped = item.read, item.skipped
            self.by_weekday_rule = item.by_weekday_rule
            for number, reason in item.skips:
                if len(self.skipped_lines) < MAX_SKIPPED_LINES:
                    self.skipped_lines.append(number)
                log.warning("%s line %d skipped: %s", self.path.name, number, reason)
            yield item

    def _put(self, item: object) -> bool:
        while not self._stopping.is_set():
            try:
                self._queue.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def _run(self) -> None:
        try:
            batches = parse_batches(
                self.path, self.batch_size, self._stopping.is_set, options=self.options
            )
            for batch in batches:
                if not self._put(batch):
                    return
        except BaseException as exc:  # handed to the importing thread
            self._put(exc)
            return
        self._put(DONE)


def child_main() -> None:
    """The parser process: `path batch_size` and the ParseOptions in argv; pickled batches,
    then DONE or the error, on stdout (anything printed goes to stderr instead)."""
    out = os.fdopen(os.dup(1), "wb", buffering=1 << 20)
    sys.stdout = sys.stderr
    gc.disable()  # see run._no_cycle_collection: nothing here makes cycles, and this process ends
    path, batch_size = Path(sys.argv[1]), int(sys.argv[2])
    try:
        _send_batches(out, path, batch_size, ParseOptions.from_argv(sys.argv[3:]))
        out.close()
    except BrokenPipeError:  # the importing process is gone (killed): no one to tell
        os._exit(1)


def _send_batches(out: IO[bytes], path: Path, batch_size: int, options: ParseOptions) -> None:
    try:
        for batch in parse_batches(path, batch_size, lambda: False, True, options):
            pickle.dump(batch, out, protocol=pickle.HIGHEST_PROTOCOL)
            out.flush()
        pickle.dump(DONE, out)
    except BrokenPipeError:
        raise
    except Exception as exc:
        try:
            pickle.dump(exc, out)
        except Exception:  # not picklable
            pickle.dump(RuntimeError(f"{exc.__class__.__name__}: {exc}"), out)


class ProcessReader(Reader):
    """Parses in a child process, so parsing and writing overlap on two CPUs (in a thread they
    cannot: both halves hold the GIL). A fresh interpreter (`python -c`, not fork: nothing of
    this process is inherited, no lock another thread held; not multiprocessing: no re-import
    of `__main__`) sends pickled batches through a pipe; a thread here unpickles them into the
    bounded queue. The child logs nothing: skips come with the batches and are logged here."""

    def __init__(self, path: Path, batch_size: int, options: ParseOptions) -> None:
        super().__init__(path, batch_size, options)
        self._process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(p for p in sys.path if p)
        self._process = subprocess.Popen(
            [
                sys.executable,
                "-c",
                "from hotpapers.arxiv.importer.reader import child_main; child_main()",
                str(self.path),
                str(self.batch_size),
                *self.options.to_argv(),
            ],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            env=env,
        )
        super().start()

    def _run(self) -> None:
        assert self._process is not None and self._process.stdout is not None
        pipe = self._process.stdout
        try:
            while not self._stopping.is_set():
                try:
                    item = pickle.load(pipe)
                except EOFError:
                    code = self._process.wait()
                    item = RuntimeError(f"snapshot parser process ended early (exit code {code})")
                if not self._put(item) or not isinstance(item, Batch):
                    return
        except BaseException as exc:
            self._put(exc)

    def stop(self) -> None:
        self._stopping.set()
        if self._process is not None:
            if self._process.poll() is None:
                self._process.kill()
            self._process.wait()
        super().stop()
        if self._process is not None and self._process.stdout is not None:
            self._process.stdout.close()


class open_lines:
    """Binary lines of a plain or gzip file, with the position in the file as stored."""

    def __init__(self, path: Path) -> None:
        self._raw: IO[bytes] = path.open("rb", buffering=1 << 20)
        self._stream: IO[bytes] = self._raw
        if path.suffix == ".gz":
            self._stream = gzip.GzipFile(fileobj=self._raw, mode="rb")  # type: ignore[assignment]

    def __enter__(self) -> tuple[Iterator[bytes], Callable[[], int]]:
        return iter(self._stream), self._raw.tell

    def __exit__(self, *_exc: object) -> None:
        if self._stream is not self._raw:
            self._stream.close()
        self._raw.close()
