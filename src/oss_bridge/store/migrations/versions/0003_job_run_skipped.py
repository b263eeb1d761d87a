"""Job runs say in a column of their own whether they were skipped.

Revision ID: 0003
Revises: 0002
Created: second release

A scheduled run that finds its job busy elsewhere is recorded as succeeded and skipped. The flag
lived only in the run's result JSON, so the store had to read results to find a job's last real
success. Runs recorded before this revision are flagged from their result.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_FLAGGED_IN_RESULT = {
    "postgresql": "result ->> 'skipped' = 'true'",
    "sqlite": "json_type(result, '$.skipped') = 'true'",
}


def upgrade() -> None:
    op.add_column(
        "job_runs",
        sa.Column("skipped", sa.Boolean(), nullable=False, server_default=sa.false()),
    )
    flagged = _FLAGGED_IN_RESULT[op.get_bind().dialect.name]
    op.execute(f"UPDATE job_runs SET skipped = true WHERE result IS NOT NULL AND {flagged}")


def downgrade() -> None:
    with op.batch_alter_table("job_runs") as batch:
        batch.drop_column("skipped")
