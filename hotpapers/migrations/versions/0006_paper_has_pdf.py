"""paper.has_pdf: whether arXiv lists a PDF for the paper (the classic post needs one)

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-06 21:20:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Every paper stored so far came with a PDF link as far as anyone knows: default true.
    with op.batch_alter_table("paper") as batch_op:
        batch_op.add_column(
            sa.Column("has_pdf", sa.Boolean(), nullable=False, server_default=sa.true())
        )


def downgrade() -> None:
    with op.batch_alter_table("paper") as batch_op:
        batch_op.drop_column("has_pdf")
