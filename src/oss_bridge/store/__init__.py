"""The durable store: one interface (``Store``) over SQLite or PostgreSQL, schema by Alembic.

Nothing above this package imports SQLAlchemy or a database driver. Typical use::

    store = Store.open(settings.database)
    await store.check_schema()                  # SchemaOutdated: run `oss-bridge db upgrade`
    saved = await store.save_local_version(standard, origin="import", actor="cli")
    async with store.transaction() as tx:       # several writes, one transaction
        await tx.save_cursor("catalogue", sejak, None)
        await tx.audit(actor="sync", action="pull", entity_type="catalogue", entity_id="1405")
    await store.close()
"""

from oss_bridge.domain.canonical import canonical_content, content_hash
from oss_bridge.store._catalogue_sync import SyncMark, SyncWrite
from oss_bridge.store._complaints import (
    ComplaintEvent,
    ComplaintFilter,
    ComplaintRecord,
    Delivery,
    idempotency_key,
)
from oss_bridge.store._engine import create_engine
from oss_bridge.store._pulls import NewEvent
from oss_bridge.store._store import Store, Transaction
from oss_bridge.store.migrate import (
    SchemaState,
    UpgradeResult,
    apply_migrations,
    check_schema,
    inspect_schema,
    schema_state,
    upgrade,
)
from oss_bridge.store.records import (
    AuditEntry,
    Change,
    Conflict,
    JobRun,
    Origin,
    QuarantineEntry,
    QuarantineSource,
    Resolution,
    RunState,
    SavedStandard,
    StandardVersion,
    StoredStandard,
    SyncCursor,
)

__all__ = [
    "AuditEntry",
    "Change",
    "ComplaintEvent",
    "ComplaintFilter",
    "ComplaintRecord",
    "Conflict",
    "Delivery",
    "JobRun",
    "NewEvent",
    "Origin",
    "QuarantineEntry",
    "QuarantineSource",
    "Resolution",
    "RunState",
    "SavedStandard",
    "SchemaState",
    "StandardVersion",
    "Store",
    "StoredStandard",
    "SyncCursor",
    "SyncMark",
    "SyncWrite",
    "Transaction",
    "UpgradeResult",
    "apply_migrations",
    "canonical_content",
    "check_schema",
    "content_hash",
    "create_engine",
    "idempotency_key",
    "inspect_schema",
    "schema_state",
    "upgrade",
]
