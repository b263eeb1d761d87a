"""Building the async engine for SQLite or PostgreSQL, and translating its errors.

SQLite runs in WAL mode with foreign keys on. Its Python driver would begin transactions lazily
and never around DDL, so we switch that off and emit BEGIN ourselves: DEFERRED for reads and
IMMEDIATE for writes (``WRITE_OPTION``). Taking the write lock at BEGIN means a writer waits
for ``busy_timeout`` instead of failing when another process wrote in the meantime.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from functools import partial
from pathlib import Path
from typing import Any

import aiosqlite
import sqlalchemy as sa
from sqlalchemy import event, exc
from sqlalchemy.dialects.sqlite.aiosqlite import SQLiteDialect_aiosqlite
from sqlalchemy.engine import URL, make_url
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine
from sqlalchemy.pool import StaticPool

from oss_bridge.config import DatabaseSettings
from oss_bridge.errors import ConfigError, DatabaseUnavailable, SchemaOutdated, StoreError
from oss_bridge.store._gate import WriteGate, register_gate

WRITE_OPTION = "oss_bridge_write"
"""Execution option marking a connection whose transactions write (BEGIN IMMEDIATE on SQLite)."""

PG_CONNECT_TIMEOUT_SECONDS = 10

_UPGRADE_HINT = "run `oss-bridge db upgrade`"


def create_engine(settings: DatabaseSettings) -> AsyncEngine:
    """An ``AsyncEngine`` for ``settings.url``.

    A SQLite file is created with its directory if missing and opened once here, so a bad path
    fails at once; PostgreSQL connects lazily, on first use. Raises ``ConfigError`` for a URL
    that cannot be parsed or names a directory, ``DatabaseUnavailable`` when the SQLite file or
    its directory cannot be created or opened.
    """
    url = parse_url(settings.url)
    if url.get_backend_name() == "sqlite":
        return _sqlite_engine(url, settings)
    if url.get_backend_name() == "postgresql":
        return _postgres_engine(url, settings)
    raise ConfigError(
        f"database.url {display_url(url)!r} is neither SQLite nor PostgreSQL; "
        "write sqlite:///path/to/file.db or postgresql://user@host/dbname"
    )


def display_url(url: URL | str) -> str:
    """The URL as it may be shown to a person: the password masked."""
    if isinstance(url, str):
        try:
            url = make_url(url)
        except (exc.ArgumentError, ValueError):
            return "<unparseable database URL>"
    return url.render_as_string(hide_password=True)


def parse_url(raw: str) -> URL:
    try:
        return make_url(raw)
    except (exc.ArgumentError, ValueError) as error:
        raise ConfigError(
            f"database.url is not a valid URL ({error}); write sqlite:///path/to/file.db "
            "or postgresql://user@host/dbname"
        ) from None


def _serialise_json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)


def sqlite_file(url: URL) -> Path | None:
    """The file a SQLite URL names, or ``None`` for an in-memory or URI-style database."""
    database = url.database or ""
    if database in ("", ":memory:") or url.query.get("uri") in ("true", "1"):
        return None
    return Path(database)


def _sqlite_engine(url: URL, settings: DatabaseSettings) -> AsyncEngine:
    path = sqlite_file(url)
    kwargs: dict[str, Any] = {}
    if path is None:
        # One shared connection, or every connection would see its own empty database.
        kwargs["poolclass"] = StaticPool
    else:
        _prepare_sqlite_file(path)
        kwargs["pool_size"] = settings.pool_size
    arguments, options = _SQLITE_DIALECT.create_connect_args(url)
    # Statements of a write transaction run on the event loop's thread (see _SqliteCursor).
    options = {**options, "check_same_thread": False}

    async def connect() -> aiosqlite.Connection:
        connection = _SqliteConnection(
            partial(sqlite3.connect, *arguments, **options), iter_chunk_size=64
        )
        connection._thread.daemon = True  # as SQLAlchemy's own aiosqlite dialect does
        return await connection

    # hide_parameters: SQL echo and error messages must never carry reporters' personal data.
    engine = create_async_engine(
        url,
        echo=settings.echo,
        hide_parameters=True,
        json_serializer=_serialise_json,
        async_creator=connect,
        # Every connection ends its transaction before going back to the pool (commit, or the
        # rollback of Connection.close), so the pool's own rollback would be one more trip.
        pool_reset_on_return=None,
        **kwargs,
    )
    pragmas = (
        "PRAGMA journal_mode=WAL",
        f"PRAGMA busy_timeout={int(settings.busy_timeout_ms)}",
        "PRAGMA foreign_keys=ON",
        "PRAGMA synchronous=NORMAL",
    )

    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # we emit BEGIN ourselves, see module docstring
        cursor = dbapi_connection.cursor()
        try:
            for pragma in pragmas:
                cursor.execute(pragma)
        finally:
            cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(connection: sa.Connection) -> None:
        mode = "IMMEDIATE" if connection.get_execution_options().get(WRITE_OPTION) else "DEFERRED"
        connection.exec_driver_sql(f"BEGIN {mode}")

    where = display_url(url)
    register_gate(engine, WriteGate(wait_seconds=settings.busy_timeout_ms / 1000, where=where))
    return engine


_SQLITE_DIALECT = SQLiteDialect_aiosqlite()


BULK_ROWS = 500
"""An ``executemany`` over more rows than this runs on the driver's thread even inside a write
transaction, so a bulk write does not hold up the event loop."""


class _SqliteCursor(aiosqlite.Cursor):
    """An aiosqlite cursor that runs a statement, fetches its rows and closes in one step.

    aiosqlite makes a trip to the connection's thread for each step (open, execute, fetch,
    close), and under load every trip waits for a turn of the event loop and for the GIL: the
    forwarder spent more on trips than on SQL. Here a statement is one trip at most, and none
    inside a write transaction: once ``BEGIN IMMEDIATE`` holds SQLite's write lock, a statement
    of that transaction never waits for another connection (WAL mode), so it runs on the event
    loop's thread at the cost of its own work. What may wait or write to disk at length still
    makes the trip: BEGIN (it waits for the lock up to ``busy_timeout``), COMMIT and ROLLBACK,
    every statement of a read transaction, and bulk statements over ``BULK_ROWS`` rows.
    Rows are fetched at once, as SQLAlchemy does with them anyway (the store never streams).
    """

    _conn: _SqliteConnection

    def __init__(self, connection: _SqliteConnection) -> None:
        self.iter_chunk_size = connection._iter_chunk_size
        self._conn = connection
        self._done: sqlite3.Cursor | None = None
        self._rows: list[Any] = []
        self._arraysize = 1

    async def __aenter__(self) -> _SqliteCursor:
        return self

    async def __aexit__(self, *_: object) -> None:
        return None

    async def execute(self, sql: str, parameters: Iterable[Any] | None = None) -> _SqliteCursor:
        if self._conn.writing:
            self._done, self._rows = _run_statement(self._conn._conn, sql, parameters, many=False)
            return self
        self._done, self._rows = await self._conn._execute(  # type: ignore[no-untyped-call]
            _run_statement, self._conn._conn, sql, parameters, many=False
        )
        if sql.startswith("BEGIN IMMEDIATE"):
            self._conn.writing = True
        return self

    async def executemany(self, sql: str, parameters: Iterable[Iterable[Any]]) -> _SqliteCursor:
        rows = parameters if isinstance(parameters, Sequence) else list(parameters)
        if self._conn.writing and len(rows) <= BULK_ROWS:
            self._done, self._rows = _run_statement(self._conn._conn, sql, rows, many=True)
            return self
        self._done, self._rows = await self._conn._execute(  # type: ignore[no-untyped-call]
            _run_statement, self._conn._conn, sql, rows, many=True
        )
        return self

    async def fetchone(self) -> Any:
        return self._rows.pop(0) if self._rows else None

    async def fetchmany(self, size: int | None = None) -> list[Any]:
        count = self._arraysize if size is None else size
        taken, self._rows = self._rows[:count], self._rows[count:]
        return taken

    async def fetchall(self) -> list[Any]:
        taken, self._rows = self._rows, []
        return taken

    async def close(self) -> None:
        self._rows = []

    @property
    def rowcount(self) -> int:
        return -1 if self._done is None else self._done.rowcount

    @property
    def lastrowid(self) -> int | None:
        return None if self._done is None else self._done.lastrowid

    @property
    def description(self) -> tuple[tuple[str, None, None, None, None, None, None], ...]:
        # An empty description before the first statement, as sqlite3 has None: both are falsy.
        return () if self._done is None else self._done.description

    @property
    def arraysize(self) -> int:
        return self._arraysize

    @arraysize.setter
    def arraysize(self, value: int) -> None:
        self._arraysize = value


class _SqliteConnection(aiosqlite.Connection):
    """An aiosqlite connection whose cursors are ``_SqliteCursor``s; it knows whether a write
    transaction is open (set by its BEGIN IMMEDIATE, cleared by COMMIT or ROLLBACK)."""

    writing = False

    def cursor(self) -> _SqliteCursor:  # type: ignore[override]
        return _SqliteCursor(self)

    async def commit(self) -> None:
        try:
            await super().commit()
        finally:
            self.writing = False

    async def rollback(self) -> None:
        try:
            await super().rollback()
        finally:
            self.writing = False


def _run_statement(
    connection: sqlite3.Connection, sql: str, parameters: Any, *, many: bool
) -> tuple[sqlite3.Cursor, list[Any]]:
    """In the connection's thread: run one statement, fetch its rows, close its cursor."""
    cursor = connection.cursor()
    try:
        if many:
            cursor.executemany(sql, parameters)
        else:
            cursor.execute(sql, () if parameters is None else parameters)
        rows = cursor.fetchall() if cursor.description else []
    finally:
        cursor.close()
    return cursor, rows


def _prepare_sqlite_file(path: Path) -> None:
    """Create the file's directory and open the file once, so that a bad path fails here.

    Opening it here also spares the async driver a failed connect, after which its worker
    thread can outlive the event loop and print a traceback of its own.
    """
    if path.is_dir():
        raise ConfigError(
            f"database.url names the directory {str(path)!r}; name a file in it, "
            f"e.g. sqlite:///{path / 'oss-bridge.db'}"
        )
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise DatabaseUnavailable(
            f"cannot create the directory {str(path.parent)!r} for the SQLite database "
            f"({error.strerror}); create it, or point database.url at a writable place"
        ) from error
    try:
        sqlite3.connect(path).close()
    except sqlite3.Error as error:
        raise DatabaseUnavailable(
            f"cannot open the SQLite database {str(path)!r} ({error}); check that the file "
            "and its directory are readable and writable by this user"
        ) from error


def _postgres_engine(url: URL, settings: DatabaseSettings) -> AsyncEngine:
    connect_args: dict[str, Any] = {}
    if "connect_timeout" not in url.query:
        connect_args["connect_timeout"] = PG_CONNECT_TIMEOUT_SECONDS
    return create_async_engine(
        url,
        echo=settings.echo,
        hide_parameters=True,
        pool_size=settings.pool_size,
        pool_pre_ping=True,
        json_serializer=_serialise_json,
        connect_args=connect_args,
    )


@contextmanager
def translated_errors(url: URL) -> Iterator[None]:
    """Turn driver errors raised inside the block into the ``StoreError`` branch of the tree.

    Errors that are not the database's (bad arguments, bugs) pass through unchanged.
    """
    try:
        yield
    except exc.DBAPIError as error:
        raise translate_error(error, url) from error
    except exc.TimeoutError as error:
        raise DatabaseUnavailable(
            f"no free connection to the database {display_url(url)!r} in time ({error}); "
            "raise database.pool_size or look for work that holds connections too long"
        ) from error


def translate_error(error: exc.DBAPIError, url: URL) -> StoreError:
    """The ``StoreError`` that tells a person what went wrong with the database and what to do."""
    orig = error.orig
    reason = (str(orig) if orig is not None else str(error)).strip().splitlines()
    text = reason[0] if reason else type(orig).__name__
    sqlstate = getattr(orig, "sqlstate", None)
    where = display_url(url)
    if sqlstate == "42P01" or text.startswith("no such table"):
        return SchemaOutdated(
            f"the database {where!r} lacks the oss-bridge tables ({text}); {_UPGRADE_HINT}"
        )
    if url.get_backend_name() == "sqlite":
        if "file is not a database" in text:
            return StoreError(
                f"the file of {where!r} is not a SQLite database; point database.url at the "
                "right file, or move this one away and run `oss-bridge db upgrade`"
            )
        if isinstance(error, exc.OperationalError):
            return DatabaseUnavailable(
                f"cannot use the SQLite database {where!r}: {text}; check that the file and its "
                "directory are writable and that no other process holds a write lock on it"
            )
    elif error.connection_invalidated or _is_connection_failure(error, sqlstate):
        return DatabaseUnavailable(
            f"cannot reach the database {where!r}: {text}; check database.url and that the "
            "PostgreSQL server is running and accepts connections"
        )
    elif sqlstate is not None and sqlstate.startswith("40"):
        return DatabaseUnavailable(
            f"the database {where!r} aborted the transaction ({text}); try again"
        )
    return StoreError(f"the database {where!r} refused the operation: {text}")


def _is_connection_failure(error: exc.DBAPIError, sqlstate: str | None) -> bool:
    if not isinstance(error, exc.OperationalError | exc.InterfaceError):
        return False
    # No SQLSTATE: the client could not connect at all. 08 connection, 28 authorisation,
    # 3D unknown database, 57P server shutting down or starting up.
    return sqlstate is None or sqlstate.startswith(("08", "28", "3D", "57P"))
