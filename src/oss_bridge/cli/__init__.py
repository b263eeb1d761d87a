"""The `oss-bridge` command line. Each command group lives in its own module and is registered here."""

from __future__ import annotations

import sys

import typer

from oss_bridge import __version__
from oss_bridge.cli import config_cmd
from oss_bridge.cli._common import EXIT_CANNOT_RUN
from oss_bridge.errors import BridgeError

app = typer.Typer(
    name="oss-bridge",
    help="Keeps a regional licensing office in step with OSS and SP4N-LAPOR!.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
app.add_typer(config_cmd.app, name="config")


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
    try:
        app()
    except BridgeError as exc:
        print(f"oss-bridge: {exc}", file=sys.stderr)
        sys.exit(EXIT_CANNOT_RUN)
