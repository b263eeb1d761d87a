"""The daemon's jobs: each calls one service method and reports what it did as a ``JobOutcome``.

A job is a surface like a CLI command: it calls the service, turns its report into JSON and one
summary line, and counts attempts for the metrics. A dry run writes and sends nothing: the
catalogue's is the sync's own dry run (the exact diff); the forwarder and the status pull have
none of their own, so theirs reports what is waiting for them.

Every job is safe to run on every instance of a fleet sharing one PostgreSQL database: the
forwarder and the status pull claim their rows one by one with leases, the deadline check and the
summary only read. The catalogue sync works on the whole catalogue, so it runs under the store
lock ``CATALOGUE_SYNC_LOCK`` (``Store.exclusive``): the instance that holds it syncs, the others
skip their run and say so (a dry run writes nothing and needs no lock).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic import JsonValue

from oss_bridge.api.metrics import BridgeMetrics
from oss_bridge.services.catalogue_sync import CatalogueSync, SyncProgress, SyncReport
from oss_bridge.services.forwarder import ComplaintForwarder, ForwardReport
from oss_bridge.services.runs import Job, JobName, JobOutcome, RunContext, prune_runs
from oss_bridge.services.status_pull import PullReport, StatusPuller
from oss_bridge.services.status_report import StatusReport
from oss_bridge.store import Store
from oss_bridge.store._locks import CATALOGUE_SYNC_LOCK

OVERDUE_LISTED = 50
"""How many receipt numbers of overdue complaints a deadline check keeps in its result."""

CATALOGUE_BUSY = (
    "another instance is syncing the catalogue; this one leaves it to that one "
    "and tries again at its next run"
)


def catalogue_job(sync: CatalogueSync, store: Store) -> Job:
    async def run(context: RunContext) -> JobOutcome:
        def progress(step: SyncProgress) -> None:
            context.report_progress(
                {"phase": step.phase, "done": step.done, "total": step.total, "pages": step.pages}
            )

        async def synced() -> JobOutcome:
            report = await sync.sync("both", dry_run=context.dry_run, progress=progress)
            return JobOutcome(
                result=report.as_json(),
                summary=catalogue_summary(report),
                needs_person=report.needs_person,
            )

        if context.dry_run:
            return await synced()
        async with store.exclusive(CATALOGUE_SYNC_LOCK) as held:
            if not held:
                return JobOutcome.skip(CATALOGUE_BUSY, lock=CATALOGUE_SYNC_LOCK)
            return await synced()

    return run


def catalogue_summary(report: SyncReport) -> str:
    c = report.counts
    would = "dry run, would have: " if report.dry_run else ""
    return (
        f"{would}{c.fetched} fetched, {c.created} created, {c.updated} updated, "
        f"{c.deleted} deleted, {c.pushed} pushed; {report.open_conflicts} open conflicts, "
        f"{c.quarantined} quarantined, {len(report.failed)} refused; {c.requests} requests"
    )


def forward_job(
    forwarder: ComplaintForwarder, store: Store, metrics: BridgeMetrics, *, batch_size: int
) -> Job:
    async def run(context: RunContext) -> JobOutcome:
        if context.dry_run:
            return await _waiting_outbox(store, forwarder.destination)
        report = await forwarder.run_once()
        metrics.count_attempts("forward", forward_outcomes(report))
        return JobOutcome(
            result=_json(report.as_dict()),
            summary=forward_summary(report),
            needs_person=report.dead > 0,
            again=report.claimed >= batch_size,
        )

    return run


def forward_outcomes(report: ForwardReport) -> dict[str, int]:
    return {
        "sent": report.sent,
        "reconciled": report.reconciled,
        "retry": report.retrying,
        "dead": report.dead,
        "lost_lease": report.lost_lease,
    }


def forward_summary(report: ForwardReport) -> str:
    if report.suspended:
        return f"{report.destination} is suspended; its queue waits"
    text = (
        f"{report.claimed} tried: {report.sent} sent, {report.reconciled} reconciled, "
        f"{report.retrying} to retry, {report.dead} dead"
    )
    if report.paused_until is not None:
        text += f"; {report.destination} paused until {report.paused_until.isoformat()}"
    return text


async def _waiting_outbox(store: Store, destination: str) -> JobOutcome:
    counts = await store.outbox_counts(destination)
    next_at = counts.next_attempt_at
    return JobOutcome(
        result={
            "dry_run": True,
            "destination": destination,
            "by_state": {state: count for state, count in counts.by_state.items()},
            "next_attempt_at": None if next_at is None else next_at.isoformat(),
        },
        summary=(
            f"dry run: nothing sent; {counts.count('pending')} pending, "
            f"{counts.count('in_flight')} in flight, {counts.dead} dead"
        ),
    )


def status_job(
    puller: StatusPuller, store: Store, metrics: BridgeMetrics, *, batch_size: int
) -> Job:
    async def run(context: RunContext) -> JobOutcome:
        if context.dry_run:
            pulls = await store.pull_counts()
            return JobOutcome(
                result={
                    "dry_run": True,
                    "tracked": pulls.tracked,
                    "due": pulls.due,
                    "final": pulls.final,
                },
                summary=f"dry run: nothing pulled; {pulls.due} of {pulls.tracked} complaints due",
            )
        report = await puller.run_once()
        metrics.count_attempts("status_pull", pull_outcomes(report))
        return JobOutcome(
            result=_json(report.as_dict()),
            summary=pull_summary(report),
            needs_person=bool(report.unmapped),
            again=report.claimed >= batch_size,
        )

    return run


def pull_outcomes(report: PullReport) -> dict[str, int]:
    return {
        "changed": report.changed,
        "unchanged": report.pulled - report.changed,
        "failed": report.failed,
        "lost_lease": report.lost_lease,
    }


def pull_summary(report: PullReport) -> str:
    text = (
        f"{report.claimed} due: {report.pulled} pulled, {report.changed} changed, "
        f"{report.moved} moved stage, {report.finished} final, {report.failed} failed"
    )
    if report.unmapped:
        text += f"; statuses missing from the status mapping: {', '.join(sorted(report.unmapped))}"
    if report.paused_until is not None:
        text += f"; the channel paused us until {report.paused_until.isoformat()}"
    return text


def deadline_job(report: StatusReport, metrics: BridgeMetrics) -> Job:
    async def run(context: RunContext) -> JobOutcome:
        overdue = await report.overdue()
        metrics.set_overdue(len(overdue))
        receipts: list[JsonValue] = [
            view.complaint.receipt_number for view in overdue[:OVERDUE_LISTED]
        ]
        return JobOutcome(
            result={"overdue": len(overdue), "receipt_numbers": receipts},
            summary=f"{len(overdue)} complaints past a statutory deadline",
            needs_person=bool(overdue),
        )

    return run


def summary_job(report: StatusReport, store: Store, *, keep_runs_days: int) -> Job:
    """The daily summary; it also deletes the runs older than ``keep_runs_days`` (not in a dry
    run), since the scheduled jobs record thousands a day."""

    async def run(context: RunContext) -> JobOutcome:
        data = await report.daily_summary()
        failed = data["failed_runs_last_day"]
        pruned = 0 if context.dry_run else await prune_runs(store, keep_days=keep_runs_days)
        return JobOutcome(
            result={**_json(data), "runs_pruned": pruned},
            summary=(
                f"{data['dead_letters']} dead letters, {data['conflicts']} conflicts, "
                f"{data['quarantined']} quarantined, {data['overdue_complaints']} overdue, "
                f"{sum(failed.values())} failed runs in the last day; "
                f"{pruned} runs older than {keep_runs_days} days deleted"
            ),
            needs_person=bool(data["needs_person"]),
        )

    return run


def _json(data: Mapping[str, Any]) -> dict[str, JsonValue]:
    """``data`` with values JSON can hold (datetimes and the like as text)."""
    out: dict[str, JsonValue] = {}
    for key, value in data.items():
        out[str(key)] = _plain(value)
    return out


def _plain(value: Any) -> JsonValue:
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [_plain(v) for v in value]
    if hasattr(value, "isoformat"):
        return str(value.isoformat())
    return str(value)


def all_jobs(
    *,
    catalogue: CatalogueSync,
    forwarder: ComplaintForwarder,
    puller: StatusPuller,
    report: StatusReport,
    store: Store,
    metrics: BridgeMetrics,
    forward_batch_size: int,
    pull_batch_size: int,
    keep_runs_days: int,
) -> dict[JobName, Job]:
    """Every job of the daemon by name."""
    return {
        "catalogue": catalogue_job(catalogue, store),
        "complaints": forward_job(forwarder, store, metrics, batch_size=forward_batch_size),
        "status": status_job(puller, store, metrics, batch_size=pull_batch_size),
        "deadlines": deadline_job(report, metrics),
        "summary": summary_job(report, store, keep_runs_days=keep_runs_days),
    }
