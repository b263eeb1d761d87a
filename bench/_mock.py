"""The mock national systems served by a child process on a free loopback port, for benchmarks."""

from __future__ import annotations

import contextlib
import socket
import subprocess
import sys
import time
from collections.abc import Iterator

import httpx


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@contextlib.contextmanager
def mock_server(entries: int = 0, *, within: float = 120) -> Iterator[str]:
    """`oss-bridge mock serve` with ``entries`` generated catalogue entries; yields its base URL."""
    port = free_port()
    command = [sys.executable, "-m", "oss_bridge", "mock", "serve", "--port", str(port)]
    if entries:
        command += ["--generate-catalogue", str(entries)]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + within
        while True:
            if process.poll() is not None:
                raise SystemExit(f"the mock exited with {process.returncode} before serving")
            try:
                if httpx.get(f"{base}/_mock/state", timeout=5).status_code == 200:
                    break
            except httpx.TransportError:
                pass  # not listening yet
            if time.monotonic() > deadline:
                raise SystemExit(f"the mock did not answer on {base} within {within:.0f} s")
            time.sleep(0.1)
        yield base
    finally:
        stop(process)


def stop(process: subprocess.Popen[bytes], *, within: float = 10) -> None:
    """Ask ``process`` to end (SIGTERM); kill it if it has not ended ``within`` seconds."""
    process.terminate()
    try:
        process.wait(timeout=within)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
