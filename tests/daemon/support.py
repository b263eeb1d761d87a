"""What the daemon's tests share: settings with tokens, and real processes on loopback ports."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import httpx
import pytest
from pydantic import SecretStr

from oss_bridge.config import ApiSettings, DatabaseSettings, Settings
from oss_bridge.store import upgrade

ADMIN_TOKEN = "admin-token-for-tests"
STAFF_TOKEN = "staff-token-for-tests"
ADMIN = {"Authorization": f"Bearer {ADMIN_TOKEN}"}

CLI = str(Path(sys.executable).with_name("oss-bridge"))
STARTUP_SECONDS = 30.0
STOP_SECONDS = 10.0


def with_tokens(settings: Settings) -> Settings:
    """``settings`` with the admin and staff tokens of these tests."""
    api = ApiSettings(admin_token=SecretStr(ADMIN_TOKEN), staff_token=SecretStr(STAFF_TOKEN))
    return settings.model_copy(update={"api": api})


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def wait_until(
    check: Callable[[], bool], *, timeout: float, what: str, interval: float = 0.05
) -> None:
    """Call ``check`` until it is true; fail naming ``what`` after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            pytest.fail(f"{what} did not happen within {timeout}s")
        time.sleep(interval)


def answers(url: str, *, status: int = 200) -> bool:
    try:
        return httpx.get(url, timeout=2).status_code == status
    except httpx.TransportError:
        return False


@dataclass
class Process:
    """A child process whose stdout and stderr go to files, read when the test asks."""

    popen: subprocess.Popen[bytes]
    stdout_path: Path
    stderr_path: Path
    files: list[IO[bytes]] = field(default_factory=list)

    @property
    def stdout(self) -> str:
        return self.stdout_path.read_text(encoding="utf-8", errors="replace")

    @property
    def stderr(self) -> str:
        return self.stderr_path.read_text(encoding="utf-8", errors="replace")

    def alive(self) -> bool:
        return self.popen.poll() is None

    def require_alive(self, what: str) -> bool:
        """False while the process runs (for ``wait_until``); fails the test once it ended."""
        if not self.alive():
            pytest.fail(
                f"{what} exited with {self.popen.returncode}:\n{self.stderr}\n{self.stdout[-3000:]}"
            )
        return False

    def signal(self, sig: signal.Signals) -> None:
        self.popen.send_signal(sig)

    def wait(self, timeout: float) -> int:
        return self.popen.wait(timeout=timeout)

    def stop(self) -> None:
        if self.alive():
            self.popen.terminate()
            try:
                self.popen.wait(timeout=STOP_SECONDS + 5)
            except subprocess.TimeoutExpired:
                self.popen.kill()
                self.popen.wait()
        for file in self.files:
            file.close()


@contextmanager
def started(
    args: list[str], *, directory: Path, name: str, env: dict[str, str] | None = None
) -> Iterator[Process]:
    """Run ``oss-bridge ARGS`` in ``directory``; stopped (SIGTERM, then SIGKILL) at the end."""
    out = (directory / f"{name}.stdout").open("wb")
    err = (directory / f"{name}.stderr").open("wb")
    environment = {**os.environ, **(env or {})}
    popen = subprocess.Popen([CLI, *args], cwd=directory, stdout=out, stderr=err, env=environment)
    process = Process(popen, directory / f"{name}.stdout", directory / f"{name}.stderr", [out, err])
    try:
        yield process
    finally:
        process.stop()


def daemon_env(*, database: str, port: int, mock_port: int, **extra: str) -> dict[str, str]:
    """The environment that points a daemon process at ``database``, ``port`` and a mock."""
    mock = f"http://127.0.0.1:{mock_port}"
    env: dict[str, Any] = {
        "OSS_BRIDGE_DATABASE__URL": database,
        "OSS_BRIDGE_API__PORT": str(port),
        "OSS_BRIDGE_API__ADMIN_TOKEN": ADMIN_TOKEN,
        "OSS_BRIDGE_API__STAFF_TOKEN": STAFF_TOKEN,
        "OSS_BRIDGE_OSS__BASE_URL": f"{mock}/oss",
        "OSS_BRIDGE_LAPOR__BASE_URL": f"{mock}/lapor",
        "OSS_BRIDGE_SCHEDULER__JITTER_SECONDS": "0",
    }
    env.update(extra)
    return {key: str(value) for key, value in env.items()}


@dataclass
class Bridge:
    """A mock and a daemon running as processes, and where to reach them."""

    daemon: Process
    mock: Process
    url: str
    mock_url: str
    database: Path

    def admin(self) -> httpx.Client:
        return httpx.Client(base_url=self.url, headers=ADMIN, timeout=10)


def upgrade_database(database_url: str) -> None:
    """Migrate the database at ``database_url`` (what `oss-bridge db upgrade` does)."""
    settings = Settings(database=DatabaseSettings(url=database_url))
    # A thread of its own: the caller's thread may be running a loop (Playwright's).
    with ThreadPoolExecutor(max_workers=1) as pool:
        pool.submit(lambda: asyncio.run(upgrade(settings))).result(timeout=60)


@contextmanager
def mock_process(directory: Path, *, faults: Path | None = None) -> Iterator[tuple[Process, str]]:
    """``oss-bridge mock serve`` on a free port, answering before this yields."""
    port = free_port()
    args = ["mock", "serve", "--port", str(port)]
    if faults is not None:
        args += ["--faults", str(faults)]
    url = f"http://127.0.0.1:{port}"
    with started(args, directory=directory, name="mock") as mock:
        wait_until(
            lambda: mock.require_alive("mock serve") or answers(f"{url}/_mock/state"),
            timeout=STARTUP_SECONDS,
            what="the mock answering",
        )
        yield mock, url


@contextmanager
def running_bridge(directory: Path, *, faults: Path | None = None, **env: str) -> Iterator[Bridge]:
    """A mock and ``oss-bridge run`` on SQLite in ``directory``, both ready before this yields."""
    database = directory / "bridge.db"
    database_url = f"sqlite:///{database}"
    upgrade_database(database_url)
    with mock_process(directory, faults=faults) as (mock, mock_url):
        port = free_port()
        environment = daemon_env(
            database=database_url,
            port=port,
            mock_port=int(mock_url.rsplit(":", 1)[1]),
            **env,
        )
        url = f"http://127.0.0.1:{port}"
        with started(["run"], directory=directory, name="daemon", env=environment) as daemon:
            wait_until(
                lambda: daemon.require_alive("oss-bridge run") or answers(f"{url}/readyz"),
                timeout=STARTUP_SECONDS,
                what="the daemon becoming ready",
            )
            yield Bridge(daemon, mock, url, mock_url, database)
