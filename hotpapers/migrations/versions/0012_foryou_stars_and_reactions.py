"""paper_star and paper_reaction: the per-user likes /foryou learns from

Stars come from the ⭐ button under /paper; reactions from the gateway's add/remove events on
the bot's paper messages. Both are per-user data that /forget-me deletes.

Revision ID: 0012
Revises: 0011 (similar papers' paper_vector)
Create Date: 2026-12-06 23:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "paper_star",
        sa.Column("user_id", sqlmodel.sql.sqltypes.AutoString(length=30), nullable=False),
        sa.Column("paper_id", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
        sa.Column("starred_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("user_id", "paper_id"),
    )
    op.create_table(
        "paper_reaction",
        sa.Column("user_id", sqlmodel.sql.sqltypes.AutoString(length=30), nullable=False),
        sa.Column("message_id", sqlmodel.sql.sqltypes.AutoString(length=30), nullable=False),
        sa.Column("emoji", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
        sa.Column("paper_id", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
        sa.Column("reacted_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("user_id", "message_id", "emoji"),
    )
    with op.batch_alter_table("paper_reaction", schema=None) as batch_op:
        batch_op.create_index("ix_paper_reaction_message", ["message_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("paper_reaction", schema=None) as batch_op:
        batch_op.drop_index("ix_paper_reaction_message")
    op.drop_table("paper_reaction")
    op.drop_table("paper_star")
