"""The database schema of oss-bridge, declared once with SQLAlchemy Core.

This module is what the code queries against; the migrations in ``migrations/versions`` are what
creates it, and a test checks that the two agree. Every instant is an aware UTC datetime
(``UTCDateTime``), every document is JSON (``jsonb`` on PostgreSQL). Vocabularies are kept as
short text codes guarded by CHECK constraints, so a new value needs a migration on purpose.
"""

from __future__ import annotations

import sqlalchemy as sa

from oss_bridge.store._types import UTCDateTime, id_type, json_type

NAMING_CONVENTION: dict[str, str] = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_N_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

metadata = sa.MetaData(naming_convention=NAMING_CONVENTION)

ORIGINS = ("import", "oss", "local", "resolution")
STAGES = ("a", "b", "c", "d", "e", "f", "g")
OUTBOX_STATES = ("pending", "in_flight", "sent", "dead", "acknowledged")
EVENT_KINDS = ("status", "followup", "stage", "note")
RUN_STATES = ("queued", "running", "succeeded", "failed")
QUARANTINE_SOURCES = ("oss", "lapor")
RESOLUTIONS = ("local", "remote")


def _one_of(column: str, values: tuple[str, ...], name: str) -> sa.CheckConstraint:
    allowed = ", ".join(f"'{value}'" for value in values)
    return sa.CheckConstraint(f"{column} IN ({allowed})", name=name)


# --- catalogue ---------------------------------------------------------------------------------

service_standards = sa.Table(
    "service_standards",
    metadata,
    sa.Column("code", sa.String(64), primary_key=True),
    sa.Column("content", json_type(), nullable=False, comment="ServiceStandard, JSON-mode dump"),
    sa.Column("content_hash", sa.String(64), nullable=False),
    sa.Column("local_version", sa.Integer, nullable=False, comment="bumped on every change"),
    sa.Column("remote_versi", sa.Integer, nullable=True, comment="OSS versi we last saw"),
    sa.Column("base", json_type(), nullable=True, comment="content both sides last agreed on"),
    sa.Column("base_hash", sa.String(64), nullable=True),
    sa.Column("origin", sa.String(16), nullable=False),
    sa.Column("dirty", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("deleted_at", UTCDateTime, nullable=True),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Column("updated_at", UTCDateTime, nullable=False),
    sa.Column("synced_at", UTCDateTime, nullable=True),
    _one_of("origin", ORIGINS, "origin"),
)

service_standard_versions = sa.Table(
    "service_standard_versions",
    metadata,
    sa.Column("id", id_type(), primary_key=True, autoincrement=True),
    sa.Column("code", sa.String(64), sa.ForeignKey("service_standards.code"), nullable=False),
    sa.Column("local_version", sa.Integer, nullable=False),
    sa.Column("content", json_type(), nullable=False),
    sa.Column("content_hash", sa.String(64), nullable=False),
    sa.Column("origin", sa.String(16), nullable=False),
    sa.Column("actor", sa.String(200), nullable=False),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.UniqueConstraint("code", "local_version"),
    _one_of("origin", ORIGINS, "origin"),
)

sync_cursors = sa.Table(
    "sync_cursors",
    metadata,
    sa.Column("name", sa.String(64), primary_key=True),
    sa.Column("sejak", UTCDateTime, nullable=True),
    sa.Column("cursor", sa.Text, nullable=True),
    sa.Column("updated_at", UTCDateTime, nullable=False),
)

sync_conflicts = sa.Table(
    "sync_conflicts",
    metadata,
    sa.Column("id", id_type(), primary_key=True, autoincrement=True),
    sa.Column("code", sa.String(64), sa.ForeignKey("service_standards.code"), nullable=False),
    sa.Column("field", sa.String(64), nullable=False),
    sa.Column("base", json_type(), nullable=True),
    sa.Column("local", json_type(), nullable=True),
    sa.Column("remote", json_type(), nullable=True),
    sa.Column("remote_versi", sa.Integer, nullable=True),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Column("resolved_at", UTCDateTime, nullable=True),
    sa.Column("resolution", sa.String(8), nullable=True),
    sa.Column("resolved_by", sa.String(200), nullable=True),
    _one_of("resolution", RESOLUTIONS, "resolution"),
    # At most one open conflict per field of an entry: a later sync refreshes it.
    sa.Index(
        "uq_sync_conflicts_open_code_field",
        "code",
        "field",
        unique=True,
        sqlite_where=sa.text("resolved_at IS NULL"),
        postgresql_where=sa.text("resolved_at IS NULL"),
    ),
)

# --- operations --------------------------------------------------------------------------------

quarantine = sa.Table(
    "quarantine",
    metadata,
    sa.Column("id", id_type(), primary_key=True, autoincrement=True),
    sa.Column("source", sa.String(16), nullable=False),
    sa.Column("entity_id", sa.String(200), nullable=True),
    sa.Column("raw", sa.Text, nullable=False),
    sa.Column("reason", sa.Text, nullable=False),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Column("released_at", UTCDateTime, nullable=True),
    _one_of("source", QUARANTINE_SOURCES, "source"),
)

audit_log = sa.Table(
    "audit_log",
    metadata,
    sa.Column("id", id_type(), primary_key=True, autoincrement=True),
    sa.Column("at", UTCDateTime, nullable=False),
    sa.Column("actor", sa.String(200), nullable=False),
    sa.Column("action", sa.String(32), nullable=False),
    sa.Column("entity_type", sa.String(32), nullable=False),
    sa.Column("entity_id", sa.String(200), nullable=False),
    sa.Column("before", json_type(), nullable=True),
    sa.Column("after", json_type(), nullable=True),
    sa.Column("detail", json_type(), nullable=True),
    sa.Index("ix_audit_log_entity_type_entity_id", "entity_type", "entity_id"),
)

job_runs = sa.Table(
    "job_runs",
    metadata,
    sa.Column("run_id", sa.String(64), primary_key=True),
    sa.Column("job", sa.String(64), nullable=False),
    sa.Column("state", sa.String(16), nullable=False),
    sa.Column("dry_run", sa.Boolean, nullable=False, server_default=sa.false()),
    # Succeeded without doing the work, left to a run elsewhere; see ``RunService``.
    sa.Column("skipped", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("requested_by", sa.String(200), nullable=False),
    sa.Column("progress", json_type(), nullable=True),
    sa.Column("result", json_type(), nullable=True),
    sa.Column("error", sa.Text, nullable=True),
    sa.Column("requested_at", UTCDateTime, nullable=False),
    sa.Column("started_at", UTCDateTime, nullable=True),
    sa.Column("finished_at", UTCDateTime, nullable=True),
    # Written at an interval while the run is unfinished; see ``RunService``.
    sa.Column("heartbeat_at", UTCDateTime, nullable=True),
    _one_of("state", RUN_STATES, "state"),
    sa.Index("ix_job_runs_job_requested_at", "job", "requested_at"),
    sa.Index("ix_job_runs_state", "state"),
)

destinations = sa.Table(
    "destinations",
    metadata,
    sa.Column("name", sa.String(32), primary_key=True),
    sa.Column("suspended", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("updated_at", UTCDateTime, nullable=False),
)

# --- complaints --------------------------------------------------------------------------------

complaints = sa.Table(
    "complaints",
    metadata,
    sa.Column("id", id_type(), primary_key=True, autoincrement=True),
    sa.Column("receipt_number", sa.String(40), nullable=False, unique=True),
    sa.Column("category", sa.String(40), nullable=False),
    sa.Column("object", sa.String(40), nullable=False),
    sa.Column("service_code", sa.String(64), nullable=True),
    sa.Column("description", sa.Text, nullable=False),
    sa.Column("reporter_name", sa.String(200), nullable=True),
    sa.Column("reporter_email", sa.String(254), nullable=True),
    sa.Column("reporter_phone", sa.String(20), nullable=True),
    sa.Column("anonymous", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("secret", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("occurred_on", sa.Date, nullable=True),
    sa.Column("stage", sa.String(1), nullable=False, server_default="a"),
    sa.Column("priority", sa.String(20), nullable=True),
    sa.Column("completeness", json_type(), nullable=True),
    sa.Column("external_id", sa.String(64), nullable=True, unique=True),
    sa.Column("tracking_id", sa.String(64), nullable=True),
    sa.Column("external_status", sa.String(64), nullable=True),
    sa.Column("external_status_at", UTCDateTime, nullable=True),
    sa.Column("final", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("next_pull_at", UTCDateTime, nullable=True),
    sa.Column("pull_lease_owner", sa.String(64), nullable=True),
    sa.Column("pull_lease_until", UTCDateTime, nullable=True),
    sa.Column("pull_attempts", sa.Integer, nullable=False, server_default="0"),
    sa.Column("received_at", UTCDateTime, nullable=False),
    sa.Column("updated_at", UTCDateTime, nullable=False),
    _one_of("stage", STAGES, "stage"),
    sa.Index("ix_complaints_final_next_pull_at", "final", "next_pull_at"),
)

outbox = sa.Table(
    "outbox",
    metadata,
    sa.Column("id", id_type(), primary_key=True, autoincrement=True),
    sa.Column("complaint_id", id_type(), sa.ForeignKey("complaints.id"), nullable=False),
    sa.Column("destination", sa.String(32), nullable=False, server_default="lapor"),
    sa.Column("state", sa.String(16), nullable=False, server_default="pending"),
    sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
    sa.Column("next_attempt_at", UTCDateTime, nullable=False),
    sa.Column("lease_owner", sa.String(64), nullable=True),
    sa.Column("lease_until", UTCDateTime, nullable=True),
    sa.Column("last_error", sa.Text, nullable=True),
    sa.Column("idempotency_key", sa.String(64), nullable=False, unique=True),
    sa.Column(
        "outcome_unknown",
        sa.Boolean,
        nullable=False,
        server_default=sa.false(),
        comment="the last attempt's outcome is unknown: look the complaint up before resending",
    ),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Column("updated_at", UTCDateTime, nullable=False),
    sa.Column("sent_at", UTCDateTime, nullable=True),
    sa.UniqueConstraint("complaint_id", "destination"),
    _one_of("state", OUTBOX_STATES, "state"),
    sa.Index("ix_outbox_state_next_attempt_at", "state", "next_attempt_at"),
)

complaint_events = sa.Table(
    "complaint_events",
    metadata,
    sa.Column("id", id_type(), primary_key=True, autoincrement=True),
    sa.Column("complaint_id", id_type(), sa.ForeignKey("complaints.id"), nullable=False),
    sa.Column("kind", sa.String(16), nullable=False),
    sa.Column("dedupe_key", sa.String(200), nullable=False),
    sa.Column("external_at", UTCDateTime, nullable=True),
    sa.Column("payload", json_type(), nullable=False),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.UniqueConstraint("complaint_id", "kind", "dedupe_key"),
    _one_of("kind", EVENT_KINDS, "kind"),
)

receipt_counters = sa.Table(
    "receipt_counters",
    metadata,
    sa.Column("kd_daerah", sa.String(6), primary_key=True),
    sa.Column("day", sa.Date, primary_key=True),
    sa.Column("last", sa.Integer, nullable=False),
)
