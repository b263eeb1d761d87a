"""Status-pull queries: claiming complaints due for a pull, applying what the pulls found.

A complaint is pulled while it has a national id (``external_id``), is not ``final`` and its
``next_pull_at`` has come. A claim leases it to one puller (``pull_lease_owner``,
``pull_lease_until``; ``FOR UPDATE SKIP LOCKED`` on PostgreSQL, the one writer on SQLite), so
two pullers never pull the same complaint at once; a crashed puller's lease simply expires.

``apply_pulls`` writes everything the pulls of several complaints found in one transaction, a few
statements in all: the raw national status, the stage (only ever forward: stage codes ``a``..``g``
sort in rank order), finality, the next pull time, and the events of the history. Events are de-duplicated by the table's unique key
(complaint, kind, ``dedupe_key``), so re-reading the channel's whole history adds nothing twice.
``pull_attempts`` counts the pulls since the complaint last changed (failed ones included); the
schedule stretches the interval with it.
"""

from __future__ import annotations

import functools
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection

from oss_bridge.domain.vocabulary import Stage
from oss_bridge.store._base import Queries, as_json, require_aware
from oss_bridge.store.schema import complaint_events, complaints

EventKind = Literal["status", "followup", "stage", "note"]

MAX_PULL_CLAIM = 10_000
MAX_DEDUPE_KEY = 200


@dataclass(frozen=True, slots=True)
class PullClaim:
    """A complaint leased for one pull, with what the puller needs to decide what is new."""

    complaint_id: int
    external_id: str
    stage: Stage
    external_status: str | None
    external_status_at: datetime | None
    received_at: datetime
    unchanged_pulls: int
    followup_keys: frozenset[str]


@dataclass(frozen=True, slots=True)
class NewEvent:
    """One entry for the complaint's history; stored once per (kind, ``dedupe_key``)."""

    kind: EventKind
    dedupe_key: str
    payload: dict[str, Any]
    external_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class PullUpdate:
    """What one pull found, decided by the puller.

    ``external_status`` None keeps the stored status (the answer was older than what we have).
    ``stage`` is the mapped stage, applied only when it is above the current one (None: keep).
    ``changed`` resets the count of quiet pulls; ``next_pull_at`` None means never again.
    """

    external_status: str | None
    external_status_at: datetime | None
    stage: Stage | None
    final: bool
    events: tuple[NewEvent, ...]
    next_pull_at: datetime | None
    changed: bool


@dataclass(frozen=True, slots=True)
class PullApplied:
    """What ``apply_pulls`` wrote for one complaint."""

    complaint_id: int
    stage_before: Stage
    stage: Stage
    events_added: int
    final: bool

    @property
    def moved(self) -> bool:
        return self.stage is not self.stage_before


@dataclass(frozen=True, slots=True)
class PullCounts:
    tracked: int
    """Complaints with a national id and no final status."""
    due: int
    """Of those, the ones whose pull time has come."""
    final: int


async def insert_events(
    connection: AsyncConnection, events: Iterable[tuple[int, NewEvent]], *, created_at: datetime
) -> Counter[int]:
    """Add events to complaints' histories, each unless its complaint holds one with the same
    kind and ``dedupe_key`` (a key repeated in ``events`` counts once), in one statement.

    Returns how many were added per complaint id. Runs inside the caller's transaction.
    """
    rows: dict[tuple[int, str, str], dict[str, Any]] = {}
    for complaint_id, event in events:
        _check_dedupe_key(event.dedupe_key)
        rows.setdefault(
            (complaint_id, event.kind, event.dedupe_key),
            {
                "complaint_id": complaint_id,
                "kind": event.kind,
                "dedupe_key": event.dedupe_key,
                "external_at": event.external_at,
                "payload": as_json(event.payload),
                "created_at": created_at,
            },
        )
    added: Counter[int] = Counter()
    if rows:
        insert = _ADD_EVENTS_PG if connection.dialect.name == "postgresql" else _ADD_EVENTS
        added.update(row[0] for row in await connection.execute(insert, list(rows.values())))
    return added


def stage_of(code: str) -> Stage:
    """The stage stored as ``code``."""
    for stage in Stage:
        if stage.value == code:
            return stage
    raise ValueError(f"{code!r} is not a stage code; the database holds a value it should not")


class PullQueries(Queries):
    """Named queries of the status puller."""

    async def claim_pulls(self, *, owner: str, lease_seconds: float, limit: int) -> list[PullClaim]:
        """Lease up to ``limit`` complaints due for a pull, the longest due first."""
        if not owner.strip() or len(owner) > 64:
            raise ValueError(f"owner {owner!r} must be a worker id of 1 to 64 characters")
        if not 1 <= limit <= MAX_PULL_CLAIM:
            raise ValueError(f"limit {limit!r} must be between 1 and {MAX_PULL_CLAIM}")
        if not lease_seconds > 0:
            raise ValueError(f"lease_seconds {lease_seconds!r} must be a positive number")
        now = self._now()
        async with self._write() as connection:
            rows = (await connection.execute(_DUE_FOR_PULL, {"now": now, "limit": limit})).all()
            if not rows:
                return []
            ids = [row.id for row in rows]
            await connection.execute(
                _LEASE_PULLS,
                {
                    "ids": ids,
                    "owner": owner,
                    "until": now + timedelta(seconds=lease_seconds),
                },
            )
            keys: dict[int, set[str]] = defaultdict(set)
            for complaint_id, key in await connection.execute(_FOLLOWUP_KEYS, {"ids": ids}):
                keys[complaint_id].add(key)
        return [
            PullClaim(
                complaint_id=row.id,
                external_id=row.external_id,
                stage=stage_of(row.stage),
                external_status=row.external_status,
                external_status_at=row.external_status_at,
                received_at=row.received_at,
                unchanged_pulls=row.pull_attempts,
                followup_keys=frozenset(keys[row.id]),
            )
            for row in rows
        ]

    async def apply_pulls(
        self, pulls: Sequence[tuple[int, PullUpdate]], *, owner: str
    ) -> list[PullApplied | None]:
        """Write what each pull found (see the module docstring) and release its lease, for
        several complaints in one transaction, a few statements in all.

        Answers in the order of ``pulls``: ``None`` for a complaint whose pull lease ``owner``
        no longer holds (nothing written for it).
        """
        ids = [complaint_id for complaint_id, _ in pulls]
        if len(set(ids)) != len(ids):
            raise ValueError(f"each complaint may be applied once per call, not {ids!r}")
        for _, update in pulls:
            require_aware(update.external_status_at, "external_status_at")
            require_aware(update.next_pull_at, "next_pull_at")
            for event in update.events:
                _check_dedupe_key(event.dedupe_key)
        if not pulls:
            return []
        now = self._now()
        moves: list[tuple[int, Stage, Stage, bool] | None] = []  # id, before, after, final
        changes: dict[tuple[bool, bool, bool], list[dict[str, Any]]] = defaultdict(list)
        events: list[tuple[int, NewEvent]] = []
        async with self._write() as connection:
            held = {
                row.id: row
                for row in await connection.execute(_HELD_FOR_PULL, {"ids": ids, "owner": owner})
            }
            for complaint_id, update in pulls:
                current = held.get(complaint_id)
                if current is None:
                    moves.append(None)
                    continue
                before = stage_of(current.stage)
                stage = before
                if update.stage is not None and update.stage.rank > before.rank:
                    stage = update.stage
                final = bool(current.final) or update.final
                moves.append((complaint_id, before, stage, final))
                has_status = update.external_status is not None
                touched = update.changed or stage is not before
                changes[(update.changed, has_status, touched)].append(
                    {
                        "b_id": complaint_id,
                        "b_stage": stage.value,
                        "b_final": final,
                        "b_next_pull_at": None if final else update.next_pull_at,
                        "b_external_status": update.external_status,
                        "b_external_status_at": update.external_status_at,
                        "b_updated_at": now,
                    }
                )
                events.extend((complaint_id, event) for event in update.events)
                if stage is not before:
                    moved = NewEvent(
                        kind="stage",
                        dedupe_key=f"stage:{stage.value}",
                        payload={
                            "from": before.value,
                            "to": stage.value,
                            "external_status": update.external_status,
                        },
                        external_at=update.external_status_at,
                    )
                    events.append((complaint_id, moved))
            for shape, rows in changes.items():
                await connection.execute(_applied_pull(*shape), rows)
            added = await insert_events(connection, events, created_at=now)
        return [
            None
            if move is None
            else PullApplied(
                complaint_id=move[0],
                stage_before=move[1],
                stage=move[2],
                events_added=added[move[0]],
                final=move[3],
            )
            for move in moves
        ]

    async def record_pull_failure(
        self, complaint_id: int, *, owner: str, next_pull_at: datetime
    ) -> bool:
        """Release the lease after a failed pull and set the next try; False if not leased."""
        require_aware(next_pull_at, "next_pull_at")
        c = complaints.c
        async with self._write() as connection:
            result = await connection.execute(
                sa.update(complaints)
                .where(c.id == complaint_id, c.pull_lease_owner == owner)
                .values(
                    next_pull_at=next_pull_at,
                    pull_attempts=c.pull_attempts + 1,
                    pull_lease_owner=None,
                    pull_lease_until=None,
                )
            )
        return bool(result.rowcount)

    async def release_pull_leases(self, owner: str) -> int:
        """Give back every pull lease ``owner`` holds, e.g. on shutdown; returns how many."""
        c = complaints.c
        async with self._write() as connection:
            result = await connection.execute(
                sa.update(complaints)
                .where(c.pull_lease_owner == owner)
                .values(pull_lease_owner=None, pull_lease_until=None)
            )
        return int(result.rowcount or 0)

    async def pull_counts(self) -> PullCounts:
        """How many complaints the puller follows, how many are due now, how many are final."""
        now = self._now()
        c = complaints.c
        tracked = sa.and_(c.external_id.is_not(None), c.final.is_(False))
        async with self._read() as connection:
            row = (
                await connection.execute(
                    sa.select(
                        sa.func.count().filter(tracked),
                        sa.func.count().filter(sa.and_(tracked, c.next_pull_at <= now)),
                        sa.func.count().filter(c.final.is_(True)),
                    )
                )
            ).one()
        return PullCounts(tracked=int(row[0]), due=int(row[1]), final=int(row[2]))


def _check_dedupe_key(dedupe_key: str) -> None:
    if not dedupe_key or len(dedupe_key) > MAX_DEDUPE_KEY:
        raise ValueError(f"dedupe_key {dedupe_key!r} must be 1 to {MAX_DEDUPE_KEY} characters")


# The statements of claims and ``apply_pulls``, built once: building and keying a statement costs
# more than running it on a small table.
_NOW = sa.bindparam("now", type_=complaints.c.next_pull_at.type)
_DUE_FOR_PULL = (
    sa.select(complaints)
    .where(
        complaints.c.external_id.is_not(None),
        complaints.c.final.is_(False),
        complaints.c.next_pull_at <= _NOW,
        sa.or_(complaints.c.pull_lease_until.is_(None), complaints.c.pull_lease_until <= _NOW),
    )
    .order_by(complaints.c.next_pull_at, complaints.c.id)
    .limit(sa.bindparam("limit", type_=sa.Integer))
    .with_for_update(skip_locked=True)
)
_LEASE_PULLS = (
    sa.update(complaints)
    .where(complaints.c.id.in_(sa.bindparam("ids", expanding=True)))
    .values(
        pull_lease_owner=sa.bindparam("owner"),
        pull_lease_until=sa.bindparam("until", type_=complaints.c.pull_lease_until.type),
    )
)
_FOLLOWUP_KEYS = sa.select(complaint_events.c.complaint_id, complaint_events.c.dedupe_key).where(
    complaint_events.c.complaint_id.in_(sa.bindparam("ids", expanding=True)),
    complaint_events.c.kind == "followup",
)
_HELD_FOR_PULL = (
    sa.select(complaints.c.id, complaints.c.stage, complaints.c.final)
    .where(
        complaints.c.id.in_(sa.bindparam("ids", expanding=True)),
        complaints.c.pull_lease_owner == sa.bindparam("owner"),
    )
    .with_for_update()
)


@functools.cache
def _applied_pull(changed: bool, has_status: bool, touched: bool) -> sa.Update:
    """The update of one pulled complaint (run for many at once), by what its pull found:
    a change resets the count of quiet pulls, a status is stored only when there is one, and
    ``updated_at`` moves only when something did."""
    c = complaints.c
    values: dict[str, Any] = {
        "stage": sa.bindparam("b_stage"),
        "final": sa.bindparam("b_final", type_=c.final.type),
        "next_pull_at": sa.bindparam("b_next_pull_at", type_=c.next_pull_at.type),
        "pull_attempts": 0 if changed else c.pull_attempts + 1,
        "pull_lease_owner": None,
        "pull_lease_until": None,
    }
    if has_status:
        values["external_status"] = sa.bindparam("b_external_status")
        values["external_status_at"] = sa.bindparam(
            "b_external_status_at", type_=c.external_status_at.type
        )
    if touched:
        values["updated_at"] = sa.bindparam("b_updated_at", type_=c.updated_at.type)
    return sa.update(complaints).where(c.id == sa.bindparam("b_id")).values(values)


EVENT_KEY = [
    complaint_events.c.complaint_id,
    complaint_events.c.kind,
    complaint_events.c.dedupe_key,
]
"""The columns an event is stored once by (the table's unique key)."""
_ADD_EVENTS = (
    sqlite.insert(complaint_events)
    .on_conflict_do_nothing(index_elements=EVENT_KEY)
    .returning(complaint_events.c.complaint_id)
)
_ADD_EVENTS_PG = (
    postgresql.insert(complaint_events)
    .on_conflict_do_nothing(index_elements=EVENT_KEY)
    .returning(complaint_events.c.complaint_id)
)
