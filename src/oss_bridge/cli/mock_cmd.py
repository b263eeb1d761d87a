"""`oss-bridge mock serve`: the mock national systems as a server."""

from __future__ import annotations

import socket
from pathlib import Path
from typing import Annotated

import typer

from oss_bridge.cli._common import fail

app = typer.Typer(
    no_args_is_help=True, help="The mock national systems, for development and tests."
)


@app.command("serve")
def serve(
    host: Annotated[str, typer.Option(help="address to listen on")] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=1, max=65535, help="port to listen on")] = 8090,
    faults: Annotated[
        Path | None,
        typer.Option(
            "--faults",
            dir_okay=False,
            help="fault profile to start with: a JSON or TOML file, or a bundled one by name "
            "(flaky, outage, quirky-oss, throttled); change it live with POST /_mock/faults",
            show_default=False,
        ),
    ] = None,
    generate_catalogue: Annotated[
        int,
        typer.Option(
            "--generate-catalogue", min=0, help="add N synthetic catalogue entries for region 1405"
        ),
    ] = 0,
    seed: Annotated[
        int,
        typer.Option(
            help="seeds the generated catalogue, and the faults unless the profile has one"
        ),
    ] = 0,
    auto_advance: Annotated[
        float | None,
        typer.Option(
            "--auto-advance",
            min=0.001,
            help="move each complaint one status on every SECONDS of mock time",
            show_default=False,
        ),
    ] = None,
    access_log: Annotated[
        bool, typer.Option("--access-log/--no-access-log", help="log every request")
    ] = False,
) -> None:
    """Serve OSS under /oss, the complaint channel under /lapor and the control API under /_mock."""
    # Imported here so that the other commands do not pay for loading the web stack.
    import uvicorn

    from oss_bridge_mock import FaultProfileError, create_app, load_profile

    profile = None
    if faults is not None:
        try:
            profile = load_profile(faults)
        except FaultProfileError as exc:
            fail(str(exc))
    mock = create_app(
        faults=profile,
        seed=seed,
        generate_catalogue=generate_catalogue,
        auto_advance_seconds=auto_advance,
    )
    listener = _listen(host, port)
    base = f"http://{_url_host(host)}:{listener.getsockname()[1]}"
    print(
        f"mock OSS:               {base}/oss   (user_key: demo-user-key)\n"
        f"mock complaint channel: {base}/lapor (Bearer demo-auth-value, token: demo-token)\n"
        f"control:                {base}/_mock/state\n"
        f"API documentation:      {base}/docs",
        flush=True,
    )
    config = uvicorn.Config(
        mock,
        log_level="warning",
        access_log=access_log,
        timeout_graceful_shutdown=2,
    )
    uvicorn.Server(config).run(sockets=[listener])


def _listen(host: str, port: int) -> socket.socket:
    """A bound, listening socket; a port in use or a bad address is a one-line failure."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
        family, kind, proto, _, address = infos[0]
        listener = socket.socket(family, kind, proto)
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(address)
        listener.listen(2048)
    except OSError as exc:
        fail(
            f"cannot listen on {host}:{port} ({exc.strerror or exc}); "
            "pick a free port with --port or another address with --host"
        )
    listener.set_inheritable(True)
    return listener


def _url_host(host: str) -> str:
    return f"[{host}]" if ":" in host else host
