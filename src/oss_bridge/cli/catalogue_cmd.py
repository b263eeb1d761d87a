"""`oss-bridge catalogue ...`: parse, import, export and settle the catalogue."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from oss_bridge.cli._common import ConfigOption, fail, print_json
from oss_bridge.errors import InputError
from oss_bridge.importer import parse_page_file

app = typer.Typer(no_args_is_help=True, help="(see subcommands)")

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
