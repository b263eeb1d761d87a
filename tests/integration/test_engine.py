"""Connecting: SQLite settings, PostgreSQL reachability, and the errors a sysadmin sees."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from oss_bridge.config import DatabaseSettings, Settings
from oss_bridge.errors import ConfigError, DatabaseUnavailable, StoreError
from oss_bridge.store import Store, apply_migrations, check_schema, create_engine, upgrade
from tests.factories import make_standard

# Nothing listens on port 1 of the loopback interface, so connecting is refused at once.
UNREACHABLE_POSTGRES = "postgresql://oss:s3cret-pw@127.0.0.1:1/oss_bridge"


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
async def test_sqlite_connections_use_wal_foreign_keys_normal_sync_and_the_busy_timeout(
    database_url: str,
) -> None:
    engine = create_engine(DatabaseSettings(url=database_url, busy_timeout_ms=1234))
    try:
        async with engine.connect() as connection:
            values = [
                (await connection.exec_driver_sql(f"PRAGMA {name}")).scalar()
                for name in ("journal_mode", "foreign_keys", "synchronous", "busy_timeout")
            ]
    finally:
        await engine.dispose()

    assert values == ["wal", 1, 1, 1234]


async def test_foreign_keys_are_enforced(engine: AsyncEngine) -> None:
    insert = sa.text(
        "INSERT INTO service_standard_versions "
        "(code, local_version, content, content_hash, origin, actor, created_at) "
        "VALUES ('no-such-code', 1, '{}', 'x', 'local', 'test', '2024-01-01 00:00:00')"
    )
    with pytest.raises(sa.exc.IntegrityError):
        async with engine.begin() as connection:
            await connection.execute(insert)


async def test_ping_returns_when_the_database_answers(store: Store) -> None:
    await store.ping()


async def test_an_in_memory_sqlite_database_keeps_its_tables_between_calls() -> None:
    engine = create_engine(DatabaseSettings(url="sqlite:///:memory:"))
    await apply_migrations(engine)

    async with Store(engine) as store:
        await store.save_local_version(make_standard(), origin="import", actor="test")
        assert [entry.code for entry in await store.list_standards()] == [make_standard().code]


@pytest.mark.parametrize(
    "attempt",
    [
        pytest.param(lambda store: store.ping(), id="ping"),
        pytest.param(lambda store: store.list_standards(), id="query"),
        pytest.param(lambda store: store.check_schema(), id="check_schema"),
        pytest.param(
            lambda store: store.audit(actor="a", action="b", entity_type="c", entity_id="d"),
            id="write",
        ),
    ],
)
async def test_an_unreachable_postgresql_server_raises_database_unavailable_saying_what_to_check(
    attempt: object,
) -> None:
    async with Store.open(DatabaseSettings(url=UNREACHABLE_POSTGRES)) as store:
        with pytest.raises(DatabaseUnavailable) as caught:
            await attempt(store)  # type: ignore[operator]

    message = str(caught.value)
    assert "127.0.0.1:1/oss_bridge" in message
    assert "check database.url and that the PostgreSQL server is running" in message
    assert "s3cret-pw" not in message
    assert "\n" not in message


async def test_upgrade_of_an_unreachable_database_raises_database_unavailable() -> None:
    with pytest.raises(DatabaseUnavailable, match=r"Connection refused"):
        await upgrade(Settings(database=DatabaseSettings(url=UNREACHABLE_POSTGRES)))


async def test_check_schema_of_an_unreachable_database_raises_database_unavailable() -> None:
    engine = create_engine(DatabaseSettings(url=UNREACHABLE_POSTGRES))
    try:
        with pytest.raises(DatabaseUnavailable):
            await check_schema(engine)
    finally:
        await engine.dispose()


def test_a_sqlite_file_whose_directory_cannot_be_created_raises_database_unavailable(
    tmp_path: Path,
) -> None:
    blocker = tmp_path / "not-a-directory"
    blocker.write_text("")

    with pytest.raises(DatabaseUnavailable, match=r"cannot create the directory .*not-a-directory"):
        create_engine(DatabaseSettings(url=f"sqlite:///{blocker / 'oss-bridge.db'}"))


def test_a_sqlite_path_that_is_a_directory_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"names the directory .*; name a file in it"):
        create_engine(DatabaseSettings(url=f"sqlite:///{tmp_path}"))


async def test_a_file_that_is_not_a_sqlite_database_is_named_as_such(tmp_path: Path) -> None:
    path = tmp_path / "notes.db"
    path.write_text("meeting notes, not a database\n" * 10)

    async with Store.open(DatabaseSettings(url=f"sqlite:///{path}")) as store:
        with pytest.raises(StoreError, match=r"is not a SQLite database; point database.url"):
            await store.ping()


def test_a_database_url_that_cannot_be_parsed_raises_config_error() -> None:
    with pytest.raises(ConfigError, match=r"database.url is not a valid URL .*'notaport'"):
        create_engine(DatabaseSettings(url="postgresql://oss@db.example:notaport/oss"))


async def test_sql_echo_never_logs_statement_parameters(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    settings = DatabaseSettings(url=f"sqlite:///{tmp_path / 'echo.db'}", echo=True)
    engine = create_engine(settings)
    try:
        with caplog.at_level(logging.INFO, logger="sqlalchemy.engine"):
            async with engine.connect() as connection:
                await connection.execute(sa.text("SELECT :name"), {"name": "Budi Santoso"})
    finally:
        await engine.dispose()
    assert "SELECT" in caplog.text
    assert "Budi Santoso" not in caplog.text
