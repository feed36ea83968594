"""signal_gain_day: the per-day roll-up trending sums, backfilled from signal_snapshot in SQL

Revision ID: 0013
Revises: 0012 (foryou's stars and reactions)
Create Date: 2026-12-07 01:10:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Each (paper, source, day)'s latest snapshot, with the latest of the day before it.
_DAYS = """
WITH ranked AS (
    SELECT paper_id, source, {day} AS day, metrics,
           row_number() OVER (PARTITION BY paper_id, source, {day}
                              ORDER BY taken_at DESC, id DESC) AS place
    FROM signal_snapshot
), days AS (
    SELECT paper_id, source, day, metrics,
           lag(metrics) OVER (PARTITION BY paper_id, source ORDER BY day) AS prev
    FROM ranked WHERE place = 1
)
"""

# Per numeric metric of either snapshot: now minus before (missing = 0), only the changed.
_SQLITE = (
    _DAYS.format(day="date(taken_at)")
    + """
INSERT INTO signal_gain_day (paper_id, source, day, gains)
SELECT paper_id, source, day, gains FROM (
    SELECT d.paper_id, d.source, d.day, (
        SELECT json_group_object(k.key, k.change) FROM (
            SELECT names.key,
                   coalesce((SELECT n.value FROM json_each(d.metrics) AS n
                             WHERE n.key = names.key AND n.type IN ('integer', 'real')), 0)
                   - coalesce((SELECT p.value FROM json_each(coalesce(d.prev, '{{}}')) AS p
                               WHERE p.key = names.key AND p.type IN ('integer', 'real')), 0)
                   AS change
            FROM (SELECT key FROM json_each(d.metrics) WHERE type IN ('integer', 'real')
                  UNION
                  SELECT key FROM json_each(coalesce(d.prev, '{{}}'))
                  WHERE type IN ('integer', 'real')) AS names
        ) AS k WHERE k.change != 0
    ) AS gains
    FROM days AS d
) WHERE gains != '{{}}'
""".replace("{{}}", "{}")
)

_POSTGRES = (
    _DAYS.format(day="CAST(taken_at AS date)")
    + """
INSERT INTO signal_gain_day (paper_id, source, day, gains)
SELECT d.paper_id, d.source, d.day, g.gains
FROM days AS d
CROSS JOIN LATERAL (
    SELECT json_object_agg(k.key, k.change) AS gains FROM (
        SELECT names.key,
               coalesce((SELECT n.value::text::float8 FROM json_each(d.metrics) AS n
                         WHERE n.key = names.key AND json_typeof(n.value) = 'number'), 0)
               - coalesce((SELECT p.value::text::float8
                           FROM json_each(coalesce(d.prev, '{}'::json)) AS p
                           WHERE p.key = names.key AND json_typeof(p.value) = 'number'), 0)
               AS change
        FROM (SELECT key FROM json_each(d.metrics) WHERE json_typeof(value) = 'number'
              UNION
              SELECT key FROM json_each(coalesce(d.prev, '{}'::json))
              WHERE json_typeof(value) = 'number') AS names
    ) AS k WHERE k.change <> 0
) AS g
WHERE g.gains IS NOT NULL
"""
)


def upgrade() -> None:
    op.create_table(
        "signal_gain_day",
        sa.Column("paper_id", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
        sa.Column("source", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("gains", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(["paper_id"], ["paper.id"]),
        sa.PrimaryKeyConstraint("paper_id", "source", "day"),
    )
    with op.batch_alter_table("signal_gain_day", schema=None) as batch_op:
        batch_op.create_index("ix_gain_day_day", ["day"], unique=False)
    with op.batch_alter_table("signal_snapshot", schema=None) as batch_op:
        batch_op.create_index("ix_snapshot_taken_at", ["taken_at"], unique=False)
    is_postgres = op.get_bind().dialect.name == "postgresql"
    op.execute(sa.text(_POSTGRES if is_postgres else _SQLITE))


def downgrade() -> None:
    with op.batch_alter_table("signal_snapshot", schema=None) as batch_op:
        batch_op.drop_index("ix_snapshot_taken_at")
    with op.batch_alter_table("signal_gain_day", schema=None) as batch_op:
        batch_op.drop_index("ix_gain_day_day")
    op.drop_table("signal_gain_day")
