"""Catalogue queries for the sync, a page of entries at a time.

The per-entry methods of ``CatalogueQueries`` cost a few statements each, which is what a clerk's
edit needs; a sync pulling thousands of entries reads and writes each page of them in a handful
of statements instead. The rows written are the same: the current row, a history row for every
change of content and an audit entry with the content before and after.

What a page costs is kept to what the database must do: each content is serialised once
(``canonical_text``) and that text stored as it is, new rows go to the driver's executemany
without SQLAlchemy's per-value processing (``_insert_rows``), history rows and the audit entries
of creations are copied from the rows just written in SQL, and statements are built once.
"""

from __future__ import annotations

import types
import typing
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any, TypeGuard

import sqlalchemy as sa
from pydantic import BaseModel, PlainSerializer, WrapSerializer
from pydantic_core import PydanticSerializationError, to_json
from sqlalchemy.dialects import postgresql
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.sql.compiler import SQLCompiler

from oss_bridge.domain import ServiceStandard
from oss_bridge.domain.canonical import (
    CanonicalStandard,
    canonical_content,
    canonical_json,
    decimal_text,
    hash_text,
)
from oss_bridge.errors import ConcurrentChange
from oss_bridge.store._base import Queries
from oss_bridge.store._catalogue import ENTITY, _check_origin, _stored
from oss_bridge.store._types import UTCDateTime, json_type
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
    entry did not exist; if the entry moved on meanwhile the write is refused. A
    ``CanonicalStandard`` is stored as the content and text it holds.
    """

    standard: ServiceStandard | CanonicalStandard
    remote_versi: int | None
    expected_local_version: int | None
    base: ServiceStandard | None = None

    @property
    def code(self) -> str:
        return self.standard.code

    @property
    def status(self) -> str:
        return self.standard.status


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
            target[path[-1]] = decimal_text(amount)
    return data


# How ``canonical_text`` writes a model: its field names in sorted order, each with the shape of
# a nested model, ``_DECIMAL`` for a decimal, or None for a value written as it is.
_DECIMAL = "decimal"
Shape = tuple[tuple[str, "Shape | str | None"], ...]

_PLAIN_TYPES: tuple[Any, ...] = (str, int, bool, type(None))
_SERIALIZERS = (PlainSerializer, WrapSerializer)


def _shape(model: type[BaseModel]) -> Shape | None:
    """The shape of ``model`` (see ``Shape``), or None when its JSON dump cannot be written
    straight from its attributes by ``pydantic_core.to_json`` exactly as ``canonical_json``
    writes ``canonical_content``: a field of another type than text, integers, booleans, null,
    tuples of them, decimals and nested such models; a serializer, alias or computed field.
    """
    decorators = model.__pydantic_decorators__
    if (
        decorators.field_serializers
        or decorators.model_serializers
        or decorators.computed_fields
        or model.model_config.get("serialize_by_alias")
    ):
        return None
    shape: list[tuple[str, Shape | str | None]] = []
    for name in sorted(model.model_fields):
        info = model.model_fields[name]
        annotation = info.annotation
        if info.exclude or info.serialization_alias is not None:
            return None
        if _is_model(annotation):
            inner = _shape(annotation)
            if inner is None:
                return None
            shape.append((name, inner))
        elif annotation is Decimal:
            # Written as canonical text, whatever its own serializer would write.
            shape.append((name, _DECIMAL))
        elif _plain(annotation) and not _has_serializer(info.metadata):
            shape.append((name, None))
        else:
            return None
    return tuple(shape)


def _is_model(annotation: Any) -> TypeGuard[type[BaseModel]]:
    return isinstance(annotation, type) and issubclass(annotation, BaseModel)


def _has_serializer(metadata: Iterable[Any]) -> bool:
    return any(isinstance(item, _SERIALIZERS) for item in metadata)


def _plain(annotation: Any) -> bool:
    if annotation in _PLAIN_TYPES:
        return True
    origin = typing.get_origin(annotation)
    args = typing.get_args(annotation)
    if origin is typing.Literal:
        return all(type(arg) in _PLAIN_TYPES for arg in args)
    if origin is typing.Annotated:
        return _plain(args[0]) and not _has_serializer(args[1:])
    if origin is tuple and len(args) == 2 and args[1] is Ellipsis:
        return _plain(args[0])
    if origin in (typing.Union, types.UnionType):
        return all(_plain(arg) for arg in args)
    return False


_SHAPE = _shape(ServiceStandard)


def _written(model: BaseModel, shape: Shape) -> dict[str, Any]:
    content: dict[str, Any] = {}
    for name, inner in shape:
        value = getattr(model, name)
        if inner is None:
            content[name] = value
        elif isinstance(inner, str):  # _DECIMAL
            content[name] = None if value is None else decimal_text(value)
        else:
            content[name] = _written(value, inner)
    return content


def canonical_text(standard: ServiceStandard) -> tuple[dict[str, Any], str, str]:
    """The canonical content of ``standard``, its ``canonical_json`` text and that text's hash.

    The same as ``canonical_content``, ``canonical_json`` and ``hash_text`` in turn (the content
    holds tuples where ``canonical_content`` holds lists), computed several times faster: the
    content is read straight from the attributes with its keys already sorted (see
    ``_shape``), and ``pydantic_core.to_json`` writes the same text as ``json.dumps`` for such
    content.
    """
    if _SHAPE is None:
        content = canonical(standard)
        text = canonical_json(content)
        return content, text, hash_text(text)
    content = _written(standard, _SHAPE)
    try:
        text = to_json(content).decode("utf-8")
    except PydanticSerializationError:
        # It refuses lone surrogates, which canonical_json lets through; hash_text then fails on
        # them as it always did.
        text = canonical_json(content)
    return content, text, hash_text(text)


def _chunks(codes: Collection[str]) -> Iterator[list[str]]:
    ordered = sorted(set(codes))
    for start in range(0, len(ordered), _CHUNK):
        yield ordered[start : start + _CHUNK]


def _json_text(connection: AsyncConnection, name: str) -> sa.ColumnElement[Any]:
    """A parameter ``name`` for a JSON column, given as JSON text already serialised.

    SQLite keeps JSON as text, so the text is stored as it is; PostgreSQL casts it to jsonb.
    Binding the text spares the column type serialising the same content once per column.
    """
    parameter = sa.bindparam(name, type_=sa.Text())
    if connection.dialect.name == "postgresql":
        return sa.cast(parameter, postgresql.JSONB)
    return parameter


_JSON_TEXT_COLUMNS = frozenset({"content", "base"})

_compiled_inserts: dict[tuple[str, str, str, tuple[str, ...]], SQLCompiler] = {}


async def _insert_rows(
    connection: AsyncConnection,
    table: sa.Table,
    rows: Sequence[Mapping[str, Any]],
    *,
    json_text: Collection[str] = (),
) -> None:
    """INSERT ``rows``, each a mapping of the same column names, with the driver's executemany.

    SQLAlchemy's executemany prepares every value of every row in Python, which for a page of
    entries costs several times the insert itself. Here each column's bind processor runs once
    per distinct value (the timestamps of a page are one value), and the columns named in
    ``json_text`` hold JSON already serialised, which goes to the database as it is (SQLite
    keeps JSON as text; the statement casts it on PostgreSQL).
    """
    dialect = connection.dialect
    names = tuple(rows[0])
    key = (table.name, dialect.name, dialect.paramstyle, names)
    compiled = _compiled_inserts.get(key)
    if compiled is None:
        compiled = sa.insert(table).compile(dialect=dialect, column_keys=list(names))
        _compiled_inserts[key] = compiled
    prepare: dict[str, Callable[[Any], Any]] = {}
    for name in names:
        processor = table.c[name].type.dialect_impl(dialect).bind_processor(dialect)
        if processor is not None and name not in json_text:
            prepare[name] = _once_per_value(processor)
    order = compiled.positiontup if compiled.positional else None
    parameters: list[Any]
    if order is None:
        parameters = [
            {name: prepare[name](v) if name in prepare else v for name, v in row.items()}
            for row in rows
        ]
    else:
        parameters = [
            tuple(prepare[name](row[name]) if name in prepare else row[name] for name in order)
            for row in rows
        ]
    await connection.exec_driver_sql(compiled.string, parameters)


def _once_per_value(processor: Callable[[Any], Any]) -> Callable[[Any], Any]:
    done: dict[tuple[type, Any], Any] = {}

    def prepare(value: Any) -> Any:
        key = (type(value), value)
        try:
            return done[key]
        except KeyError:
            done[key] = prepared = processor(value)
            return prepared
        except TypeError:  # unhashable
            return processor(value)

    return prepare


# Statements built once: building one costs more than running it for a page of entries.
_CODES: sa.BindParameter[list[str]] = sa.bindparam("codes", expanding=True)

_MARKS = sa.select(
    _standards.c.code,
    _standards.c.local_version,
    _standards.c.remote_versi,
    _standards.c.dirty,
    _standards.c.deleted_at,
).where(_standards.c.code.in_(_CODES))

_LOCKED_ROWS = sa.select(_standards).where(_standards.c.code.in_(_CODES)).with_for_update()

# The history rows of the entries named: their current rows as just written.
_VERSIONS_OF = sa.insert(service_standard_versions).from_select(
    ["code", "local_version", "content", "content_hash", "origin", "actor", "created_at"],
    sa.select(
        _standards.c.code,
        _standards.c.local_version,
        _standards.c.content,
        _standards.c.content_hash,
        _standards.c.origin,
        sa.bindparam("actor", type_=sa.String()),
        sa.bindparam("now", type_=UTCDateTime()),
    )
    .where(_standards.c.code.in_(_CODES))
    .order_by(_standards.c.code),
)

# The audit entries of the entries named, just created: nothing before, their content after.
_CREATIONS_OF = sa.insert(audit_log).from_select(
    ["at", "actor", "action", "entity_type", "entity_id", "after", "detail"],
    sa.select(
        sa.bindparam("now", type_=UTCDateTime()),
        sa.bindparam("actor", type_=sa.String()),
        sa.literal("create", sa.String()),
        sa.literal(ENTITY, sa.String()),
        _standards.c.code,
        _standards.c.content,
        sa.bindparam("detail", type_=json_type()),
    )
    .where(_standards.c.code.in_(_CODES))
    .order_by(_standards.c.code),
)


class CatalogueSyncQueries(Queries):
    async def sync_marks(self, codes: Collection[str]) -> dict[str, SyncMark]:
        """The sync bookkeeping of the entries among ``codes`` that exist, soft-deleted or not."""
        marks: dict[str, SyncMark] = {}
        async with self._read() as connection:
            for chunk in _chunks(codes):
                rows = await connection.execute(_MARKS, {"codes": chunk})
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
                rows = await connection.execute(_LOCKED_ROWS, {"codes": chunk})
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
        result = await connection.execute(_LOCKED_ROWS, {"codes": chunk})
        rows.update((row.code, row) for row in result)
    return rows


class _Plan:
    """The statements of one ``save_synced`` call, gathered so that each kind runs once.

    Each content is serialised once and that text bound to every column that stores it. The
    history row of a change is copied from the current row just written, and so is the audit
    entry of a creation (its ``after`` is that content), by one ``INSERT ... SELECT`` each.
    """

    def __init__(self, *, now: datetime, actor: str, origin: Origin) -> None:
        self.now = now
        self.actor = actor
        self.origin = origin
        self.inserts: list[dict[str, Any]] = []
        self.content_updates: list[dict[str, Any]] = []
        self.bookkeeping_updates: list[dict[str, Any]] = []
        self.changed: list[str] = []
        self.created: list[str] = []
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
        held = write.standard
        content: Any
        if isinstance(held, CanonicalStandard):
            content, text, digest = held.content, held.text, held.digest
        else:
            content, text, digest = canonical_text(held)
        # A base equal to the content is stored as NULL (see ``_catalogue``'s docstring).
        base_text: str | None = None
        base_digest = digest
        if write.base is not None:
            _, other_text, base_digest = canonical_text(write.base)
            if base_digest != digest:
                base_text = other_text
        deleting = write.status == "inactive"
        was_deleted = row is not None and row.deleted_at is not None
        deleted_at = None
        if deleting:
            deleted_at = row.deleted_at if row is not None and was_deleted else self.now
        bookkeeping = {
            "remote_versi": write.remote_versi,
            "base_hash": base_digest,
            "dirty": digest != base_digest,
            "synced_at": self.now,
            "deleted_at": deleted_at,
            "updated_at": self.now,
        }
        change: Change
        if row is None:
            change = "created"
            self.inserts.append(
                {
                    "code": code,
                    "content": text,
                    "content_hash": digest,
                    "local_version": 1,
                    "origin": self.origin,
                    "created_at": self.now,
                    "base": base_text,
                    **bookkeeping,
                }
            )
            self.created.append(code)
        elif row.content_hash != digest:
            change = "updated"
            version = row.local_version + 1
            self.content_updates.append(
                {
                    "b_code": code,
                    "content_json": text,
                    "content_hash": digest,
                    "local_version": version,
                    "origin": self.origin,
                    "base_json": base_text,
                    **bookkeeping,
                }
            )
            detail: dict[str, Any] = {"origin": self.origin, "local_version": version}
            if was_deleted and not deleting:
                detail["restored"] = True
            self._audit("update", code, before=row.content, after=content, detail=detail)
        else:
            change = "unchanged"
            self.bookkeeping_updates.append({"b_code": code, "base_json": base_text, **bookkeeping})
        if change != "unchanged":
            self.changed.append(code)
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
        content = _json_text(connection, "content_json")
        base = _json_text(connection, "base_json")
        if self.inserts:
            await _insert_rows(connection, _standards, self.inserts, json_text=_JSON_TEXT_COLUMNS)
        if self.content_updates:
            await connection.execute(
                sa.update(_standards).where(by_code).values(content=content, base=base),
                self.content_updates,
            )
        if self.bookkeeping_updates:
            await connection.execute(
                sa.update(_standards).where(by_code).values(base=base), self.bookkeeping_updates
            )
        for chunk in _chunks(self.changed):
            await connection.execute(
                _VERSIONS_OF, {"codes": chunk, "actor": self.actor, "now": self.now}
            )
        # Creations first: an entry created inactive is audited as created, then as deleted.
        detail = {"origin": self.origin, "local_version": 1}
        for chunk in _chunks(self.created):
            await connection.execute(
                _CREATIONS_OF,
                {"codes": chunk, "actor": self.actor, "now": self.now, "detail": detail},
            )
        if self.audits:
            await connection.execute(sa.insert(audit_log), self.audits)
