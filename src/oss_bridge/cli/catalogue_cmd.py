"""`oss-bridge catalogue ...`: parse, import, export and settle the catalogue."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

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
from oss_bridge.errors import BridgeError, InputError
from oss_bridge.importer import parse_page_file
from oss_bridge.services.catalogue_sync import (
    cli_actor,
    conflict_as_json,
    conflict_lines,
    open_catalogue_sync,
)
from oss_bridge.store import Conflict, SavedStandard

app = typer.Typer(no_args_is_help=True, help="Parse, import, export and settle the catalogue.")

CodeOption = Annotated[
    str | None,
    typer.Option("--code", help="the entry's code [default: made from the service name]"),
]


@app.command("parse")
def parse(
    file: Annotated[Path, typer.Argument(help="the published page, saved as HTML or text")],
    code: CodeOption = None,
    config: ConfigOption = None,
) -> None:
    """Print a published service-standard page as service-standard JSON; stores nothing.

    Reading a page needs no settings, so --config is accepted (like every command) but not read.
    """
    try:
        standard = parse_page_file(file, code=code)
    except InputError as exc:
        fail(str(exc))
    print_json(standard.model_dump(mode="json"))


@app.command("import")
def import_cmd(
    file: Annotated[Path, typer.Argument(help="the published page, saved as HTML or text")],
    code: CodeOption = None,
    config: ConfigOption = None,
    as_json: JsonOption = False,
) -> None:
    """Parse a published page and store it as a new version of its entry (audited).

    The next sync sends it to OSS. Importing the same page again changes nothing.
    """
    settings = settings_from(config)
    try:
        saved = run(_import(settings, file, code))
    except BridgeError as exc:
        fail(str(exc))
    if as_json:
        print_json(
            {
                "code": saved.code,
                "change": saved.change,
                "local_version": saved.local_version,
                "to_push": saved.dirty,
            }
        )
        return
    line = f"{saved.code}: {saved.change} (local version {saved.local_version})"
    if saved.dirty:
        line += "; the next sync sends it to OSS"
    print(line)


async def _import(settings: Settings, file: Path, code: str | None) -> SavedStandard:
    async with open_catalogue_sync(settings, actor=cli_actor()) as sync:
        return await sync.import_page(file, code=code)


class ExportFormatChoice(StrEnum):
    json = "json"
    cpsv_jsonld = "cpsv-jsonld"


@app.command("export")
def export_cmd(
    format: Annotated[
        ExportFormatChoice,
        typer.Option(
            "--format",
            help="service-standard JSON objects, or one CPSV-AP 3.2.0 JSON-LD document",
        ),
    ] = ExportFormatChoice.json,
    config: ConfigOption = None,
) -> None:
    """Print the whole live catalogue (soft-deleted entries left out) to stdout."""
    settings = settings_from(config)
    try:
        data = run(_export(settings, format.value))
    except BridgeError as exc:
        fail(str(exc))
    print_json(data)


async def _export(settings: Settings, format: str) -> Any:
    async with open_catalogue_sync(settings, actor=cli_actor()) as sync:
        return await sync.export(format)


@app.command("conflicts")
def conflicts_cmd(config: ConfigOption = None, as_json: JsonOption = False) -> None:
    """List the open sync conflicts with their base, local and OSS values.

    Exits 1 when there is any, since each waits for a person.
    """
    settings = settings_from(config)
    try:
        conflicts = run(_conflicts(settings))
    except BridgeError as exc:
        fail(str(exc))
    if as_json:
        print_json([conflict_as_json(conflict) for conflict in conflicts])
    elif not conflicts:
        print("no open conflicts")
    else:
        for conflict in conflicts:
            print("\n".join(conflict_lines(conflict)))
        print(
            f"{len(conflicts)} open; settle each with "
            "`oss-bridge catalogue resolve ID --take local|remote`"
        )
    if conflicts:
        raise typer.Exit(EXIT_NEEDS_PERSON)


async def _conflicts(settings: Settings) -> list[Conflict]:
    async with open_catalogue_sync(settings, actor=cli_actor()) as sync:
        return await sync.conflicts()


class TakeChoice(StrEnum):
    local = "local"
    remote = "remote"


@app.command("resolve")
def resolve_cmd(
    conflict_id: Annotated[
        int, typer.Argument(metavar="ID", help="the conflict's id (`catalogue conflicts`)")
    ],
    take: Annotated[
        TakeChoice,
        typer.Option("--take", help="keep the region's value (local) or take OSS's (remote)"),
    ],
    config: ConfigOption = None,
    as_json: JsonOption = False,
) -> None:
    """Settle a sync conflict by keeping one side's value (audited).

    The next sync sends the entry to OSS once it has no open conflict left and still differs.
    """
    settings = settings_from(config)
    try:
        conflict = run(_resolve(settings, conflict_id, take.value))
    except BridgeError as exc:
        fail(str(exc))
    if as_json:
        print_json(conflict_as_json(conflict))
        return
    kept = "the region's value kept" if take is TakeChoice.local else "OSS's value taken"
    print(
        f"conflict #{conflict.id} on {conflict.code} {conflict.field} settled: {kept}; "
        "the next sync brings OSS into step"
    )


async def _resolve(settings: Settings, conflict_id: int, take: str) -> Conflict:
    async with open_catalogue_sync(settings, actor=cli_actor()) as sync:
        return await sync.resolve(conflict_id, take, actor=cli_actor())
