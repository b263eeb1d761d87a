"""`oss-bridge run` as a real process beside the mock as a real process, on loopback ports."""

from __future__ import annotations

import json
import os
import signal
import socket
import sqlite3
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.daemon.support import (
    ADMIN,
    ADMIN_TOKEN,
    CLI,
    STAFF_TOKEN,
    Bridge,
    daemon_env,
    free_port,
    running_bridge,
    upgrade_database,
    wait_until,
)

pytestmark = pytest.mark.e2e

COMPLAINT = {
    "category": "hambatan_oss",
    "object": "pemerintah_kabupaten",
    "description": "Akun OSS terkunci setelah mengganti nomor telepon.",
}


@pytest.fixture(scope="module")
def notify_socket(tmp_path_factory: pytest.TempPathFactory) -> Iterator[socket.socket]:
    """A datagram socket standing in for systemd's NOTIFY_SOCKET."""
    path = tmp_path_factory.mktemp("notify") / "notify.sock"
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
        sock.bind(str(path))
        sock.settimeout(0)
        yield sock


@pytest.fixture(scope="module")
def bridge(
    tmp_path_factory: pytest.TempPathFactory, notify_socket: socket.socket
) -> Iterator[Bridge]:
    directory = tmp_path_factory.mktemp("daemon")
    with running_bridge(directory, NOTIFY_SOCKET=str(notify_socket.getsockname())) as running:
        yield running


def finished_run(bridge: Bridge, run_id: str) -> dict[str, object]:
    found: dict[str, object] = {}

    def done() -> bool:
        found.update(httpx.get(f"{bridge.url}/api/v1/admin/runs/{run_id}", headers=ADMIN).json())
        return bool(found.get("finished"))

    wait_until(done, timeout=30, what=f"run {run_id} finishing")
    return found


def test_the_daemon_is_healthy_and_ready(bridge: Bridge) -> None:
    assert httpx.get(f"{bridge.url}/healthz").json() == {"status": "ok"}
    ready = httpx.get(f"{bridge.url}/readyz").json()
    assert ready["status"] == "ready"


def test_the_daemon_tells_systemd_it_is_ready(bridge: Bridge, notify_socket: socket.socket) -> None:
    received: list[bytes] = []

    def ready() -> bool:
        try:
            received.append(notify_socket.recv(256))
        except BlockingIOError:
            return False
        return b"READY=1" in received

    wait_until(ready, timeout=10, what="READY=1 on the notify socket")


def test_a_resync_through_the_admin_api_completes(bridge: Bridge) -> None:
    response = httpx.post(
        f"{bridge.url}/api/v1/admin/resync", json={"target": "catalogue"}, headers=ADMIN
    )
    assert response.status_code == 202
    run = finished_run(bridge, response.json()["run_id"])
    assert run["state"] == "succeeded"
    assert run["requested_by"] == "admin-api"


def test_the_admin_api_answers_401_without_the_token(bridge: Bridge) -> None:
    response = httpx.post(f"{bridge.url}/api/v1/admin/resync", json={"target": "catalogue"})
    assert response.status_code == 401
    assert httpx.get(f"{bridge.url}/api/v1/admin/status").status_code == 401


def test_the_scheduled_jobs_run_and_are_shown_in_status(bridge: Bridge) -> None:
    def all_ran() -> bool:
        status = httpx.get(f"{bridge.url}/api/v1/admin/status", headers=ADMIN).json()
        jobs = status["jobs"]
        return all(jobs[name]["last_success_at"] for name in ("complaints", "status", "deadlines"))

    wait_until(all_ran, timeout=30, what="the first scheduled runs")
    status = httpx.get(f"{bridge.url}/api/v1/admin/status", headers=ADMIN).json()
    assert status["jobs"]["complaints"]["next_run_at"] is not None
    assert status["jobs"]["summary"]["next_run_at"] is not None


def test_metrics_are_served_in_prometheus_format(bridge: Bridge) -> None:
    text = httpx.get(f"{bridge.url}/metrics").text
    assert 'oss_bridge_outbox_queue_depth{state="pending"}' in text
    assert 'oss_bridge_external_requests_total{status="200",system="oss"}' in text


def test_a_new_complaint_is_forwarded_at_once(bridge: Bridge) -> None:
    receipt = httpx.post(f"{bridge.url}/api/v1/complaints", json=COMPLAINT).json()
    mock_state = f"{bridge.mock_url}/_mock/state"

    def reached_channel() -> bool:
        complaints = httpx.get(mock_state).json()["complaints"]
        return any(c["external_reference"] == receipt["receipt_number"] for c in complaints)

    # The forwarder's interval is 30 s; the intake's wake-up makes it much sooner.
    wait_until(reached_channel, timeout=10, what="the complaint reaching the channel")


def test_a_second_daemon_on_the_same_sqlite_file_exits_2(bridge: Bridge) -> None:
    env = daemon_env(
        database=f"sqlite:///{bridge.database}",
        port=free_port(),
        mock_port=int(bridge.mock_url.rsplit(":", 1)[1]),
    )
    second = subprocess.run(
        [CLI, "run"], env={**os.environ, **env}, capture_output=True, timeout=60
    )
    assert second.returncode == 2
    message = second.stderr.decode()
    assert "another oss-bridge daemon" in message
    assert f"process {bridge.daemon.popen.pid}" in message
    assert bridge.daemon.alive()


def test_a_database_without_the_current_schema_exits_2_naming_the_fix(tmp_path: Path) -> None:
    env = daemon_env(database=f"sqlite:///{tmp_path / 'empty.db'}", port=free_port(), mock_port=1)
    done = subprocess.run([CLI, "run"], env={**os.environ, **env}, capture_output=True, timeout=60)
    assert done.returncode == 2
    assert "run `oss-bridge db upgrade`" in done.stderr.decode()


def test_a_status_mapping_with_an_unmapped_status_exits_2_naming_it(tmp_path: Path) -> None:
    database = f"sqlite:///{tmp_path / 'bridge.db'}"
    upgrade_database(database)
    mapping = tmp_path / "mapping.toml"
    mapping.write_text('[statuses."Selesai"]\nstage = "f"\nopen311 = "closed"\nfinal = true\n')
    env = daemon_env(
        database=database,
        port=free_port(),
        mock_port=1,
        OSS_BRIDGE_STATUS_PULL__MAPPING_FILE=str(mapping),
    )
    done = subprocess.run([CLI, "run"], env={**os.environ, **env}, capture_output=True, timeout=60)
    assert done.returncode == 2
    assert "Belum Terverifikasi" in done.stderr.decode()


def slow_channel(directory: Path, **create: object) -> Path:
    """A fault profile file for the channel's create endpoint."""
    faults = directory / "faults.json"
    faults.write_text(json.dumps({"endpoints": {"POST /lapor/complaints/complaint": create}}))
    return faults


def test_sigterm_lets_an_attempt_in_flight_finish_then_exits_0(tmp_path: Path) -> None:
    faults = slow_channel(tmp_path, latency_ms=1500)
    with running_bridge(tmp_path, faults=faults) as bridge:
        httpx.post(f"{bridge.url}/api/v1/complaints", json=COMPLAINT)
        wait_until(lambda: leased(bridge.database) == 1, timeout=10, what="an attempt in flight")
        bridge.daemon.signal(signal.SIGTERM)
        code = bridge.daemon.wait(timeout=15)
    assert code == 0, bridge.daemon.stderr
    assert outbox(bridge.database) == [("sent", 0)]
    assert leased(bridge.database) == 0


def test_sigterm_exits_0_within_10_seconds_leaving_no_lease_held(tmp_path: Path) -> None:
    # The channel stores the complaint and then never answers: the attempt outlasts the grace.
    faults = slow_channel(
        tmp_path, timeout_after_commit={"rate": 1, "mode": "hang", "hang_seconds": 120}
    )
    with running_bridge(tmp_path, faults=faults) as bridge:
        httpx.post(f"{bridge.url}/api/v1/complaints", json=COMPLAINT)
        wait_until(lambda: leased(bridge.database) == 1, timeout=10, what="an attempt in flight")
        started = time.monotonic()
        bridge.daemon.signal(signal.SIGTERM)
        code = bridge.daemon.wait(timeout=15)
        took = time.monotonic() - started
    assert code == 0, bridge.daemon.stderr
    assert took < 10
    assert leased(bridge.database) == 0
    # Cut short after its request left: the next attempt looks the complaint up first.
    assert outbox(bridge.database) == [("pending", 1)]
    with sqlite3.connect(bridge.database) as db:
        pulls = db.execute(
            "SELECT count(*) FROM complaints WHERE pull_lease_owner IS NOT NULL"
        ).fetchone()
    assert pulls == (0,)
    events = [json.loads(line)["event"] for line in bridge.daemon.stdout.splitlines()]
    assert "leases released" in events
    assert events[-1] == "stopped"


def outbox(database: Path) -> list[tuple[str, int]]:
    with sqlite3.connect(database) as db:
        return [
            (str(state), int(unknown))
            for state, unknown in db.execute("SELECT state, outcome_unknown FROM outbox")
        ]


def leased(database: Path) -> int:
    with sqlite3.connect(database) as db:
        row = db.execute("SELECT count(*) FROM outbox WHERE lease_owner IS NOT NULL").fetchone()
    return int(row[0])


PERSONAL = {
    "name": "Wahyuni Kartika Sari",
    "nik": "1405024509880003",
    "phone": "081355544433",
    "email": "wahyuni.sari@contoh.id",
}


def test_a_complaint_with_personal_data_leaves_none_of_it_in_the_logs(bridge: Bridge) -> None:
    body = {
        **COMPLAINT,
        "description": (
            f"Atas nama {PERSONAL['name']} (NIK {PERSONAL['nik']}, {PERSONAL['phone']}): "
            "akun OSS tidak bisa dipulihkan."
        ),
        "reporter": {
            "name": PERSONAL["name"],
            "email": PERSONAL["email"],
            "phone": PERSONAL["phone"],
        },
    }
    receipt = httpx.post(f"{bridge.url}/api/v1/complaints", json=body).json()
    mock_state = f"{bridge.mock_url}/_mock/state"

    def forwarded() -> bool:
        complaints = httpx.get(mock_state).json()["complaints"]
        return any(c["external_reference"] == receipt["receipt_number"] for c in complaints)

    wait_until(forwarded, timeout=15, what="the complaint reaching the channel")
    httpx.post(
        f"{bridge.mock_url}/_mock/advance", json={"complaint_id": None, "to": "Dalam Proses"}
    )
    started = httpx.post(
        f"{bridge.url}/api/v1/admin/resync", json={"target": "status"}, headers=ADMIN
    ).json()
    assert finished_run(bridge, started["run_id"])["state"] == "succeeded"
    shown = httpx.get(f"{bridge.url}/api/v1/complaints/{receipt['id']}").json()
    assert shown["external_status"] == "Dalam Proses"
    logged = bridge.daemon.stdout + bridge.daemon.stderr
    assert receipt["receipt_number"] in logged  # the complaint's journey was logged
    assert [kind for kind, value in PERSONAL.items() if value in logged] == []


def test_secrets_appear_in_no_log_line(bridge: Bridge) -> None:
    logged = bridge.daemon.stdout + bridge.daemon.stderr
    for secret in (ADMIN_TOKEN, STAFF_TOKEN, "demo-user-key", "demo-auth-value", "demo-token"):
        assert secret not in logged
