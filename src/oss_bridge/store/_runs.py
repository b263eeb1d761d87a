"""Job runs: one row per run of a job, so that a requested resync can be followed by its id."""

from __future__ import annotations

import uuid
from collections.abc import Collection
from datetime import timedelta
from typing import Any, get_args

import sqlalchemy as sa

from oss_bridge.errors import NotFound
from oss_bridge.store._base import Queries, as_json
from oss_bridge.store.records import JobRun, RunState
from oss_bridge.store.schema import job_runs

MAX_RUNS_LIMIT = 1000
_FINISHED: tuple[RunState, ...] = ("succeeded", "failed")
_UNFINISHED: tuple[RunState, ...] = ("queued", "running")


class RunQueries(Queries):
    async def create_run(
        self, *, job: str, requested_by: str, dry_run: bool = False, run_id: str | None = None
    ) -> JobRun:
        """Record a queued run of ``job``; ``run_id`` defaults to a fresh random id."""
        now = self._now()
        values = {
            "run_id": run_id or uuid.uuid4().hex,
            "job": job,
            "state": "queued",
            "dry_run": dry_run,
            "requested_by": requested_by,
            "requested_at": now,
            "heartbeat_at": now,
        }
        async with self._write() as connection:
            row = (
                await connection.execute(
                    sa.insert(job_runs).values(**values).returning(*job_runs.c)
                )
            ).one()
        return _run(row)

    async def update_run(
        self,
        run_id: str,
        *,
        state: RunState | None = None,
        progress: Any = None,
        result: Any = None,
        error: str | None = None,
        skipped: bool | None = None,
    ) -> JobRun:
        """Move a run on. Arguments left ``None`` keep their value.

        The first move out of ``queued`` sets ``started_at``; ``succeeded`` or ``failed`` sets
        ``finished_at``. Raises ``NotFound`` for an unknown run id.
        """
        if state is not None and state not in get_args(RunState):
            raise ValueError(f"state {state!r} must be one of {', '.join(get_args(RunState))}")
        now = self._now()
        values: dict[str, Any] = {}
        if progress is not None:
            values["progress"] = as_json(progress)
        if result is not None:
            values["result"] = as_json(result)
        if error is not None:
            values["error"] = error
        if skipped is not None:
            values["skipped"] = skipped
        async with self._write() as connection:
            current = (
                await connection.execute(
                    sa.select(job_runs).where(job_runs.c.run_id == run_id).with_for_update()
                )
            ).first()
            if current is None:
                raise NotFound(f"no run with id {run_id!r}")
            if state is not None:
                values["state"] = state
                if state != "queued" and current.started_at is None:
                    values["started_at"] = now
                if state in _FINISHED:
                    values["finished_at"] = now
            if not values:
                return _run(current)
            row = (
                await connection.execute(
                    sa.update(job_runs)
                    .where(job_runs.c.run_id == run_id)
                    .values(**values)
                    .returning(*job_runs.c)
                )
            ).one()
        return _run(row)

    async def beat_runs(self, run_ids: Collection[str]) -> None:
        """Note that the unfinished runs among ``run_ids`` are still being worked on."""
        if not run_ids:
            return
        async with self._write() as connection:
            await connection.execute(
                sa.update(job_runs)
                .where(job_runs.c.run_id.in_(sorted(run_ids)), job_runs.c.state.in_(_UNFINISHED))
                .values(heartbeat_at=self._now())
            )

    async def fail_stale_runs(
        self, *, silent_for: timedelta, error: str, keep: Collection[str] = ()
    ) -> list[JobRun]:
        """Fail the queued or running runs whose heartbeat has been silent for at least
        ``silent_for`` (with no time at all, every one).

        Runs named in ``keep`` (the caller's own) are left alone. Returns the runs failed, each
        with ``error`` and finished now.
        """
        now = self._now()
        silent_since = now - silent_for
        query = (
            sa.update(job_runs)
            .where(
                job_runs.c.state.in_(_UNFINISHED),
                sa.func.coalesce(job_runs.c.heartbeat_at, job_runs.c.requested_at) <= silent_since,
            )
            .values(state="failed", error=error, finished_at=now)
            .returning(*job_runs.c)
        )
        if keep:
            query = query.where(job_runs.c.run_id.not_in(sorted(keep)))
        async with self._write() as connection:
            rows = (await connection.execute(query)).all()
        return [_run(row) for row in rows]

    async def prune_runs(self, *, older_than: timedelta, keep: Collection[str] = ()) -> int:
        """Delete the runs that finished more than ``older_than`` ago, but those in ``keep``;
        returns how many went. Unfinished runs are never deleted."""
        query = sa.delete(job_runs).where(
            job_runs.c.state.in_(_FINISHED), job_runs.c.finished_at < self._now() - older_than
        )
        if keep:
            query = query.where(job_runs.c.run_id.not_in(sorted(keep)))
        async with self._write() as connection:
            result = await connection.execute(query)
        return int(result.rowcount)

    async def get_run(self, run_id: str) -> JobRun | None:
        async with self._read() as connection:
            row = (
                await connection.execute(sa.select(job_runs).where(job_runs.c.run_id == run_id))
            ).first()
        return None if row is None else _run(row)

    async def last_success(self, job: str) -> JobRun | None:
        """The newest run of ``job`` that did its work (``JobRun.did_the_work``), if any.

        Skipped runs are passed over: an instance that leaves the work to another records one
        at each turn, and it is the other's runs that say when the work was last done.
        """
        query = (
            sa.select(job_runs)
            .where(
                job_runs.c.job == job,
                job_runs.c.state == "succeeded",
                job_runs.c.dry_run.is_(False),
                job_runs.c.skipped.is_(False),
            )
            .order_by(job_runs.c.finished_at.desc(), job_runs.c.run_id.desc())
            .limit(1)
        )
        async with self._read() as connection:
            row = (await connection.execute(query)).first()
        return None if row is None else _run(row)

    async def list_runs(self, *, job: str | None = None, limit: int = 20) -> list[JobRun]:
        """The newest runs first, optionally of one job."""
        if not 1 <= limit <= MAX_RUNS_LIMIT:
            raise ValueError(f"limit {limit!r} must be between 1 and {MAX_RUNS_LIMIT}")
        query = (
            sa.select(job_runs)
            .order_by(job_runs.c.requested_at.desc(), job_runs.c.run_id.desc())
            .limit(limit)
        )
        if job is not None:
            query = query.where(job_runs.c.job == job)
        async with self._read() as connection:
            rows = (await connection.execute(query)).all()
        return [_run(row) for row in rows]


def _run(row: sa.Row[Any]) -> JobRun:
    return JobRun(
        run_id=row.run_id,
        job=row.job,
        state=row.state,
        dry_run=row.dry_run,
        requested_by=row.requested_by,
        progress=row.progress,
        result=row.result,
        error=row.error,
        requested_at=row.requested_at,
        started_at=row.started_at,
        finished_at=row.finished_at,
        heartbeat_at=row.heartbeat_at,
        skipped=row.skipped,
    )
