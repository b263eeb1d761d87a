"""One daemon per SQLite file: an exclusive ``fcntl`` lock on ``<database file>.lock``.

SQLite is the single-instance backend: two daemons on one file would both run the scheduled
jobs and fight over its one write lock. The daemon takes this lock before it touches anything
and holds it for its whole life; the kernel drops it when the process ends, however it ends, so
a crash never leaves a stale lock behind. The file holds the owner's process id, for the message
a second daemon prints. PostgreSQL needs no such lock: several instances share the work there.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
from pathlib import Path
from types import TracebackType

from oss_bridge.config import DatabaseSettings
from oss_bridge.errors import InstanceLocked, StoreError
from oss_bridge.store._engine import parse_url, sqlite_file

LOCK_SUFFIX = ".lock"


def lock_path(settings: DatabaseSettings) -> Path | None:
    """The lock file for ``settings``' SQLite file; ``None`` for PostgreSQL or in-memory SQLite."""
    url = parse_url(settings.url)
    if url.get_backend_name() != "sqlite":
        return None
    path = sqlite_file(url)
    return None if path is None else path.with_name(path.name + LOCK_SUFFIX)


class InstanceLock:
    """The lock of one database (see the module docstring); a no-op where none is needed.

    ``acquire`` raises ``InstanceLocked`` naming the holder's process id when another daemon
    holds it, and ``StoreError`` when the lock file cannot be created.
    """

    def __init__(self, settings: DatabaseSettings) -> None:
        self.path = lock_path(settings)
        self.database = settings.url
        self._fd: int | None = None

    @property
    def held(self) -> bool:
        return self._fd is not None

    def acquire(self) -> None:
        if self.path is None or self._fd is not None:
            return
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        except OSError as exc:
            raise StoreError(
                f"cannot create the instance lock {str(self.path)!r} ({exc.strerror}); make "
                "the database's directory writable by the daemon's user"
            ) from exc
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = _read_pid(fd)
            os.close(fd)
            who = f"process {holder}" if holder else "another process"
            raise InstanceLocked(
                f"another oss-bridge daemon ({who}) already runs on the SQLite database "
                f"{str(self.path.with_suffix(''))!r} (lock {str(self.path)!r}); stop it first. "
                "SQLite serves one daemon; for several instances point database.url at "
                "PostgreSQL"
            ) from None
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode())
        self._fd = fd

    def release(self) -> None:
        if self._fd is None:
            return
        fd, self._fd = self._fd, None
        with contextlib.suppress(OSError):
            os.ftruncate(fd, 0)
            fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)

    def __enter__(self) -> InstanceLock:
        self.acquire()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.release()


def _read_pid(fd: int) -> str | None:
    try:
        text = os.pread(fd, 32, 0).decode("ascii", errors="replace").strip()
    except OSError:
        return None
    return text if text.isdigit() else None
