"""author surname key, every author's keys folded again

`author.folded_surname` (the surname with its particles, "vandermaaten") is new, and the rule
that folds names changed (hotpapers/storage/names.py: anyascii transliteration, so 'Łukasz' folds to
'lukasz'; a trailing 'Jr.' is no last name): every row's keys are computed again with the
current rule. That is the one place where this migration calls project code: the keys must
be the ones look-ups compute, whatever the rule is when it runs.

SQLite cannot add a NOT NULL column without a default, nor drop one without rebuilding the
table (which `paper_author` references): there the column keeps the default ''.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-06 21:50:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_CHUNK = 10_000
_KEY = sa.String(length=200).with_variant(sa.String(length=200, collation="C"), "postgresql")


def refold_authors(connection: sa.Connection) -> int:
    """Every author's search keys computed again (hotpapers.storage.names); the rows changed."""
    from hotpapers.storage.names import name_keys

    select = sa.text(
        "SELECT name, folded_name, folded_last, folded_surname FROM author"
        " WHERE name > :after ORDER BY name LIMIT :chunk"
    )
    update = sa.text(
        "UPDATE author SET folded_name = :full, folded_last = :last, folded_surname = :surname"
        " WHERE name = :name"
    )
    after, changed = "", 0
    while rows := connection.execute(select, {"after": after, "chunk": _CHUNK}).all():
        params = []
        for name, full, last, surname in rows:
            keys = name_keys(name)
            if (full, last, surname) != (keys.full, keys.last, keys.surname):
                params.append(
                    {"name": name, "full": keys.full, "last": keys.last, "surname": keys.surname}
                )
        if params:
            connection.execute(update, params)
        changed += len(params)
        after = rows[-1][0]
    return changed


def upgrade() -> None:
    op.add_column(
        "author", sa.Column("folded_surname", _KEY, nullable=False, server_default="")
    )
    if not op.get_context().as_sql:  # offline (--sql) there are no rows to read
        refold_authors(op.get_bind())
    if op.get_context().dialect.name == "postgresql":
        op.alter_column("author", "folded_surname", server_default=None)
    op.create_index("ix_author_folded_surname", "author", ["folded_surname"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_author_folded_surname", table_name="author")
    with op.batch_alter_table("author") as batch_op:
        batch_op.drop_column("folded_surname")
