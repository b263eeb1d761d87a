"""`oss-bridge config ...`: look at the effective configuration."""

from __future__ import annotations

import typer

from oss_bridge.cli._common import ConfigOption, JsonOption, print_json, settings_from
from oss_bridge.config import masked_dump

app = typer.Typer(help="Validate and show the configuration.", no_args_is_help=True)


@app.command("check")
def check(config: ConfigOption = None, as_json: JsonOption = False) -> None:
    """Validate the config and print the effective values, secrets masked."""
    settings = settings_from(config)
    dump = masked_dump(settings)
    if as_json:
        print_json(dump)
        return
    for section, values in dump.items():
        print(f"[{section}]")
        for key, value in values.items():
            print(f"{key} = {value!r}")
        print()
    print("config OK", flush=True)
