"""Alembic migrations of the oss-bridge schema, shipped with the package.

Applied by ``oss_bridge.store.upgrade`` (the ``oss-bridge db upgrade`` command); no
``alembic.ini`` is involved. To write the next revision against a scratch database::

    from alembic import command
    from oss_bridge.store.migrate import alembic_config

    config = alembic_config("sqlite+aiosqlite:///var/scratch.db")
    command.upgrade(config, "head")
    command.revision(config, message="what changes", autogenerate=True, rev_id="0002")

then edit the generated file into explicit operations and keep ``schema.py`` in step: the test
suite checks that the migrated schema equals ``oss_bridge.store.schema.metadata``.
"""
