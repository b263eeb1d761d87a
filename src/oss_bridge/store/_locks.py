"""Locks shared by every instance on one database: one holder at a time, the others skip.

Several bridge instances may run on one PostgreSQL database. Most of their work is shared row by
row (the outbox and the status pulls are claimed with ``FOR UPDATE SKIP LOCKED`` and leases),
but some work must have one doer at a time: the catalogue sync reads and writes the whole
catalogue and one cursor. ``Store.exclusive(name)`` guards such work.

PostgreSQL: a session-level advisory lock (``pg_try_advisory_lock``) on a connection of its
own, held for the block and given back at its end. Trying never waits: a second instance learns
at once that the lock is taken. If the connection dies (the server restarts), the server drops
the lock with it, so a crashed instance never leaves a lock behind; the same holds for the
connection, which is closed rather than pooled when the lock cannot be given back cleanly.

SQLite (one daemon per file, see ``oss_bridge.daemon.InstanceLock``): an exclusive ``flock`` on
``<database file>.<name>.lock``, so a command-line run beside the daemon is refused the same way.
The kernel drops it when the process ends. An in-memory database has one user: always granted.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import re
import zlib
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from oss_bridge.errors import DatabaseUnavailable, StoreError
from oss_bridge.store._engine import sqlite_file, translated_errors

CATALOGUE_SYNC_LOCK = "catalogue-sync"
"""Held by whoever syncs the catalogue: the daemon's catalogue job (and any other sync that
should not run beside it)."""

LOCK_NAMESPACE = 0x0055_B21E
"""High 32 bits of every advisory lock key of these locks, apart from the migrations' key."""

_NAME = re.compile(r"^[a-z][a-z0-9_.-]{0,62}$")


def lock_key(name: str) -> int:
    """The PostgreSQL advisory lock key (a signed 64-bit integer) of the lock ``name``."""
    check_lock_name(name)
    return (LOCK_NAMESPACE << 32) | zlib.crc32(name.encode("ascii"))


def check_lock_name(name: str) -> str:
    if not _NAME.match(name):
        raise ValueError(
            f"lock name {name!r} must be 1 to 63 lower-case letters, digits, '_', '.' or '-', "
            "starting with a letter"
        )
    return name


def sqlite_lock_file(database: Path, name: str) -> Path:
    """The file whose ``flock`` stands for the lock ``name`` of the SQLite file ``database``."""
    return database.with_name(f"{database.name}.{check_lock_name(name)}.lock")


class LockQueries:
    """``exclusive``: the instance-wide locks of the module docstring. A mixin of ``Store``."""

    _engine: AsyncEngine

    @contextlib.asynccontextmanager
    async def exclusive(self, name: str) -> AsyncIterator[bool]:
        """Hold the lock ``name`` for the block if nobody holds it; yields whether it is held.

        Never waits: ``False`` means another instance (or process) holds it now, and the block
        should skip its work. Raises ``DatabaseUnavailable`` when the database cannot be reached
        and ``ValueError`` for a malformed name.
        """
        check_lock_name(name)
        backend = self._engine.dialect.name
        if backend == "postgresql":
            async with _advisory_lock(self._engine, lock_key(name)) as held:
                yield held
        elif backend == "sqlite":
            path = sqlite_file(self._engine.url)
            if path is None:
                yield True
                return
            with _file_lock(sqlite_lock_file(path, name)) as held:
                yield held
        else:  # pragma: no cover - create_engine builds nothing else
            raise StoreError(f"locks are not supported on {backend!r}")


@contextlib.asynccontextmanager
async def _advisory_lock(engine: AsyncEngine, key: int) -> AsyncIterator[bool]:
    with translated_errors(engine.url):
        connection = await engine.connect()
    clean = False
    try:
        with translated_errors(engine.url):
            held = bool(
                (await connection.execute(sa.select(sa.func.pg_try_advisory_lock(key)))).scalar()
            )
            # The lock belongs to the session; ending the transaction keeps no snapshot open
            # for as long as the guarded work runs.
            await connection.commit()
        try:
            yield held
        finally:
            clean = not held or await _unlock(connection, key)
    finally:
        if not clean:
            # Closing the session is what surely frees the lock; the pool must not reuse it.
            await connection.invalidate()
        await connection.close()


async def _unlock(connection: AsyncConnection, key: int) -> bool:
    """Give the lock back; False when that could not be confirmed (the connection is broken)."""
    try:
        released = (await connection.execute(sa.select(sa.func.pg_advisory_unlock(key)))).scalar()
        await connection.commit()
    except sa.exc.DBAPIError:
        return False
    return bool(released)


@contextlib.contextmanager
def _file_lock(path: Path) -> Iterator[bool]:
    try:
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    except OSError as exc:
        raise DatabaseUnavailable(
            f"cannot create the lock file {str(path)!r} ({exc.strerror}); make the database's "
            "directory writable by this user"
        ) from exc
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            yield False
            return
        try:
            yield True
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)
