"""Runs of the bridge's jobs, scheduled or asked for by a person, recorded in ``job_runs``.

Every run of a job goes through one ``RunService``, whoever asked for it: the scheduler, the
admin API, the staff page's buttons or the command line. So a resync by hand and a scheduled one
are the same code, each has a run id whose progress and result can be read back, and one job
never runs twice at once in this process (a second request waits its turn, ``queued``; a
scheduled run that finds its job busy is skipped instead, since the busy run does its work).

A run moves ``queued -> running -> succeeded | failed``. The job function gets a ``RunContext``
(its run id, whether it is a dry run, and a progress callback whose latest value is written to
the run as it goes) and returns a ``JobOutcome``. Any exception fails the run with its class and
message stored. A job that finds its work being done by another instance on the same database
(the catalogue sync, see ``daemon._jobs``) returns ``JobOutcome.skip(...)``: the run succeeds with
``skipped`` in its result and a summary saying why. Each finished run is logged as one line with its run id, and the run id is bound
to the log context while the job runs, so every line the job logs (each attempt) carries it.

``close`` is the shutdown path: no new run is accepted (``ShuttingDown``), runs in progress get
up to a grace period to finish, and the rest are cancelled and recorded as failed.

A daemon that dies cannot record its runs as failed. While this process has runs queued or
running, it writes their heartbeat every ``heartbeat_seconds``; a run whose heartbeat has been
silent for ``SILENT_BEATS`` intervals belongs to an instance that is gone, and the next run
started by any instance on the database (at most once an interval) records it as failed. The
SQLite daemon, alone on its file, fails every unfinished run of its predecessor at start
(``abandon_unfinished``).
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, Literal, Protocol, get_args

import structlog
from pydantic import JsonValue

from oss_bridge.errors import InputError, NotFound, ShuttingDown, StoreError
from oss_bridge.store import JobRun, Store

log = structlog.get_logger("oss_bridge.runs")

JobName = Literal["catalogue", "complaints", "status", "deadlines", "summary"]
JOB_NAMES: tuple[JobName, ...] = get_args(JobName)

ResyncTarget = Literal["catalogue", "complaints", "status"]
RESYNC_TARGETS: tuple[ResyncTarget, ...] = get_args(ResyncTarget)
"""The jobs a person may start by hand (admin API, staff page, command line)."""

CUT_SHORT = "the daemon stopped before the run finished; run it again"
ABANDONED = "the daemon stopped (or crashed) before the run finished; run it again"

SILENT = (
    "the instance running it stopped (no heartbeat for {seconds:.0f} s) before the run "
    "finished; run it again"
)
HEARTBEAT_SECONDS = 30.0
"""How often a daemon notes in the store that its unfinished runs are still being worked on."""
SILENT_BEATS = 4
"""A run whose heartbeat missed this many intervals is taken as abandoned by a dead instance."""


@dataclass(frozen=True, slots=True)
class JobOutcome:
    """What a finished job reports: ``result`` (JSON) for the run, ``summary`` (one line) for
    people, and whether something it found ``needs_person``.

    The run's stored result is ``result`` with ``summary``, ``needs_person`` and ``again``, and
    ``skipped: true`` when the job was skipped."""

    result: dict[str, JsonValue]
    summary: str
    needs_person: bool = False
    again: bool = False
    """The job stopped at its batch limit with work left: the scheduler runs it again at once."""
    skipped: bool = False
    """The job did nothing because another instance was doing the same work (``summary`` says
    so); the run still succeeds, since the work is being done."""

    @classmethod
    def skip(cls, summary: str, **result: JsonValue) -> JobOutcome:
        """The outcome of a job that left its work to another instance."""
        return cls(result=dict(result), summary=f"skipped: {summary}", skipped=True)


@dataclass(slots=True)
class RunContext:
    """What a job function gets: its run's id, whether to write nothing, and where to report
    progress (JSON; the latest value is written to the run, earlier ones may be skipped)."""

    run_id: str
    job: JobName
    dry_run: bool
    report_progress: Callable[[dict[str, JsonValue]], None]


Job = Callable[[RunContext], Awaitable[JobOutcome]]


class RunListener(Protocol):
    """Told of every finished run (metrics); must not raise or block."""

    def run_finished(
        self, run: JobRun, outcome: JobOutcome | None, duration_seconds: float
    ) -> None: ...


def parse_target(value: str) -> ResyncTarget:
    """``value`` as a resync target; ``InputError`` naming the targets otherwise."""
    for target in RESYNC_TARGETS:
        if value == target:
            return target
    raise InputError(
        f"target {value!r} cannot be run by hand; choose one of {', '.join(RESYNC_TARGETS)}"
    )


async def prune_runs(store: Store, *, keep_days: int, jobs: Iterable[str] = JOB_NAMES) -> int:
    """Delete the runs that finished more than ``keep_days`` ago; returns how many went.

    The last success of each of ``jobs`` is kept whatever its age, so that ``status`` can still
    say when a job that has been failing for long last did its work.
    """
    if keep_days < 1:
        raise ValueError(f"keep_days {keep_days!r} must be 1 or more")
    keep = [run.run_id for job in jobs if (run := await store.last_success(job)) is not None]
    return await store.prune_runs(older_than=timedelta(days=keep_days), keep=keep)


def run_as_json(run: JobRun) -> dict[str, JsonValue]:
    """A run as the admin API and the staff page show it."""
    return {
        "run_id": run.run_id,
        "job": run.job,
        "state": run.state,
        "finished": run.finished,
        "dry_run": run.dry_run,
        "skipped": run.skipped,
        "requested_by": run.requested_by,
        "requested_at": run.requested_at.isoformat(),
        "started_at": None if run.started_at is None else run.started_at.isoformat(),
        "finished_at": None if run.finished_at is None else run.finished_at.isoformat(),
        "heartbeat_at": None if run.heartbeat_at is None else run.heartbeat_at.isoformat(),
        "progress": run.progress,
        "result": run.result,
        "error": run.error,
    }


def describe_error(error: BaseException) -> str:
    """The reason stored for a failed run: the error's class and message."""
    text = str(error)
    return f"{type(error).__name__}: {text}" if text else type(error).__name__


class _ProgressWriter:
    """Writes the latest progress of one run to the store, never more than one write at a time."""

    def __init__(self, store: Store, run_id: str) -> None:
        self._store = store
        self._run_id = run_id
        self._latest: dict[str, JsonValue] | None = None
        self._dirty = False
        self._task: asyncio.Task[None] | None = None

    def __call__(self, progress: dict[str, JsonValue]) -> None:
        self._latest = dict(progress)
        self._dirty = True
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self._flush())

    async def _flush(self) -> None:
        while self._dirty:
            self._dirty = False
            try:
                await self._store.update_run(self._run_id, progress=self._latest)
            except StoreError as exc:
                # Progress is a courtesy; the run's result is written when it ends.
                log.warning("run progress not saved", run_id=self._run_id, error=str(exc))
                return

    async def settle(self) -> None:
        """Wait for the write in flight, so the final update lands after it."""
        if self._task is not None:
            with contextlib.suppress(Exception):
                await self._task


@dataclass(slots=True)
class _Execution:
    run: JobRun
    task: asyncio.Task[JobRun]


class RunService:
    """Starts, runs, tracks and records the runs of the jobs in ``jobs`` (see the module doc).

    ``monotonic`` measures durations; ``listeners`` are told of each finished run.
    """

    def __init__(
        self,
        store: Store,
        jobs: Mapping[JobName, Job],
        *,
        monotonic: Callable[[], float] = time.monotonic,
        listeners: Iterable[RunListener] = (),
        heartbeat_seconds: float = HEARTBEAT_SECONDS,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        if not heartbeat_seconds > 0:
            raise ValueError(f"heartbeat_seconds {heartbeat_seconds!r} must be positive")
        self._store = store
        self._jobs = dict(jobs)
        self._monotonic = monotonic
        self._listeners = list(listeners)
        self._heartbeat_seconds = heartbeat_seconds
        self._sleep = sleep
        self._locks: dict[str, asyncio.Lock] = {name: asyncio.Lock() for name in self._jobs}
        self._executions: dict[str, _Execution] = {}
        self._heartbeat: asyncio.Task[None] | None = None
        self._silent_checked_at: float | None = None
        self._closed = False

    def is_busy(self, job: str) -> bool:
        """Whether a run of ``job`` is running (not merely queued) in this process."""
        lock = self._locks.get(job)
        return lock is not None and lock.locked()

    @property
    def in_progress(self) -> int:
        """Runs queued or running in this process."""
        return len(self._executions)

    # --- starting runs ---------------------------------------------------------------------

    async def start(self, target: str, *, dry_run: bool = False, requested_by: str) -> JobRun:
        """Queue a run of ``target`` (one of ``RESYNC_TARGETS``) and return it at once.

        The run goes on in the background; read it back with ``get``. Raises ``InputError``
        for another target and ``ShuttingDown`` once ``close`` has begun.
        """
        job = parse_target(target)
        execution = await self._launch(job, dry_run=dry_run, requested_by=requested_by)
        return execution.run

    async def run(
        self,
        job: JobName,
        *,
        requested_by: str,
        dry_run: bool = False,
        skip_if_busy: bool = False,
    ) -> JobRun | None:
        """Run ``job`` now and return its finished run.

        With ``skip_if_busy``, a job already running in this process is not run again and
        ``None`` comes back (the scheduler's way: the running one does the work).
        """
        if skip_if_busy and self.is_busy(job):
            log.info("job skipped; a run of it is still going", job=job)
            return None
        execution = await self._launch(job, dry_run=dry_run, requested_by=requested_by)
        return await asyncio.shield(execution.task)

    async def _launch(self, job: JobName, *, dry_run: bool, requested_by: str) -> _Execution:
        if self._closed:
            raise ShuttingDown(
                f"the daemon is shutting down and starts no new {job} run; "
                "ask again once it is back"
            )
        if job not in self._jobs:
            raise InputError(f"job {job!r} is not known; the jobs are {', '.join(self._jobs)}")
        now = self._monotonic()
        checked = self._silent_checked_at
        if checked is None or now - checked >= self._heartbeat_seconds:
            self._silent_checked_at = now
            await self.abandon_silent()
        run = await self._store.create_run(job=job, requested_by=requested_by, dry_run=dry_run)
        task = asyncio.create_task(self._execute(run), name=f"run {job} {run.run_id}")
        execution = _Execution(run=run, task=task)
        self._executions[run.run_id] = execution
        task.add_done_callback(self._forget)
        if self._heartbeat is None:
            self._heartbeat = asyncio.create_task(self._beat(), name="run heartbeat")
        return execution

    async def _beat(self) -> None:
        """Write the heartbeat of this process's unfinished runs every interval, until cancelled
        (``_forget`` cancels it when the last run ends, ``close`` at shutdown)."""
        while True:
            await self._sleep(self._heartbeat_seconds)
            try:
                await self._store.beat_runs(list(self._executions))
            except StoreError as exc:
                # Missing a few beats is harmless; only a silence of SILENT_BEATS counts.
                log.warning("run heartbeat not saved", error=str(exc))

    def _forget(self, task: asyncio.Task[JobRun]) -> None:
        for run_id, execution in list(self._executions.items()):
            if execution.task is task:
                del self._executions[run_id]
        if not self._executions and self._heartbeat is not None:
            # Nothing left to beat for. Forgotten at once: a run launched before the cancelled
            # task has ended must start a heartbeat of its own, not count on this one.
            self._heartbeat.cancel()
            self._heartbeat = None
        if not task.cancelled() and (error := task.exception()) is not None:
            # Only the store can fail here (the job's own failures are recorded as such).
            log.error("run not recorded", error=describe_error(error))

    async def _execute(self, run: JobRun) -> JobRun:
        job: JobName = run.job  # type: ignore[assignment]  # created by _launch from a JobName
        progress = _ProgressWriter(self._store, run.run_id)
        context = RunContext(
            run_id=run.run_id, job=job, dry_run=run.dry_run, report_progress=progress
        )
        bound = structlog.contextvars.bind_contextvars(run_id=run.run_id, job=job)
        started: float | None = None
        try:
            async with self._locks[job]:
                started = self._monotonic()
                await self._store.update_run(run.run_id, state="running")
                try:
                    outcome = await self._jobs[job](context)
                except asyncio.CancelledError:
                    raise
                except Exception as exc:  # noqa: BLE001 - every failure of a job is recorded
                    await progress.settle()
                    finished = await self._fail(run, describe_error(exc))
                    self._finished(finished, None, started)
                    return finished
                await progress.settle()
                finished = await self._store.update_run(
                    run.run_id,
                    state="succeeded",
                    skipped=outcome.skipped,
                    result={
                        "summary": outcome.summary,
                        "needs_person": outcome.needs_person,
                        "again": outcome.again,
                        **({"skipped": True} if outcome.skipped else {}),
                        **outcome.result,
                    },
                )
                self._finished(finished, outcome, started)
                return finished
        except asyncio.CancelledError:
            await progress.settle()
            finished = await asyncio.shield(self._fail(run, CUT_SHORT))
            self._finished(finished, None, self._monotonic() if started is None else started)
            raise
        finally:
            structlog.contextvars.reset_contextvars(**bound)

    async def _fail(self, run: JobRun, error: str) -> JobRun:
        return await self._store.update_run(run.run_id, state="failed", error=error)

    def _finished(self, run: JobRun, outcome: JobOutcome | None, started: float) -> None:
        duration = max(0.0, self._monotonic() - started)
        fields: dict[str, Any] = {
            "run_id": run.run_id,
            "job": run.job,
            "state": run.state,
            "requested_by": run.requested_by,
            "dry_run": run.dry_run,
            "duration_seconds": round(duration, 3),
        }
        if outcome is not None:
            # A run that found something for a person is worth a warning in the journal.
            emit = log.warning if outcome.needs_person else log.info
            emit(
                "job run skipped" if outcome.skipped else "job run finished",
                summary=outcome.summary,
                needs_person=outcome.needs_person,
                **fields,
            )
        else:
            log.error("job run failed", error=run.error, **fields)
        for listener in self._listeners:
            try:
                listener.run_finished(run, outcome, duration)
            except Exception as exc:  # noqa: BLE001 - a listener never fails a run
                log.warning("run listener failed", error=describe_error(exc))

    # --- reading runs ----------------------------------------------------------------------

    async def get(self, run_id: str) -> JobRun:
        """The run with ``run_id``; ``NotFound`` if there is none."""
        run = await self._store.get_run(run_id)
        if run is None:
            raise NotFound(
                f"no run has the id {run_id!r}; start one with POST /api/v1/admin/resync"
            )
        return run

    async def wait(self, run_id: str) -> JobRun:
        """The run once it has finished: awaited when it runs in this process, else as stored
        (possibly still unfinished, if another process runs it). ``NotFound`` if unknown."""
        execution = self._executions.get(run_id)
        if execution is not None:
            with contextlib.suppress(asyncio.CancelledError):
                await asyncio.shield(execution.task)
        return await self.get(run_id)

    async def recent(self, *, job: str | None = None, limit: int = 20) -> list[JobRun]:
        """The newest runs first, optionally of one job; ``InputError`` for an unknown job."""
        if job is not None and job not in JOB_NAMES:
            raise InputError(f"job {job!r} is not known; the jobs are {', '.join(JOB_NAMES)}")
        return await self._store.list_runs(job=job, limit=limit)

    # --- shutting down ---------------------------------------------------------------------

    async def close(self, *, grace: float) -> None:
        """Accept no new run; give the runs in progress ``grace`` seconds, then cancel them."""
        self._closed = True
        tasks = [execution.task for execution in self._executions.values()]
        if tasks:
            _, pending = await asyncio.wait(tasks, timeout=max(0.0, grace))
            if pending:
                log.warning("runs cut short by shutdown", runs=len(pending), grace_seconds=grace)
                for task in pending:
                    task.cancel()
                await asyncio.gather(*pending, return_exceptions=True)
        if self._heartbeat is not None:
            self._heartbeat.cancel()
            await asyncio.gather(self._heartbeat, return_exceptions=True)

    async def abandon_silent(self) -> int:
        """Record as failed the unfinished runs, of any instance, whose heartbeat has been silent
        for ``SILENT_BEATS`` intervals; returns how many. A store error is logged, not raised:
        the check is made again at a later run."""
        silent_for = timedelta(seconds=self._heartbeat_seconds * SILENT_BEATS)
        try:
            failed = await self._store.fail_stale_runs(
                silent_for=silent_for,
                error=SILENT.format(seconds=silent_for.total_seconds()),
                keep=list(self._executions),
            )
        except StoreError as exc:
            log.warning("silent runs not checked", error=str(exc))
            return 0
        for run in failed:
            log.warning("run of a silent instance marked failed", run_id=run.run_id, job=run.job)
        return len(failed)

    async def abandon_unfinished(self) -> int:
        """Record as failed every queued or running run in the store but this process's own;
        returns how many.

        Only for a daemon that knows no other process runs jobs on this database (the SQLite
        instance lock): it clears what a crashed predecessor left half done, however recently
        that one beat.
        """
        stale = await self._store.fail_stale_runs(
            silent_for=timedelta(0), error=ABANDONED, keep=list(self._executions)
        )
        if stale:
            log.warning("unfinished runs of an earlier daemon marked failed", runs=len(stale))
        return len(stale)


__all__ = [
    "JOB_NAMES",
    "RESYNC_TARGETS",
    "Job",
    "JobName",
    "JobOutcome",
    "ResyncTarget",
    "RunContext",
    "RunListener",
    "RunService",
    "describe_error",
    "parse_target",
    "prune_runs",
    "run_as_json",
]
