"""Storage: every table (SQLModel), the engine and transactions (SQLite or PostgreSQL),
Alembic from code, the full-text index, idempotent writes of parsed records, the
read-side queries and search syntax, name folding, and the spend ledger of paid APIs.
It may import the base modules, `hotpapers.plumbing` and the pure parts of
`hotpapers.arxiv` (ids, taxonomy); never a later stage.
"""
