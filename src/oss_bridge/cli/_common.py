"""What every command shares: the --config and --json options, loading settings, exits, output.

Commands are thin: parse options, call one service method, render its result. Exit codes are the
promise of INTERFACES.md: 0 success; 1 finished but a person is needed; 2 could not run.
"""

from __future__ import annotations

import asyncio
import json
import sys
from collections.abc import Coroutine
from pathlib import Path
from typing import Annotated, Any, NoReturn, TextIO, TypeVar

import typer

from oss_bridge.config import Settings, load_settings
from oss_bridge.log import configure_logging

T = TypeVar("T")

EXIT_OK = 0
EXIT_NEEDS_PERSON = 1
EXIT_CANNOT_RUN = 2

ConfigOption = Annotated[
    Path | None,
    typer.Option(
        "--config",
        "-c",
        help="TOML config file [default: $OSS_BRIDGE_CONFIG, else built-in defaults]",
        dir_okay=False,
        show_default=False,
    ),
]
JsonOption = Annotated[bool, typer.Option("--json", help="print machine-readable JSON")]


def settings_from(config: Path | None) -> Settings:
    """Load settings for a command; a ConfigError propagates to ``main`` and exits 2."""
    return load_settings(config)


def command_settings(config: Path | None) -> Settings:
    """Settings for a command that prints a report, with logs sent to stderr.

    stdout then holds the report alone (and ``--json`` stays parseable). The report says what
    the INFO events would, so a command shows warnings and worse unless DEBUG (or only ERROR)
    is asked for.
    """
    settings = settings_from(config)
    level = "WARNING" if settings.logging.level == "INFO" else settings.logging.level
    configure_logging(level=level, fmt=settings.logging.format, stream=_STDERR)
    return settings


class _CurrentStderr:
    """Whatever ``sys.stderr`` is when written to (test runners replace it)."""

    def write(self, text: str) -> int:
        return sys.stderr.write(text)

    def flush(self) -> None:
        sys.stderr.flush()


_STDERR: TextIO = _CurrentStderr()  # type: ignore[assignment]  # the part of TextIO logging uses


def run(coro: Coroutine[Any, Any, T]) -> T:
    """Run one async service call to completion from a synchronous command."""
    return asyncio.run(coro)


def fail(message: str, code: int = EXIT_CANNOT_RUN) -> NoReturn:
    """Print a one-line reason on stderr and exit."""
    print(f"oss-bridge: {message}", file=sys.stderr)
    raise typer.Exit(code)


def print_json(data: Any) -> None:
    print(json.dumps(data, ensure_ascii=False, indent=2, default=str))
