"""The daemon's schedule: APScheduler 3's ``AsyncIOScheduler`` firing runs through ``RunService``.

Jobs and their triggers (``job_specs``), all from the config:

==============  ===============================================  ==============================
job             trigger                                          first run
==============  ===============================================  ==============================
``catalogue``   every ``catalogue.interval_seconds``             at start
``complaints``  every ``forwarder.interval_seconds``             at start, and on each wake-up
``status``      every ``status_pull.interval_seconds``           at start
``deadlines``   every ``scheduler.deadline_check_interval_seconds``  at start
``summary``     daily at ``scheduler.daily_summary_hour`` (WIB)  at that hour
==============  ===============================================  ==============================

Every job has ``max_instances=1`` and ``coalesce`` (runs missed while one ran become one run),
``misfire_grace_time`` and a random delay of up to ``jitter_seconds``. A run goes through
``RunService.run(..., skip_if_busy=True)``, so a job that someone started by hand is not run
again beside it. ``wake(job)`` runs a job now (the intake wakes the forwarder after each new
complaint); a wake-up that arrives while the job runs makes it run once more when it ends, as
does a run that stopped at its batch limit with work left (``JobOutcome.again``).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from oss_bridge.config import Settings
from oss_bridge.errors import BridgeError
from oss_bridge.log import get_logger
from oss_bridge.services.complaints._time import WIB
from oss_bridge.services.runs import JobName, RunService

log = get_logger("oss_bridge.scheduler")

REQUESTED_BY = "scheduler"
MAX_AGAIN_IN_A_ROW = 100
"""A job that always asks to run again still yields to the interval after this many runs."""


@dataclass(frozen=True, slots=True)
class JobSpec:
    """One scheduled job: its trigger and when it first runs (``None``: when the trigger says)."""

    name: JobName
    trigger: BaseTrigger
    first_run_at: datetime | None


def job_specs(settings: Settings, *, now: datetime) -> list[JobSpec]:
    """The daemon's jobs for ``settings`` (see the module docstring), the first runs from ``now``."""
    jitter = settings.scheduler.jitter_seconds or None

    def every(seconds: float) -> IntervalTrigger:
        return IntervalTrigger(seconds=seconds, jitter=jitter, timezone=UTC)

    return [
        JobSpec("catalogue", every(settings.catalogue.interval_seconds), now),
        JobSpec("complaints", every(settings.forwarder.interval_seconds), now),
        JobSpec("status", every(settings.status_pull.interval_seconds), now),
        JobSpec("deadlines", every(settings.scheduler.deadline_check_interval_seconds), now),
        JobSpec(
            "summary",
            CronTrigger(
                hour=settings.scheduler.daily_summary_hour, minute=0, timezone=WIB, jitter=jitter
            ),
            None,
        ),
    ]


class JobScheduler:
    """Fires the jobs of ``specs`` through ``runs`` on the running event loop."""

    def __init__(
        self, runs: RunService, specs: Sequence[JobSpec], *, misfire_grace_seconds: float
    ) -> None:
        self._runs = runs
        self._specs = {spec.name: spec for spec in specs}
        self._scheduler = AsyncIOScheduler(
            timezone=UTC,
            job_defaults={
                "max_instances": 1,
                "coalesce": True,
                "misfire_grace_time": max(1, round(misfire_grace_seconds)),
            },
        )
        self._again: set[str] = set()
        self._soon: dict[str, asyncio.Task[None]] = {}
        self._started = False
        self._stopped = False
        # One line per run comes from RunService; APScheduler's own per-run lines would double it.
        logging.getLogger("apscheduler.executors").setLevel(logging.WARNING)
        logging.getLogger("apscheduler.scheduler").setLevel(logging.WARNING)

    @property
    def scheduler(self) -> AsyncIOScheduler:
        return self._scheduler

    def start(self) -> None:
        """Add every job and start firing them; call with the event loop running."""
        for spec in self._specs.values():
            options = {} if spec.first_run_at is None else {"next_run_time": spec.first_run_at}
            self._scheduler.add_job(
                self.fire,
                trigger=spec.trigger,
                args=[spec.name],
                id=spec.name,
                name=spec.name,
                replace_existing=True,
                **options,
            )
        self._scheduler.start()
        self._started = True

    def next_runs(self) -> dict[str, datetime | None]:
        """Each job's next scheduled run (``None`` when stopped or not scheduled)."""
        if self._stopped or not self._scheduler.running:
            return {name: None for name in self._specs}
        found: dict[str, datetime | None] = {}
        for name in self._specs:
            job = self._scheduler.get_job(name)
            found[name] = None if job is None else job.next_run_time
        return found

    async def fire(self, name: JobName) -> None:
        """Run ``name`` once, and again while a wake-up came during the run or it asked to
        (``JobOutcome.again``), up to ``MAX_AGAIN_IN_A_ROW`` runs."""
        for _ in range(MAX_AGAIN_IN_A_ROW):
            self._again.discard(name)
            try:
                run = await self._runs.run(name, requested_by=REQUESTED_BY, skip_if_busy=True)
            except BridgeError as exc:
                # The store is down or the daemon stops; the next tick tries again.
                log.warning("scheduled run not started", job=name, reason=str(exc))
                return
            if run is None:
                return
            asks = isinstance(run.result, dict) and bool(run.result.get("again"))
            if self._stopped or not (asks or name in self._again):
                return

    def wake(self, name: JobName) -> None:
        """Run ``name`` now; if it is running, once more when it ends. Never raises.

        Before ``start`` it does nothing: the first scheduled run comes at start anyway.
        """
        if self._stopped or not self._started:
            return
        if self._runs.is_busy(name):
            self._again.add(name)
            return
        if name in self._soon:
            return
        task = asyncio.get_running_loop().create_task(self.fire(name), name=f"wake {name}")
        self._soon[name] = task
        task.add_done_callback(lambda _: self._soon.pop(name, None))

    async def stop(self) -> None:
        """Fire no more jobs. Runs already going are the ``RunService``'s to finish or cancel."""
        if self._stopped:
            return
        self._stopped = True
        if self._scheduler.running:
            self._scheduler.pause()
            self._scheduler.shutdown(wait=False)
        # The scheduler shuts down on its loop's next turn; give it that turn.
        await asyncio.sleep(0)
        waking = list(self._soon.values())
        for task in waking:
            task.cancel()
        await asyncio.gather(*waking, return_exceptions=True)


def first_runs_after(now: datetime, specs: Sequence[JobSpec]) -> dict[str, datetime | None]:
    """When each job of ``specs`` first runs if the daemon starts at ``now`` (jitter aside)."""
    found: dict[str, datetime | None] = {}
    for spec in specs:
        if spec.first_run_at is not None:
            found[spec.name] = spec.first_run_at
        else:
            found[spec.name] = spec.trigger.get_next_fire_time(None, now)
    return found


__all__ = ["JobScheduler", "JobSpec", "first_runs_after", "job_specs"]
