"""The `oss-bridge` command line. Each command group lives in its own module and is registered here."""

from __future__ import annotations

import sys

import typer

from oss_bridge import __version__
from oss_bridge.cli import (
    catalogue_cmd,
    complaints_cmd,
    config_cmd,
    daemon_cmd,
    db_cmd,
    mock_cmd,
    sync_cmd,
)
from oss_bridge.cli._common import EXIT_CANNOT_RUN
from oss_bridge.errors import BridgeError
from oss_bridge.process import freeze_startup_heap

app = typer.Typer(
    name="oss-bridge",
    help="Keeps a regional licensing office in step with OSS and SP4N-LAPOR!.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
app.add_typer(config_cmd.app, name="config")
app.add_typer(db_cmd.app, name="db", help="Create or migrate the database schema.")
app.add_typer(
    catalogue_cmd.app, name="catalogue", help="Parse, import, export and settle the catalogue."
)
app.add_typer(sync_cmd.app, name="sync", help="Synchronise with the national systems now.")
app.add_typer(complaints_cmd.app, name="complaints", help="Look at and act on complaints.")
app.add_typer(
    mock_cmd.app, name="mock", help="The mock national systems, for development and tests."
)
app.command("run")(daemon_cmd.run_command)
app.command("demo")(daemon_cmd.demo_command)
app.command("status")(daemon_cmd.status_command)


def _version(value: bool) -> None:
    if value:
        print(f"oss-bridge {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: bool = typer.Option(
        False, "--version", callback=_version, is_eager=True, help="print the version"
    ),
) -> None:
    """oss-bridge: catalogue mirror, complaint forwarding and status pull-back."""


def main() -> None:
    """Console entry point: every BridgeError becomes a one-line reason and exit code 2."""
    # Usage errors are click's: message plus exit 2. Our own errors get one line and exit 2.
    freeze_startup_heap()
    try:
        app()
    except BridgeError as exc:
        print(f"oss-bridge: {exc}", file=sys.stderr)
        sys.exit(EXIT_CANNOT_RUN)
