"""Audit log: who did what to which entity, with the state before and after."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from oss_bridge.store._base import Queries
from oss_bridge.store.records import AuditEntry
from oss_bridge.store.schema import audit_log

MAX_AUDIT_LIMIT = 10_000


async def insert_audit(
    connection: AsyncConnection,
    *,
    at: datetime,
    actor: str,
    action: str,
    entity_type: str,
    entity_id: str,
    before: Any = None,
    after: Any = None,
    detail: Any = None,
) -> AuditEntry:
    """Write one audit entry on ``connection``, inside whatever transaction it is in."""
    row = (
        await connection.execute(
            sa.insert(audit_log)
            .values(
                at=at,
                actor=actor,
                action=action,
                entity_type=entity_type,
                entity_id=entity_id,
                before=before,
                after=after,
                detail=detail,
            )
            .returning(*audit_log.c)
        )
    ).one()
    return audit_entry(row)


def audit_entry(row: sa.Row[Any]) -> AuditEntry:
    return AuditEntry(
        id=row.id,
        at=row.at,
        actor=row.actor,
        action=row.action,
        entity_type=row.entity_type,
        entity_id=row.entity_id,
        before=row.before,
        after=row.after,
        detail=row.detail,
    )


class AuditQueries(Queries):
    async def audit(
        self,
        *,
        actor: str,
        action: str,
        entity_type: str,
        entity_id: str,
        before: Any = None,
        after: Any = None,
        detail: Any = None,
    ) -> AuditEntry:
        """Record an action. ``before``, ``after`` and ``detail`` must be JSON-serialisable.

        ``action`` is free text; the store itself writes ``create``, ``update``, ``delete``,
        ``conflict``, ``resolve``, ``suspend``, ``resume`` and ``release``.
        """
        async with self._write() as connection:
            return await insert_audit(
                connection,
                at=self._now(),
                actor=actor,
                action=action,
                entity_type=entity_type,
                entity_id=entity_id,
                before=before,
                after=after,
                detail=detail,
            )

    async def list_audit(
        self, entity_type: str | None = None, entity_id: str | None = None, limit: int = 100
    ) -> list[AuditEntry]:
        """The newest ``limit`` entries, newest first, optionally for one entity type or entity."""
        if not 1 <= limit <= MAX_AUDIT_LIMIT:
            raise ValueError(f"limit {limit!r} must be between 1 and {MAX_AUDIT_LIMIT}")
        query = sa.select(audit_log).order_by(audit_log.c.id.desc()).limit(limit)
        if entity_type is not None:
            query = query.where(audit_log.c.entity_type == entity_type)
        if entity_id is not None:
            query = query.where(audit_log.c.entity_id == entity_id)
        async with self._read() as connection:
            rows = (await connection.execute(query)).all()
        return [audit_entry(row) for row in rows]
