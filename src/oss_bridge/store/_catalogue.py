"""Catalogue queries: service standards with their history, sync cursors and sync conflicts.

Every change of content writes three rows in one transaction: the current row, a row of the
append-only history, and an audit entry with the content before and after. Saving content whose
hash equals the current one writes nothing.

The base (what both sides last agreed on) is usually the content itself: it is then stored as
NULL beside its ``base_hash``, not as a second copy of the content (an entry OSS never had has
neither). A change of content that keeps the base writes the old content into ``base`` first.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from datetime import datetime
from typing import Any, get_args

import sqlalchemy as sa
from pydantic import ValidationError
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection

from oss_bridge.domain import ServiceStandard
from oss_bridge.domain.canonical import canonical_content, hash_content
from oss_bridge.errors import ConcurrentChange, InputError, NotFound, StoreError
from oss_bridge.store._audit import insert_audit
from oss_bridge.store._base import Queries, as_json, require_aware
from oss_bridge.store.records import (
    Change,
    Conflict,
    Origin,
    Resolution,
    SavedStandard,
    StandardVersion,
    StoredStandard,
    SyncCursor,
)
from oss_bridge.store.schema import (
    service_standard_versions,
    service_standards,
    sync_conflicts,
    sync_cursors,
)

ENTITY = "service_standard"

_standards = service_standards
_versions = service_standard_versions


class CatalogueQueries(Queries):
    # --- reading -------------------------------------------------------------------------------

    async def get_standard(self, code: str) -> StoredStandard | None:
        """The entry with ``code``, soft-deleted or not; ``None`` if there never was one."""
        async with self._read() as connection:
            row = (
                await connection.execute(sa.select(_standards).where(_standards.c.code == code))
            ).first()
        return None if row is None else _stored(row)

    async def list_standards(self, include_deleted: bool = False) -> list[StoredStandard]:
        """Every entry, ordered by code; soft-deleted ones only when ``include_deleted``."""
        query = sa.select(_standards).order_by(_standards.c.code)
        if not include_deleted:
            query = query.where(_standards.c.deleted_at.is_(None))
        async with self._read() as connection:
            rows = (await connection.execute(query)).all()
        return [_stored(row) for row in rows]

    async def list_dirty(self) -> list[StoredStandard]:
        """Entries whose local state OSS does not have yet, deletions included, ordered by code."""
        query = sa.select(_standards).where(_standards.c.dirty).order_by(_standards.c.code)
        async with self._read() as connection:
            rows = (await connection.execute(query)).all()
        return [_stored(row) for row in rows]

    async def list_versions(self, code: str) -> list[StandardVersion]:
        """The history of one entry, oldest first."""
        query = (
            sa.select(_versions).where(_versions.c.code == code).order_by(_versions.c.local_version)
        )
        async with self._read() as connection:
            rows = (await connection.execute(query)).all()
        return [
            StandardVersion(
                code=row.code,
                local_version=row.local_version,
                standard=_standard(row.content, row.code),
                content_hash=row.content_hash,
                origin=row.origin,
                actor=row.actor,
                created_at=row.created_at,
            )
            for row in rows
        ]

    # --- writing content -----------------------------------------------------------------------

    async def save_local_version(
        self,
        standard: ServiceStandard,
        *,
        origin: Origin,
        actor: str,
        expected_local_version: int | None = None,
    ) -> SavedStandard:
        """Store ``standard`` as a new local version, audited, in one transaction.

        The entry is dirty (to be pushed) unless its content equals the last agreed base.
        Unchanged content writes nothing and comes back with ``change == "unchanged"``;
        saving a soft-deleted entry restores it. With ``expected_local_version``, raises
        ``ConcurrentChange`` if the entry moved on since the caller read it.
        """
        _check_origin(origin)
        now = self._now()
        async with self._write() as connection:
            return await _save(
                connection,
                standard,
                origin=origin,
                actor=actor,
                now=now,
                expected_local_version=expected_local_version,
                agreed_versi=None,
            )

    async def apply_synced(
        self,
        standard: ServiceStandard,
        *,
        remote_versi: int,
        actor: str,
        origin: Origin = "oss",
        expected_local_version: int | None = None,
    ) -> SavedStandard:
        """Record ``standard`` as the content both sides now agree on, at OSS ``remote_versi``.

        Used after a pull (OSS content taken) and after a push (OSS accepted ours). The entry
        becomes clean, its base becomes this content, and a soft-deleted entry is restored.
        New content is versioned and audited as in ``save_local_version``; equal content only
        updates the sync bookkeeping (``change == "unchanged"``).
        """
        _check_origin(origin)
        now = self._now()
        async with self._write() as connection:
            return await _save(
                connection,
                standard,
                origin=origin,
                actor=actor,
                now=now,
                expected_local_version=expected_local_version,
                agreed_versi=remote_versi,
            )

    async def mark_deleted(
        self, code: str, *, actor: str, remote_versi: int | None = None
    ) -> StoredStandard:
        """Soft-delete the entry: it leaves ``list_standards`` but keeps its row and history.

        Without ``remote_versi`` this is a local deletion, to be pushed (dirty). With it, OSS
        deactivated the entry at that versi, so both sides agree and nothing is to be pushed.
        Deleting a deleted entry changes nothing. Raises ``NotFound`` for an unknown code.
        """
        now = self._now()
        async with self._write() as connection:
            current = await _lock(connection, code)
            if current is None:
                raise NotFound(f"no service standard with code {code!r}; check the code")
            values: dict[str, Any] = {"dirty": remote_versi is None, "updated_at": now}
            if remote_versi is not None:
                values.update(remote_versi=remote_versi, synced_at=now)
            if current.deleted_at is not None:
                if remote_versi is None or (
                    current.remote_versi == remote_versi and not current.dirty
                ):
                    return _stored(current)
            else:
                values["deleted_at"] = now
            row = (
                await connection.execute(
                    sa.update(_standards)
                    .where(_standards.c.code == code)
                    .values(**values)
                    .returning(*_standards.c)
                )
            ).one()
            if current.deleted_at is None:
                await insert_audit(
                    connection,
                    at=now,
                    actor=actor,
                    action="delete",
                    entity_type=ENTITY,
                    entity_id=code,
                    before=current.content,
                    after=None,
                    detail={"from_remote": remote_versi is not None, "remote_versi": remote_versi},
                )
            return _stored(row)

    # --- cursors -------------------------------------------------------------------------------

    async def get_cursor(self, name: str) -> SyncCursor | None:
        async with self._read() as connection:
            row = (
                await connection.execute(sa.select(sync_cursors).where(sync_cursors.c.name == name))
            ).first()
        return None if row is None else _cursor(row)

    async def save_cursor(
        self, name: str, sejak: datetime | None, cursor: str | None
    ) -> SyncCursor:
        """Remember where the pull named ``name`` stopped, replacing what was there."""
        (saved,) = await self.save_cursors({name: (sejak, cursor)})
        return saved

    async def save_cursors(
        self, cursors: Mapping[str, tuple[datetime | None, str | None]]
    ) -> list[SyncCursor]:
        """``save_cursor`` for each name, given its ``(sejak, cursor)``, in one statement."""
        for sejak, _ in cursors.values():
            require_aware(sejak, "sejak")
        now = self._now()
        saved = [
            SyncCursor(name=name, sejak=sejak, cursor=cursor, updated_at=now)
            for name, (sejak, cursor) in cursors.items()
        ]
        if not saved:
            return saved
        rows = [
            {"name": c.name, "sejak": c.sejak, "cursor": c.cursor, "updated_at": now} for c in saved
        ]
        async with self._write() as connection:
            await connection.execute(_cursor_upsert(connection.dialect.name), rows)
        return saved

    # --- conflicts -----------------------------------------------------------------------------

    async def add_conflict(
        self,
        *,
        code: str,
        field: str,
        base: Any,
        local: Any,
        remote: Any,
        remote_versi: int | None,
        actor: str,
    ) -> Conflict:
        """Keep a conflict on ``field`` of entry ``code`` for staff to resolve; audited.

        One field of one entry has at most one open conflict: if it already has one, that one
        is refreshed with these values (and audited only if they differ). Raises ``NotFound``
        for an unknown code.
        """
        now = self._now()
        # Compared with what the database gives back, so tuples must already be lists.
        base, local, remote = as_json(base), as_json(local), as_json(remote)
        values = {"base": base, "local": local, "remote": remote, "remote_versi": remote_versi}
        async with self._write() as connection:
            if await _lock(connection, code) is None:
                raise NotFound(f"no service standard with code {code!r}; cannot record a conflict")
            existing = (
                await connection.execute(
                    sa.select(sync_conflicts)
                    .where(
                        sync_conflicts.c.code == code,
                        sync_conflicts.c.field == field,
                        sync_conflicts.c.resolved_at.is_(None),
                    )
                    .with_for_update()
                )
            ).first()
            if existing is not None and all(
                getattr(existing, key) == value for key, value in values.items()
            ):
                return _conflict(existing)
            if existing is None:
                statement: Any = sa.insert(sync_conflicts).values(
                    code=code, field=field, created_at=now, **values
                )
            else:
                statement = (
                    sa.update(sync_conflicts)
                    .where(sync_conflicts.c.id == existing.id)
                    .values(**values)
                )
            row = (await connection.execute(statement.returning(*sync_conflicts.c))).one()
            await insert_audit(
                connection,
                at=now,
                actor=actor,
                action="conflict",
                entity_type=ENTITY,
                entity_id=code,
                before=local,
                after=remote,
                detail={
                    "conflict_id": row.id,
                    "field": field,
                    "base": base,
                    "remote_versi": remote_versi,
                    "refreshed": existing is not None,
                },
            )
            return _conflict(row)

    async def get_conflict(self, conflict_id: int) -> Conflict | None:
        async with self._read() as connection:
            row = (
                await connection.execute(
                    sa.select(sync_conflicts).where(sync_conflicts.c.id == conflict_id)
                )
            ).first()
        return None if row is None else _conflict(row)

    async def list_conflicts(
        self, open_only: bool = True, *, code: str | None = None
    ) -> list[Conflict]:
        """Conflicts oldest first; only unresolved ones when ``open_only``."""
        query = sa.select(sync_conflicts).order_by(sync_conflicts.c.id)
        if open_only:
            query = query.where(sync_conflicts.c.resolved_at.is_(None))
        if code is not None:
            query = query.where(sync_conflicts.c.code == code)
        async with self._read() as connection:
            rows = (await connection.execute(query)).all()
        return [_conflict(row) for row in rows]

    async def resolve_conflict(
        self, conflict_id: int, *, resolution: Resolution, resolved_by: str
    ) -> Conflict:
        """Record which side staff took; audited. Applying that side's value is the caller's.

        Raises ``NotFound`` for an unknown id and ``InputError`` for a resolved conflict or a
        resolution other than ``local`` or ``remote``.
        """
        if resolution not in get_args(Resolution):
            raise InputError(f"resolution {resolution!r} must be 'local' or 'remote'")
        now = self._now()
        async with self._write() as connection:
            current = (
                await connection.execute(
                    sa.select(sync_conflicts)
                    .where(sync_conflicts.c.id == conflict_id)
                    .with_for_update()
                )
            ).first()
            if current is None:
                raise NotFound(
                    f"no conflict with id {conflict_id!r}; list them with "
                    "`oss-bridge catalogue conflicts`"
                )
            if current.resolved_at is not None:
                raise InputError(
                    f"conflict {conflict_id!r} was already resolved by {current.resolved_by!r} "
                    f"(took {current.resolution}); list the open ones with "
                    "`oss-bridge catalogue conflicts`"
                )
            row = (
                await connection.execute(
                    sa.update(sync_conflicts)
                    .where(sync_conflicts.c.id == conflict_id)
                    .values(resolved_at=now, resolution=resolution, resolved_by=resolved_by)
                    .returning(*sync_conflicts.c)
                )
            ).one()
            await insert_audit(
                connection,
                at=now,
                actor=resolved_by,
                action="resolve",
                entity_type=ENTITY,
                entity_id=row.code,
                before=row.local,
                after=row.local if resolution == "local" else row.remote,
                detail={"conflict_id": row.id, "field": row.field, "resolution": resolution},
            )
            return _conflict(row)


# --- statements shared by the methods above ----------------------------------------------------

_KEPT_BASE = sa.case(
    (
        _standards.c.base_hash.is_not(None),
        sa.func.coalesce(_standards.c.base, _standards.c.content),
    ),
    else_=_standards.c.base,
)
"""The value of ``base`` for an UPDATE that changes the content and keeps the base.

A base stored as the content itself (see the module docstring) becomes the old content; SQL
reads the old row on the right of ``SET``.
"""


@functools.cache
def _cursor_upsert(dialect: str) -> sa.Executable:
    """INSERT a cursor, or UPDATE the one of that name (built once per dialect)."""
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    statement = insert(sync_cursors)
    return statement.on_conflict_do_update(
        index_elements=[sync_cursors.c.name],
        set_={name: statement.excluded[name] for name in ("sejak", "cursor", "updated_at")},
    )


async def _lock(connection: AsyncConnection, code: str) -> sa.Row[Any] | None:
    """The current row of ``code``, locked until the transaction ends (PostgreSQL)."""
    query = sa.select(_standards).where(_standards.c.code == code).with_for_update()
    return (await connection.execute(query)).first()


async def _save(
    connection: AsyncConnection,
    standard: ServiceStandard,
    *,
    origin: Origin,
    actor: str,
    now: datetime,
    expected_local_version: int | None,
    agreed_versi: int | None,
) -> SavedStandard:
    """Save local content (``agreed_versi`` None) or content both sides agree on."""
    content = canonical_content(standard)
    digest = hash_content(content)
    # A second round only follows a lost race to create the entry; it then sees the winner's row.
    for _ in range(2):
        current = await _lock(connection, standard.code)
        _check_expected(current, standard.code, expected_local_version)
        if agreed_versi is None:
            if current is not None and _same_live_content(current, digest):
                return _saved(current, "unchanged")
            base_hash = None if current is None else current.base_hash
            bookkeeping: dict[str, Any] = {"dirty": digest != base_hash}
        else:
            bookkeeping = {
                "remote_versi": agreed_versi,
                "base": None,  # the content itself; see the module docstring
                "base_hash": digest,
                "dirty": False,
                "synced_at": now,
            }
            if current is not None and _same_live_content(current, digest):
                if (
                    current.remote_versi == agreed_versi
                    and current.base_hash == digest
                    and not current.dirty
                ):
                    return _saved(current, "unchanged")
                row = (
                    await connection.execute(
                        sa.update(_standards)
                        .where(_standards.c.code == standard.code)
                        .values(updated_at=now, **bookkeeping)
                        .returning(*_standards.c)
                    )
                ).one()
                return _saved(row, "unchanged")
        saved = await _write_content(
            connection,
            current,
            content,
            digest,
            origin=origin,
            actor=actor,
            now=now,
            bookkeeping=bookkeeping,
        )
        if saved is not None:
            return saved
    raise ConcurrentChange(
        f"service standard {standard.code!r} kept changing while being saved; try again"
    )


async def _write_content(
    connection: AsyncConnection,
    current: sa.Row[Any] | None,
    content: dict[str, Any],
    digest: str,
    *,
    origin: Origin,
    actor: str,
    now: datetime,
    bookkeeping: dict[str, Any],
) -> SavedStandard | None:
    """Write new content with its history row and audit entry.

    Returns ``None``, having written nothing, when ``current`` is ``None`` but another
    transaction created the entry meanwhile.
    """
    code = content["code"]
    version = 1 if current is None else current.local_version + 1
    values = {
        "content": content,
        "content_hash": digest,
        "local_version": version,
        "origin": origin,
        "deleted_at": None,
        "updated_at": now,
        **bookkeeping,
    }
    if current is None:
        insert = sa.insert(_standards).values(code=code, created_at=now, **values)
        try:
            # In a savepoint, so that losing the race leaves the transaction usable.
            async with connection.begin_nested():
                row = (await connection.execute(insert.returning(*_standards.c))).one()
        except sa.exc.IntegrityError:
            return None
    else:
        if "base" not in values:
            values["base"] = _KEPT_BASE
        update = sa.update(_standards).where(_standards.c.code == code).values(**values)
        row = (await connection.execute(update.returning(*_standards.c))).one()
    await connection.execute(
        sa.insert(_versions).values(
            code=code,
            local_version=version,
            content=content,
            content_hash=digest,
            origin=origin,
            actor=actor,
            created_at=now,
        )
    )
    detail: dict[str, Any] = {"origin": origin, "local_version": version}
    if current is not None and current.deleted_at is not None:
        detail["restored"] = True
    await insert_audit(
        connection,
        at=now,
        actor=actor,
        action="create" if current is None else "update",
        entity_type=ENTITY,
        entity_id=code,
        before=None if current is None else current.content,
        after=content,
        detail=detail,
    )
    change: Change = "created" if current is None else "updated"
    return _saved(row, change)


def _same_live_content(current: sa.Row[Any], digest: str) -> bool:
    return bool(current.content_hash == digest and current.deleted_at is None)


def _check_expected(current: sa.Row[Any] | None, code: str, expected: int | None) -> None:
    if expected is None:
        return
    actual = None if current is None else current.local_version
    if actual != expected:
        raise ConcurrentChange(
            f"service standard {code!r} is at local version {actual!r}, not {expected!r} as "
            "read; it changed meanwhile, so reload it and decide again"
        )


def _check_origin(origin: str) -> None:
    if origin not in get_args(Origin):
        raise ValueError(f"origin {origin!r} must be one of {', '.join(get_args(Origin))}")


def _standard(content: Any, code: str) -> ServiceStandard:
    try:
        return ServiceStandard.model_validate(content)
    except ValidationError as error:
        raise StoreError(
            f"the stored content of service standard {code!r} no longer validates "
            f"({error.error_count()} errors); run `oss-bridge db upgrade`, or re-import the entry"
        ) from error


def _stored(row: sa.Row[Any]) -> StoredStandard:
    return StoredStandard(**_stored_fields(row))


def _saved(row: sa.Row[Any], change: Change) -> SavedStandard:
    return SavedStandard(**_stored_fields(row), change=change)


def _stored_fields(row: sa.Row[Any]) -> dict[str, Any]:
    standard = _standard(row.content, row.code)
    return {
        "standard": standard,
        "content_hash": row.content_hash,
        "local_version": row.local_version,
        "remote_versi": row.remote_versi,
        "base": _base(row, standard),
        "base_hash": row.base_hash,
        "origin": row.origin,
        "dirty": row.dirty,
        "deleted_at": row.deleted_at,
        "created_at": row.created_at,
        "updated_at": row.updated_at,
        "synced_at": row.synced_at,
    }


def _base(row: sa.Row[Any], standard: ServiceStandard) -> ServiceStandard | None:
    if row.base is not None:
        return _standard(row.base, row.code)
    if row.base_hash is not None:
        return standard  # stored as the content itself; see the module docstring
    return None


def _cursor(row: sa.Row[Any]) -> SyncCursor:
    return SyncCursor(name=row.name, sejak=row.sejak, cursor=row.cursor, updated_at=row.updated_at)


def _conflict(row: sa.Row[Any]) -> Conflict:
    return Conflict(
        id=row.id,
        code=row.code,
        field=row.field,
        base=row.base,
        local=row.local,
        remote=row.remote,
        remote_versi=row.remote_versi,
        created_at=row.created_at,
        resolved_at=row.resolved_at,
        resolution=row.resolution,
        resolved_by=row.resolved_by,
    )
