"""``oss-bridge run``: one asyncio process serving HTTP and running the schedule until a signal.

Start: the instance lock (SQLite), the runtime (a bad status mapping or field ownership is a
``ConfigError``), the database checked (``SchemaOutdated`` says to run `oss-bridge db upgrade`),
the listening socket bound (a port in use is a ``ConfigError`` naming ``api.port``). Any of these
failing ends the start with a ``BridgeError``, which the command line prints as one line and
exit code 2.

Stop, on SIGTERM or SIGINT: uvicorn stops accepting connections and finishes the requests in
progress, the scheduler fires no more, runs in progress get the grace period
(``scheduler.shutdown_grace_seconds`` less a reserve for the rest of the stop) and are then
cancelled, the leases this process holds are released, and the process exits 0, all within the
grace period. Under systemd (``Type=notify``) it says ``READY=1`` once HTTP serves and
``STOPPING=1`` when the stop begins.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
import socket
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import uvicorn

from oss_bridge.config import Settings
from oss_bridge.daemon._lock import InstanceLock
from oss_bridge.daemon._runtime import Runtime, Transports, build_runtime
from oss_bridge.daemon._systemd import notify
from oss_bridge.errors import ConfigError
from oss_bridge.log import get_logger

log = get_logger("oss_bridge.daemon")

STOP_RESERVE_SECONDS = 1.5
"""Part of the grace period kept for releasing leases and closing connections."""
STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT)


class QuietServer(uvicorn.Server):
    """A uvicorn server that leaves signals to the daemon, which stops it in its own order, and
    calls ``on_started`` once it serves."""

    def __init__(self, config: uvicorn.Config, *, on_started: Callable[[], None] | None = None):
        super().__init__(config)
        self._on_started = on_started

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets=sockets)
        if self.started and self._on_started is not None:
            self._on_started()


def listen(host: str, port: int, *, change: str = "api.port (or api.host)") -> socket.socket:
    """A bound, listening TCP socket; ``ConfigError`` saying what to ``change`` when that fails."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
        family, kind, proto, _, address = infos[0]
        listener = socket.socket(family, kind, proto)
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(address)
        listener.listen(2048)
    except OSError as exc:
        raise ConfigError(
            f"cannot listen on {host}:{port} ({exc.strerror or exc}); stop what uses the port "
            f"or choose another with {change}"
        ) from None
    return listener


def url_of(listener: socket.socket) -> str:
    host, port = listener.getsockname()[:2]
    shown = f"[{host}]" if ":" in host else host
    return f"http://{shown}:{port}"


def http_server(
    app: Any,
    *,
    grace: float,
    log_level: str = "info",
    on_started: Callable[[], None] | None = None,
) -> QuietServer:
    config = uvicorn.Config(
        app,
        log_config=None,
        log_level=log_level,
        access_log=False,
        lifespan="auto",
        server_header=False,
        timeout_graceful_shutdown=max(1, int(grace)),
    )
    return QuietServer(config, on_started=on_started)


def stop_on_signals(stop: asyncio.Event) -> None:
    """Set ``stop`` on SIGTERM or SIGINT (Ctrl-C)."""
    loop = asyncio.get_running_loop()
    for sig in STOP_SIGNALS:
        loop.add_signal_handler(sig, stop.set)


def forget_signals() -> None:
    loop = asyncio.get_running_loop()
    for sig in STOP_SIGNALS:
        loop.remove_signal_handler(sig)


async def serve_runtime(
    runtime: Runtime,
    listeners: Sequence[socket.socket],
    *,
    stop: asyncio.Event,
    sole_instance: bool,
) -> None:
    """Serve ``runtime.app`` on ``listeners`` and run the schedule until ``stop`` is set, then
    stop in order (see the module docstring). Returns when everything has stopped."""
    grace = runtime.settings.scheduler.shutdown_grace_seconds
    run_grace = max(0.0, grace - STOP_RESERVE_SECONDS)
    server = http_server(
        runtime.app,
        grace=run_grace,
        log_level=runtime.settings.logging.level,
        on_started=lambda: _ready(runtime),
    )
    await runtime.start(sole_instance=sole_instance)
    serving = asyncio.create_task(server.serve(sockets=list(listeners)), name="http")
    stopping = asyncio.create_task(stop.wait(), name="stop")
    done, _ = await asyncio.wait({serving, stopping}, return_when=asyncio.FIRST_COMPLETED)
    if serving in done:
        stopping.cancel()
        await runtime.stop(grace=0)
        serving.result()  # the server's own failure, if it had one
        raise ConfigError("the HTTP server stopped by itself; see the log lines before this one")
    notify("STOPPING=1")
    log.info("stopping", grace_seconds=grace, owner=runtime.owner)
    server.should_exit = True
    await runtime.stop(grace=run_grace)
    try:
        await asyncio.wait_for(serving, timeout=STOP_RESERVE_SECONDS + run_grace)
    except TimeoutError:
        log.warning("http server did not stop in time; connections cut")
    log.info("stopped", owner=runtime.owner)


def _ready(runtime: Runtime) -> None:
    log.info("serving", owner=runtime.owner)
    notify("READY=1")


async def run_daemon(
    settings: Settings,
    *,
    stop: asyncio.Event | None = None,
    transports: Transports | None = None,
) -> int:
    """Run the daemon until SIGTERM/SIGINT (or ``stop``); returns the exit code, 0.

    Raises a ``BridgeError`` when it cannot start (see the module docstring).
    """
    stop = stop or asyncio.Event()
    with InstanceLock(settings.database) as lock:
        runtime = build_runtime(settings, transports=transports)
        try:
            state = await runtime.check()
            listener = listen(settings.api.host, settings.api.port)
            stop_on_signals(stop)
            try:
                log.info(
                    "daemon started",
                    url=url_of(listener),
                    database=runtime.store.database,
                    schema=state.current_label,
                    owner=runtime.owner,
                )
                await serve_runtime(runtime, [listener], stop=stop, sole_instance=lock.held)
            finally:
                forget_signals()
        finally:
            await runtime.aclose()
    return 0


__all__ = [
    "QuietServer",
    "http_server",
    "listen",
    "run_daemon",
    "serve_runtime",
    "stop_on_signals",
    "url_of",
]
