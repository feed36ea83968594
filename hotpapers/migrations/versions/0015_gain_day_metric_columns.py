"""signal_gain_day: likes, retweets, reactions as columns (filled in SQL from the gains) and a
covering index for trending's window sum

Revision ID: 0015
Revises: 0014 (categories in the search index)
Create Date: 2026-12-07 02:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The metrics of hotpapers.storage.models.GAIN_COLUMNS, as they were when this was written.
_COLUMNS = ("likes", "retweets", "reactions")

# A gain is a number (the roll-up writes numbers only); a missing one is 0.
_SQLITE = "UPDATE signal_gain_day SET " + ", ".join(
    f"{name} = coalesce(CAST(json_extract(gains, '$.\"{name}\"') AS REAL), 0)" for name in _COLUMNS
)
_POSTGRES = "UPDATE signal_gain_day SET " + ", ".join(
    f"{name} = coalesce(CAST(gains ->> '{name}' AS double precision), 0)" for name in _COLUMNS
)


def upgrade() -> None:
    with op.batch_alter_table("signal_gain_day", schema=None) as batch_op:
        for name in _COLUMNS:
            batch_op.add_column(
                sa.Column(name, sa.Float(), nullable=False, server_default=sa.text("0"))
            )
    is_postgres = op.get_bind().dialect.name == "postgresql"
    op.execute(sa.text(_POSTGRES if is_postgres else _SQLITE))
    # The day index is this one's first column: one index less to write.
    with op.batch_alter_table("signal_gain_day", schema=None) as batch_op:
        batch_op.drop_index("ix_gain_day_day")
        batch_op.create_index(
            "ix_gain_day_sums", ["day", "paper_id", "source", *_COLUMNS], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("signal_gain_day", schema=None) as batch_op:
        batch_op.drop_index("ix_gain_day_sums")
        batch_op.create_index("ix_gain_day_day", ["day"], unique=False)
    with op.batch_alter_table("signal_gain_day", schema=None) as batch_op:
        for name in reversed(_COLUMNS):
            batch_op.drop_column(name)
