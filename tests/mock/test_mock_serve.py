"""`oss-bridge mock serve` as a real process on a loopback port."""

from __future__ import annotations

import json
import os
import select
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.mock._support import LAPOR_AUTH, OSS_KEY, complaint_body

CLI = str(Path(sys.executable).with_name("oss-bridge"))
STARTUP_SECONDS = 30.0
GENERATED = 500


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def wait_for_banner(process: subprocess.Popen[bytes]) -> None:
    """Read the start banner; the listening socket is bound before it is printed."""
    assert process.stdout is not None
    descriptor = process.stdout.fileno()
    printed = b""
    deadline = time.monotonic() + STARTUP_SECONDS
    while b"API documentation" not in printed:
        left = deadline - time.monotonic()
        ready, _, _ = select.select([descriptor], [], [], max(left, 0))
        if not ready:
            pytest.fail(f"mock serve printed no banner within {STARTUP_SECONDS}s: {printed!r}")
        chunk = os.read(descriptor, 4096)
        if not chunk:
            _, stderr = process.communicate(timeout=5)
            pytest.fail(f"mock serve exited with {process.returncode}: {stderr.decode()}")
        printed += chunk


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A mock server with a fault profile file and a generated catalogue; its base URL."""
    profile = tmp_path_factory.mktemp("profile") / "faults.json"
    profile.write_text(
        json.dumps(
            {
                "endpoints": {
                    "POST /oss/v1/kl/rba/getDataReferensi": {"quirks": {"kode_as_string": 1}}
                }
            }
        )
    )
    port = free_port()
    command = [CLI, "mock", "serve", "--port", str(port), "--faults", str(profile)]
    command += ["--generate-catalogue", str(GENERATED), "--seed", "3"]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        wait_for_banner(process)
        yield f"http://127.0.0.1:{port}"
    finally:
        process.terminate()
        try:
            process.communicate(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.communicate()


@pytest.fixture
def client(served: str) -> Iterator[httpx.Client]:
    """A client of the served mock, reset to its start state."""
    with httpx.Client(base_url=served, timeout=10) as http:
        assert http.post("/_mock/reset").status_code == 200
        yield http


def state(client: httpx.Client) -> dict[str, Any]:
    result: dict[str, Any] = client.get("/_mock/state").json()
    return result


@pytest.mark.e2e
def test_the_served_mock_answers_both_systems_and_counts_what_it_received(
    client: httpx.Client,
) -> None:
    referensi = client.post(
        "/oss/v1/kl/rba/getDataReferensi", json={"GETDATAREFERENSI": {"kode": "8"}}, headers=OSS_KEY
    )
    created = client.post(
        "/lapor/complaints/complaint",
        json=complaint_body(external_reference="PGD-E2E-1"),
        headers={**LAPOR_AUTH, "Idempotency-Key": "e2e-1"},
    )
    categories = client.get("/lapor/masters/categories?page_size=1000", headers=LAPOR_AUTH)
    held = state(client)
    assert referensi.status_code == 200
    # The profile file given with --faults is in force.
    assert referensi.json()["respongetDataReferensi"]["kode"] == "200"
    assert created.status_code == 201
    assert categories.status_code == 200
    assert held["requests"] == {
        "GET /lapor/masters/categories": 1,
        "POST /lapor/complaints/complaint": 1,
        "POST /oss/v1/kl/rba/getDataReferensi": 1,
    }
    assert [c["external_reference"] for c in held["complaints"]] == ["PGD-E2E-1"]
    assert len(held["catalogue"]) == GENERATED + 7


@pytest.mark.e2e
def test_the_served_mock_drops_the_connection_after_storing_the_complaint(
    client: httpx.Client,
) -> None:
    late = {"timeout_after_commit": {"rate": 1, "mode": "drop"}}
    client.post("/_mock/faults", json={"endpoints": {"POST /lapor/complaints/complaint": late}})
    with pytest.raises(httpx.RemoteProtocolError):
        client.post(
            "/lapor/complaints/complaint",
            json=complaint_body(external_reference="PGD-E2E-2"),
            headers=LAPOR_AUTH,
        )
    held = state(client)
    assert [c["external_reference"] for c in held["complaints"]] == ["PGD-E2E-2"]


@pytest.mark.e2e
def test_the_served_mock_holds_the_answer_past_the_read_timeout_after_storing(
    client: httpx.Client,
) -> None:
    late = {"timeout_after_commit": {"rate": 1, "mode": "hang", "hang_seconds": 30}}
    client.post("/_mock/faults", json={"endpoints": {"POST /lapor/complaints/complaint": late}})
    with pytest.raises(httpx.ReadTimeout):
        client.post(
            "/lapor/complaints/complaint",
            json=complaint_body(external_reference="PGD-E2E-3"),
            headers=LAPOR_AUTH,
            timeout=httpx.Timeout(5, read=0.3),
        )
    held = state(client)
    assert [c["external_reference"] for c in held["complaints"]] == ["PGD-E2E-3"]


@pytest.mark.e2e
def test_the_served_mock_documents_its_api(client: httpx.Client) -> None:
    docs = client.get("/docs")
    schema = client.get("/openapi.json").json()
    assert docs.status_code == 200
    assert "/lapor/complaints/complaint" in schema["paths"]
    assert "/oss/v1/kl/rba/inqueryStandarPelayanan" in schema["paths"]


def run_cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([CLI, *args], capture_output=True, text=True, timeout=60, check=False)


def test_serve_with_an_unreadable_fault_profile_exits_2_with_one_line(tmp_path: Path) -> None:
    result = run_cli("mock", "serve", "--faults", str(tmp_path / "absent.json"))
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1
    assert lines[0].startswith("oss-bridge: fault profile")
    assert "absent.json" in lines[0]


def test_serve_on_a_port_in_use_exits_2_with_one_line() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        port = taken.getsockname()[1]
        result = run_cli("mock", "serve", "--port", str(port))
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        f"oss-bridge: cannot listen on 127.0.0.1:{port} (Address already in use); "
        "pick a free port with --port or another address with --host"
    ]
