"""What an import tells its caller: progress after each batch, the report at the end."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class ImportProgress:
    """Where the import is, after a written batch (committed, unless on the bulk path)."""

    read: int  # non-blank lines read
    imported: int  # records written (committed)
    skipped: int  # malformed lines
    batches: int
    bytes_read: int  # position in the file as stored (compressed for .gz)
    total_bytes: int
    elapsed: float  # seconds


@dataclass(frozen=True, slots=True)
class ImportReport:
    read: int
    imported: int
    skipped: int
    batches: int
    new: int  # papers that were not in the database
    updated: int  # existing papers this snapshot had a current record for
    stale: int  # records older than the stored paper (only versions added)
    elapsed: float
    skipped_lines: tuple[int, ...] = ()  # the first line numbers skipped
    bulk: bool = False  # written by the bulk path (one transaction), see the module docstring

    @property
    def papers_per_second(self) -> float:
        return self.imported / self.elapsed if self.elapsed > 0 else 0.0
