"""Fixtures shared by the whole suite: one store test suite runs against every backend.

A test that asks for ``store``, ``engine``, ``settings``, ``database_settings``,
``database_url`` or ``empty_database_url`` (or ``backend``) runs once per backend: SQLite
always, PostgreSQL only when ``OSS_BRIDGE_TEST_POSTGRES_URL`` is set. When it is set the
PostgreSQL runs are required: an unreachable server makes them fail, never skip.

- ``database_url``: a database migrated by the real migration code and holding no rows. Tests
  may write rows but must not change the schema (PostgreSQL reuses one migrated schema per
  session and empties it before each test).
- ``empty_database_url``: a database with no schema at all, for tests of the migrations.
- ``database_settings`` / ``settings``: the built-in defaults pointing at ``database_url``.
- ``engine`` / ``store``: on ``database_url``; ``store`` runs on the ``clock`` fixture.

Isolation: SQLite gets new files per test (copies of one migrated template). PostgreSQL gets one
new database per test session, created beside the one the variable names and dropped at the end,
with schemas inside it made the connections' default through the URL, so that even a subprocess
given the URL sees only its own tables.
"""

from __future__ import annotations

import asyncio
import os
import secrets
import sqlite3
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import psycopg
import pytest
from psycopg import sql
from sqlalchemy.engine import URL, make_url
from sqlalchemy.ext.asyncio import AsyncEngine

from oss_bridge.config import DatabaseSettings, Settings, normalise_database_url
from oss_bridge.store import Store, create_engine, upgrade
from oss_bridge.store.schema import metadata
from tests.factories import FakeClock

POSTGRES_ENV = "OSS_BRIDGE_TEST_POSTGRES_URL"


def postgres_requested() -> bool:
    return bool(os.environ.get(POSTGRES_ENV))


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Run every test that needs a database once per backend, PostgreSQL only when configured."""
    if "backend" not in metafunc.fixturenames or _parametrised_by_hand(metafunc):
        return
    params = [pytest.param("sqlite", id="sqlite")]
    if postgres_requested():
        params.append(pytest.param("postgresql", id="postgresql", marks=pytest.mark.postgres))
    metafunc.parametrize("backend", params, indirect=True)


def _parametrised_by_hand(metafunc: pytest.Metafunc) -> bool:
    """A test may pin its backends: ``@pytest.mark.parametrize("backend", [...], indirect=True)``."""
    for marker in metafunc.definition.iter_markers("parametrize"):
        names = marker.args[0]
        if isinstance(names, str):
            names = [name.strip() for name in names.split(",")]
        if "backend" in names:
            return True
    return False


@pytest.fixture(autouse=True)
def _isolated_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """Keep the developer's own OSS_BRIDGE_* settings out of every test."""
    for name in list(os.environ):
        if name.startswith("OSS_BRIDGE_") and not name.startswith("OSS_BRIDGE_TEST_"):
            monkeypatch.delenv(name)


@pytest.fixture
def backend(request: pytest.FixtureRequest) -> str:
    """``sqlite`` or ``postgresql``; set by ``pytest_generate_tests``."""
    name: str = request.param
    return name


def _migrate(url: str) -> None:
    asyncio.run(upgrade(Settings(database=DatabaseSettings(url=url))))


# --- SQLite --------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A SQLite file migrated once per session; tests get copies of it."""
    path = tmp_path_factory.mktemp("sqlite-template") / "migrated.db"
    _migrate(f"sqlite+aiosqlite:///{path}")
    return path


def _sqlite_copy(template: Path, target: Path) -> None:
    # The backup API copies a consistent image, whatever WAL state the template is in.
    source, copy = sqlite3.connect(template), sqlite3.connect(target)
    try:
        source.backup(copy)
    finally:
        source.close()
        copy.close()


# --- PostgreSQL ----------------------------------------------------------------------------


@pytest.fixture(scope="session")
def postgres_database() -> Iterator[URL]:
    """A new, uniquely named database on the server of ``OSS_BRIDGE_TEST_POSTGRES_URL``."""
    raw = os.environ.get(POSTGRES_ENV)
    if not raw:
        pytest.fail(f"{POSTGRES_ENV} is not set; this fixture is for PostgreSQL runs only")
    server = make_url(normalise_database_url(raw))
    name = f"oss_bridge_test_{os.getpid()}_{secrets.token_hex(4)}"
    problem = None
    try:
        with _admin_connection(server) as admin:
            admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    except psycopg.Error as exc:
        problem = " ".join(str(exc).split())
    if problem is not None:
        pytest.fail(
            f"{POSTGRES_ENV} is set to {server.render_as_string()!r} but PostgreSQL cannot be "
            f"used: {problem}; start the server or unset the variable",
            pytrace=False,
        )
    try:
        yield server.set(database=name)
    finally:
        with _admin_connection(server) as admin:
            admin.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )


def _admin_connection(url: URL) -> psycopg.Connection[tuple[object, ...]]:
    conninfo = url.set(drivername="postgresql", query={}).render_as_string(hide_password=False)
    return psycopg.connect(conninfo, autocommit=True, connect_timeout=5)


def _schema_url(database: URL, schema: str) -> str:
    url = database.update_query_dict({"options": f"-csearch_path={schema}"})
    return url.render_as_string(hide_password=False)


@pytest.fixture(scope="session")
def postgres_migrated_schema(postgres_database: URL) -> str:
    """The URL of a schema migrated once per session; ``database_url`` empties it per test."""
    with _admin_connection(postgres_database) as admin:
        admin.execute("CREATE SCHEMA migrated")
    url = _schema_url(postgres_database, "migrated")
    _migrate(url)
    return url


def _delete_all_rows(database: URL) -> None:
    # DELETE, not TRUNCATE: on a handful of rows it is ten times faster.
    with _admin_connection(database) as admin, admin.transaction():
        for table in reversed(metadata.sorted_tables):
            admin.execute(sql.SQL("DELETE FROM {}").format(sql.Identifier("migrated", table.name)))


# --- the fixtures tests use ----------------------------------------------------------------


@pytest.fixture
def empty_database_url(
    backend: str, request: pytest.FixtureRequest, tmp_path: Path
) -> Iterator[str]:
    """The URL of a database with no schema, for this test alone."""
    if backend == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path / 'empty.db'}"
        return
    # Asked for here, not in the signature, so that SQLite runs never touch PostgreSQL.
    database: URL = request.getfixturevalue("postgres_database")
    schema = f"test_{secrets.token_hex(6)}"
    with _admin_connection(database) as admin:
        admin.execute(sql.SQL("CREATE SCHEMA {}").format(sql.Identifier(schema)))
    try:
        yield _schema_url(database, schema)
    finally:
        with _admin_connection(database) as admin:
            admin.execute(sql.SQL("DROP SCHEMA {} CASCADE").format(sql.Identifier(schema)))


@pytest.fixture
def database_url(backend: str, request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """The URL of a migrated database without rows, for this test alone."""
    if backend == "sqlite":
        path = tmp_path / "oss-bridge.db"
        _sqlite_copy(request.getfixturevalue("sqlite_template"), path)
        return f"sqlite+aiosqlite:///{path}"
    url: str = request.getfixturevalue("postgres_migrated_schema")
    _delete_all_rows(request.getfixturevalue("postgres_database"))
    return url


@pytest.fixture
def database_settings(database_url: str) -> DatabaseSettings:
    return DatabaseSettings(url=database_url)


@pytest.fixture
def settings(database_settings: DatabaseSettings) -> Settings:
    """Built-in defaults (the mock on 127.0.0.1:8090) with this test's database."""
    return Settings(database=database_settings)


@pytest.fixture
async def engine(database_settings: DatabaseSettings) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(database_settings)
    yield engine
    await engine.dispose()


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
async def store(engine: AsyncEngine, clock: FakeClock) -> AsyncIterator[Store]:
    """A store on a migrated, empty database whose clock moves only when the test says so."""
    store = Store(engine, clock=clock)
    yield store
    await store.close()
