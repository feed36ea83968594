"""What the SQLite and PostgreSQL writers share: a batch split by what is stored, its rows,
the names known to be stored."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from hotpapers.arxiv.importer.rows import (
    AUTHOR_CACHE_SIZE,
    PAPER_COLUMNS,
    AuthorRow,
    Keys,
    Rec,
    fold_keys,
)

log = logging.getLogger(__name__)


class Authors:
    """Folded search keys per name, and names known to be stored (both bounded)."""

    def __init__(self) -> None:
        self.folds: dict[str, Keys] = {}
        self.known: set[str] = set()

    def row(self, name: str) -> AuthorRow:
        keys = self.folds.get(name)
        if keys is None:
            if len(self.folds) >= AUTHOR_CACHE_SIZE:
                self.folds.clear()
            keys = self.folds[name] = fold_keys(name)
        return name, *keys

    def learn(self, folds: dict[str, Keys]) -> None:
        """Keys folded elsewhere (by the parser process, with fold_keys)."""
        if len(self.folds) + len(folds) > AUTHOR_CACHE_SIZE:
            self.folds.clear()
        self.folds.update(folds)

    def remember(self, names: Sequence[str]) -> None:
        """After a commit: these names are stored."""
        if len(self.known) + len(names) > AUTHOR_CACHE_SIZE:
            self.known.clear()
        self.known.update(names)


@dataclass(slots=True)
class Plan:
    """One batch split by what the database already has."""

    new: list[Rec]
    current: list[Rec]  # existing papers with version >= the stored one
    stale: list[Rec]

    @property
    def written(self) -> list[Rec]:
        """Records whose paper, authors and categories are (re)written."""
        return self.new + self.current


def dedupe(batch: Sequence[Rec]) -> list[Rec]:
    """One record per paper: the highest version (the later line on a tie)."""
    by_id: dict[str, Rec] = {}
    for record in batch:
        seen = by_id.get(record[0])
        if seen is None or record[1] >= seen[1]:
            by_id[record[0]] = record
    return list(by_id.values())


def plan_batch(records: list[Rec], stored: dict[str, int]) -> Plan:
    plan = Plan([], [], [])
    for record in records:
        latest = stored.get(record[0])
        if latest is None:
            plan.new.append(record)
        elif record[1] >= latest:
            plan.current.append(record)
        else:
            plan.stale.append(record)
    return plan


def version_values(records: Sequence[Rec]) -> list[tuple[Any, ...]]:
    return [row for record in records for row in record[3]]


def list_values(
    records: Sequence[Rec],
) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]:
    authors = []
    categories = []
    for arxiv_id, _, _, _, names, submitted, cats, _ in records:
        authors += [(arxiv_id, position, name, submitted) for position, name in enumerate(names)]
        categories += [
            (arxiv_id, position, category, submitted) for position, category in enumerate(cats)
        ]
    return authors, categories


def announcement_values(records: Sequence[Rec]) -> list[tuple[Any, ...]]:
    """What collection writes for a new paper on the listing that announced it: `new` in its
    primary category, `cross` in the others, version 1 (columns: ANNOUNCEMENT_COLUMNS)."""
    rows: list[tuple[Any, ...]] = []
    for record in records:
        listing = record[7]
        if listing is not None:
            arxiv_id = record[0]
            rows += [
                (listing, category, arxiv_id, "cross" if position else "new", 1)
                for position, category in enumerate(record[6])
            ]
    return rows


def upsert_sql(source: str, distinct: str) -> str:
    """INSERT paper rows from `source`; on conflict update what differs, if not older."""
    columns = ", ".join(PAPER_COLUMNS)
    updates = ", ".join(f"{c} = COALESCE(excluded.{c}, paper.{c})" for c in PAPER_COLUMNS[1:])
    differs = " OR ".join(
        f"COALESCE(excluded.{c}, paper.{c}) {distinct} paper.{c}" for c in PAPER_COLUMNS[1:]
    )
    return (
        f"INSERT INTO paper ({columns}) {source} "
        f"ON CONFLICT (id) DO UPDATE SET {updates} "
        f"WHERE excluded.latest_version >= paper.latest_version AND ({differs})"
    )


class Writer:
    _conn: Any  # the DBAPI connection (sqlite3 / psycopg)

    def __init__(self) -> None:
        self.authors = Authors()
        self._bulk = False

    def begin_bulk(self) -> bool:
        """If the paper tables are empty: open the import's one transaction, drop what is
        rebuilt at the end, and return True. Otherwise change nothing and return False."""
        raise NotImplementedError

    def write(self, batch: Sequence[Rec]) -> tuple[int, int, int]:
        """Write one batch (in one transaction, unless bulk); (new, current, stale) counts."""
        raise NotImplementedError

    def finish(self) -> None:
        """After the last batch (not called when the import fails); on the bulk path this
        rebuilds what begin_bulk dropped and commits."""

    def close(self) -> None:
        raise NotImplementedError

    def _author_rows(self, records: Sequence[Rec]) -> tuple[list[AuthorRow], list[str]]:
        """Rows for the names not known to be stored, and the names known (not inserted)."""
        known = self.authors.known
        names = dict.fromkeys(n for r in records for n in r[4])
        rows = [self.authors.row(name) for name in names if name not in known]
        return rows, [name for name in names if name in known]
