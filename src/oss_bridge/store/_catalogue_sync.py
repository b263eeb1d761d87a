"""Catalogue queries for the sync, a page of entries at a time.

The per-entry methods of ``CatalogueQueries`` cost a few statements each, which is what a clerk's
edit needs; a sync pulling thousands of entries reads and writes each page of them in a handful
of statements instead. The rows written are the same: the current row, a history row for every
change of content and an audit entry with the content before and after.
"""

from __future__ import annotations

import typing
from collections.abc import Collection, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from pydantic import BaseModel
from sqlalchemy.ext.asyncio import AsyncConnection

from oss_bridge.domain import ServiceStandard
from oss_bridge.errors import ConcurrentChange
from oss_bridge.store._base import Queries
from oss_bridge.store._catalogue import ENTITY, _check_origin, _stored
from oss_bridge.store.hashing import _decimal_text, canonical_content, hash_content
from oss_bridge.store.records import Change, Origin, StoredStandard
from oss_bridge.store.schema import audit_log, service_standard_versions, service_standards

# Well below SQLite's smallest limit on bound parameters (999), above any OSS page (1000 max).
_CHUNK = 500

_standards = service_standards


@dataclass(frozen=True, slots=True)
class SyncMark:
    """What a sync needs to know of an entry before it decides to read it whole."""

    code: str
    local_version: int
    remote_versi: int | None
    dirty: bool
    deleted: bool


@dataclass(frozen=True, slots=True)
class SyncWrite:
    """The outcome of a sync decision for one entry.

    ``standard`` is the content the region holds from now on; ``status == "inactive"`` means the
    entry is soft-deleted. ``base`` is the content OSS holds at ``remote_versi`` (with the
    region's local-only fields), i.e. the new base of the three-way comparison; ``None`` means
    OSS holds exactly ``standard``. The entry is dirty (to be pushed) when the two differ.
    ``expected_local_version`` is the local version the decision was made on, ``None`` when the
    entry did not exist; if the entry moved on meanwhile the write is refused.
    """

    standard: ServiceStandard
    remote_versi: int | None
    expected_local_version: int | None
    base: ServiceStandard | None = None

    @property
    def code(self) -> str:
        return self.standard.code


Path = tuple[str, ...]


def _decimal_paths(model: type[BaseModel], prefix: Path = ()) -> list[Path] | None:
    """Where ``model`` holds decimals, as attribute paths; None if one sits in a container.

    ``canonical_content`` finds the decimals by walking every value of a standard; knowing where
    they are spares that walk, which is most of the cost of a page's hashes.
    """
    paths: list[Path] = []
    for name, info in model.model_fields.items():
        annotation = info.annotation
        if annotation is Decimal:
            paths.append((*prefix, name))
        elif isinstance(annotation, type) and issubclass(annotation, BaseModel):
            inner = _decimal_paths(annotation, (*prefix, name))
            if inner is None:
                return None
            paths.extend(inner)
        elif _mentions_decimal_or_model(annotation):
            return None
    return paths


def _mentions_decimal_or_model(annotation: Any) -> bool:
    if annotation is Decimal or (
        isinstance(annotation, type) and issubclass(annotation, BaseModel)
    ):
        return True
    return any(_mentions_decimal_or_model(arg) for arg in typing.get_args(annotation))


_DECIMALS = _decimal_paths(ServiceStandard)


def canonical(standard: ServiceStandard) -> dict[str, Any]:
    """Exactly ``canonical_content(standard)``, computed faster (see ``_decimal_paths``)."""
    if _DECIMALS is None:
        return canonical_content(standard)
    data: dict[str, Any] = standard.model_dump(mode="json")
    for path in _DECIMALS:
        value: Any = standard
        target = data
        for key in path[:-1]:
            value = getattr(value, key)
            target = target[key]
        amount = getattr(value, path[-1])
        if amount is not None:
            target[path[-1]] = _decimal_text(amount)
    return data


def _chunks(codes: Collection[str]) -> Iterator[list[str]]:
    ordered = sorted(set(codes))
    for start in range(0, len(ordered), _CHUNK):
        yield ordered[start : start + _CHUNK]


class CatalogueSyncQueries(Queries):
    async def sync_marks(self, codes: Collection[str]) -> dict[str, SyncMark]:
        """The sync bookkeeping of the entries among ``codes`` that exist, soft-deleted or not."""
        columns = (
            _standards.c.code,
            _standards.c.local_version,
            _standards.c.remote_versi,
            _standards.c.dirty,
            _standards.c.deleted_at,
        )
        marks: dict[str, SyncMark] = {}
        async with self._read() as connection:
            for chunk in _chunks(codes):
                rows = await connection.execute(
                    sa.select(*columns).where(_standards.c.code.in_(chunk))
                )
                for row in rows:
                    marks[row.code] = SyncMark(
                        code=row.code,
                        local_version=row.local_version,
                        remote_versi=row.remote_versi,
                        dirty=row.dirty,
                        deleted=row.deleted_at is not None,
                    )
        return marks

    async def get_standards(self, codes: Collection[str]) -> dict[str, StoredStandard]:
        """The entries among ``codes`` that exist, soft-deleted or not, by code.

        Inside a transaction the rows stay locked until it ends (PostgreSQL), as ``get_standard``
        would not.
        """
        found: dict[str, StoredStandard] = {}
        async with self._read() as connection:
            for chunk in _chunks(codes):
                rows = await connection.execute(
                    sa.select(_standards).where(_standards.c.code.in_(chunk)).with_for_update()
                )
                for row in rows:
                    found[row.code] = _stored(row)
        return found

    async def save_synced(
        self, writes: Sequence[SyncWrite], *, actor: str, origin: Origin = "oss"
    ) -> list[Change]:
        """Apply sync decisions to several entries in one transaction; see ``SyncWrite``.

        Returns, in the order of ``writes``, whether each entry was created, changed or kept its
        content (its sync bookkeeping is updated in every case). New content is versioned and
        audited like ``save_local_version``; an entry soft-deleted by its new status gets a
        ``delete`` audit entry, one restored gets ``restored`` in its ``update`` entry. Raises
        ``ConcurrentChange`` (writing nothing) when an entry is not at its expected local version,
        and ``ValueError`` when a code appears twice.
        """
        _check_origin(origin)
        codes = [write.code for write in writes]
        if len(set(codes)) != len(codes):
            raise ValueError(f"each entry may be written once per call; got codes {codes!r}")
        if not writes:
            return []
        now = self._now()
        async with self._write() as connection:
            current = await _lock_rows(connection, codes)
            plan = _Plan(now=now, actor=actor, origin=origin)
            changes = [plan.add(write, current.get(write.code)) for write in writes]
            await plan.execute(connection)
        return changes


async def _lock_rows(connection: AsyncConnection, codes: Sequence[str]) -> dict[str, sa.Row[Any]]:
    rows: dict[str, sa.Row[Any]] = {}
    for chunk in _chunks(codes):
        result = await connection.execute(
            sa.select(_standards).where(_standards.c.code.in_(chunk)).with_for_update()
        )
        rows.update((row.code, row) for row in result)
    return rows


class _Plan:
    """The statements of one ``save_synced`` call, gathered so that each kind runs once."""

    def __init__(self, *, now: datetime, actor: str, origin: Origin) -> None:
        self.now = now
        self.actor = actor
        self.origin = origin
        self.inserts: list[dict[str, Any]] = []
        self.content_updates: list[dict[str, Any]] = []
        self.bookkeeping_updates: list[dict[str, Any]] = []
        self.versions: list[dict[str, Any]] = []
        self.audits: list[dict[str, Any]] = []

    def add(self, write: SyncWrite, row: sa.Row[Any] | None) -> Change:
        code = write.code
        actual = None if row is None else row.local_version
        if actual != write.expected_local_version:
            raise ConcurrentChange(
                f"service standard {code!r} is at local version {actual!r}, not "
                f"{write.expected_local_version!r} as read; it changed meanwhile, so run the "
                "sync again"
            )
        content = canonical(write.standard)
        digest = hash_content(content)
        if write.base is None:
            base, base_digest = content, digest
        else:
            base = canonical(write.base)
            base_digest = hash_content(base)
        deleting = write.standard.status == "inactive"
        was_deleted = row is not None and row.deleted_at is not None
        deleted_at = None
        if deleting:
            deleted_at = row.deleted_at if row is not None and was_deleted else self.now
        bookkeeping = {
            "remote_versi": write.remote_versi,
            "base": base,
            "base_hash": base_digest,
            "dirty": digest != base_digest,
            "synced_at": self.now,
            "deleted_at": deleted_at,
            "updated_at": self.now,
        }
        change: Change
        if row is None:
            change = "created"
            version = 1
            self.inserts.append(
                {
                    "code": code,
                    "content": content,
                    "content_hash": digest,
                    "local_version": version,
                    "origin": self.origin,
                    "created_at": self.now,
                    **bookkeeping,
                }
            )
        elif row.content_hash != digest:
            change = "updated"
            version = row.local_version + 1
            self.content_updates.append(
                {
                    "b_code": code,
                    "content": content,
                    "content_hash": digest,
                    "local_version": version,
                    "origin": self.origin,
                    **bookkeeping,
                }
            )
        else:
            change = "unchanged"
            self.bookkeeping_updates.append({"b_code": code, **bookkeeping})
        if change != "unchanged":
            self.versions.append(
                {
                    "code": code,
                    "local_version": version,
                    "content": content,
                    "content_hash": digest,
                    "origin": self.origin,
                    "actor": self.actor,
                    "created_at": self.now,
                }
            )
            detail: dict[str, Any] = {"origin": self.origin, "local_version": version}
            if was_deleted and not deleting:
                detail["restored"] = True
            self._audit(
                "create" if row is None else "update",
                code,
                before=None if row is None else row.content,
                after=content,
                detail=detail,
            )
        if deleting and not was_deleted:
            self._audit(
                "delete",
                code,
                before=content,
                after=None,
                # Only OSS deletes through a sync; a local deletion is ``mark_deleted``'s.
                detail={"from_remote": True, "remote_versi": write.remote_versi},
            )
        return change

    def _audit(self, action: str, code: str, *, before: Any, after: Any, detail: Any) -> None:
        self.audits.append(
            {
                "at": self.now,
                "actor": self.actor,
                "action": action,
                "entity_type": ENTITY,
                "entity_id": code,
                "before": before,
                "after": after,
                "detail": detail,
            }
        )

    async def execute(self, connection: AsyncConnection) -> None:
        by_code = _standards.c.code == sa.bindparam("b_code")
        if self.inserts:
            await connection.execute(sa.insert(_standards), self.inserts)
        if self.content_updates:
            await connection.execute(sa.update(_standards).where(by_code), self.content_updates)
        if self.bookkeeping_updates:
            await connection.execute(sa.update(_standards).where(by_code), self.bookkeeping_updates)
        if self.versions:
            await connection.execute(sa.insert(service_standard_versions), self.versions)
        if self.audits:
            await connection.execute(sa.insert(audit_log), self.audits)
