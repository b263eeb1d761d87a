"""`oss-bridge demo` as a real process: up, answering, sample data in, and Ctrl-C ends it with 0."""

from __future__ import annotations

import re
import signal
import socket
from pathlib import Path

import httpx
import pytest

from tests.daemon.support import STARTUP_SECONDS, answers, free_port, started, wait_until

pytestmark = pytest.mark.e2e


def test_the_demo_runs_the_mock_and_the_daemon_until_ctrl_c(tmp_path: Path) -> None:
    port, mock_port = free_port(), free_port()
    args = ["demo", "--port", str(port), "--mock-port", str(mock_port)]
    with started(args, directory=tmp_path, name="demo") as demo:
        wait_until(
            lambda: demo.require_alive("oss-bridge demo") or "Ctrl-C" in demo.stdout,
            timeout=STARTUP_SECONDS,
            what="the demo's banner",
        )
        banner = demo.stdout
        url, mock = f"http://127.0.0.1:{port}", f"http://127.0.0.1:{mock_port}"
        assert f"{url}/ui/" in banner
        assert f"{mock}/_mock/state" in banner
        assert "3 sample complaints filed" in banner
        assert answers(f"{url}/readyz")
        assert answers(f"{url}/ui/")
        admin = re.search(r"Authorization: Bearer (\S+)\)", banner)
        assert admin is not None
        headers = {"Authorization": f"Bearer {admin.group(1)}"}

        def delivered() -> bool:
            state = httpx.get(f"{mock}/_mock/state").json()
            return len(state["complaints"]) == 3

        # The mock's mild faults may cost a retry or two; the demo's backoff is short.
        wait_until(delivered, timeout=30, what="the sample complaints reaching the mock channel")
        status = httpx.get(f"{url}/api/v1/admin/status", headers=headers).json()
        assert status["jobs"]["catalogue"]["last_run"] is not None
        assert (tmp_path / "var" / "demo" / "oss-bridge.db").exists()

        demo.signal(signal.SIGINT)
        assert demo.wait(timeout=15) == 0, demo.stderr


def test_a_demo_on_a_port_in_use_exits_2_naming_the_option(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        busy = taken.getsockname()[1]
        args = ["demo", "--port", str(free_port()), "--mock-port", str(busy)]
        with started(args, directory=tmp_path, name="demo") as demo:
            assert demo.wait(timeout=STARTUP_SECONDS) == 2
            assert "choose another with --mock-port" in demo.stderr
