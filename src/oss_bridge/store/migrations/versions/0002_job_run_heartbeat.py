"""Job runs carry a heartbeat, so that the run of an instance that died can be told apart.

Revision ID: 0002
Revises: 0001
Created: second release

On PostgreSQL several instances share ``job_runs``; a run whose instance was killed stayed
``running`` for ever. Each instance now writes ``heartbeat_at`` of its unfinished runs at a fixed
interval, and any instance fails the runs whose heartbeat stopped (``RunService``). The index on
``state`` keeps that search to the few unfinished runs of a table that only grows.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("job_runs", sa.Column("heartbeat_at", sa.DateTime(timezone=True), nullable=True))
    op.create_index(op.f("ix_job_runs_state"), "job_runs", ["state"])


def downgrade() -> None:
    op.drop_index(op.f("ix_job_runs_state"), table_name="job_runs")
    with op.batch_alter_table("job_runs") as batch:
        batch.drop_column("heartbeat_at")
