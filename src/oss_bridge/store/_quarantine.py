"""Quarantine: data from a national system that could not be read, kept verbatim for a person."""

from __future__ import annotations

from typing import Any, get_args

import sqlalchemy as sa

from oss_bridge.errors import NotFound
from oss_bridge.store._audit import insert_audit
from oss_bridge.store._base import Queries
from oss_bridge.store.records import QuarantineEntry, QuarantineSource
from oss_bridge.store.schema import quarantine

MAX_QUARANTINE_LIMIT = 10_000


class QuarantineQueries(Queries):
    async def quarantine(
        self, *, source: QuarantineSource, raw: str, reason: str, entity_id: str | None = None
    ) -> QuarantineEntry:
        """Keep ``raw`` (as received) with the ``reason`` it was refused.

        NUL characters, which PostgreSQL text cannot hold, are kept as the six characters
        ``\\u0000``.
        """
        if source not in get_args(QuarantineSource):
            allowed = ", ".join(get_args(QuarantineSource))
            raise ValueError(f"source {source!r} must be one of {allowed}")
        raw = raw.replace("\x00", "\\u0000")
        async with self._write() as connection:
            row = (
                await connection.execute(
                    sa.insert(quarantine)
                    .values(
                        source=source,
                        entity_id=entity_id,
                        raw=raw,
                        reason=reason,
                        created_at=self._now(),
                    )
                    .returning(*quarantine.c)
                )
            ).one()
        return _entry(row)

    async def list_quarantine(
        self,
        *,
        include_released: bool = False,
        source: QuarantineSource | None = None,
        limit: int = 100,
    ) -> list[QuarantineEntry]:
        """Entries oldest first; released ones only when ``include_released``."""
        if not 1 <= limit <= MAX_QUARANTINE_LIMIT:
            raise ValueError(f"limit {limit!r} must be between 1 and {MAX_QUARANTINE_LIMIT}")
        query = sa.select(quarantine).order_by(quarantine.c.id).limit(limit)
        if not include_released:
            query = query.where(quarantine.c.released_at.is_(None))
        if source is not None:
            query = query.where(quarantine.c.source == source)
        async with self._read() as connection:
            rows = (await connection.execute(query)).all()
        return [_entry(row) for row in rows]

    async def release_quarantine(self, entry_id: int, *, actor: str) -> QuarantineEntry:
        """Mark an entry as dealt with; audited. Releasing it again changes nothing.

        Raises ``NotFound`` for an unknown id.
        """
        now = self._now()
        async with self._write() as connection:
            current = (
                await connection.execute(
                    sa.select(quarantine).where(quarantine.c.id == entry_id).with_for_update()
                )
            ).first()
            if current is None:
                raise NotFound(f"no quarantine entry with id {entry_id!r}")
            if current.released_at is not None:
                return _entry(current)
            row = (
                await connection.execute(
                    sa.update(quarantine)
                    .where(quarantine.c.id == entry_id)
                    .values(released_at=now)
                    .returning(*quarantine.c)
                )
            ).one()
            await insert_audit(
                connection,
                at=now,
                actor=actor,
                action="release",
                entity_type="quarantine",
                entity_id=str(entry_id),
                detail={"source": row.source, "entity_id": row.entity_id, "reason": row.reason},
            )
        return _entry(row)


def _entry(row: sa.Row[Any]) -> QuarantineEntry:
    return QuarantineEntry(
        id=row.id,
        source=row.source,
        entity_id=row.entity_id,
        raw=row.raw,
        reason=row.reason,
        created_at=row.created_at,
        released_at=row.released_at,
    )
