"""Schema migrations: apply them, and check that a database is at the revision the code needs.

The Alembic scripts ship inside the package (``oss_bridge/store/migrations``) and the Alembic
configuration is built here in code, so a plain install needs no ``alembic.ini``. Revisions are
numbered ``0001``, ``0002``, ...; an empty database is shown as ``0000``.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.ext.asyncio import AsyncEngine

from oss_bridge.config import Settings
from oss_bridge.errors import SchemaOutdated, StoreError
from oss_bridge.store._engine import (
    WRITE_OPTION,
    create_engine,
    display_url,
    parse_url,
    sqlite_file,
    translated_errors,
)

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
EMPTY_REVISION = "0000"

# Serialises concurrent upgrades of one PostgreSQL database (several instances starting at once).
_PG_MIGRATION_LOCK = 0x0055_B21D


@dataclass(frozen=True, slots=True)
class SchemaState:
    """The revision a database is at (``None`` when it has no schema) and the code's head.

    ``ahead`` says the database is at a revision this code does not know: a newer oss-bridge
    migrated it.
    """

    database: str
    current: str | None
    head: str
    ahead: bool = False

    @property
    def is_current(self) -> bool:
        return self.current == self.head

    @property
    def current_label(self) -> str:
        return self.current or EMPTY_REVISION


@dataclass(frozen=True, slots=True)
class UpgradeResult:
    """What ``upgrade`` did: the revisions before and after, and whether anything changed."""

    database: str
    from_revision: str | None
    to_revision: str

    @property
    def changed(self) -> bool:
        return self.from_revision != self.to_revision

    @property
    def from_label(self) -> str:
        return self.from_revision or EMPTY_REVISION


def alembic_config(url: str | None = None) -> Config:
    """An Alembic ``Config`` for the packaged migrations; ``url`` is only needed for
    Alembic commands run without a connection, such as writing a new revision."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    if url is not None:
        config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def head_revision() -> str:
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    if head is None:  # only if the package was installed without its migrations
        raise StoreError(f"no migrations found in {str(MIGRATIONS_DIR)!r}; reinstall oss-bridge")
    return head


async def upgrade(settings: Settings) -> UpgradeResult:
    """Create or migrate the schema of ``settings.database``; safe to repeat.

    Raises ``DatabaseUnavailable`` when the database cannot be reached.
    """
    engine = create_engine(settings.database)
    try:
        return await apply_migrations(engine)
    finally:
        await engine.dispose()


async def apply_migrations(engine: AsyncEngine) -> UpgradeResult:
    """Bring the database behind ``engine`` to the head revision, in one transaction."""
    writer = engine.execution_options(**{WRITE_OPTION: True})
    with translated_errors(engine.url):
        async with writer.begin() as connection:
            before, after = await connection.run_sync(_upgrade_sync)
    return UpgradeResult(database=display_url(engine.url), from_revision=before, to_revision=after)


def _upgrade_sync(connection: sa.Connection) -> tuple[str | None, str]:
    if connection.dialect.name == "postgresql":
        connection.execute(sa.select(sa.func.pg_advisory_xact_lock(_PG_MIGRATION_LOCK)))
    before = MigrationContext.configure(connection).get_current_revision()
    if before is not None and not _known_revision(before):
        raise _ahead_error(display_url(connection.engine.url), before)
    config = alembic_config()
    config.attributes["connection"] = connection
    command.upgrade(config, "head")
    after = MigrationContext.configure(connection).get_current_revision()
    assert after is not None, "alembic upgrade left no revision behind"
    return before, after


async def inspect_schema(engine: AsyncEngine) -> SchemaState:
    """The revision the database is at, compared with the code's head; raises nothing about it."""
    with translated_errors(engine.url):
        async with engine.connect() as connection:
            current = await connection.run_sync(_current_revision)
    return SchemaState(
        database=display_url(engine.url),
        current=current,
        head=head_revision(),
        ahead=current is not None and not _known_revision(current),
    )


async def check_schema(engine: AsyncEngine) -> SchemaState:
    """The schema state if the database is at the code's head revision.

    Raises ``SchemaOutdated`` naming the command to run when the schema is missing or behind,
    ``StoreError`` when the database was migrated by a newer oss-bridge, and
    ``DatabaseUnavailable`` when it cannot be reached.
    """
    state = await inspect_schema(engine)
    if state.is_current:
        return state
    if state.ahead:
        raise _ahead_error(state.database, state.current_label)
    raise SchemaOutdated(
        f"the database {state.database!r} is at schema revision {state.current_label!r}, "
        f"this oss-bridge needs {state.head!r}; run `oss-bridge db upgrade`"
    )


async def schema_state(settings: Settings) -> SchemaState:
    """``inspect_schema`` for the database named by ``settings``, with its own short-lived engine.

    A SQLite file that does not exist is reported as empty and is not created.
    """
    url = parse_url(settings.database.url)
    path = sqlite_file(url) if url.get_backend_name() == "sqlite" else None
    if path is not None and not path.exists():
        return SchemaState(database=display_url(url), current=None, head=head_revision())
    engine = create_engine(settings.database)
    try:
        return await inspect_schema(engine)
    finally:
        await engine.dispose()


def _current_revision(connection: sa.Connection) -> str | None:
    return MigrationContext.configure(connection).get_current_revision()


def _ahead_error(database: str, revision: str) -> StoreError:
    return StoreError(
        f"the database {database!r} is at schema revision {revision!r}, newer than this "
        f"oss-bridge knows (head {head_revision()!r}); install the oss-bridge version that "
        "migrated it"
    )


def _known_revision(revision: str) -> bool:
    script = ScriptDirectory.from_config(alembic_config())
    return any(rev.revision == revision for rev in script.walk_revisions())
