"""The composition root: ``build_runtime(settings)`` wires every part of one daemon.

One store, one pooled HTTP client per national system (counted for the metrics), the clients,
the services (intake, forwarder, status puller, catalogue sync), the run service, the status
report, the metrics, the scheduler and the HTTP application. Everything above is built from the
same objects, so the scheduler, the admin API, the staff page and the intake all share them.

The runtime's life: ``build_runtime`` (nothing connects yet; a bad status mapping or field
ownership fails here with ``ConfigError``), ``check`` (schema current), ``start`` (the schedule
begins), ``stop`` (no new work, runs given a grace period, leases released), ``aclose``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime

import httpx
from fastapi import FastAPI

from oss_bridge.api import create_app
from oss_bridge.api.admin import admin_router
from oss_bridge.api.metrics import BridgeMetrics, metrics_router
from oss_bridge.api.ui import ui_router
from oss_bridge.clients import OssClient
from oss_bridge.config import Settings
from oss_bridge.daemon._http import counted_http_client
from oss_bridge.daemon._jobs import all_jobs
from oss_bridge.daemon._scheduler import JobScheduler, job_specs
from oss_bridge.errors import StoreError
from oss_bridge.log import get_logger
from oss_bridge.services.catalogue_merge import check_ownership
from oss_bridge.services.catalogue_sync import CatalogueSync
from oss_bridge.services.complaints.status_mapping import load_status_mapping
from oss_bridge.services.forwarder import ComplaintForwarder, worker_id
from oss_bridge.services.intake import ComplaintIntake
from oss_bridge.services.runs import RunService
from oss_bridge.services.status_pull import StatusPuller
from oss_bridge.services.status_report import StatusReport
from oss_bridge.store import SchemaState, Store

log = get_logger("oss_bridge.daemon")

Clock = Callable[[], datetime]
Transports = Mapping[str, httpx.AsyncBaseTransport]
"""Transports to use instead of the network, by system: ``{"oss": ..., "lapor": ...}``."""


def _utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass
class Runtime:
    """Every part of one daemon; see the module docstring."""

    settings: Settings
    owner: str
    store: Store
    oss_http: httpx.AsyncClient
    lapor_http: httpx.AsyncClient
    intake: ComplaintIntake
    catalogue: CatalogueSync
    forwarder: ComplaintForwarder
    puller: StatusPuller
    runs: RunService
    report: StatusReport
    metrics: BridgeMetrics
    scheduler: JobScheduler
    app: FastAPI
    _closed: bool = field(default=False, repr=False)

    async def check(self) -> SchemaState:
        """The schema state if current; ``SchemaOutdated`` (run `oss-bridge db upgrade`) if not,
        ``DatabaseUnavailable`` if the database does not answer."""
        await self.store.ping()
        return await self.store.check_schema()

    async def start(self, *, sole_instance: bool) -> None:
        """Begin the schedule. ``sole_instance`` (the SQLite lock is held): runs a crashed
        predecessor left unfinished are marked failed first."""
        if sole_instance:
            await self.runs.abandon_unfinished()
        self.scheduler.start()

    async def stop(self, *, grace: float) -> None:
        """Take no new work, give runs in progress ``grace`` seconds, release every lease."""
        await self.scheduler.stop()
        await self.runs.close(grace=grace)
        try:
            outbox = await self.store.release_leases(self.owner)
            pulls = await self.store.release_pull_leases(self.owner)
        except StoreError as exc:
            # The leases expire by themselves; another worker then takes the rows over.
            log.warning("leases not released", owner=self.owner, reason=str(exc))
            return
        log.info("leases released", owner=self.owner, outbox=outbox, status_pull=pulls)

    async def aclose(self) -> None:
        if self._closed:
            return
        self._closed = True
        await self.oss_http.aclose()
        await self.lapor_http.aclose()
        await self.store.close()


def build_runtime(
    settings: Settings,
    *,
    transports: Transports | None = None,
    clock: Clock = _utc_now,
    owner: str | None = None,
) -> Runtime:
    """Wire a daemon for ``settings`` (see the module docstring).

    ``transports`` replaces the network per system (tests and the demo use the mock in
    process); ``clock`` is the one clock of store and services; ``owner`` names this process's
    leases (default: host, process id and a random part).
    """
    transports = transports or {}
    owner = owner or worker_id()
    # Checked before anything is opened, so a bad file fails with nothing to clean up.
    mapping = load_status_mapping(settings.status_pull.mapping_file)
    check_ownership(settings.catalogue.field_ownership)
    metrics = BridgeMetrics()
    store = Store.open(settings.database, clock=clock)
    oss_http = counted_http_client(
        settings.oss,
        system="oss",
        record=metrics.external_response,
        transport=transports.get("oss"),
    )
    lapor_http = counted_http_client(
        settings.lapor,
        system="lapor",
        record=metrics.external_response,
        transport=transports.get("lapor"),
    )
    region = settings.region
    oss = OssClient(oss_http, settings.oss, kd_daerah=region.kd_daerah, agency=region.agency)
    catalogue = CatalogueSync(store, oss, settings, clock=clock, actor="daemon")
    forwarder = ComplaintForwarder.from_settings(
        store, lapor_http, settings.forwarder, settings.lapor, owner=owner, clock=clock
    )
    puller = StatusPuller.from_settings(
        store,
        lapor_http,
        settings.status_pull,
        settings.lapor,
        mapping=mapping,
        owner=owner,
        clock=clock,
    )
    wake = _Wake()
    intake = ComplaintIntake(store, settings, clock=clock, notify=wake, status_mapping=mapping)
    schedule = _Schedule()
    report = StatusReport(store, intake, clock=clock, next_runs=schedule.next_runs)
    jobs = all_jobs(
        catalogue=catalogue,
        forwarder=forwarder,
        puller=puller,
        report=report,
        store=store,
        metrics=metrics,
        forward_batch_size=settings.forwarder.batch_size,
        pull_batch_size=settings.status_pull.batch_size,
        keep_runs_days=settings.scheduler.keep_runs_days,
    )
    runs = RunService(
        store,
        jobs,
        listeners=[metrics],
        heartbeat_seconds=settings.scheduler.heartbeat_seconds,
    )
    scheduler = JobScheduler(
        runs,
        job_specs(settings, now=clock()),
        misfire_grace_seconds=settings.scheduler.misfire_grace_seconds,
    )
    schedule.scheduler = scheduler
    wake.target = lambda: scheduler.wake("complaints")
    app = create_app(
        store=store,
        settings=settings,
        intake=intake,
        extra_routers=[
            metrics_router(metrics, store),
            admin_router(runs=runs, report=report, token=settings.api.admin_token),
            ui_router(runs=runs, report=report, settings=settings),
        ],
    )
    return Runtime(
        settings=settings,
        owner=owner,
        store=store,
        oss_http=oss_http,
        lapor_http=lapor_http,
        intake=intake,
        catalogue=catalogue,
        forwarder=forwarder,
        puller=puller,
        runs=runs,
        report=report,
        metrics=metrics,
        scheduler=scheduler,
        app=app,
    )


class _Schedule:
    """The scheduler's next runs for the status report, once the scheduler exists."""

    def __init__(self) -> None:
        self.scheduler: JobScheduler | None = None

    def next_runs(self) -> Mapping[str, datetime | None]:
        return {} if self.scheduler is None else self.scheduler.next_runs()


class _Wake:
    """The intake's wake-up hook, bound to the scheduler once that exists."""

    def __init__(self) -> None:
        self.target: Callable[[], None] | None = None

    def __call__(self) -> None:
        if self.target is not None:
            self.target()
