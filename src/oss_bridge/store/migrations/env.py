"""Alembic environment: runs the migrations on the connection ``oss_bridge.store.migrate`` passes.

Run without a connection (an Alembic command given only ``sqlalchemy.url``), it opens the
async engine itself; with ``--sql`` it writes the SQL instead of executing it.
"""

from __future__ import annotations

import asyncio

import sqlalchemy as sa
from alembic import context

from oss_bridge.config import DatabaseSettings
from oss_bridge.store._engine import WRITE_OPTION, create_engine
from oss_bridge.store.schema import metadata

config = context.config


def _configure_and_run(connection: sa.Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=metadata,
        # SQLite alters tables by copying them; batch mode lets later revisions do that.
        render_as_batch=connection.dialect.name == "sqlite",
    )
    with context.begin_transaction():
        context.run_migrations()


async def _run_with_own_engine(url: str) -> None:
    engine = create_engine(DatabaseSettings(url=url)).execution_options(**{WRITE_OPTION: True})
    try:
        async with engine.begin() as connection:
            await connection.run_sync(_configure_and_run)
    finally:
        await engine.dispose()


def _run_offline(url: str) -> None:
    context.configure(url=url, target_metadata=metadata, literal_binds=True)
    with context.begin_transaction():
        context.run_migrations()


given: sa.Connection | None = config.attributes.get("connection")
if given is not None:
    _configure_and_run(given)
else:
    url = config.get_main_option("sqlalchemy.url")
    if not url:
        raise RuntimeError(
            "no database to migrate: pass a connection in config.attributes['connection'] "
            "or set sqlalchemy.url (see oss_bridge.store.migrate.alembic_config)"
        )
    if context.is_offline_mode():
        _run_offline(url)
    else:
        asyncio.run(_run_with_own_engine(url))
