"""How the bridge stands, in numbers and lists: for `oss-bridge status`, the admin API and /ui/.

``StatusReport.snapshot()`` gathers the numbers an operator watches: the outbox by state, the
age of the oldest complaint still waiting, dead letters, open sync conflicts, quarantined
entries, overdue complaints, the status pull's backlog, and per job its last run, last success
and (inside the daemon) next scheduled run. ``board()`` adds the lists the staff page shows.
``tally_by_day`` counts complaints per office day, category and stage for the staff page's chart.

Personal data never leaves this module: lists name complaints by receipt number, category and
stage only.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from pydantic import JsonValue

from oss_bridge.domain.complaint import ComplaintView
from oss_bridge.domain.vocabulary import ComplaintCategory, Stage
from oss_bridge.services.complaints._time import office_date
from oss_bridge.services.intake import MAX_PAGE, ComplaintIntake
from oss_bridge.services.runs import JOB_NAMES, JobName, run_as_json
from oss_bridge.store import (
    ComplaintFilter,
    ComplaintRecord,
    Conflict,
    JobRun,
    QuarantineEntry,
    Store,
)
from oss_bridge.store._outbox import OUTBOX_STATES, OutboxCounts
from oss_bridge.store._pulls import PullCounts
from oss_bridge.store._reports import ComplaintMark

Clock = Callable[[], datetime]
NextRuns = Callable[[], Mapping[str, datetime | None]]

RUNS_SCANNED = 200
"""How many recent runs of a job are read to find its last success."""
QUARANTINE_COUNTED = 10_000
LIST_LIMIT = 20
"""How many rows each list of the staff page shows."""
CHART_DAYS = 14


def _utc_now() -> datetime:
    return datetime.now(UTC)


def _iso(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat()


@dataclass(frozen=True, slots=True)
class JobStatus:
    """One job: its newest run, the end of its newest successful run, its next scheduled run."""

    job: str
    last_run: JobRun | None
    last_success_at: datetime | None
    next_run_at: datetime | None

    def as_json(self) -> dict[str, JsonValue]:
        return {
            "job": self.job,
            "last_run": None if self.last_run is None else run_as_json(self.last_run),
            "last_success_at": _iso(self.last_success_at),
            "next_run_at": _iso(self.next_run_at),
        }


@dataclass(frozen=True, slots=True)
class StatusSnapshot:
    """The numbers of ``StatusReport.snapshot``; ``overdue_capped`` says there may be more
    overdue complaints than ``overdue`` (it counts at most ``MAX_PAGE``)."""

    generated_at: datetime
    database: str
    queue: OutboxCounts
    dead_letters: int
    conflicts: int
    quarantined: int
    overdue: int
    overdue_capped: bool
    pulls: PullCounts
    jobs: tuple[JobStatus, ...]

    @property
    def oldest_pending_age_seconds(self) -> float | None:
        if self.queue.oldest_pending_at is None:
            return None
        return max(0.0, (self.generated_at - self.queue.oldest_pending_at).total_seconds())

    @property
    def needs_person(self) -> bool:
        """Dead letters, conflicts, quarantined entries or overdue complaints wait for staff."""
        return bool(self.dead_letters or self.conflicts or self.quarantined or self.overdue)

    def job(self, name: str) -> JobStatus | None:
        return next((status for status in self.jobs if status.job == name), None)

    def as_json(self) -> dict[str, JsonValue]:
        age = self.oldest_pending_age_seconds
        return {
            "generated_at": self.generated_at.isoformat(),
            "database": self.database,
            "queue": {
                "by_state": {state: self.queue.count(state) for state in OUTBOX_STATES},
                "waiting": self.queue.waiting,
                "oldest_pending_at": _iso(self.queue.oldest_pending_at),
                "oldest_pending_age_seconds": None if age is None else round(age, 3),
                "next_attempt_at": _iso(self.queue.next_attempt_at),
            },
            "dead_letters": self.dead_letters,
            "conflicts": self.conflicts,
            "quarantined": self.quarantined,
            "overdue_complaints": self.overdue,
            "overdue_capped": self.overdue_capped,
            "status_pull": {
                "tracked": self.pulls.tracked,
                "due": self.pulls.due,
                "final": self.pulls.final,
            },
            "jobs": {status.job: status.as_json() for status in self.jobs},
            "needs_person": self.needs_person,
        }

    def lines(self) -> list[str]:
        """The snapshot for people, with what to do about whatever needs a person."""
        q = self.queue
        age = self.oldest_pending_age_seconds
        lines = [
            f"database: {self.database}",
            "outbox: "
            + ", ".join(f"{q.count(state)} {state}" for state in OUTBOX_STATES)
            + (f"; oldest waiting for {_duration(age)}" if age is not None else ""),
            f"status pull: {self.pulls.tracked} followed, {self.pulls.due} due, "
            f"{self.pulls.final} final",
        ]
        for status in self.jobs:
            last = status.last_run
            parts = [f"job {status.job}:"]
            parts.append("never run" if last is None else f"last run {last.state} ({_when(last)})")
            if status.last_success_at is not None:
                parts.append(f"last success {status.last_success_at:%Y-%m-%d %H:%M:%S} UTC")
            if status.next_run_at is not None:
                parts.append(f"next {status.next_run_at:%Y-%m-%d %H:%M:%S} UTC")
            lines.append(" ".join(parts[:2]) + "".join(f"; {part}" for part in parts[2:]))
        overdue = f"{self.overdue}{'+' if self.overdue_capped else ''}"
        lines.append(
            f"dead letters: {self.dead_letters}; conflicts: {self.conflicts}; "
            f"quarantined: {self.quarantined}; overdue complaints: {overdue}"
        )
        if self.dead_letters:
            lines.append(
                "dead letters wait: see `oss-bridge complaints list --state dead`, then "
                "`oss-bridge complaints requeue ID|--all-dead` or `complaints acknowledge ID`"
            )
        if self.conflicts:
            lines.append(
                "conflicts wait: `oss-bridge catalogue conflicts`, then "
                "`oss-bridge catalogue resolve ID --take local|remote`"
            )
        if self.quarantined:
            lines.append("quarantined entries wait: OSS sent entries that cannot be read")
        if self.overdue:
            lines.append("overdue complaints: `oss-bridge complaints list --overdue`")
        return lines


def _when(run: JobRun) -> str:
    at = run.finished_at or run.started_at or run.requested_at
    return f"{at:%Y-%m-%d %H:%M:%S} UTC"


def _duration(seconds: float) -> str:
    seconds = int(seconds)
    if seconds < 120:
        return f"{seconds}s"
    if seconds < 7200:
        return f"{seconds // 60}m"
    if seconds < 172_800:
        return f"{seconds // 3600}h"
    return f"{seconds // 86400}d"


# --- the staff page's lists and chart --------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ComplaintLine:
    """A complaint as a line of a list: no personal data, no description."""

    id: int
    receipt_number: str
    category: ComplaintCategory
    stage: Stage
    received_at: datetime
    forward_state: str | None
    attempts: int
    last_error: str | None
    next_attempt_at: datetime | None

    @classmethod
    def of(cls, record: ComplaintRecord) -> ComplaintLine:
        delivery = record.delivery
        return cls(
            id=record.id,
            receipt_number=record.receipt_number,
            category=record.complaint.category,
            stage=record.complaint.stage,
            received_at=record.complaint.received_at,
            forward_state=None if delivery is None else delivery.state,
            attempts=0 if delivery is None else delivery.attempts,
            last_error=None if delivery is None else delivery.last_error,
            next_attempt_at=None if delivery is None else delivery.next_attempt_at,
        )


@dataclass(frozen=True, slots=True)
class OverdueLine:
    """An overdue complaint and the deadlines it missed."""

    id: int
    receipt_number: str
    category: ComplaintCategory
    stage: Stage
    missed: tuple[tuple[str, datetime], ...]

    @classmethod
    def of(cls, view: ComplaintView) -> OverdueLine:
        return cls(
            id=view.complaint.id,
            receipt_number=view.complaint.receipt_number,
            category=view.complaint.category,
            stage=view.complaint.stage,
            missed=tuple((d.name, d.due_at) for d in view.deadlines if d.overdue),
        )


@dataclass(frozen=True, slots=True)
class Tally:
    """Complaints received per office day (oldest first), by category code and by stage code."""

    days: tuple[date, ...]
    by_category: dict[str, tuple[int, ...]]
    by_stage: dict[str, tuple[int, ...]]

    @property
    def total(self) -> int:
        return sum(sum(counts) for counts in self.by_category.values())


def tally_by_day(marks: Iterable[ComplaintMark], *, today: date, days: int) -> Tally:
    """Count ``marks`` per office day of receipt over the ``days`` days ending ``today``.

    Every category and stage has a row, zeros included; marks outside the window, or with a
    code this version does not know, are left out.
    """
    if days < 1:
        raise ValueError(f"days {days!r} must be 1 or more")
    window = tuple(today - timedelta(days=offset) for offset in range(days - 1, -1, -1))
    index = {day: position for position, day in enumerate(window)}
    categories = {category.value: [0] * days for category in ComplaintCategory}
    stages = {stage.value: [0] * days for stage in Stage}
    for mark in marks:
        position = index.get(office_date(mark.received_at, "received_at"))
        if position is None:
            continue
        if mark.category in categories:
            categories[mark.category][position] += 1
        if mark.stage in stages:
            stages[mark.stage][position] += 1
    return Tally(
        days=window,
        by_category={code: tuple(counts) for code, counts in categories.items()},
        by_stage={code: tuple(counts) for code, counts in stages.items()},
    )


@dataclass(frozen=True, slots=True)
class StaffBoard:
    """Everything the staff page shows: the snapshot and the lists behind its numbers."""

    snapshot: StatusSnapshot
    waiting: tuple[ComplaintLine, ...]
    dead: tuple[ComplaintLine, ...]
    conflicts: tuple[Conflict, ...]
    quarantined: tuple[QuarantineEntry, ...]
    overdue: tuple[OverdueLine, ...]
    tally: Tally
    recent_runs: tuple[JobRun, ...] = field(default=())


# --- the service -------------------------------------------------------------------------------


class StatusReport:
    """Reads how the bridge stands from ``store`` (and ``intake`` for deadlines).

    ``next_runs`` gives the scheduler's next run per job when the report runs inside the
    daemon; without it ``next_run_at`` is unknown (``None``).
    """

    def __init__(
        self,
        store: Store,
        intake: ComplaintIntake,
        *,
        clock: Clock = _utc_now,
        next_runs: NextRuns | None = None,
        jobs: Sequence[JobName] = JOB_NAMES,
    ) -> None:
        self._store = store
        self._intake = intake
        self._clock = clock
        self._next_runs = next_runs
        self._jobs = tuple(jobs)

    async def snapshot(self) -> StatusSnapshot:
        """The numbers an operator watches, read now."""
        now = self._clock()
        queue = await self._store.outbox_counts()
        conflicts = len(await self._store.list_conflicts())
        quarantined = len(await self._store.list_quarantine(limit=QUARANTINE_COUNTED))
        overdue = await self.overdue()
        pulls = await self._store.pull_counts()
        return StatusSnapshot(
            generated_at=now,
            database=self._store.database,
            queue=queue,
            dead_letters=queue.dead,
            conflicts=conflicts,
            quarantined=quarantined,
            overdue=len(overdue),
            overdue_capped=len(overdue) >= MAX_PAGE,
            pulls=pulls,
            jobs=tuple([await self._job_status(job) for job in self._jobs]),
        )

    async def overdue(self, *, limit: int = MAX_PAGE) -> list[ComplaintView]:
        """Complaints with a statutory deadline passed and its step not taken, newest first."""
        return await self._intake.list(overdue=True, limit=limit)

    async def _job_status(self, job: str) -> JobStatus:
        runs = await self._store.list_runs(job=job, limit=1)
        success = await self._store.last_success(job)
        scheduled = self._next_runs() if self._next_runs is not None else {}
        return JobStatus(
            job=job,
            last_run=runs[0] if runs else None,
            last_success_at=None if success is None else success.finished_at,
            next_run_at=scheduled.get(job),
        )

    async def board(self, *, days: int = CHART_DAYS) -> StaffBoard:
        """The snapshot with the first rows of each list and the chart's counts."""
        snapshot = await self.snapshot()
        waiting = await self._store.list_complaints(
            ComplaintFilter(forward_states=["pending", "in_flight"]),
            limit=LIST_LIMIT,
            newest_first=False,
        )
        dead = await self._store.list_complaints(
            ComplaintFilter(forward_states=["dead"]), limit=LIST_LIMIT
        )
        overdue = await self.overdue(limit=LIST_LIMIT)
        today = office_date(snapshot.generated_at, "now")
        since = datetime.combine(today - timedelta(days=days + 1), datetime.min.time(), UTC)
        marks = await self._store.complaint_marks(received_from=since)
        return StaffBoard(
            snapshot=snapshot,
            waiting=tuple(ComplaintLine.of(record) for record in waiting),
            dead=tuple(ComplaintLine.of(record) for record in dead),
            conflicts=tuple((await self._store.list_conflicts())[:LIST_LIMIT]),
            quarantined=tuple(await self._store.list_quarantine(limit=LIST_LIMIT)),
            overdue=tuple(OverdueLine.of(view) for view in overdue),
            tally=tally_by_day(marks, today=today, days=days),
            recent_runs=tuple(await self._store.list_runs(limit=10)),
        )

    async def daily_summary(self) -> dict[str, Any]:
        """What needs a person, and the runs that failed in the last day (the daily summary)."""
        snapshot = await self.snapshot()
        since = snapshot.generated_at - timedelta(days=1)
        failed: dict[str, int] = {}
        for job in self._jobs:
            for run in await self._store.list_runs(job=job, limit=RUNS_SCANNED):
                if run.state == "failed" and run.requested_at >= since:
                    failed[job] = failed.get(job, 0) + 1
        return {
            "dead_letters": snapshot.dead_letters,
            "conflicts": snapshot.conflicts,
            "quarantined": snapshot.quarantined,
            "overdue_complaints": snapshot.overdue,
            "waiting": snapshot.queue.waiting,
            "oldest_pending_age_seconds": snapshot.oldest_pending_age_seconds,
            "failed_runs_last_day": failed,
            "needs_person": snapshot.needs_person or bool(failed),
        }


__all__ = [
    "CHART_DAYS",
    "ComplaintLine",
    "JobStatus",
    "OverdueLine",
    "StaffBoard",
    "StatusReport",
    "StatusSnapshot",
    "Tally",
    "tally_by_day",
]
