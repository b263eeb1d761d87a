"""What the store hands back: frozen records, free of SQLAlchemy, one per kind of row."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from oss_bridge.domain import ServiceStandard

Origin = Literal["import", "oss", "local", "resolution"]
"""Where the current content of a standard came from."""

Change = Literal["created", "updated", "unchanged"]
Resolution = Literal["local", "remote"]
QuarantineSource = Literal["oss", "lapor"]
RunState = Literal["queued", "running", "succeeded", "failed"]


@dataclass(frozen=True, slots=True)
class StoredStandard:
    """A catalogue entry with the bookkeeping sync needs.

    ``base`` is the content both sides last agreed on (``None`` until the first sync) and
    ``dirty`` says the local content differs from it and must be pushed. A soft-deleted entry
    keeps its content and has ``deleted_at`` set.
    """

    standard: ServiceStandard
    content_hash: str
    local_version: int
    remote_versi: int | None
    base: ServiceStandard | None
    base_hash: str | None
    origin: Origin
    dirty: bool
    deleted_at: datetime | None
    created_at: datetime
    updated_at: datetime
    synced_at: datetime | None

    @property
    def code(self) -> str:
        return self.standard.code

    @property
    def deleted(self) -> bool:
        return self.deleted_at is not None


@dataclass(frozen=True, slots=True)
class SavedStandard(StoredStandard):
    """The entry after a save, and whether the save created it, changed it or found it equal."""

    change: Change

    @property
    def changed(self) -> bool:
        return self.change != "unchanged"


@dataclass(frozen=True, slots=True)
class StandardVersion:
    """One row of an entry's append-only history."""

    code: str
    local_version: int
    standard: ServiceStandard
    content_hash: str
    origin: Origin
    actor: str
    created_at: datetime


@dataclass(frozen=True, slots=True)
class SyncCursor:
    """Where the last incremental pull stopped: OSS ``sejak`` instant and opaque ``cursor``."""

    name: str
    sejak: datetime | None
    cursor: str | None
    updated_at: datetime


@dataclass(frozen=True, slots=True)
class Conflict:
    """A field both sides changed differently; kept until staff take one side."""

    id: int
    code: str
    field: str
    base: Any
    local: Any
    remote: Any
    remote_versi: int | None
    created_at: datetime
    resolved_at: datetime | None
    resolution: Resolution | None
    resolved_by: str | None

    @property
    def is_open(self) -> bool:
        return self.resolved_at is None


@dataclass(frozen=True, slots=True)
class QuarantineEntry:
    """Data from outside that could not be read, kept verbatim with the reason."""

    id: int
    source: QuarantineSource
    entity_id: str | None
    raw: str
    reason: str
    created_at: datetime
    released_at: datetime | None


@dataclass(frozen=True, slots=True)
class AuditEntry:
    id: int
    at: datetime
    actor: str
    action: str
    entity_type: str
    entity_id: str
    before: Any
    after: Any
    detail: Any


@dataclass(frozen=True, slots=True)
class JobRun:
    """One run of a job (scheduled or requested by hand) and how far it got."""

    run_id: str
    job: str
    state: RunState
    dry_run: bool
    requested_by: str
    progress: Any
    result: Any
    error: str | None
    requested_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    heartbeat_at: datetime | None = None
    """When the instance running it last said it still was (``RunService``)."""
    skipped: bool = False
    """The job left its work to another instance, which was doing it (``JobOutcome.skip``)."""

    @property
    def finished(self) -> bool:
        return self.state in ("succeeded", "failed")

    @property
    def did_the_work(self) -> bool:
        """Succeeded, and neither as a dry run nor skipped: what a job's last success means."""
        return self.state == "succeeded" and not self.dry_run and not self.skipped
