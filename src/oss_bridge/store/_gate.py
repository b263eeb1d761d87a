"""Write transactions of one process on one SQLite database take turns, in arrival order.

SQLite lets one writer at a time hold its write lock, and a writer that finds it taken waits in
the driver's busy handler, which polls with growing sleeps. A task that commits and begins again
at once (the forwarder recording one batch after another) then gets the lock back before a
sleeping waiter wakes, again and again: under load, intake waited past ``busy_timeout`` and
answered 503. Within one process the gate puts writers in a queue instead, so each waits for the
transactions ahead of it, not for luck. Between processes the busy handler still decides.

PostgreSQL locks rows, not the database, so its writers run side by side and have no gate.
"""

from __future__ import annotations

import asyncio
import weakref
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from oss_bridge.errors import DatabaseUnavailable


class WriteGate:
    """One write transaction of this process at a time, the others waiting in arrival order.

    A writer waits at most ``wait_seconds`` (the database's ``busy_timeout``) for its turn, then
    fails as SQLite itself would after that long. The queue belongs to the event loop that
    first waits on it; a gate used from another loop later starts a queue of its own there.
    """

    def __init__(self, *, wait_seconds: float, where: str) -> None:
        self._wait_seconds = wait_seconds
        self._where = where
        self._queue: tuple[asyncio.AbstractEventLoop, asyncio.Lock] | None = None
        self._waiting = 0

    def _lock(self) -> asyncio.Lock:
        loop = asyncio.get_running_loop()
        if self._queue is None or self._queue[0] is not loop:
            self._queue = (loop, asyncio.Lock())
        return self._queue[1]

    @property
    def waiting(self) -> int:
        """Writers of this process waiting for their turn now."""
        return self._waiting

    @asynccontextmanager
    async def turn(self) -> AsyncIterator[None]:
        """Hold the gate for the block: the caller's write transaction."""
        lock = self._lock()
        # A free lock is taken at once, without suspending, so the timeout never fires for it.
        self._waiting += 1
        try:
            async with asyncio.timeout(self._wait_seconds):
                await lock.acquire()
        except TimeoutError:
            raise DatabaseUnavailable(
                f"the SQLite database {self._where!r} stayed busy with other writes of this "
                f"process for {self._wait_seconds:g} s (database.busy_timeout_ms); try again, "
                "and if it persists look for work that holds write transactions long"
            ) from None
        finally:
            self._waiting -= 1
        try:
            yield
        finally:
            lock.release()


_GATES: weakref.WeakKeyDictionary[sa.Engine, WriteGate] = weakref.WeakKeyDictionary()


def register_gate(engine: AsyncEngine, gate: WriteGate) -> None:
    """Give ``engine``'s write transactions ``gate`` (done when a SQLite engine is built)."""
    _GATES[engine.sync_engine] = gate


def gate_of(engine: AsyncEngine) -> WriteGate | None:
    """The gate of ``engine``'s write transactions; ``None`` when its database needs none."""
    return _GATES.get(engine.sync_engine)
