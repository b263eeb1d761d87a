"""The per-destination suspend switch: a suspended destination keeps its queue but gets no sends."""

from __future__ import annotations

import sqlalchemy as sa

from oss_bridge.store._audit import insert_audit
from oss_bridge.store._base import Queries, upsert
from oss_bridge.store.schema import destinations


class DestinationQueries(Queries):
    async def set_suspended(self, name: str, suspended: bool, *, actor: str) -> None:
        """Suspend or resume sending to destination ``name``; audited when it changes."""
        now = self._now()
        async with self._write() as connection:
            was = (
                await connection.execute(
                    sa.select(destinations.c.suspended)
                    .where(destinations.c.name == name)
                    .with_for_update()
                )
            ).scalar()
            if bool(was) == suspended:
                return
            values = {"name": name, "suspended": suspended, "updated_at": now}
            await connection.execute(upsert(connection, destinations, values, key=("name",)))
            await insert_audit(
                connection,
                at=now,
                actor=actor,
                action="suspend" if suspended else "resume",
                entity_type="destination",
                entity_id=name,
                before={"suspended": bool(was)},
                after={"suspended": suspended},
            )

    async def is_suspended(self, name: str) -> bool:
        """Whether ``name`` is suspended; a destination never switched is not."""
        async with self._read() as connection:
            value = (
                await connection.execute(
                    sa.select(destinations.c.suspended).where(destinations.c.name == name)
                )
            ).scalar()
        return bool(value)
