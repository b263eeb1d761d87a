"""The initial schema: catalogue, sync bookkeeping, complaints, outbox, operations.

Revision ID: 0001
Revises:
Created: first release

Types are spelt out here rather than imported from ``oss_bridge.store``, so that this revision
keeps creating the same schema whatever later code does. Instants are ``timestamptz`` on
PostgreSQL and UTC text on SQLite; documents are ``jsonb`` on PostgreSQL and JSON text on SQLite.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _instant() -> sa.DateTime:
    return sa.DateTime(timezone=True)


def _json() -> sa.types.TypeEngine[Any]:
    return sa.JSON(none_as_null=True).with_variant(
        postgresql.JSONB(none_as_null=True), "postgresql"
    )


def _id() -> sa.types.TypeEngine[int]:
    return sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def _one_of(table: str, column: str, values: tuple[str, ...]) -> sa.CheckConstraint:
    allowed = ", ".join(f"'{value}'" for value in values)
    return sa.CheckConstraint(f"{column} IN ({allowed})", name=op.f(f"ck_{table}_{column}"))


ORIGINS = ("import", "oss", "local", "resolution")


def upgrade() -> None:
    op.create_table(
        "service_standards",
        sa.Column("code", sa.String(64), nullable=False),
        sa.Column("content", _json(), nullable=False, comment="ServiceStandard, JSON-mode dump"),
        sa.Column("content_hash", sa.String(64), nullable=False),
        sa.Column("local_version", sa.Integer(), nullable=False, comment="bumped on every change"),
        sa.Column("remote_versi", sa.Integer(), nullable=True, comment="OSS versi we last saw"),
        sa.Column("base", _json(), nullable=True, comment="content both sides last agreed on"),
        sa.Column("base_hash", sa.String(64), nullable=True),
        sa.Column("origin", sa.String(16), nullable=False),
        sa.Column("dirty", sa.Boolean(), nullable=False, server_default=sa.false()),
        sa.Column("deleted_at", _instant(), nullable=True),
        sa.Column("created_at", _instant(), nullable=False),
        sa.Column("updated_at", _instant(), nullable=False),
        sa.Column("synced_at", _instant(), nullable=True),
        sa.PrimaryKeyConstraint("code", name=op.f("pk_service_standards")),
        _one_of("service_standards", "origin", ORIGINS),
    )
    op.create_table(
        "service_standard_versions",
        sa.Column("id", _id(), autoincrement=True, nullable=False),
        sa.Column("code", sa.String(64), nullable=False),
        sa.Column("local_version", sa.Integer(), nullable=False),
        sa.Column("content", _json(), nullable=False),
        sa.Column("content_hash", sa.String(64), nullable=False),
        sa.Column("origin", sa.String(16), nullable=False),
        sa.Column("actor", sa.String(200), nullable=False),
        sa.Column("created_at", _instant(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_service_standard_versions")),
        sa.ForeignKeyConstraint(
            ["code"],
            ["service_standards.code"],
            name=op.f("fk_service_standard_versions_code_service_standards"),
        ),
        sa.UniqueConstraint(
            "code", "local_version", name=op.f("uq_service_standard_versions_code_local_version")
        ),
        _one_of("service_standard_versions", "origin", ORIGINS),
    )
    op.create_table(
        "sync_cursors",
        sa.Column("name", sa.String(64), nullable=False),
        sa.Column("sejak", _instant(), nullable=True),
        sa.Column("cursor", sa.Text(), nullable=True),
        sa.Column("updated_at", _instant(), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_sync_cursors")),
    )
    op.create_table(
        "sync_conflicts",
        sa.Column("id", _id(), autoincrement=True, nullable=False),
        sa.Column("code", sa.String(64), nullable=False),
        sa.Column("field", sa.String(64), nullable=False),
        sa.Column("base", _json(), nullable=True),
        sa.Column("local", _json(), nullable=True),
        sa.Column("remote", _json(), nullable=True),
        sa.Column("remote_versi", sa.Integer(), nullable=True),
        sa.Column("created_at", _instant(), nullable=False),
        sa.Column("resolved_at", _instant(), nullable=True),
        sa.Column("resolution", sa.String(8), nullable=True),
        sa.Column("resolved_by", sa.String(200), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sync_conflicts")),
        sa.ForeignKeyConstraint(
            ["code"],
            ["service_standards.code"],
            name=op.f("fk_sync_conflicts_code_service_standards"),
        ),
        _one_of("sync_conflicts", "resolution", ("local", "remote")),
    )
    op.create_index(
        op.f("uq_sync_conflicts_open_code_field"),
        "sync_conflicts",
        ["code", "field"],
        unique=True,
        sqlite_where=sa.text("resolved_at IS NULL"),
        postgresql_where=sa.text("resolved_at IS NULL"),
    )
    op.create_table(
        "quarantine",
        sa.Column("id", _id(), autoincrement=True, nullable=False),
        sa.Column("source", sa.String(16), nullable=False),
        sa.Column("entity_id", sa.String(200), nullable=True),
        sa.Column("raw", sa.Text(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("created_at", _instant(), nullable=False),
        sa.Column("released_at", _instant(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_quarantine")),
        _one_of("quarantine", "source", ("oss", "lapor")),
    )
    op.create_table(
        "audit_log",
        sa.Column("id", _id(), autoincrement=True, nullable=False),
        sa.Column("at", _instant(), nullable=False),
        sa.Column("actor", sa.String(200), nullable=False),
        sa.Column("action", sa.String(32), nullable=False),
        sa.Column("entity_type", sa.String(32), nullable=False),
        sa.Column("entity_id", sa.String(200), nullable=False),
        sa.Column("before", _json(), nullable=True),
        sa.Column("after", _json(), nullable=True),
        sa.Column("detail", _json(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_log")),
    )
    op.create_index(
        op.f("ix_audit_log_entity_type_entity_id"), "audit_log", ["entity_type", "entity_id"]
    )
    op.create_table(
        "job_runs",
        sa.Column("run_id", sa.String(64), nullable=False),
        sa.Column("job", sa.String(64), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("dry_run", sa.Boolean(), nullable=False, server_default=sa.false()),
        sa.Column("requested_by", sa.String(200), nullable=False),
        sa.Column("progress", _json(), nullable=True),
        sa.Column("result", _json(), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("requested_at", _instant(), nullable=False),
        sa.Column("started_at", _instant(), nullable=True),
        sa.Column("finished_at", _instant(), nullable=True),
        sa.PrimaryKeyConstraint("run_id", name=op.f("pk_job_runs")),
        _one_of("job_runs", "state", ("queued", "running", "succeeded", "failed")),
    )
    op.create_index(op.f("ix_job_runs_job_requested_at"), "job_runs", ["job", "requested_at"])
    op.create_table(
        "destinations",
        sa.Column("name", sa.String(32), nullable=False),
        sa.Column("suspended", sa.Boolean(), nullable=False, server_default=sa.false()),
        sa.Column("updated_at", _instant(), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_destinations")),
    )
    op.create_table(
        "complaints",
        sa.Column("id", _id(), autoincrement=True, nullable=False),
        sa.Column("receipt_number", sa.String(40), nullable=False),
        sa.Column("category", sa.String(40), nullable=False),
        sa.Column("object", sa.String(40), nullable=False),
        sa.Column("service_code", sa.String(64), nullable=True),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("reporter_name", sa.String(200), nullable=True),
        sa.Column("reporter_email", sa.String(254), nullable=True),
        sa.Column("reporter_phone", sa.String(20), nullable=True),
        sa.Column("anonymous", sa.Boolean(), nullable=False, server_default=sa.false()),
        sa.Column("secret", sa.Boolean(), nullable=False, server_default=sa.false()),
        sa.Column("occurred_on", sa.Date(), nullable=True),
        sa.Column("stage", sa.String(1), nullable=False, server_default="a"),
        sa.Column("priority", sa.String(20), nullable=True),
        sa.Column("completeness", _json(), nullable=True),
        sa.Column("external_id", sa.String(64), nullable=True),
        sa.Column("tracking_id", sa.String(64), nullable=True),
        sa.Column("external_status", sa.String(64), nullable=True),
        sa.Column("external_status_at", _instant(), nullable=True),
        sa.Column("final", sa.Boolean(), nullable=False, server_default=sa.false()),
        sa.Column("next_pull_at", _instant(), nullable=True),
        sa.Column("pull_lease_owner", sa.String(64), nullable=True),
        sa.Column("pull_lease_until", _instant(), nullable=True),
        sa.Column("pull_attempts", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("received_at", _instant(), nullable=False),
        sa.Column("updated_at", _instant(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_complaints")),
        sa.UniqueConstraint("receipt_number", name=op.f("uq_complaints_receipt_number")),
        sa.UniqueConstraint("external_id", name=op.f("uq_complaints_external_id")),
        _one_of("complaints", "stage", ("a", "b", "c", "d", "e", "f", "g")),
    )
    op.create_index(
        op.f("ix_complaints_final_next_pull_at"), "complaints", ["final", "next_pull_at"]
    )
    op.create_table(
        "outbox",
        sa.Column("id", _id(), autoincrement=True, nullable=False),
        sa.Column("complaint_id", _id(), nullable=False),
        sa.Column("destination", sa.String(32), nullable=False, server_default="lapor"),
        sa.Column("state", sa.String(16), nullable=False, server_default="pending"),
        sa.Column("attempts", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("next_attempt_at", _instant(), nullable=False),
        sa.Column("lease_owner", sa.String(64), nullable=True),
        sa.Column("lease_until", _instant(), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("idempotency_key", sa.String(64), nullable=False),
        sa.Column(
            "outcome_unknown",
            sa.Boolean(),
            nullable=False,
            server_default=sa.false(),
            comment="the last attempt's outcome is unknown: look the complaint up before resending",
        ),
        sa.Column("created_at", _instant(), nullable=False),
        sa.Column("updated_at", _instant(), nullable=False),
        sa.Column("sent_at", _instant(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_outbox")),
        sa.ForeignKeyConstraint(
            ["complaint_id"], ["complaints.id"], name=op.f("fk_outbox_complaint_id_complaints")
        ),
        sa.UniqueConstraint("idempotency_key", name=op.f("uq_outbox_idempotency_key")),
        sa.UniqueConstraint(
            "complaint_id", "destination", name=op.f("uq_outbox_complaint_id_destination")
        ),
        _one_of("outbox", "state", ("pending", "in_flight", "sent", "dead", "acknowledged")),
    )
    op.create_index(op.f("ix_outbox_state_next_attempt_at"), "outbox", ["state", "next_attempt_at"])
    op.create_table(
        "complaint_events",
        sa.Column("id", _id(), autoincrement=True, nullable=False),
        sa.Column("complaint_id", _id(), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("dedupe_key", sa.String(200), nullable=False),
        sa.Column("external_at", _instant(), nullable=True),
        sa.Column("payload", _json(), nullable=False),
        sa.Column("created_at", _instant(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_complaint_events")),
        sa.ForeignKeyConstraint(
            ["complaint_id"],
            ["complaints.id"],
            name=op.f("fk_complaint_events_complaint_id_complaints"),
        ),
        sa.UniqueConstraint(
            "complaint_id",
            "kind",
            "dedupe_key",
            name=op.f("uq_complaint_events_complaint_id_kind_dedupe_key"),
        ),
        _one_of("complaint_events", "kind", ("status", "followup", "stage", "note")),
    )
    op.create_table(
        "receipt_counters",
        sa.Column("kd_daerah", sa.String(6), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("last", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("kd_daerah", "day", name=op.f("pk_receipt_counters")),
    )


def downgrade() -> None:
    for table in (
        "receipt_counters",
        "complaint_events",
        "outbox",
        "complaints",
        "destinations",
        "job_runs",
        "audit_log",
        "quarantine",
        "sync_conflicts",
        "sync_cursors",
        "service_standard_versions",
        "service_standards",
    ):
        op.drop_table(table)
