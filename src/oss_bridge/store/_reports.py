"""Report queries: the few columns the staff page's chart counts, without a complaint's history."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa

from oss_bridge.store._base import Queries, require_aware
from oss_bridge.store.schema import complaints

MAX_TALLY_ROWS = 100_000


@dataclass(frozen=True, slots=True)
class ComplaintMark:
    """When one complaint came in, its category code and the stage code it has now."""

    received_at: datetime
    category: str
    stage: str


class ReportQueries(Queries):
    async def complaint_marks(
        self, *, received_from: datetime, limit: int = MAX_TALLY_ROWS
    ) -> list[ComplaintMark]:
        """Complaints received at or after ``received_from``, oldest first, at most ``limit``."""
        require_aware(received_from, "received_from")
        if not 1 <= limit <= MAX_TALLY_ROWS:
            raise ValueError(f"limit {limit!r} must be between 1 and {MAX_TALLY_ROWS}")
        c = complaints.c
        query = (
            sa.select(c.received_at, c.category, c.stage)
            .where(c.received_at >= received_from)
            .order_by(c.received_at, c.id)
            .limit(limit)
        )
        async with self._read() as connection:
            rows = (await connection.execute(query)).all()
        return [ComplaintMark(row.received_at, row.category, row.stage) for row in rows]
