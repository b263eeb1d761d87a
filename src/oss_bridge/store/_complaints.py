"""Complaint queries: intake with receipt numbers, reading complaints with their delivery and events.

The tables are in ``schema.py`` (``complaints``, ``outbox``, ``complaint_events``,
``receipt_counters``, ``destinations``).

Intake (``insert_complaint``) is the "receipt first" rule of the design: the day's receipt
counter, the complaint, its outbox row and its first events are written in one transaction, so a
caller that got a receipt number has a complaint that will be forwarded, and a failure leaves no
trace (not even a used number). The counter is one row per region and office day, bumped by an
upsert that returns the new value: on PostgreSQL the upsert locks that row until commit, on SQLite
the write transaction holds the database's one write lock from BEGIN. Either way two concurrent
intakes get consecutive numbers and a rolled-back intake gives its number back.

Reads come back as ``ComplaintRecord``: the complaint, its national bookkeeping, its delivery to
one destination (outbox row plus that destination's suspend switch) and its events, oldest first.

Events are written with ``_pulls.insert_events`` (one per complaint, kind and ``dedupe_key``);
their payloads are JSON objects whose keys the intake service reads into a complaint's history.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection

from oss_bridge.domain.complaint import Complaint, ComplaintDraft, Reporter
from oss_bridge.domain.vocabulary import Stage
from oss_bridge.store._base import Queries, as_json, require_aware
from oss_bridge.store._pulls import EventKind, NewEvent, insert_events
from oss_bridge.store.schema import (
    EVENT_KINDS,
    complaint_events,
    complaints,
    destinations,
    outbox,
    receipt_counters,
)

DEFAULT_DESTINATION = "lapor"


def idempotency_key(destination: str, receipt_number: str) -> str:
    """The key every attempt to deliver a complaint to ``destination`` carries, stable for good."""
    return f"{destination}:{receipt_number}"


MAX_LIST_LIMIT = 10_000


@dataclass(frozen=True, slots=True)
class ComplaintEvent:
    """One stored event of a complaint. ``at`` is when it happened: the channel's time if known."""

    id: int
    complaint_id: int
    kind: EventKind
    dedupe_key: str
    external_at: datetime | None
    payload: dict[str, Any]
    created_at: datetime

    @property
    def at(self) -> datetime:
        return self.external_at or self.created_at


@dataclass(frozen=True, slots=True)
class Delivery:
    """How the forwarding of one complaint to one destination stands (its outbox row).

    ``suspended`` is the destination's switch: a suspended destination keeps the row but gets
    no sends until it is resumed.
    """

    destination: str
    state: str
    attempts: int
    last_error: str | None
    next_attempt_at: datetime
    sent_at: datetime | None
    idempotency_key: str
    suspended: bool


@dataclass(frozen=True, slots=True)
class ComplaintRecord:
    """A complaint with what the bridge knows about it beyond the domain model.

    ``completeness`` is what intake found at stage b (JSON, as the intake service wrote it).
    ``external_*`` and ``final`` are the national channel's side, ``delivery`` the outbox row
    for the destination asked for (``None`` if it has none), ``events`` oldest first.
    """

    complaint: Complaint
    completeness: Any
    external_id: str | None
    tracking_id: str | None
    external_status: str | None
    external_status_at: datetime | None
    final: bool
    next_pull_at: datetime | None
    delivery: Delivery | None
    events: tuple[ComplaintEvent, ...] = field(default=())

    @property
    def id(self) -> int:
        return self.complaint.id

    @property
    def receipt_number(self) -> str:
        return self.complaint.receipt_number


@dataclass(frozen=True, slots=True, kw_only=True)
class ComplaintFilter:
    """Which complaints to list; every criterion left ``None`` matches all.

    Collections match any of their values (an empty one matches nothing). ``forward_states``
    and ``destination_suspended`` look at the delivery to the destination being listed.
    ``external_status_not_in`` also matches complaints without a national status.
    ``received_from`` and ``received_to`` are both inclusive.
    """

    receipt_numbers: Collection[str] | None = None
    stages: Collection[str] | None = None
    categories: Collection[str] | None = None
    service_code: str | None = None
    forward_states: Collection[str] | None = None
    destination_suspended: bool | None = None
    final: bool | None = None
    external_status_in: Collection[str] | None = None
    external_status_not_in: Collection[str] | None = None
    received_from: datetime | None = None
    received_to: datetime | None = None


ALL = ComplaintFilter()


class ComplaintQueries(Queries):
    """Named queries over complaints, their events and the daily receipt counters."""

    # --- intake --------------------------------------------------------------------------------

    async def insert_complaint(
        self,
        draft: ComplaintDraft,
        *,
        kd_daerah: str,
        day: date,
        receipt_number: Callable[[int], str],
        stage: Stage,
        priority: str | None,
        completeness: Any = None,
        events: Sequence[NewEvent] = (),
        destination: str = DEFAULT_DESTINATION,
    ) -> ComplaintRecord:
        """Store a new complaint with its receipt number, its outbox row and ``events``, at once.

        The number is ``receipt_number(n)`` for the ``n``-th complaint of ``kd_daerah`` on
        ``day`` (from 1, consecutive, see the module docstring). The outbox row for
        ``destination`` is pending and due now, with the idempotency key
        ``"<destination>:<receipt number>"``, stable across every attempt. All or nothing:
        if anything fails, nothing is stored and the number is not used.
        """
        if isinstance(day, datetime) or not isinstance(day, date):
            raise ValueError(f"day {day!r} must be a date (the office day of the receipt)")
        if not kd_daerah.isdigit():
            raise ValueError(f"kd_daerah {kd_daerah!r} must be the region's code in digits")
        for event in events:
            _check_event(event)
        completeness = as_json(completeness)
        reporter = draft.reporter or Reporter()
        now = self._now()
        async with self._write() as connection:
            sequence = await _next_sequence(connection, kd_daerah, day)
            number = receipt_number(sequence)
            row = (
                await connection.execute(
                    sa.insert(complaints)
                    .values(
                        receipt_number=number,
                        category=draft.category.value,
                        object=draft.object.value,
                        service_code=draft.service_code,
                        description=draft.description,
                        reporter_name=reporter.name,
                        reporter_email=reporter.email,
                        reporter_phone=reporter.phone,
                        anonymous=draft.anonymous,
                        secret=draft.secret,
                        occurred_on=draft.occurred_on,
                        stage=stage.value,
                        priority=priority,
                        completeness=completeness,
                        received_at=now,
                        updated_at=now,
                    )
                    .returning(*complaints.c)
                )
            ).one()
            await connection.execute(
                sa.insert(outbox).values(
                    complaint_id=row.id,
                    destination=destination,
                    state="pending",
                    attempts=0,
                    next_attempt_at=now,
                    idempotency_key=idempotency_key(destination, number),
                    outcome_unknown=False,
                    created_at=now,
                    updated_at=now,
                )
            )
            await insert_events(connection, ((row.id, event) for event in events), created_at=now)
            records = await _records(connection, complaints.c.id == row.id, destination)
        return records[0]

    # --- reading -------------------------------------------------------------------------------

    async def get_complaint(
        self, complaint_id: int, *, destination: str = DEFAULT_DESTINATION
    ) -> ComplaintRecord | None:
        """The complaint with ``complaint_id``, its delivery and events; ``None`` if none."""
        async with self._read() as connection:
            found = await _records(connection, complaints.c.id == complaint_id, destination)
        return found[0] if found else None

    async def get_complaint_by_receipt(
        self, receipt_number: str, *, destination: str = DEFAULT_DESTINATION
    ) -> ComplaintRecord | None:
        """The complaint with this exact receipt number (canonical spelling); ``None`` if none."""
        async with self._read() as connection:
            found = await _records(
                connection, complaints.c.receipt_number == receipt_number, destination
            )
        return found[0] if found else None

    async def list_complaints(
        self,
        where: ComplaintFilter = ALL,
        *,
        limit: int = 100,
        offset: int = 0,
        newest_first: bool = True,
        destination: str = DEFAULT_DESTINATION,
    ) -> list[ComplaintRecord]:
        """The complaints ``where`` selects, by time of receipt, with deliveries and events."""
        if not 1 <= limit <= MAX_LIST_LIMIT:
            raise ValueError(f"limit {limit!r} must be between 1 and {MAX_LIST_LIMIT}")
        if offset < 0:
            raise ValueError(f"offset {offset!r} must not be negative")
        async with self._read() as connection:
            return await _records(
                connection,
                sa.and_(sa.true(), *_conditions(where)),
                destination,
                limit=limit,
                offset=offset,
                newest_first=newest_first,
            )

    async def count_complaints(
        self, where: ComplaintFilter = ALL, *, destination: str = DEFAULT_DESTINATION
    ) -> int:
        """How many complaints ``where`` selects."""
        query = (
            sa.select(sa.func.count())
            .select_from(_joined(destination))
            .where(sa.and_(sa.true(), *_conditions(where)))
        )
        async with self._read() as connection:
            return int((await connection.execute(query)).scalar_one())

    async def complaint_events(self, complaint_id: int) -> list[ComplaintEvent]:
        """The events of one complaint, oldest first (by ``at``, then as written)."""
        async with self._read() as connection:
            events = await _events(connection, [complaint_id])
        return list(events.get(complaint_id, ()))

    async def external_statuses(self) -> list[str]:
        """Every national status some complaint currently has, as the channel spelled it."""
        query = (
            sa.select(complaints.c.external_status)
            .where(complaints.c.external_status.is_not(None))
            .distinct()
            .order_by(complaints.c.external_status)
        )
        async with self._read() as connection:
            return [str(value) for value in (await connection.execute(query)).scalars()]


# --- helpers -----------------------------------------------------------------------------------


def _check_event(event: NewEvent) -> None:
    if event.kind not in EVENT_KINDS:
        raise ValueError(f"event kind {event.kind!r} must be one of {', '.join(EVENT_KINDS)}")
    if not event.dedupe_key.strip() or len(event.dedupe_key) > 200:
        raise ValueError(f"dedupe_key {event.dedupe_key!r} must be 1 to 200 characters")
    require_aware(event.external_at, "external_at")


async def _next_sequence(connection: AsyncConnection, kd_daerah: str, day: date) -> int:
    """Bump the receipt counter of (``kd_daerah``, ``day``) and return its new value."""
    insert = postgresql.insert if connection.dialect.name == "postgresql" else sqlite.insert
    statement = (
        insert(receipt_counters)
        .values(kd_daerah=kd_daerah, day=day, last=1)
        .on_conflict_do_update(
            index_elements=[receipt_counters.c.kd_daerah, receipt_counters.c.day],
            set_={"last": receipt_counters.c.last + 1},
        )
        .returning(receipt_counters.c.last)
    )
    return int((await connection.execute(statement)).scalar_one())


_DELIVERY_COLUMNS: tuple[sa.ColumnElement[Any], ...] = (
    outbox.c.destination.label("d_destination"),
    outbox.c.state.label("d_state"),
    outbox.c.attempts.label("d_attempts"),
    outbox.c.last_error.label("d_last_error"),
    outbox.c.next_attempt_at.label("d_next_attempt_at"),
    outbox.c.sent_at.label("d_sent_at"),
    outbox.c.idempotency_key.label("d_idempotency_key"),
    sa.func.coalesce(destinations.c.suspended, sa.false()).label("d_suspended"),
)


def _joined(destination: str) -> sa.FromClause:
    delivery = sa.and_(
        outbox.c.complaint_id == complaints.c.id, outbox.c.destination == destination
    )
    return complaints.outerjoin(outbox, delivery).outerjoin(
        destinations, destinations.c.name == outbox.c.destination
    )


def _conditions(where: ComplaintFilter) -> list[sa.ColumnElement[bool]]:
    require_aware(where.received_from, "received_from")
    require_aware(where.received_to, "received_to")
    c = complaints.c
    found: list[sa.ColumnElement[bool]] = []
    if where.receipt_numbers is not None:
        found.append(c.receipt_number.in_(list(where.receipt_numbers)))
    if where.stages is not None:
        found.append(c.stage.in_([str(stage) for stage in where.stages]))
    if where.categories is not None:
        found.append(c.category.in_(list(where.categories)))
    if where.service_code is not None:
        found.append(c.service_code == where.service_code)
    if where.forward_states is not None:
        found.append(outbox.c.state.in_(list(where.forward_states)))
    if where.destination_suspended is not None:
        suspended = sa.func.coalesce(destinations.c.suspended, sa.false())
        found.append(suspended == where.destination_suspended)
    if where.final is not None:
        found.append(c.final == where.final)
    if where.external_status_in is not None:
        found.append(c.external_status.in_(list(where.external_status_in)))
    if where.external_status_not_in is not None:
        found.append(
            sa.or_(
                c.external_status.is_(None),
                c.external_status.not_in(list(where.external_status_not_in)),
            )
        )
    if where.received_from is not None:
        found.append(c.received_at >= where.received_from)
    if where.received_to is not None:
        found.append(c.received_at <= where.received_to)
    return found


async def _records(
    connection: AsyncConnection,
    condition: sa.ColumnElement[bool],
    destination: str,
    *,
    limit: int | None = None,
    offset: int = 0,
    newest_first: bool = True,
) -> list[ComplaintRecord]:
    order = (
        (complaints.c.received_at.desc(), complaints.c.id.desc())
        if newest_first
        else (complaints.c.received_at, complaints.c.id)
    )
    query = (
        sa.select(complaints, *_DELIVERY_COLUMNS)
        .select_from(_joined(destination))
        .where(condition)
        .order_by(*order)
        .offset(offset)
    )
    if limit is not None:
        query = query.limit(limit)
    rows = (await connection.execute(query)).all()
    events = await _events(connection, [row.id for row in rows])
    return [_record(row, events.get(row.id, ())) for row in rows]


async def _events(
    connection: AsyncConnection, complaint_ids: Sequence[int]
) -> dict[int, tuple[ComplaintEvent, ...]]:
    if not complaint_ids:
        return {}
    query = sa.select(complaint_events).where(
        complaint_events.c.complaint_id.in_(list(complaint_ids))
    )
    grouped: dict[int, list[ComplaintEvent]] = {}
    for row in (await connection.execute(query)).all():
        grouped.setdefault(row.complaint_id, []).append(
            ComplaintEvent(
                id=row.id,
                complaint_id=row.complaint_id,
                kind=row.kind,
                dedupe_key=row.dedupe_key,
                external_at=row.external_at,
                payload=dict(row.payload or {}),
                created_at=row.created_at,
            )
        )
    return {
        complaint_id: tuple(sorted(found, key=lambda event: (event.at, event.id)))
        for complaint_id, found in grouped.items()
    }


def _record(row: sa.Row[Any], events: Sequence[ComplaintEvent]) -> ComplaintRecord:
    delivery = None
    if row.d_state is not None:
        delivery = Delivery(
            destination=row.d_destination,
            state=row.d_state,
            attempts=row.d_attempts,
            last_error=row.d_last_error,
            next_attempt_at=row.d_next_attempt_at,
            sent_at=row.d_sent_at,
            idempotency_key=row.d_idempotency_key,
            suspended=bool(row.d_suspended),
        )
    return ComplaintRecord(
        complaint=complaint_from_row(row),
        completeness=row.completeness,
        external_id=row.external_id,
        tracking_id=row.tracking_id,
        external_status=row.external_status,
        external_status_at=row.external_status_at,
        final=bool(row.final),
        next_pull_at=row.next_pull_at,
        delivery=delivery,
        events=tuple(events),
    )


def complaint_from_row(row: sa.Row[Any], *, prefix: str = "") -> Complaint:
    """A row holding the ``complaints`` columns, each named ``prefix`` + its own name, as the
    domain model (the outbox's claim query selects them as ``c_*`` beside its own columns)."""
    m = row._mapping
    reporter = None
    name, email, phone = (m[prefix + f"reporter_{k}"] for k in ("name", "email", "phone"))
    if name or email or phone:
        reporter = Reporter(name=name, email=email, phone=phone)
    return Complaint(
        reporter=reporter,
        **{
            field: m[prefix + field]
            for field in (
                "id",
                "receipt_number",
                "category",
                "object",
                "service_code",
                "description",
                "anonymous",
                "secret",
                "occurred_on",
                "stage",
                "priority",
                "received_at",
                "updated_at",
            )
        },
    )
