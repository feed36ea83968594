"""Streamed bulk import of the Kaggle arXiv metadata snapshot (JSON Lines, optionally .gz).

The file is read line by line and written in batches. Lines that are not usable records are
logged with their line number and skipped. Two paths, chosen when the import starts:

* **bulk** (the first import of a new deployment: `paper`, `paper_version`, `paper_author`,
  `paper_category` and `announcement` are empty): the whole import is **one transaction**.
  Inside it, the secondary indexes of the six import tables (and, on PostgreSQL, the foreign
  keys of the five that reference `paper` or `author`) are dropped, the rows loaded, then the
  indexes built once (sorted builds, much cheaper than per-row b-tree inserts) and the foreign
  keys added back (one set-based check of every row). SQLite: the triggers that keep an
  external-content FTS5 index of these tables current are dropped too and the index is
  rebuilt at the end, and, when no other connection has the file open, the load runs with a
  rollback journal instead of WAL (`_sqlite_leave_wal`). DDL is transactional on both
  databases, so a failure at any point leaves the database exactly as before (the tables
  empty, indexes and constraints in place); other sessions never see the tables without them.
  The import holds the write lock (SQLite) or ACCESS EXCLUSIVE locks on the five tables
  (PostgreSQL) until it commits.
* **incremental** (otherwise, or `bulk=False`): one transaction per batch; a batch that fails
  leaves the database as it was before that batch (earlier batches stay).

The rows written are the ones `store.upsert_papers` would write, by a faster path, plus each
paper's first listing (`listing.py`): the `announcement` rows collection writes for a new
paper (`new` in the primary category, `cross` in the others), dated by arXiv's calendar from
the first version's time, for papers that have no announcement yet (never a second set):

* every paper of a batch is looked up once (`id`, `latest_version`), which splits the batch into
  new papers (plain inserts), papers this record is current for (`version >= latest_version`:
  upsert, then the author and category lists are rewritten) and stale records (only their
  versions are added);
* the file is parsed ahead of the writer, into plain row tuples: in a child process for big
  files (parsing and writing then use two CPUs), else in a thread;
* SQLite: `executemany` on the raw DBAPI connection, a bigger page cache during the import,
  foreign-key enforcement off for the import connection with the batch's references checked
  before each commit instead (see `SqliteWriter._check_references`);
* PostgreSQL: psycopg 3 `COPY` straight into the tables for new papers, and into temporary
  staging tables followed by `INSERT ... SELECT ... ON CONFLICT` for upserts and authors;
  `ANALYZE` at the end.

Re-importing the same file changes no row (updates only fire when a value differs).

Modules: `run` (the import's loop and its one entry point), `reader` (the file to batches of
row tuples, in a thread or a parser process), `rows` (one record to its rows, the columns),
`listing` (first listing dates), `writer` (what both databases' writers share), `sqlite` and
`postgres` (the writers), and `report` (what the import tells its caller). The package
imports the storage layer (`hotpapers.storage.db`, `hotpapers.storage.names`), the snapshot parser
and the
calendar; nothing here imports the CLI.
"""

from hotpapers.arxiv.importer.report import ImportProgress, ImportReport
from hotpapers.arxiv.importer.run import import_snapshot

__all__ = ["ImportProgress", "ImportReport", "import_snapshot"]
