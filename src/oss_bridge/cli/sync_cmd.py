"""`oss-bridge sync ...`: one synchronisation with a national system, now."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from enum import StrEnum
from typing import Annotated, TextIO

import typer
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    SpinnerColumn,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
)

from oss_bridge.cli._common import (
    EXIT_NEEDS_PERSON,
    ConfigOption,
    JsonOption,
    command_settings,
    fail,
    print_json,
    run,
)
from oss_bridge.config import Settings
from oss_bridge.errors import BridgeError
from oss_bridge.services.catalogue_sync import (
    ProgressCallback,
    SyncProgress,
    SyncReport,
    cli_actor,
    open_catalogue_sync,
)

app = typer.Typer(no_args_is_help=True, help="Synchronise with the national systems now.")


class DirectionChoice(StrEnum):
    both = "both"
    pull = "pull"
    push = "push"


@app.command("catalogue")
def catalogue(
    direction: Annotated[
        DirectionChoice,
        typer.Option(help="pull OSS's changes, push ours, or both (pull first)"),
    ] = DirectionChoice.both,
    dry_run: Annotated[
        bool,
        typer.Option(
            "--dry-run", help="print the field-level diff both ways; write and send nothing"
        ),
    ] = False,
    config: ConfigOption = None,
    as_json: JsonOption = False,
) -> None:
    """One catalogue sync with OSS now.

    Exits 1 when something waits for a person: open conflicts (`oss-bridge catalogue
    conflicts`), entries not pushed, refused by OSS or quarantined.
    """
    settings = command_settings(config)
    try:
        with progress_display(sys.stderr, quiet=as_json) as progress:
            report = run(_sync(settings, direction.value, dry_run, progress))
    except BridgeError as exc:
        fail(str(exc))
    if report is None:
        fail(
            "another instance is syncing the catalogue right now; "
            "run this again when it has finished (see `oss-bridge status`)"
        )
    if as_json:
        print_json(report.as_json())
    else:
        print("\n".join(report.lines()))
    if report.needs_person:
        raise typer.Exit(EXIT_NEEDS_PERSON)


async def _sync(
    settings: Settings, direction: str, dry_run: bool, progress: ProgressCallback
) -> SyncReport | None:
    async with open_catalogue_sync(settings, actor=cli_actor()) as sync:
        return await sync.sync_alone(direction, dry_run=dry_run, progress=progress)


@contextmanager
def progress_display(stream: TextIO, *, quiet: bool = False) -> Iterator[ProgressCallback]:
    """A progress callback that draws a rich progress bar on a terminal, plain lines otherwise.

    With ``quiet`` (machine-readable output) nothing is written unless ``stream`` is a terminal.
    """
    console = Console(file=stream)
    if console.is_terminal:
        with _Bars(console) as bars:
            yield bars.update
    elif quiet:
        yield _ignore
    else:
        yield _PlainLines(stream).update


def _ignore(_: SyncProgress) -> None:
    """Progress nobody watches."""


class _PlainLines:
    def __init__(self, stream: TextIO) -> None:
        self._stream = stream

    def update(self, progress: SyncProgress) -> None:
        if progress.phase == "pull":
            line = f"pull: page {progress.pages}, {progress.done} entries fetched"
        else:
            line = f"push: {progress.done}/{progress.total} entries"
        print(line, file=self._stream, flush=True)


class _Bars:
    """One bar per phase: the pull's counts what OSS sent (its end is unknown), the push's is
    out of the dirty entries."""

    def __init__(self, console: Console) -> None:
        self._progress = Progress(
            SpinnerColumn(),
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=console,
            transient=False,
        )
        self._tasks: dict[str, TaskID] = {}

    def __enter__(self) -> _Bars:
        self._progress.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._progress.stop()

    def update(self, progress: SyncProgress) -> None:
        task = self._tasks.get(progress.phase)
        if task is None:
            task = self._progress.add_task(progress.phase, total=progress.total)
            self._tasks[progress.phase] = task
        description = f"pull (page {progress.pages})" if progress.phase == "pull" else "push"
        self._progress.update(
            task, completed=progress.done, total=progress.total, description=description
        )
