"""Outbox queries: claiming due rows with a lease, recording attempts, dead letters.

The table is ``outbox`` in ``schema.py``: one row per complaint and destination, written by
intake in the same transaction as the complaint. A row moves

    pending --claim--> in_flight --success--> sent
                           |   \\--failure--> pending (again at next_attempt_at)
                           |    \\-failure, attempts used up or hopeless--> dead
                           \\--lease expired, taken over--> in_flight (another owner)
    dead --acknowledge--> acknowledged        dead | acknowledged --requeue--> pending

Concurrency. A claim marks rows ``in_flight`` with ``lease_owner`` and ``lease_until``. On
PostgreSQL the claim locks the rows it reads with ``FOR UPDATE SKIP LOCKED``, so workers never
wait for each other and never claim the same row; on SQLite every write transaction begins
IMMEDIATE (the store's ``_write()``), so claims are serialised by the database's one writer.
Every write that settles an attempt is guarded by ``lease_owner``: a worker whose lease expired
and was taken over gets ``None`` back and has written nothing.

A row whose lease expired while ``in_flight`` belonged to a worker that crashed or stalled. Its
attempt may have reached the channel, so a takeover counts that attempt as failed and sets
``outcome_unknown``: the next worker looks the complaint up before sending it again. Counting
it also caps a row that crashes every worker that touches it.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal, get_args

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection

from oss_bridge.domain.complaint import Complaint
from oss_bridge.errors import InputError, NotFound
from oss_bridge.store._audit import insert_audit
from oss_bridge.store._base import Queries, require_aware
from oss_bridge.store._complaints import complaint_from_row
from oss_bridge.store._pulls import EVENT_KEY
from oss_bridge.store.schema import complaint_events, complaints, outbox

OutboxState = Literal["pending", "in_flight", "sent", "dead", "acknowledged"]
OUTBOX_STATES: tuple[OutboxState, ...] = get_args(OutboxState)

DEFAULT_DESTINATION = "lapor"
MAX_CLAIM_LIMIT = 10_000
MAX_LIST_LIMIT = 10_000
# Long enough for a traceback's last line and a channel's message; the rest is in the logs.
MAX_ERROR_CHARS = 2000

TAKEOVER_ERROR = (
    "the lease of {owner!r} expired during an attempt (worker crashed or stalled); "
    "the outcome is unknown, so the complaint is looked up before it is sent again"
)


@dataclass(frozen=True, slots=True)
class OutboxItem:
    """One outbox row: the delivery of one complaint to one destination.

    ``attempts`` counts failed attempts; ``last_error`` is the reason of the last one.
    ``outcome_unknown`` says the last attempt may have reached the destination.
    """

    id: int
    complaint_id: int
    destination: str
    state: OutboxState
    attempts: int
    next_attempt_at: datetime
    lease_owner: str | None
    lease_until: datetime | None
    last_error: str | None
    idempotency_key: str
    outcome_unknown: bool
    created_at: datetime
    updated_at: datetime
    sent_at: datetime | None


@dataclass(frozen=True, slots=True)
class OutboxClaim:
    """A row claimed for one attempt, freshly read, with the complaint to send.

    ``external_id`` and ``tracking_id`` are the complaint's national ids if it already has them
    (then there is nothing to send, only the row to settle).
    """

    item: OutboxItem
    complaint: Complaint
    external_id: str | None
    tracking_id: str | None

    @property
    def id(self) -> int:
        return self.item.id


@dataclass(frozen=True, slots=True)
class Delivered:
    """What the channel answered for one claimed row: the complaint's national ids."""

    outbox_id: int
    external_id: str
    tracking_id: str | None
    reconciled: bool = False
    """The ids were found by looking the complaint up, not by sending it."""
    next_pull_at: datetime | None = None
    """When to pull its status first; None: at once."""


@dataclass(frozen=True, slots=True)
class OutboxCounts:
    """How the outbox of one destination (or of all) stands."""

    by_state: dict[OutboxState, int]
    oldest_pending_at: datetime | None
    """When the oldest row still waiting to be sent (pending or in flight) was queued."""
    next_attempt_at: datetime | None
    """The earliest ``next_attempt_at`` of a pending row."""

    def count(self, state: OutboxState) -> int:
        return self.by_state.get(state, 0)

    @property
    def dead(self) -> int:
        return self.count("dead")

    @property
    def waiting(self) -> int:
        """Rows not yet delivered that will be tried again: pending and in flight."""
        return self.count("pending") + self.count("in_flight")


class OutboxQueries(Queries):
    """Named queries over the outbox of complaints to forward."""

    async def claim_due(
        self,
        destination: str,
        *,
        owner: str,
        lease_seconds: float,
        limit: int,
        max_attempts: int,
    ) -> list[OutboxClaim]:
        """Claim up to ``limit`` rows of ``destination`` that are due, oldest due first.

        Due means pending with ``next_attempt_at`` reached, or in flight with an expired
        lease (see the module docstring: the takeover counts as a failed attempt with an
        unknown outcome, and a row that thereby reaches ``max_attempts`` goes to ``dead``
        instead of being claimed). Claimed rows are ``in_flight``, leased to ``owner`` until
        now + ``lease_seconds``.
        """
        _check_owner(owner)
        if not 1 <= limit <= MAX_CLAIM_LIMIT:
            raise ValueError(f"limit {limit!r} must be between 1 and {MAX_CLAIM_LIMIT}")
        if not lease_seconds > 0:
            raise ValueError(f"lease_seconds {lease_seconds!r} must be a positive number")
        if max_attempts < 1:
            raise ValueError(f"max_attempts {max_attempts!r} must be 1 or more")
        now = self._now()
        lease_until = now + timedelta(seconds=lease_seconds)
        claimed: list[OutboxClaim] = []
        parameters = {"destination": destination, "now": now, "limit": limit}
        async with self._write() as connection:
            expired = (await connection.execute(_CLAIM_EXPIRED, parameters)).all()
            if not expired and connection.dialect.name == "postgresql":
                return await _lease_pending(
                    connection, destination, now=now, limit=limit, owner=owner, until=lease_until
                )
            pending = (await connection.execute(_CLAIM_PENDING, parameters)).all()
            # On PostgreSQL an expired row read but cut by the limit stays locked, unclaimed,
            # until this transaction ends; other workers skip it meanwhile, as they would a row
            # being claimed.
            rows = _due_order([*pending, *expired])[:limit]
            fresh = [row.id for row in rows if row.state == "pending"]
            if fresh:
                await connection.execute(
                    _LEASE,
                    {"ids": fresh, "owner": owner, "lease_until": lease_until, "now": now},
                )
            for row in rows:
                if row.state == "pending":
                    item = _item(
                        row,
                        state="in_flight",
                        lease_owner=owner,
                        lease_until=lease_until,
                        updated_at=now,
                    )
                else:
                    taken = await _take_over(
                        connection, row, owner, lease_until, now, max_attempts=max_attempts
                    )
                    if taken is None:
                        continue
                    item = taken
                claimed.append(
                    OutboxClaim(
                        item=item,
                        complaint=_complaint(row),
                        external_id=row.c_external_id,
                        tracking_id=row.c_tracking_id,
                    )
                )
        return claimed

    async def record_success(
        self,
        outbox_id: int,
        *,
        owner: str,
        external_id: str,
        tracking_id: str | None,
        reconciled: bool = False,
        next_pull_at: datetime | None = None,
    ) -> OutboxItem | None:
        """Settle a claimed row as ``sent`` and give its complaint the channel's ids.

        ``reconciled`` says the ids were found by looking the complaint up rather than by
        sending it. The complaint becomes due for a status pull at ``next_pull_at`` (default:
        now) unless it already has a pull time. One ``note`` event records the delivery.
        Returns the settled row, or ``None`` (nothing written) when ``owner`` no longer holds
        the row's lease.
        """
        delivered = Delivered(outbox_id, external_id, tracking_id, reconciled, next_pull_at)
        if outbox_id not in await self.record_successes([delivered], owner=owner):
            return None
        async with self._read() as connection:
            row = (
                await connection.execute(sa.select(outbox).where(outbox.c.id == outbox_id))
            ).one()
        return _item(row)

    async def record_successes(self, deliveries: Sequence[Delivered], *, owner: str) -> set[int]:
        """``record_success`` for several rows in one transaction (a few statements in all).

        Returns the ids of the rows settled; a row whose lease ``owner`` no longer holds is
        missing from the answer and untouched.
        """
        for delivered in deliveries:
            if not delivered.external_id.strip():
                raise ValueError(
                    f"external_id {delivered.external_id!r} must be the channel's complaint id"
                )
            require_aware(delivered.next_pull_at, "next_pull_at")
        if not deliveries:
            return set()
        now = self._now()
        wanted = {delivered.outbox_id: delivered for delivered in deliveries}
        async with self._write() as connection:
            rows = (
                await connection.execute(_SENT, {"ids": sorted(wanted), "owner": owner, "now": now})
            ).all()
            if not rows:
                return set()
            given = [
                {
                    "id": complaint_id,
                    "external_id": wanted[outbox_id].external_id,
                    "tracking_id": wanted[outbox_id].tracking_id,
                    "next_pull_at": wanted[outbox_id].next_pull_at or now,
                    "updated_at": now,
                }
                for outbox_id, complaint_id, _, _ in rows
            ]
            events = [
                {
                    "complaint_id": complaint_id,
                    "kind": "note",
                    "dedupe_key": f"forwarded:{destination}",
                    "external_at": None,
                    "payload": {
                        "type": "forwarded",
                        "destination": destination,
                        "external_id": wanted[outbox_id].external_id,
                        "tracking_id": wanted[outbox_id].tracking_id,
                        "reconciled": wanted[outbox_id].reconciled,
                        "attempts": attempts + 1,
                    },
                    "created_at": now,
                }
                for outbox_id, complaint_id, destination, attempts in rows
            ]
            if connection.dialect.name == "postgresql":
                await connection.execute(_GIVE_IDS_PG, _json_text(given))
                await connection.execute(_ADD_EVENTS_PG, _json_text(events))
            else:
                await connection.execute(
                    _GIVE_IDS, [{f"b_{name}": value for name, value in g.items()} for g in given]
                )
                await connection.execute(_ADD_EVENTS, events)
        return {row[0] for row in rows}

    async def record_failure(
        self,
        outbox_id: int,
        *,
        owner: str,
        error: str,
        retry_at: datetime,
        outcome_unknown: bool,
        max_attempts: int,
        give_up: bool = False,
    ) -> OutboxItem | None:
        """Count one failed attempt of a claimed row, with its reason ``error``.

        The row goes back to ``pending`` until ``retry_at``, or to ``dead`` when this was
        attempt number ``max_attempts`` or ``give_up`` says retrying cannot help.
        ``outcome_unknown`` is sticky: once an attempt may have reached the destination,
        every later attempt looks the complaint up first, until the row is sent.
        Returns the row, or ``None`` (nothing written) when ``owner`` no longer holds the lease.
        """
        require_aware(retry_at, "retry_at")
        if max_attempts < 1:
            raise ValueError(f"max_attempts {max_attempts!r} must be 1 or more")
        now = self._now()
        attempts = outbox.c.attempts + 1
        dead = sa.true() if give_up else attempts >= max_attempts
        async with self._write() as connection:
            row = (
                await connection.execute(
                    _settle(outbox_id, owner)
                    .values(
                        attempts=attempts,
                        state=sa.case((dead, "dead"), else_="pending"),
                        next_attempt_at=retry_at,
                        lease_owner=None,
                        lease_until=None,
                        last_error=_clip(error),
                        outcome_unknown=sa.or_(
                            outbox.c.outcome_unknown, sa.literal(outcome_unknown)
                        ),
                        updated_at=now,
                    )
                    .returning(*outbox.c)
                )
            ).first()
        return None if row is None else _item(row)

    async def release_leases(self, owner: str) -> int:
        """Give back every row ``owner`` holds, e.g. on shutdown; returns how many.

        The rows are due again at once. Their outcome is marked unknown, since an attempt may
        have been cut short after its request left; the release does not count as an attempt.
        """
        _check_owner(owner)
        now = self._now()
        async with self._write() as connection:
            result = await connection.execute(
                sa.update(outbox)
                .where(outbox.c.state == "in_flight", outbox.c.lease_owner == owner)
                .values(
                    state="pending",
                    next_attempt_at=now,
                    lease_owner=None,
                    lease_until=None,
                    outcome_unknown=True,
                    updated_at=now,
                )
            )
        return int(result.rowcount or 0)

    async def release_claims(self, outbox_ids: Sequence[int], *, owner: str) -> int:
        """Give back rows ``owner`` claimed but never tried: pending again, due as they were,
        attempts and outcome untouched. Returns how many were still held."""
        if not outbox_ids:
            return 0
        now = self._now()
        async with self._write() as connection:
            result = await connection.execute(
                sa.update(outbox)
                .where(
                    outbox.c.id.in_(list(outbox_ids)),
                    outbox.c.state == "in_flight",
                    outbox.c.lease_owner == owner,
                )
                .values(state="pending", lease_owner=None, lease_until=None, updated_at=now)
            )
        return int(result.rowcount or 0)

    async def requeue(
        self, complaint_id: int, *, actor: str, destination: str = DEFAULT_DESTINATION
    ) -> OutboxItem:
        """Send a ``dead`` (or ``acknowledged``) row again: pending now, attempts from zero.

        Audited. Raises ``NotFound`` for a complaint without such a row and ``InputError`` for
        a row that is not dead or acknowledged.
        """
        now = self._now()
        async with self._write() as connection:
            current = await _lock_row(connection, complaint_id, destination)
            if current.state not in ("dead", "acknowledged"):
                raise InputError(
                    f"complaint {complaint_id!r} is {current.state!r} for {destination!r}, not "
                    "dead: only dead or acknowledged deliveries can be requeued"
                )
            row = (
                await connection.execute(
                    sa.update(outbox)
                    .where(outbox.c.id == current.id)
                    .values(state="pending", attempts=0, next_attempt_at=now, updated_at=now)
                    .returning(*outbox.c)
                )
            ).one()
            await _audit_move(connection, current, row, actor=actor, action="requeue", now=now)
        return _item(row)

    async def requeue_all_dead(
        self, *, actor: str, destination: str = DEFAULT_DESTINATION
    ) -> list[OutboxItem]:
        """Requeue every ``dead`` row of ``destination`` (see ``requeue``); returns them."""
        now = self._now()
        async with self._write() as connection:
            dead = (
                await connection.execute(
                    sa.select(outbox)
                    .where(outbox.c.destination == destination, outbox.c.state == "dead")
                    .order_by(outbox.c.id)
                    .with_for_update()
                )
            ).all()
            requeued = []
            for current in dead:
                row = (
                    await connection.execute(
                        sa.update(outbox)
                        .where(outbox.c.id == current.id)
                        .values(state="pending", attempts=0, next_attempt_at=now, updated_at=now)
                        .returning(*outbox.c)
                    )
                ).one()
                await _audit_move(connection, current, row, actor=actor, action="requeue", now=now)
                requeued.append(_item(row))
        return requeued

    async def acknowledge(
        self, complaint_id: int, *, actor: str, destination: str = DEFAULT_DESTINATION
    ) -> OutboxItem:
        """Mark a ``dead`` row as seen by a person: it leaves the dead letters and stays unsent.

        Audited; acknowledging an acknowledged row changes nothing. Raises ``NotFound`` for a
        complaint without such a row and ``InputError`` for a row that is not dead.
        """
        now = self._now()
        async with self._write() as connection:
            current = await _lock_row(connection, complaint_id, destination)
            if current.state == "acknowledged":
                return _item(current)
            if current.state != "dead":
                raise InputError(
                    f"complaint {complaint_id!r} is {current.state!r} for {destination!r}, not "
                    "dead: only dead deliveries can be acknowledged"
                )
            row = (
                await connection.execute(
                    sa.update(outbox)
                    .where(outbox.c.id == current.id)
                    .values(state="acknowledged", updated_at=now)
                    .returning(*outbox.c)
                )
            ).one()
            await _audit_move(connection, current, row, actor=actor, action="acknowledge", now=now)
        return _item(row)

    async def get_delivery(
        self, complaint_id: int, destination: str = DEFAULT_DESTINATION
    ) -> OutboxItem | None:
        """The outbox row of ``complaint_id`` for ``destination``, if there is one."""
        async with self._read() as connection:
            row = (
                await connection.execute(
                    sa.select(outbox).where(
                        outbox.c.complaint_id == complaint_id, outbox.c.destination == destination
                    )
                )
            ).first()
        return None if row is None else _item(row)

    async def list_outbox(
        self,
        *,
        state: OutboxState | None = None,
        destination: str | None = None,
        limit: int = 100,
    ) -> list[OutboxItem]:
        """Rows in queue order (``next_attempt_at``, then id), optionally of one state."""
        if state is not None and state not in OUTBOX_STATES:
            raise ValueError(f"state {state!r} must be one of {', '.join(OUTBOX_STATES)}")
        if not 1 <= limit <= MAX_LIST_LIMIT:
            raise ValueError(f"limit {limit!r} must be between 1 and {MAX_LIST_LIMIT}")
        query = sa.select(outbox).order_by(outbox.c.next_attempt_at, outbox.c.id).limit(limit)
        if state is not None:
            query = query.where(outbox.c.state == state)
        if destination is not None:
            query = query.where(outbox.c.destination == destination)
        async with self._read() as connection:
            rows = (await connection.execute(query)).all()
        return [_item(row) for row in rows]

    async def outbox_counts(self, destination: str | None = None) -> OutboxCounts:
        """Rows per state, the oldest undelivered row and the next due attempt."""
        where = [] if destination is None else [outbox.c.destination == destination]
        waiting = outbox.c.state.in_(("pending", "in_flight"))
        async with self._read() as connection:
            counts = (
                await connection.execute(
                    sa.select(outbox.c.state, sa.func.count())
                    .where(*where)
                    .group_by(outbox.c.state)
                )
            ).all()
            oldest, next_due = (
                await connection.execute(
                    sa.select(
                        sa.func.min(sa.case((waiting, outbox.c.created_at))),
                        sa.func.min(
                            sa.case((outbox.c.state == "pending", outbox.c.next_attempt_at))
                        ),
                    ).where(*where)
                )
            ).one()
        by_state: dict[OutboxState, int] = {state: 0 for state in OUTBOX_STATES}
        for state, count in counts:
            by_state[state] = int(count)
        return OutboxCounts(
            by_state=by_state,
            oldest_pending_at=oldest,
            next_attempt_at=next_due,
        )


# --- helpers -----------------------------------------------------------------------------------

# What a claim needs of the complaint: the domain model and the national ids, nothing more.
_COMPLAINT_COLUMNS: Sequence[sa.ColumnElement[Any]] = tuple(
    complaints.c[name].label(f"c_{name}")
    for name in (
        *(name for name in Complaint.model_fields if name in complaints.c and name != "reporter"),
        "reporter_name",
        "reporter_email",
        "reporter_phone",
        "external_id",
        "tracking_id",
    )
)


# The statements of the forwarder's hot path, built once: building and keying a statement
# costs more than running it on a small table.
def _claim_query(due: sa.ColumnElement[bool]) -> sa.Select[Any]:
    return (
        sa.select(outbox, *_COMPLAINT_COLUMNS)
        .join(complaints, complaints.c.id == outbox.c.complaint_id)
        .where(outbox.c.destination == sa.bindparam("destination"), due)
        .order_by(outbox.c.next_attempt_at, outbox.c.id)
        .limit(sa.bindparam("limit", type_=sa.Integer))
        .with_for_update(of=outbox, skip_locked=True)
    )


# Two statements, not one with OR: each reads ``ix_outbox_state_next_attempt_at`` in order and
# stops at the limit, so a claim costs the same with a hundred rows waiting or a million. With
# OR, the database joined and sorted every due row before cutting the first few.
_CLAIM_PENDING = _claim_query(
    sa.and_(outbox.c.state == "pending", outbox.c.next_attempt_at <= sa.bindparam("now"))
)
_CLAIM_EXPIRED = _claim_query(
    sa.and_(outbox.c.state == "in_flight", outbox.c.lease_until <= sa.bindparam("now"))
)
_LEASE_PENDING_PG = (
    sa.update(outbox)
    .where(
        outbox.c.id.in_(
            sa.select(outbox.c.id)
            .where(
                outbox.c.destination == sa.bindparam("b_destination"),
                outbox.c.state == "pending",
                outbox.c.next_attempt_at <= sa.bindparam("now"),
            )
            .order_by(outbox.c.next_attempt_at, outbox.c.id)
            .limit(sa.bindparam("limit", type_=sa.Integer))
            .with_for_update(skip_locked=True)
            .scalar_subquery()
        ),
        complaints.c.id == outbox.c.complaint_id,
    )
    .values(
        state="in_flight",
        lease_owner=sa.bindparam("owner"),
        lease_until=sa.bindparam("lease_until", type_=outbox.c.lease_until.type),
        updated_at=sa.bindparam("now", type_=outbox.c.updated_at.type),
    )
    .returning(*outbox.c, *_COMPLAINT_COLUMNS)
)
_LEASE = (
    sa.update(outbox)
    .where(outbox.c.id.in_(sa.bindparam("ids", expanding=True)))
    .values(
        state="in_flight",
        lease_owner=sa.bindparam("owner"),
        lease_until=sa.bindparam("lease_until", type_=outbox.c.lease_until.type),
        updated_at=sa.bindparam("now", type_=outbox.c.updated_at.type),
    )
)
_SENT = (
    sa.update(outbox)
    .where(
        outbox.c.id.in_(sa.bindparam("ids", expanding=True)),
        outbox.c.state == "in_flight",
        outbox.c.lease_owner == sa.bindparam("owner"),
    )
    .values(
        state="sent",
        sent_at=sa.bindparam("now", type_=outbox.c.sent_at.type),
        lease_owner=None,
        lease_until=None,
        outcome_unknown=False,
        updated_at=sa.bindparam("now", type_=outbox.c.updated_at.type),
    )
    .returning(outbox.c.id, outbox.c.complaint_id, outbox.c.destination, outbox.c.attempts)
)
# ``record_successes`` on SQLite: an executemany each, which the driver runs in C.
_GIVE_IDS = (
    sa.update(complaints)
    .where(complaints.c.id == sa.bindparam("b_id"))
    .values(
        external_id=sa.bindparam("b_external_id"),
        tracking_id=sa.bindparam("b_tracking_id"),
        next_pull_at=sa.func.coalesce(
            complaints.c.next_pull_at,
            sa.bindparam("b_next_pull_at", type_=complaints.c.next_pull_at.type),
        ),
        updated_at=sa.bindparam("b_updated_at", type_=complaints.c.updated_at.type),
    )
)
_ADD_EVENTS = sqlite.insert(complaint_events).on_conflict_do_nothing(index_elements=EVENT_KEY)


def _json_rows(*columns: tuple[str, sa.types.TypeEngine[Any]]) -> sa.TableValuedAlias:
    """The rows of the JSON array parameter ``b_rows`` as a table of ``columns`` (PostgreSQL)."""
    rows = sa.cast(sa.bindparam("b_rows", type_=sa.Text()), postgresql.JSONB)
    return (
        sa.func.jsonb_to_recordset(rows)
        .table_valued(*(sa.column(name, type_) for name, type_ in columns))
        .render_derived(name="given", with_types=True)
    )


# ``record_successes`` on PostgreSQL: one statement for the complaints and one for the events,
# every row passed in one JSON text. psycopg sends an executemany row by row, at a cost in
# Python several times the database's own work.
_GIVEN_IDS = _json_rows(
    ("id", sa.BigInteger()),
    ("external_id", complaints.c.external_id.type),
    ("tracking_id", complaints.c.tracking_id.type),
    ("next_pull_at", sa.DateTime(timezone=True)),
    ("updated_at", sa.DateTime(timezone=True)),
)
_GIVE_IDS_PG = (
    sa.update(complaints)
    .where(complaints.c.id == _GIVEN_IDS.c.id)
    .values(
        external_id=_GIVEN_IDS.c.external_id,
        tracking_id=_GIVEN_IDS.c.tracking_id,
        next_pull_at=sa.func.coalesce(complaints.c.next_pull_at, _GIVEN_IDS.c.next_pull_at),
        updated_at=_GIVEN_IDS.c.updated_at,
    )
)
_GIVEN_EVENTS = _json_rows(
    ("complaint_id", sa.BigInteger()),
    ("kind", complaint_events.c.kind.type),
    ("dedupe_key", complaint_events.c.dedupe_key.type),
    ("external_at", sa.DateTime(timezone=True)),
    ("payload", postgresql.JSONB()),
    ("created_at", sa.DateTime(timezone=True)),
)
_ADD_EVENTS_PG = (
    postgresql.insert(complaint_events)
    .from_select(list(_GIVEN_EVENTS.c.keys()), sa.select(*_GIVEN_EVENTS.c))
    .on_conflict_do_nothing(index_elements=EVENT_KEY)
)


def _json_text(rows: Sequence[Mapping[str, Any]]) -> dict[str, str]:
    """The ``b_rows`` parameter of a ``_json_rows`` statement: ``rows`` (of JSON values and
    aware datetimes) as JSON text."""
    return {"b_rows": json.dumps(rows, ensure_ascii=False, default=_instant_text)}


def _instant_text(value: object) -> str:
    if isinstance(value, datetime):
        require_aware(value, "a timestamp")
        return value.isoformat()
    raise TypeError(f"{type(value).__name__} is not a JSON value")


def _due_order(rows: Sequence[sa.Row[Any]]) -> list[sa.Row[Any]]:
    """Claim rows (pending and expired ones) in the order they are claimed: earliest due first."""
    return sorted(rows, key=lambda row: (row.next_attempt_at, row.id))


async def _lease_pending(
    connection: AsyncConnection,
    destination: str,
    *,
    now: datetime,
    limit: int,
    owner: str,
    until: datetime,
) -> list[OutboxClaim]:
    """Lease the earliest due pending rows in one statement (PostgreSQL, when no lease expired).

    Reading the rows ``FOR UPDATE`` and then updating them made the server lock and write each
    row twice: about three times its work of one ``UPDATE ... RETURNING``.
    """
    rows = (
        await connection.execute(
            _LEASE_PENDING_PG,
            {
                "b_destination": destination,
                "now": now,
                "limit": limit,
                "owner": owner,
                "lease_until": until,
            },
        )
    ).all()
    return [
        OutboxClaim(
            item=_item(row),
            complaint=_complaint(row),
            external_id=row.c_external_id,
            tracking_id=row.c_tracking_id,
        )
        for row in _due_order(rows)
    ]


def _check_owner(owner: str) -> None:
    if not owner.strip() or len(owner) > 64:
        raise ValueError(f"owner {owner!r} must be a worker id of 1 to 64 characters")


def _clip(error: str) -> str:
    text = error.strip() or "unknown error"
    return text if len(text) <= MAX_ERROR_CHARS else text[: MAX_ERROR_CHARS - 3] + "..."


def _settle(outbox_id: int, owner: str) -> sa.Update:
    """An UPDATE of one row that matches only while ``owner`` holds its lease."""
    return sa.update(outbox).where(
        outbox.c.id == outbox_id, outbox.c.state == "in_flight", outbox.c.lease_owner == owner
    )


async def _take_over(
    connection: AsyncConnection,
    row: sa.Row[Any],
    owner: str,
    lease_until: datetime,
    now: datetime,
    *,
    max_attempts: int,
) -> OutboxItem | None:
    """Count the expired attempt of ``row`` as failed; claim the row, or bury it if spent."""
    attempts = row.attempts + 1
    error = TAKEOVER_ERROR.format(owner=row.lease_owner)
    values: dict[str, Any] = {
        "attempts": attempts,
        "last_error": error,
        "outcome_unknown": True,
        "updated_at": now,
    }
    if attempts >= max_attempts:
        values.update(state="dead", lease_owner=None, lease_until=None)
    else:
        values.update(lease_owner=owner, lease_until=lease_until)
    await connection.execute(sa.update(outbox).where(outbox.c.id == row.id).values(**values))
    if attempts >= max_attempts:
        return None
    return _item(row, **values)


async def _lock_row(
    connection: AsyncConnection, complaint_id: int, destination: str
) -> sa.Row[Any]:
    row = (
        await connection.execute(
            sa.select(outbox)
            .where(outbox.c.complaint_id == complaint_id, outbox.c.destination == destination)
            .with_for_update()
        )
    ).first()
    if row is None:
        raise NotFound(
            f"complaint {complaint_id!r} has no delivery to {destination!r}; "
            "check the id with `oss-bridge complaints list`"
        )
    return row


async def _audit_move(
    connection: AsyncConnection,
    before: sa.Row[Any],
    after: sa.Row[Any],
    *,
    actor: str,
    action: str,
    now: datetime,
) -> None:
    await insert_audit(
        connection,
        at=now,
        actor=actor,
        action=action,
        entity_type="outbox",
        entity_id=str(before.complaint_id),
        before={
            "state": before.state,
            "attempts": before.attempts,
            "last_error": before.last_error,
        },
        after={"state": after.state, "attempts": after.attempts},
        detail={"destination": before.destination, "outbox_id": before.id},
    )


def _item(row: sa.Row[Any], **changes: Any) -> OutboxItem:
    values = {name: getattr(row, name) for name in _ITEM_FIELDS}
    values.update({name: value for name, value in changes.items() if name in _ITEM_FIELDS})
    return OutboxItem(**values)


_ITEM_FIELDS = tuple(OutboxItem.__dataclass_fields__)


def _complaint(row: sa.Row[Any]) -> Complaint:
    """The complaint columns (``c_*``) of a claim row as the domain model."""
    return complaint_from_row(row, prefix="c_")
