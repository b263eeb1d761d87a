"""``Store``, the one interface to the database, and ``Transaction``, the same within one transaction."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, nullcontext
from types import TracebackType

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from oss_bridge.config import DatabaseSettings
from oss_bridge.store._audit import AuditQueries
from oss_bridge.store._base import Clock, utc_now
from oss_bridge.store._catalogue import CatalogueQueries
from oss_bridge.store._catalogue_sync import CatalogueSyncQueries
from oss_bridge.store._complaints import ComplaintQueries
from oss_bridge.store._destinations import DestinationQueries
from oss_bridge.store._engine import WRITE_OPTION, create_engine, display_url, translated_errors
from oss_bridge.store._gate import gate_of
from oss_bridge.store._locks import LockQueries
from oss_bridge.store._outbox import OutboxQueries
from oss_bridge.store._pulls import PullQueries
from oss_bridge.store._quarantine import QuarantineQueries
from oss_bridge.store._reports import ReportQueries
from oss_bridge.store._runs import RunQueries
from oss_bridge.store.migrate import SchemaState, check_schema


class _AllQueries(
    CatalogueQueries,
    CatalogueSyncQueries,
    AuditQueries,
    QuarantineQueries,
    RunQueries,
    DestinationQueries,
    ComplaintQueries,
    OutboxQueries,
    PullQueries,
    ReportQueries,
):
    """Every query group; a new group is a ``Queries`` mixin added to this list."""


class Store(LockQueries, _AllQueries):
    """The durable store of oss-bridge over SQLite or PostgreSQL.

    Each method runs in its own transaction; ``transaction()`` groups several. Database errors
    come out as the ``StoreError`` branch of ``oss_bridge.errors``: ``DatabaseUnavailable``
    when the database cannot be reached, ``SchemaOutdated`` when its tables are missing.
    Timestamps the store sets come from ``clock`` (aware UTC).

    The store owns ``engine``: ``close()`` disposes of it.
    """

    def __init__(self, engine: AsyncEngine, *, clock: Clock = utc_now) -> None:
        self._engine = engine
        self._writer = engine.execution_options(**{WRITE_OPTION: True})
        self._gate = gate_of(engine)
        self._clock = clock

    @classmethod
    def open(cls, settings: DatabaseSettings, *, clock: Clock = utc_now) -> Store:
        """A store on a new engine for ``settings``; nothing connects until first use."""
        return cls(create_engine(settings), clock=clock)

    @property
    def database(self) -> str:
        """The database URL with its password masked, for messages and status pages."""
        return display_url(self._engine.url)

    @asynccontextmanager
    async def _read(self) -> AsyncIterator[AsyncConnection]:
        with translated_errors(self._engine.url):
            async with self._engine.connect() as connection:
                yield connection

    @asynccontextmanager
    async def _write(self) -> AsyncIterator[AsyncConnection]:
        turn = nullcontext() if self._gate is None else self._gate.turn()
        async with turn:
            with translated_errors(self._engine.url):
                async with self._writer.begin() as connection:
                    yield connection

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[Transaction]:
        """A write transaction: every method of the yielded object runs in it.

        It commits when the block ends and rolls back, writing nothing, if the block raises.
        """
        async with self._write() as connection:
            yield Transaction(connection, clock=self._clock)

    async def ping(self) -> None:
        """Return if the database answers; raise ``DatabaseUnavailable`` if not."""
        async with self._read() as connection:
            await connection.execute(sa.select(1))

    async def check_schema(self) -> SchemaState:
        """The schema state if it is current; raises ``SchemaOutdated`` if not (see ``migrate``)."""
        return await check_schema(self._engine)

    async def close(self) -> None:
        await self._engine.dispose()

    async def __aenter__(self) -> Store:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()


class Transaction(_AllQueries):
    """The store's methods bound to one open transaction (see ``Store.transaction``)."""

    def __init__(self, connection: AsyncConnection, *, clock: Clock) -> None:
        self._connection = connection
        self._clock = clock

    @asynccontextmanager
    async def _read(self) -> AsyncIterator[AsyncConnection]:
        yield self._connection

    @asynccontextmanager
    async def _write(self) -> AsyncIterator[AsyncConnection]:
        yield self._connection
