"""spend in whole micro-dollars

`spend.amount_usd` (a float, summed by read-modify-write) becomes `spend.amount_micros`, a
BIGINT the ledger reserves against atomically (hotpapers/storage/spend.py). Existing figures are
converted, rounded to the micro-dollar.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-06 21:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("spend", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("amount_micros", sa.BigInteger(), nullable=False, server_default="0")
        )
    op.execute("UPDATE spend SET amount_micros = CAST(ROUND(amount_usd * 1000000) AS BIGINT)")
    with op.batch_alter_table("spend", schema=None) as batch_op:
        batch_op.drop_column("amount_usd")


def downgrade() -> None:
    with op.batch_alter_table("spend", schema=None) as batch_op:
        batch_op.add_column(sa.Column("amount_usd", sa.Float(), nullable=False, server_default="0"))
    op.execute("UPDATE spend SET amount_usd = amount_micros / 1000000.0")
    with op.batch_alter_table("spend", schema=None) as batch_op:
        batch_op.drop_column("amount_micros")
