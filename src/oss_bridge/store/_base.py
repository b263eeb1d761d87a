"""What every group of store queries builds on.

A query group is a mixin of ``Queries``: its methods open ``self._read()`` or ``self._write()``
and run named statements on the connection they get. ``Store`` opens a fresh connection (and
transaction) for each call; ``Transaction`` hands every call the one connection of an open
transaction. So each method is written once and works both alone and inside
``async with store.transaction() as tx``. Work that must share a transaction with another
group's writes (an audit entry beside a catalogue change) calls that group's module-level
function with the same connection rather than the public method.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from contextlib import AbstractAsyncContextManager
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection

Clock = Callable[[], datetime]


def utc_now() -> datetime:
    return datetime.now(UTC)


class Queries:
    """Base of the query groups; see the module docstring."""

    _clock: Clock

    def _read(self) -> AbstractAsyncContextManager[AsyncConnection]:
        """A connection for reading (a deferred transaction)."""
        raise NotImplementedError

    def _write(self) -> AbstractAsyncContextManager[AsyncConnection]:
        """A connection inside a write transaction, committed when the block ends normally."""
        raise NotImplementedError

    def _now(self) -> datetime:
        now = self._clock()
        if now.tzinfo is None or now.utcoffset() is None:
            raise ValueError(f"the store's clock returned {now!r} without a time zone")
        return now.astimezone(UTC)


def require_aware(value: datetime | None, name: str) -> None:
    """Refuse naive datetimes before any I/O: the store keeps instants, not wall-clock times."""
    if value is not None and (value.tzinfo is None or value.utcoffset() is None):
        raise ValueError(f"{name} {value!r} has no time zone; pass an aware datetime (UTC)")


def as_json(value: Any) -> Any:
    """``value`` as it comes back from a JSON column: tuples become lists, keys strings.

    Raises ``ValueError`` naming the value when it cannot be stored as JSON.
    """
    try:
        return json.loads(json.dumps(value, ensure_ascii=False))
    except (TypeError, ValueError) as error:
        raise ValueError(f"{value!r} cannot be stored as JSON ({error})") from None


def upsert(
    connection: AsyncConnection,
    table: sa.Table,
    values: Mapping[str, Any],
    *,
    key: Sequence[str],
) -> sa.Executable:
    """INSERT ``values``, or UPDATE the non-key columns of the row with the same ``key``."""
    insert = postgresql.insert if connection.dialect.name == "postgresql" else sqlite.insert
    statement = insert(table).values(dict(values))
    return statement.on_conflict_do_update(
        index_elements=[table.c[name] for name in key],
        set_={name: statement.excluded[name] for name in values if name not in key},
    )
