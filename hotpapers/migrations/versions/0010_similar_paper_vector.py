"""paper_vector: each paper's content vector for "similar papers" (issue #13 §2)

float16 bytes in a BLOB (SQLite) / bytea (PostgreSQL): the local PostgreSQL has no pgvector
(`pg_available_extensions` does not list `vector`), and the search runs in process anyway.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-06 23:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "paper_vector",
        sa.Column("paper_id", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
        sa.Column("model", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
        sa.Column("vector", sa.LargeBinary(), nullable=False),
        sa.Column("submitted", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.Column("added_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["paper_id"], ["paper.id"]),
        sa.PrimaryKeyConstraint("paper_id"),
    )
    op.create_index("ix_paper_vector_added_at", "paper_vector", ["added_at"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_paper_vector_added_at", table_name="paper_vector")
    op.drop_table("paper_vector")
