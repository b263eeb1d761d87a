"""`oss-bridge run`, `oss-bridge demo` and `oss-bridge status`: the daemon and how it stands."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Annotated

import typer

from oss_bridge.cli._common import (
    EXIT_NEEDS_PERSON,
    ConfigOption,
    JsonOption,
    fail,
    print_json,
    run,
    settings_from,
)
from oss_bridge.config import Settings
from oss_bridge.errors import BridgeError
from oss_bridge.log import configure_logging
from oss_bridge.services.intake import ComplaintIntake
from oss_bridge.services.status_report import StatusReport, StatusSnapshot
from oss_bridge.store import Store

PortOption = Annotated[int, typer.Option(min=1, max=65535, help="port of the daemon's HTTP")]


def run_command(config: ConfigOption = None) -> None:
    """Run the daemon: intake, Open311, admin API, /ui/ and /metrics, plus the scheduled jobs,
    until SIGTERM or SIGINT. Logs are JSON lines on stdout.

    Exits 2 when it cannot start (bad config, outdated schema: run `oss-bridge db upgrade`,
    another daemon on the same SQLite file, port in use).
    """
    from oss_bridge.daemon import run_daemon

    settings = settings_from(config)
    configure_logging(level=settings.logging.level, fmt=settings.logging.format)
    try:
        code = asyncio.run(run_daemon(settings))
    except BridgeError as exc:
        fail(str(exc))
    raise typer.Exit(code)


def demo_command(
    port: PortOption = 8080,
    mock_port: Annotated[
        int, typer.Option("--mock-port", min=1, max=65535, help="port of the mock national systems")
    ] = 8090,
    host: Annotated[str, typer.Option(help="address both listen on")] = "127.0.0.1",
    faults: Annotated[
        str | None,
        typer.Option(
            help="the mock's fault profile: a bundled one by name (flaky, outage, quirky-oss, "
            "throttled), a JSON or TOML file, or 'none' [default: mild faults]",
            show_default=False,
        ),
    ] = None,
    directory: Annotated[
        Path, typer.Option("--dir", file_okay=False, help="where the demo keeps its database")
    ] = Path("var/demo"),
    config: ConfigOption = None,
) -> None:
    """Run the mock national systems and the daemon on SQLite under var/demo/, with the sample
    page imported and a few sample complaints filed; prints the URLs; runs until Ctrl-C."""
    from oss_bridge.daemon import run_demo
    from oss_bridge_mock import FaultProfile, FaultProfileError, load_profile

    settings = settings_from(config)
    configure_logging(level=settings.logging.level, fmt="console")
    profile: FaultProfile | None = None
    if faults == "none":
        profile = FaultProfile()
    elif faults is not None:
        try:
            profile = load_profile(Path(faults))
        except FaultProfileError as exc:
            fail(str(exc))
    try:
        code = asyncio.run(
            run_demo(
                settings,
                host=host,
                port=port,
                mock_port=mock_port,
                root=directory,
                faults=profile,
            )
        )
    except BridgeError as exc:
        fail(str(exc))
    raise typer.Exit(code)


def status_command(config: ConfigOption = None, as_json: JsonOption = False) -> None:
    """Queue depths, oldest pending, dead letters, conflicts, quarantined entries, overdue
    complaints, and the last run and last success of each job.

    Exits 1 when something waits for a person.
    """
    settings = settings_from(config)
    try:
        snapshot = run(_snapshot(settings))
    except BridgeError as exc:
        fail(str(exc))
    if as_json:
        print_json(snapshot.as_json())
    else:
        print("\n".join(snapshot.lines()))
    if snapshot.needs_person:
        raise typer.Exit(EXIT_NEEDS_PERSON)


async def _snapshot(settings: Settings) -> StatusSnapshot:
    async with Store.open(settings.database) as store:
        await store.check_schema()
        return await StatusReport(store, ComplaintIntake(store, settings)).snapshot()
