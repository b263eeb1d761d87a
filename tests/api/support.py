"""What the intake tests share: counting stored rows, and playing the channel's side of a complaint."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from oss_bridge.store.schema import complaint_events, complaints, outbox, receipt_counters

API_KEY = "portal-pelalawan-key"
# Monday 30 November 2026, 09:00 in Western Indonesia Time.
MONDAY = datetime(2026, 11, 30, 2, 0, tzinfo=UTC)


class Wakes:
    """A forwarder's wake-up hook that counts its calls."""

    def __init__(self) -> None:
        self.calls = 0

    def __call__(self) -> None:
        self.calls += 1


TABLES = (complaints, outbox, complaint_events, receipt_counters)


async def stored(engine: AsyncEngine) -> dict[str, int]:
    """How many rows each table of intake holds."""
    async with engine.connect() as connection:
        return {
            table.name: int(
                (
                    await connection.execute(sa.select(sa.func.count()).select_from(table))
                ).scalar_one()
            )
            for table in TABLES
        }


NOTHING = {table.name: 0 for table in TABLES}


async def set_national_status(
    engine: AsyncEngine,
    complaint_id: int,
    status: str,
    *,
    at: datetime,
    final: bool = False,
    **columns: Any,
) -> None:
    """Give a complaint a national status, with its status event, as the status puller does."""
    async with engine.begin() as connection:
        await connection.execute(
            sa.update(complaints)
            .where(complaints.c.id == complaint_id)
            .values(
                external_id=columns.pop("external_id", f"L-{complaint_id}"),
                external_status=status,
                external_status_at=at,
                final=final,
                updated_at=at,
                **columns,
            )
        )
        await connection.execute(
            sa.insert(complaint_events).values(
                complaint_id=complaint_id,
                kind="status",
                dedupe_key=f"status:{status}:{at.isoformat()}",
                external_at=at,
                payload={"external_status": status},
                created_at=at,
            )
        )


async def set_delivery_state(engine: AsyncEngine, complaint_id: int, state: str) -> None:
    async with engine.begin() as connection:
        await connection.execute(
            sa.update(outbox).where(outbox.c.complaint_id == complaint_id).values(state=state)
        )
