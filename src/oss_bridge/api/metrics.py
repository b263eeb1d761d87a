"""``GET /metrics``: the bridge in Prometheus text format.

``BridgeMetrics`` owns one ``CollectorRegistry`` per application (never the process-wide
default), so several apps in one process, as in tests, keep their numbers apart. Two kinds of
numbers live in it:

- read from the store at each scrape (``refresh``), so they are true whichever instance did the
  work: the outbox by state, the age of the oldest complaint waiting, open conflicts,
  quarantined entries, the status pull's backlog, the last success of each job;
- counted as things happen in this process: runs and their durations per job, attempts by
  outcome (forwarding and status pulls), requests to each national system by HTTP status
  (``external_response``, fed by the HTTP clients' transport), overdue complaints as of the
  last deadline check.

Metric names: ``oss_bridge_outbox_queue_depth{state}``,
``oss_bridge_outbox_oldest_pending_age_seconds``, ``oss_bridge_attempts_total{kind,outcome}``,
``oss_bridge_job_duration_seconds{job}`` (histogram), ``oss_bridge_job_runs_total{job,state}``,
``oss_bridge_job_last_success_timestamp_seconds{job}``,
``oss_bridge_external_requests_total{system,status}``, ``oss_bridge_catalogue_conflicts_open``,
``oss_bridge_quarantined_entries``, ``oss_bridge_status_pull_due``,
``oss_bridge_status_pull_tracked``, ``oss_bridge_overdue_complaints``, ``oss_bridge_database_up``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import UTC, datetime

from fastapi import APIRouter
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST
from starlette.responses import Response

from oss_bridge.errors import StoreError
from oss_bridge.log import get_logger
from oss_bridge.services.runs import JOB_NAMES, JobOutcome
from oss_bridge.store import JobRun, Store
from oss_bridge.store._outbox import OUTBOX_STATES

_log = get_logger(__name__)

JOB_DURATION_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 900)
QUARANTINE_COUNTED = 10_000


class BridgeMetrics:
    """The bridge's metrics in their own registry; see the module docstring."""

    def __init__(self, *, jobs: Iterable[str] = JOB_NAMES) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self._jobs = tuple(jobs)
        r = self.registry
        self.queue_depth = Gauge(
            "oss_bridge_outbox_queue_depth",
            "Deliveries of complaints in the outbox, by state.",
            ["state"],
            registry=r,
        )
        self.oldest_pending_age = Gauge(
            "oss_bridge_outbox_oldest_pending_age_seconds",
            "Age of the oldest complaint not yet delivered (0 when none waits).",
            registry=r,
        )
        self.attempts = Counter(
            "oss_bridge_attempts",
            "Attempts by kind (forward, status_pull) and outcome.",
            ["kind", "outcome"],
            registry=r,
        )
        self.job_duration = Histogram(
            "oss_bridge_job_duration_seconds",
            "How long runs of each job took (catalogue: sync durations).",
            ["job"],
            buckets=JOB_DURATION_BUCKETS,
            registry=r,
        )
        self.job_runs = Counter(
            "oss_bridge_job_runs",
            "Finished runs of each job by final state.",
            ["job", "state"],
            registry=r,
        )
        self.job_last_success = Gauge(
            "oss_bridge_job_last_success_timestamp_seconds",
            "When the last successful run of each job ended (Unix time).",
            ["job"],
            registry=r,
        )
        self.external_requests = Counter(
            "oss_bridge_external_requests",
            "Requests to each national system by HTTP status ('error': no answer).",
            ["system", "status"],
            registry=r,
        )
        self.conflicts = Gauge(
            "oss_bridge_catalogue_conflicts_open",
            "Catalogue sync conflicts waiting for staff.",
            registry=r,
        )
        self.quarantined = Gauge(
            "oss_bridge_quarantined_entries",
            "Entries from national systems that could not be read, not yet released.",
            registry=r,
        )
        self.pull_due = Gauge(
            "oss_bridge_status_pull_due",
            "Complaints whose status pull is due now.",
            registry=r,
        )
        self.pull_tracked = Gauge(
            "oss_bridge_status_pull_tracked",
            "Complaints with a national id and no final status.",
            registry=r,
        )
        self.overdue = Gauge(
            "oss_bridge_overdue_complaints",
            "Complaints past a statutory deadline, as of the last deadline check.",
            registry=r,
        )
        self.database_up = Gauge(
            "oss_bridge_database_up",
            "1 when the last scrape could read the database, else 0.",
            registry=r,
        )
        for state in OUTBOX_STATES:
            self.queue_depth.labels(state=state)
        for job in self._jobs:
            self.job_duration.labels(job=job)

    # --- counted as things happen ----------------------------------------------------------

    def run_finished(
        self, run: JobRun, outcome: JobOutcome | None, duration_seconds: float
    ) -> None:
        """A ``RunListener``: durations, runs by state and the last success of each job."""
        self.job_duration.labels(job=run.job).observe(duration_seconds)
        self.job_runs.labels(job=run.job, state=run.state).inc()
        if run.did_the_work and run.finished_at is not None:
            self.job_last_success.labels(job=run.job).set(run.finished_at.timestamp())

    def count_attempts(self, kind: str, outcomes: Mapping[str, int]) -> None:
        """Add ``outcomes`` (outcome -> how many) to the attempts of ``kind``."""
        for outcome, count in outcomes.items():
            if count > 0:
                self.attempts.labels(kind=kind, outcome=outcome).inc(count)

    def external_response(self, system: str, status: str) -> None:
        """One request to ``system`` ended with HTTP ``status`` (or ``"error"``)."""
        self.external_requests.labels(system=system, status=status).inc()

    def set_overdue(self, count: int) -> None:
        self.overdue.set(count)

    # --- read at each scrape ---------------------------------------------------------------

    async def refresh(self, store: Store, *, now: datetime | None = None) -> None:
        """Read the store's numbers into the gauges; a store error sets ``database_up`` to 0."""
        now = now or datetime.now(UTC)
        try:
            queue = await store.outbox_counts()
            conflicts = len(await store.list_conflicts())
            quarantined = len(await store.list_quarantine(limit=QUARANTINE_COUNTED))
            pulls = await store.pull_counts()
            successes = {job: await store.last_success(job) for job in self._jobs}
        except StoreError as exc:
            self.database_up.set(0)
            _log.warning("metrics_store_unreadable", reason=str(exc))
            return
        self.database_up.set(1)
        for state in OUTBOX_STATES:
            self.queue_depth.labels(state=state).set(queue.count(state))
        oldest = queue.oldest_pending_at
        self.oldest_pending_age.set(
            0 if oldest is None else max(0.0, (now - oldest).total_seconds())
        )
        self.conflicts.set(conflicts)
        self.quarantined.set(quarantined)
        self.pull_due.set(pulls.due)
        self.pull_tracked.set(pulls.tracked)
        for job, success in successes.items():
            if success is not None and success.finished_at is not None:
                self.job_last_success.labels(job=job).set(success.finished_at.timestamp())

    def render(self) -> bytes:
        return generate_latest(self.registry)


def metrics_router(metrics: BridgeMetrics, store: Store) -> APIRouter:
    router = APIRouter(tags=["health"])

    @router.get("/metrics", summary="Prometheus metrics")
    async def scrape() -> Response:
        await metrics.refresh(store)
        return Response(metrics.render(), media_type=CONTENT_TYPE_LATEST)

    return router


__all__ = ["BridgeMetrics", "metrics_router"]
