"""Write transactions of one process on SQLite take turns in arrival order; on PostgreSQL they run
side by side."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import pytest

from oss_bridge.config import DatabaseSettings
from oss_bridge.errors import DatabaseUnavailable
from oss_bridge.store import Store, apply_migrations, create_engine
from oss_bridge.store._gate import WriteGate, gate_of

SQLITE = pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
POSTGRESQL = pytest.mark.parametrize(
    "backend", [pytest.param("postgresql", marks=pytest.mark.postgres)], indirect=True
)


@asynccontextmanager
async def write_held_open(store: Store) -> AsyncIterator[asyncio.Event]:
    """A write transaction of ``store`` that stays open until the yielded event is set."""
    inside, release = asyncio.Event(), asyncio.Event()

    async def hold() -> None:
        async with store.transaction() as tx:
            await tx.audit(actor="holder", action="hold", entity_type="test", entity_id="held")
            inside.set()
            await release.wait()

    holder = asyncio.create_task(hold())
    await inside.wait()
    try:
        yield release
    finally:
        release.set()
        await holder


async def audit(store: Store, name: str) -> None:
    await store.audit(actor=name, action="write", entity_type="test", entity_id=name)


async def until_waiting(gate: WriteGate, count: int) -> None:
    for _ in range(10_000):
        if gate.waiting >= count:
            return
        await asyncio.sleep(0)  # a turn of the event loop, no time
    pytest.fail(f"{gate.waiting} writers wait for the gate, not {count}")


async def actors(store: Store) -> list[str]:
    return [entry.actor for entry in reversed(await store.list_audit(entity_type="test"))]


def gate(store: Store) -> WriteGate:
    found = gate_of(store._engine)
    assert found is not None
    return found


@SQLITE
async def test_sqlite_writes_waiting_for_an_open_transaction_go_in_the_order_they_came(
    store: Store,
) -> None:
    done: list[str] = []

    async def write(name: str) -> None:
        await audit(store, name)
        done.append(name)

    async with write_held_open(store):
        writers = []
        for number, name in enumerate(["b", "c", "d", "e"], start=1):
            writers.append(asyncio.create_task(write(name)))
            await until_waiting(gate(store), number)
    await asyncio.gather(*writers)

    assert done == ["b", "c", "d", "e"]
    assert await actors(store) == ["holder", "b", "c", "d", "e"]


@SQLITE
async def test_a_sqlite_write_that_gets_no_turn_within_the_busy_timeout_fails_and_writes_nothing(
    database_url: str,
) -> None:
    async with Store.open(DatabaseSettings(url=database_url, busy_timeout_ms=20)) as store:
        async with write_held_open(store):
            with pytest.raises(DatabaseUnavailable) as caught:
                await audit(store, "late")
        assert gate(store).waiting == 0
        assert await actors(store) == ["holder"]
    message = str(caught.value)
    assert "busy with other writes of this process" in message
    assert "database.busy_timeout_ms" in message


@SQLITE
async def test_a_sqlite_write_with_no_busy_timeout_goes_through_when_nothing_else_writes(
    database_url: str,
) -> None:
    async with Store.open(DatabaseSettings(url=database_url, busy_timeout_ms=0)) as store:
        await audit(store, "alone")
        await audit(store, "again")

        assert await actors(store) == ["alone", "again"]


@SQLITE
async def test_a_sqlite_writer_cancelled_while_waiting_gives_its_turn_to_the_next(
    store: Store,
) -> None:
    async with write_held_open(store):
        cancelled = asyncio.create_task(audit(store, "cancelled"))
        await until_waiting(gate(store), 1)
        patient = asyncio.create_task(audit(store, "patient"))
        await until_waiting(gate(store), 2)
        cancelled.cancel()
        with pytest.raises(asyncio.CancelledError):
            await cancelled
    await patient

    assert gate(store).waiting == 0
    assert await actors(store) == ["holder", "patient"]


async def test_an_in_memory_sqlite_database_runs_concurrent_writes_one_after_another() -> None:
    # Its one shared connection cannot hold two transactions at once.
    engine = create_engine(DatabaseSettings(url="sqlite:///:memory:"))
    await apply_migrations(engine)
    async with Store(engine) as store:
        async with write_held_open(store):
            second = asyncio.create_task(audit(store, "second"))
            await until_waiting(gate(store), 1)
        await second

        assert await actors(store) == ["holder", "second"]


@POSTGRESQL
async def test_postgresql_writes_do_not_wait_for_each_other(store: Store) -> None:
    assert gate_of(store._engine) is None
    async with write_held_open(store):
        async with asyncio.timeout(30):  # a write waiting for the holder would never end
            await audit(store, "beside")
        assert await actors(store) == ["beside"]  # the holder's write is not committed yet
    assert sorted(await actors(store)) == ["beside", "holder"]
