"""The packaged migrations, applied to empty databases of every backend."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.ext.asyncio import AsyncEngine

from oss_bridge.config import DatabaseSettings, Settings
from oss_bridge.errors import SchemaOutdated, StoreError
from oss_bridge.store import (
    Store,
    apply_migrations,
    check_schema,
    create_engine,
    inspect_schema,
    upgrade,
)
from oss_bridge.store.migrate import alembic_config, head_revision
from oss_bridge.store.schema import metadata


@pytest.fixture
def blank_settings(empty_database_url: str) -> Settings:
    """Settings naming a database that has no schema yet."""
    return Settings(database=DatabaseSettings(url=empty_database_url))


@pytest.fixture
async def own_engine(blank_settings: Settings) -> AsyncIterator[AsyncEngine]:
    """An engine on a database this test migrated itself, so it may change the schema."""
    engine = create_engine(blank_settings.database)
    await apply_migrations(engine)
    yield engine
    await engine.dispose()


async def _table_names(engine: AsyncEngine) -> set[str]:
    async with engine.connect() as connection:
        return set(await connection.run_sync(lambda c: sa.inspect(c).get_table_names()))


async def test_migrations_applied_to_an_empty_database_create_every_table(
    blank_settings: Settings,
) -> None:
    await upgrade(blank_settings)

    engine = create_engine(blank_settings.database)
    try:
        assert await _table_names(engine) == set(metadata.tables) | {"alembic_version"}
    finally:
        await engine.dispose()


async def test_the_first_upgrade_moves_an_empty_database_to_the_head_revision(
    blank_settings: Settings,
) -> None:
    result = await upgrade(blank_settings)

    assert (result.from_revision, result.to_revision, result.changed) == (
        None,
        head_revision(),
        True,
    )
    assert result.from_label == "0000"


async def test_a_second_upgrade_changes_nothing(blank_settings: Settings) -> None:
    await upgrade(blank_settings)

    result = await upgrade(blank_settings)

    assert (result.from_revision, result.to_revision, result.changed) == (
        head_revision(),
        head_revision(),
        False,
    )


async def _upgrade_to(engine: AsyncEngine, revision: str) -> None:
    def run(connection: sa.Connection) -> None:
        config = alembic_config()
        config.attributes["connection"] = connection
        command.upgrade(config, revision)

    async with engine.begin() as connection:
        await connection.run_sync(run)


@pytest.mark.parametrize(
    ("result", "skipped"),
    [
        ('{"skipped": true, "summary": "skipped: busy"}', True),
        ('{"skipped": false, "summary": "done"}', False),
        ('{"summary": "done", "created": 3}', False),
        ('{"summary": "skipped", "detail": {"skipped": true}}', False),
        (None, False),
    ],
)
async def test_runs_recorded_before_revision_0003_are_flagged_skipped_from_their_result(
    blank_settings: Settings, result: str | None, skipped: bool
) -> None:
    engine = create_engine(blank_settings.database)
    try:
        await _upgrade_to(engine, "0002")
        async with engine.begin() as connection:
            await connection.execute(
                sa.text(
                    "INSERT INTO job_runs (run_id, job, state, dry_run, requested_by, result, "
                    "requested_at) VALUES ('r1', 'catalogue', 'succeeded', false, 'scheduler', "
                    f"{'NULL' if result is None else 'CAST(:result AS ' + _json(engine) + ')'}, "
                    "CURRENT_TIMESTAMP)"
                ),
                {} if result is None else {"result": result},
            )
        await apply_migrations(engine)
        async with Store(engine) as store:
            run = await store.get_run("r1")
    finally:
        await engine.dispose()

    assert run is not None
    assert run.skipped is skipped


def _json(engine: AsyncEngine) -> str:
    return "JSONB" if engine.dialect.name == "postgresql" else "TEXT"


async def test_the_migrated_schema_matches_the_declared_schema(engine: AsyncEngine) -> None:
    def differences(connection: sa.Connection) -> list[Any]:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        return list(compare_metadata(context, metadata))

    async with engine.connect() as connection:
        assert await connection.run_sync(differences) == []


async def test_check_schema_on_an_empty_database_names_the_command_to_run(
    blank_settings: Settings,
) -> None:
    engine = create_engine(blank_settings.database)
    try:
        with pytest.raises(SchemaOutdated, match=r"run `oss-bridge db upgrade`") as caught:
            await check_schema(engine)
    finally:
        await engine.dispose()
    assert "'0000'" in str(caught.value)


async def test_check_schema_accepts_a_migrated_database(engine: AsyncEngine) -> None:
    state = await check_schema(engine)

    assert (state.current, state.head, state.is_current) == (head_revision(), head_revision(), True)


async def test_a_store_on_an_empty_database_says_to_run_the_upgrade(
    blank_settings: Settings,
) -> None:
    async with Store.open(blank_settings.database) as store:
        with pytest.raises(SchemaOutdated, match=r"run `oss-bridge db upgrade`"):
            await store.list_standards()


async def _pretend_a_newer_version_migrated(engine: AsyncEngine) -> None:
    async with engine.begin() as connection:
        await connection.execute(sa.text("UPDATE alembic_version SET version_num = '9999'"))


async def test_a_database_migrated_by_a_newer_version_is_reported_as_ahead(
    own_engine: AsyncEngine,
) -> None:
    await _pretend_a_newer_version_migrated(own_engine)

    state = await inspect_schema(own_engine)

    assert (state.current, state.ahead, state.is_current) == ("9999", True, False)


async def test_check_schema_refuses_a_database_migrated_by_a_newer_version(
    own_engine: AsyncEngine,
) -> None:
    await _pretend_a_newer_version_migrated(own_engine)

    with pytest.raises(StoreError, match=r"newer than this oss-bridge knows") as caught:
        await check_schema(own_engine)
    assert not isinstance(caught.value, SchemaOutdated)


async def test_upgrade_refuses_a_database_migrated_by_a_newer_version(
    own_engine: AsyncEngine, blank_settings: Settings
) -> None:
    await _pretend_a_newer_version_migrated(own_engine)

    with pytest.raises(StoreError, match=r"'9999', newer than this oss-bridge knows"):
        await upgrade(blank_settings)


def test_revisions_are_numbered_in_one_line_from_0001() -> None:
    script = ScriptDirectory.from_config(alembic_config())
    revisions = list(reversed(list(script.walk_revisions())))

    assert [rev.revision for rev in revisions] == [f"{n:04d}" for n in range(1, len(revisions) + 1)]
    assert [rev.down_revision for rev in revisions] == [None] + [
        rev.revision for rev in revisions[:-1]
    ]


async def test_upgrade_creates_the_missing_directory_of_a_sqlite_file(tmp_path: Path) -> None:
    path = tmp_path / "var" / "nested" / "oss-bridge.db"

    await upgrade(Settings(database=DatabaseSettings(url=f"sqlite:///{path}")))

    assert path.is_file()
