"""`oss-bridge db ...`: create, migrate and inspect the database schema."""

from __future__ import annotations

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
from oss_bridge.errors import StoreError
from oss_bridge.store import schema_state, upgrade

app = typer.Typer(no_args_is_help=True, help="Create or migrate the database schema.")


@app.command("upgrade")
def upgrade_cmd(config: ConfigOption = None, as_json: JsonOption = False) -> None:
    """Create the schema, or migrate it to this version's; safe to repeat."""
    settings = settings_from(config)
    try:
        result = run(upgrade(settings))
    except StoreError as exc:
        fail(str(exc))
    if as_json:
        print_json(
            {
                "database": result.database,
                "from_revision": result.from_revision,
                "to_revision": result.to_revision,
                "changed": result.changed,
            }
        )
    elif result.changed:
        print(f"database schema upgraded {result.from_label} -> {result.to_revision}")
    else:
        print(f"database schema already current ({result.to_revision})")


@app.command("current")
def current_cmd(config: ConfigOption = None, as_json: JsonOption = False) -> None:
    """Show the schema revision of the database; exit 1 if it needs `oss-bridge db upgrade`."""
    settings = settings_from(config)
    try:
        state = run(schema_state(settings))
    except StoreError as exc:
        fail(str(exc))
    if as_json:
        print_json(
            {
                "database": state.database,
                "current": state.current,
                "head": state.head,
                "is_current": state.is_current,
                "ahead": state.ahead,
            }
        )
    elif state.is_current:
        print(f"database schema current ({state.head})")
    elif state.ahead:
        print(
            f"database schema at {state.current_label}, newer than this version knows "
            f"({state.head}): install the oss-bridge version that migrated it"
        )
    else:
        print(
            f"database schema at {state.current_label}, this version needs {state.head}: "
            "run `oss-bridge db upgrade`"
        )
    if not state.is_current:
        raise typer.Exit(EXIT_NEEDS_PERSON)
