"""`oss-bridge complaints ...`: forward and pull now, look at complaints, act on dead letters.

``forward`` and ``pull-status`` run one pass of the same services the daemon schedules. ``list``
and ``show`` read through the intake service, so they show what the API shows. ``requeue``,
``acknowledge``, ``suspend`` and ``resume`` are the operator's actions on deliveries, audited as
``cli:<login name>``. Logs go to stderr (warnings and worse), so stdout holds the report alone.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Coroutine
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Annotated, Any, TypeVar

import typer

from oss_bridge.cli._common import (
    EXIT_NEEDS_PERSON,
    ConfigOption,
    JsonOption,
    command_settings,
    fail,
    print_json,
    run,
)
from oss_bridge.clients import build_http_client
from oss_bridge.config import Settings
from oss_bridge.domain.complaint import ComplaintView
from oss_bridge.errors import BridgeError
from oss_bridge.services.catalogue_sync import cli_actor
from oss_bridge.services.forwarder import (
    ComplaintForwarder,
    DeliveryDesk,
    ForwardReport,
    check_destination,
)
from oss_bridge.services.intake import FORWARD_STATES, MAX_PAGE, ComplaintIntake
from oss_bridge.services.status_pull import PullReport, StatusPuller
from oss_bridge.store import Store

app = typer.Typer(no_args_is_help=True, help="Look at and act on complaints.")

T = TypeVar("T")

Reference = Annotated[str, typer.Argument(help="the complaint's id or receipt number")]
DestinationArgument = Annotated[str, typer.Argument(help="the destination: lapor")]


@asynccontextmanager
async def _store(settings: Settings) -> AsyncIterator[Store]:
    async with Store.open(settings.database) as store:
        await store.check_schema()
        yield store


def _call(action: Callable[[], Coroutine[Any, Any, T]]) -> T:
    """Run one service call; a ``BridgeError`` becomes a one-line reason and exit 2."""
    try:
        return run(action())
    except BridgeError as exc:
        fail(str(exc))


# --- one pass now ------------------------------------------------------------------------------


@app.command("forward")
def forward(config: ConfigOption = None, as_json: JsonOption = False) -> None:
    """Send the complaints that are due to the national channel now (one pass of the relay).

    Exits 1 when dead letters remain: see `complaints list --state dead`, then `complaints
    requeue` or `complaints acknowledge`.
    """
    settings = command_settings(config)

    async def forward_now() -> tuple[ForwardReport, int]:
        async with _store(settings) as store, build_http_client(settings.lapor) as http:
            forwarder = ComplaintForwarder.from_settings(
                store, http, settings.forwarder, settings.lapor
            )
            report = await forwarder.run_once()
            return report, await DeliveryDesk(store).dead_letters()

    report, dead = _call(forward_now)
    if as_json:
        print_json({**report.as_dict(), "dead_letters": dead})
    else:
        print(_forward_lines(report, dead))
    if dead:
        raise typer.Exit(EXIT_NEEDS_PERSON)


def _forward_lines(report: ForwardReport, dead: int) -> str:
    if report.suspended:
        return (
            f"{report.destination} is suspended; its queue is kept "
            f"(`oss-bridge complaints resume {report.destination}`)"
        )
    lines = [
        f"{report.claimed} tried: {report.sent} sent, {report.reconciled} reconciled, "
        f"{report.retrying} to retry, {report.dead} dead"
        + (f", {report.lost_lease} taken over" if report.lost_lease else "")
    ]
    if report.errors:
        lines.append(
            "failures: " + ", ".join(f"{n} {name}" for name, n in sorted(report.errors.items()))
        )
    if report.paused_until is not None:
        lines.append(
            f"{report.destination} asked us to wait; paused until {_at(report.paused_until)}"
        )
    if dead:
        lines.append(
            f"{dead} dead letters wait: `oss-bridge complaints list --state dead`, then "
            "`oss-bridge complaints requeue ID|--all-dead` or `complaints acknowledge ID`"
        )
    return "\n".join(lines)


@app.command("pull-status")
def pull_status(config: ConfigOption = None, as_json: JsonOption = False) -> None:
    """Pull the national status of the complaints that are due now (one pass of the puller).

    Exits 1 when the channel reported a status the status mapping lacks.
    """
    settings = command_settings(config)

    async def pull_now() -> PullReport:
        async with _store(settings) as store, build_http_client(settings.lapor) as http:
            puller = StatusPuller.from_settings(store, http, settings.status_pull, settings.lapor)
            return await puller.run_once()

    report = _call(pull_now)
    if as_json:
        print_json(report.as_dict())
    else:
        lines = [
            f"{report.claimed} due: {report.pulled} pulled, {report.changed} changed, "
            f"{report.moved} moved stage, {report.finished} final, {report.failed} failed"
        ]
        if report.unmapped:
            lines.append(
                "statuses missing from the status mapping (add them to "
                "status_pull.mapping_file): " + ", ".join(sorted(report.unmapped))
            )
        print("\n".join(lines))
    if report.unmapped:
        raise typer.Exit(EXIT_NEEDS_PERSON)


# --- looking -----------------------------------------------------------------------------------


@app.command("list")
def list_complaints(
    state: Annotated[
        str | None,
        typer.Option(
            "--state",
            help=f"only this forward state: {', '.join(FORWARD_STATES)}",
            show_default=False,
        ),
    ] = None,
    overdue: Annotated[
        bool, typer.Option("--overdue", help="only complaints past a statutory deadline")
    ] = False,
    limit: Annotated[int, typer.Option(min=1, max=MAX_PAGE, help="show at most this many")] = 100,
    config: ConfigOption = None,
    as_json: JsonOption = False,
) -> None:
    """The newest complaints, with their stage, delivery and national status."""
    settings = command_settings(config)

    async def read() -> list[ComplaintView]:
        async with _store(settings) as store:
            intake = ComplaintIntake(store, settings)
            return await intake.list(forward_state=state, overdue=overdue, limit=limit)

    views = _call(read)
    if as_json:
        print_json([_summary(view) for view in views])
        return
    if not views:
        print("no complaints match")
        return
    print(f"{'ID':>6}  {'RECEIPT':<24}  STAGE  {'FORWARD':<12}  {'NATIONAL':<20}  OVERDUE")
    for view in views:
        complaint = view.complaint
        print(
            f"{complaint.id:>6}  {complaint.receipt_number:<24}  {complaint.stage.value:<5}  "
            f"{view.forward_state:<12}  {view.external_status or '-':<20}  "
            f"{'yes' if view.overdue else 'no'}"
        )


@app.command("show")
def show(reference: Reference, config: ConfigOption = None, as_json: JsonOption = False) -> None:
    """One complaint with its delivery, national status, history and deadlines."""
    settings = command_settings(config)

    async def read() -> ComplaintView:
        async with _store(settings) as store:
            return await ComplaintIntake(store, settings).find(reference)

    view = _call(read)
    if as_json:
        print_json(_detail(view))
        return
    complaint = view.complaint
    lines = [
        f"complaint {complaint.id}  {complaint.receipt_number}",
        f"received:   {_at(complaint.received_at)}",
        f"category:   {complaint.category.value} ({complaint.category.label})",
        f"object:     {complaint.object.value}",
        f"stage:      {complaint.stage.value}. {complaint.stage.label}",
        f"forwarding: {view.forward_state}"
        + (f" after {view.forward_attempts} failed attempts" if view.forward_attempts else "")
        + (f"; last error: {view.forward_last_error}" if view.forward_last_error else ""),
        f"national:   {view.external_id or '-'} (tracking {view.tracking_id or '-'}), "
        f"status {view.external_status or '-'}" + (", final" if view.final else ""),
        "deadlines:",
    ]
    for deadline in view.deadlines:
        state = "overdue" if deadline.overdue else ("met" if deadline.met_at else "running")
        lines.append(f"  {deadline.name:<15} due {_at(deadline.due_at)}  {state}")
    lines.append("history:")
    for entry in view.history:
        what = entry.text or entry.external_status or (entry.stage.value if entry.stage else "")
        lines.append(f"  {_at(entry.at)}  {entry.kind:<9} {what}")
    print("\n".join(lines))


def _at(value: datetime) -> str:
    return f"{value.astimezone(UTC):%Y-%m-%d %H:%M:%S} UTC"


def _summary(view: ComplaintView) -> dict[str, Any]:
    complaint = view.complaint
    return {
        "id": complaint.id,
        "receipt_number": complaint.receipt_number,
        "category": complaint.category.value,
        "stage": complaint.stage.value,
        "received_at": complaint.received_at.isoformat(),
        "forward_state": view.forward_state,
        "forward_attempts": view.forward_attempts,
        "forward_last_error": view.forward_last_error,
        "external_id": view.external_id,
        "external_status": view.external_status,
        "final": view.final,
        "overdue": view.overdue,
    }


def _detail(view: ComplaintView) -> dict[str, Any]:
    return {
        **_summary(view),
        "object": view.complaint.object.value,
        "service_code": view.complaint.service_code,
        "tracking_id": view.tracking_id,
        "history": [entry.model_dump(mode="json") for entry in view.history],
        "deadlines": [deadline.model_dump(mode="json") for deadline in view.deadlines],
    }


# --- operator actions --------------------------------------------------------------------------


@app.command("requeue")
def requeue(
    reference: Annotated[
        str | None,
        typer.Argument(help="the complaint's id or receipt number", show_default=False),
    ] = None,
    all_dead: Annotated[bool, typer.Option("--all-dead", help="requeue every dead letter")] = False,
    config: ConfigOption = None,
) -> None:
    """Send a dead complaint (or every one, with --all-dead) again, from its first attempt."""
    if (reference is None) == (not all_dead):
        fail("give either a complaint ID or --all-dead, not both and not neither")
    settings = command_settings(config)
    actor = cli_actor()

    async def act() -> str:
        async with _store(settings) as store:
            desk = DeliveryDesk(store)
            if reference is None:
                items = await desk.requeue_all_dead(actor=actor)
                return f"{len(items)} dead complaints requeued"
            view = await ComplaintIntake(store, settings).find(reference)
            await desk.requeue(view.complaint.id, actor=actor)
            return f"complaint {view.complaint.id} ({view.complaint.receipt_number}) requeued"

    print(_call(act))


@app.command("acknowledge")
def acknowledge(reference: Reference, config: ConfigOption = None) -> None:
    """Take a dead complaint off the dead letters without sending it (a person handles it)."""
    settings = command_settings(config)

    async def act() -> str:
        async with _store(settings) as store:
            view = await ComplaintIntake(store, settings).find(reference)
            await DeliveryDesk(store).acknowledge(view.complaint.id, actor=cli_actor())
            return f"complaint {view.complaint.id} ({view.complaint.receipt_number}) acknowledged"

    print(_call(act))


@app.command("suspend")
def suspend(destination: DestinationArgument, config: ConfigOption = None) -> None:
    """Stop sending to a destination; its queue is kept until `complaints resume`."""
    _switch(destination, True, config)
    print(
        f"{destination} suspended; its queue is kept (`oss-bridge complaints resume {destination}`)"
    )


@app.command("resume")
def resume(destination: DestinationArgument, config: ConfigOption = None) -> None:
    """Send to a suspended destination again."""
    _switch(destination, False, config)
    print(f"{destination} resumed")


def _switch(destination: str, suspended: bool, config: Any) -> None:
    settings = command_settings(config)

    async def act() -> None:
        check_destination(destination)  # before the database is opened
        async with _store(settings) as store:
            desk = DeliveryDesk(store, destination=destination)
            await desk.set_suspended(suspended, actor=cli_actor())

    _call(act)
