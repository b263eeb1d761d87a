"""Complaints end to end: the mock and the bridge as real processes on loopback ports.

The mock (``oss-bridge mock serve``) runs once for the module and is reset for each test. Each
test runs its own daemon (``oss-bridge run``) on a fresh SQLite file: complaints come in through
its intake API, as a portal sends them. The channel misbehaves as the issue asks: 30 % of answers
are errors, 10 % of requests are stored and then never answered, and every few hundred requests a
burst of 429s with ``Retry-After`` comes back. Exactly once means: every receipt reaches the
channel, and no receipt number is held there by more than one national complaint.

Waiting on real processes takes real time, so these tests poll, with bounds; the intervals and
timeouts of the bridge are shortened through its configuration so the whole module stays within
about three minutes on two cores.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import random
import signal
import socket
import subprocess
import sys
import time
from collections import Counter
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from oss_bridge.config import DatabaseSettings
from oss_bridge.store import Store
from tests.reliability.support import leased_by

pytestmark = pytest.mark.e2e

COMPLAINTS = 1000
KILL_CYCLES = 20
POLL = 0.25
LEASE_POLL = 0.02
FAULTS: dict[str, Any] = {
    "seed": 20261129,
    "error_rate": 0.3,
    "timeout_after_commit": {"rate": 0.1, "mode": "hang", "hang_seconds": 2.0},
    "rate_limit": {"burst": {"allow": 300, "refuse": 10}, "retry_after_seconds": 1},
}
ADMIN_TOKEN = "e2e-admin-token"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


def oss_bridge(*args: str) -> list[str]:
    return [sys.executable, "-m", "oss_bridge", *args]


def wait_until_answers(url: str, process: subprocess.Popen[bytes], what: str) -> None:
    deadline = time.monotonic() + 30
    while True:
        if process.poll() is not None:
            raise AssertionError(f"{what} exited with {process.returncode} before answering")
        with contextlib.suppress(httpx.TransportError):
            if httpx.get(url, timeout=1).status_code == 200:
                return
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} did not answer on {url} within 30 s")
        time.sleep(0.1)


def stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@pytest.fixture(scope="module")
def mock(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The mock national systems as a server; yields its base URL."""
    port = free_port()
    log = (tmp_path_factory.mktemp("mock") / "mock.log").open("wb")
    process = subprocess.Popen(
        oss_bridge("mock", "serve", "--port", str(port)),
        stdout=log,
        stderr=subprocess.STDOUT,
        env=_environment({}),
    )
    base = f"http://127.0.0.1:{port}"
    try:
        wait_until_answers(f"{base}/_mock/state", process, "the mock")
        yield base
    finally:
        stop(process)
        log.close()


def _environment(settings: dict[str, str]) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("OSS_BRIDGE_")}
    env.update(settings)
    return env


@dataclass
class Bridge:
    """A daemon on its own SQLite file, and the settings a forwarding command would share."""

    api: str
    database_url: str
    settings: dict[str, str]
    folder: Path

    def environment(self, **overrides: str) -> dict[str, str]:
        return _environment({**self.settings, **overrides})

    async def outbox(self) -> dict[str, int]:
        async with Store.open(DatabaseSettings(url=self.database_url)) as store:
            counts = await store.outbox_counts()
        return {str(state): count for state, count in counts.by_state.items()}

    async def national_ids(self) -> dict[str, str | None]:
        """Receipt number -> national complaint id, for every complaint received."""
        async with Store.open(DatabaseSettings(url=self.database_url)) as store:
            records = await store.list_complaints(limit=10_000)
        return {record.receipt_number: record.external_id for record in records}


@contextlib.contextmanager
def bridge(mock: str, folder: Path, **overrides: str) -> Iterator[Bridge]:
    """``oss-bridge run`` against ``mock``, with short intervals, timeouts and backoff."""
    port = free_port()
    database_url = f"sqlite:///{folder / 'bridge.db'}"
    settings = {
        "OSS_BRIDGE_DATABASE__URL": database_url,
        "OSS_BRIDGE_API__PORT": str(port),
        "OSS_BRIDGE_API__ADMIN_TOKEN": ADMIN_TOKEN,
        "OSS_BRIDGE_OSS__BASE_URL": f"{mock}/oss",
        "OSS_BRIDGE_LAPOR__BASE_URL": f"{mock}/lapor",
        "OSS_BRIDGE_LAPOR__READ_TIMEOUT": "0.4",
        "OSS_BRIDGE_LAPOR__MAX_CONNECTIONS": "16",
        "OSS_BRIDGE_LAPOR__CONNECT_TIMEOUT": "1",
        "OSS_BRIDGE_FORWARDER__INTERVAL_SECONDS": "0.5",
        "OSS_BRIDGE_FORWARDER__BATCH_SIZE": "500",
        "OSS_BRIDGE_FORWARDER__CONCURRENCY": "16",
        "OSS_BRIDGE_FORWARDER__LEASE_SECONDS": "3",
        "OSS_BRIDGE_FORWARDER__BACKOFF_INITIAL": "0.05",
        "OSS_BRIDGE_FORWARDER__BACKOFF_MAX": "0.5",
        "OSS_BRIDGE_FORWARDER__RETRY_AFTER_CAP": "1",
        "OSS_BRIDGE_FORWARDER__MAX_ATTEMPTS": "1000",
        "OSS_BRIDGE_STATUS_PULL__INTERVAL_SECONDS": "3600",
        "OSS_BRIDGE_CATALOGUE__INTERVAL_SECONDS": "3600",
        "OSS_BRIDGE_SCHEDULER__JITTER_SECONDS": "0",
        "OSS_BRIDGE_LOGGING__LEVEL": "WARNING",
        **overrides,
    }
    env = _environment(settings)
    subprocess.run(oss_bridge("db", "upgrade"), env=env, check=True, capture_output=True)
    log = (folder / "daemon.log").open("wb")
    process = subprocess.Popen(oss_bridge("run"), stdout=log, stderr=subprocess.STDOUT, env=env)
    api = f"http://127.0.0.1:{port}"
    try:
        wait_until_answers(f"{api}/readyz", process, "the daemon")
        yield Bridge(api=api, database_url=database_url, settings=settings, folder=folder)
    finally:
        stop(process)
        log.close()


async def control(mock: str, path: str, body: dict[str, Any]) -> dict[str, Any]:
    async with httpx.AsyncClient(base_url=mock, timeout=10) as client:
        answer = await client.post(path, json=body)
        assert answer.status_code == 200, answer.text
        result: dict[str, Any] = answer.json()
        return result


async def national_complaints(mock: str) -> list[dict[str, Any]]:
    async with httpx.AsyncClient(base_url=mock, timeout=30) as client:
        answer = await client.get("/_mock/state")
        assert answer.status_code == 200, answer.text
        rows: list[dict[str, Any]] = answer.json()["complaints"]
        return rows


@pytest.fixture
async def faulty_mock(mock: str) -> AsyncIterator[str]:
    await control(mock, "/_mock/reset", {})
    await control(mock, "/_mock/faults", FAULTS)
    yield mock
    await control(mock, "/_mock/faults", {})


async def submit(api: str, count: int) -> list[str]:
    """Send ``count`` complaints through the intake API, 8 at a time; their receipt numbers."""
    receipts: list[str] = []
    numbers = iter(range(count))
    async with httpx.AsyncClient(base_url=api, timeout=30) as client:

        async def sender() -> None:
            for number in numbers:
                answer = await client.post(
                    "/api/v1/complaints",
                    json={
                        "category": "hambatan_oss",
                        "object": "pemerintah_kabupaten",
                        "description": f"Permohonan NIB nomor {number} tertahan tanpa kabar "
                        "sejak dua minggu; mohon ditindaklanjuti.",
                        "reporter": {"name": f"Pelapor {number}"},
                    },
                )
                assert answer.status_code == 201, answer.text
                receipts.append(answer.json()["receipt_number"])

        await asyncio.gather(*(sender() for _ in range(8)))
    return receipts


async def all_sent(bridge: Bridge, count: int, *, within: float) -> None:
    deadline = time.monotonic() + within
    while (states := await bridge.outbox()).get("sent", 0) < count:
        assert states.get("dead", 0) == 0, f"dead letters: {states}"
        if time.monotonic() > deadline:
            raise AssertionError(f"not every complaint was sent within {within:.0f} s: {states}")
        await asyncio.sleep(POLL)


async def assert_exactly_once(mock: str, bridge: Bridge, receipts: list[str]) -> None:
    national = await national_complaints(mock)
    holders = Counter(row["external_reference"] for row in national)
    duplicated = {reference: n for reference, n in holders.items() if n > 1}
    assert duplicated == {}
    assert sorted(holders) == sorted(receipts)
    assert len(set(receipts)) == COMPLAINTS
    by_reference = {row["external_reference"]: row["complaint_id"] for row in national}
    assert await bridge.national_ids() == by_reference


async def holds_leases(
    bridge: Bridge, process: asyncio.subprocess.Process, *, within: float
) -> bool:
    """Wait until ``process`` holds leased rows (True) or has ended (False)."""
    deadline = time.monotonic() + within
    while process.returncode is None:
        if await leased_by(bridge.database_url, process.pid):
            return True
        assert time.monotonic() < deadline, "the forwarding process neither leased nor ended"
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(process.wait(), timeout=LEASE_POLL)
    return False


# --- the tests ---------------------------------------------------------------------------------


async def test_a_thousand_complaints_reach_a_faulty_channel_exactly_once(
    faulty_mock: str, tmp_path: Path
) -> None:
    with bridge(faulty_mock, tmp_path) as running:
        receipts = await submit(running.api, COMPLAINTS)
        await all_sent(running, COMPLAINTS, within=120)

        await assert_exactly_once(faulty_mock, running, receipts)


async def test_a_forwarding_process_killed_again_and_again_still_delivers_exactly_once(
    faulty_mock: str, tmp_path: Path
) -> None:
    # The daemon only takes complaints in; separate `complaints forward` processes send them
    # and are killed with SIGKILL at random moments, mid-send and mid-write.
    with bridge(faulty_mock, tmp_path, OSS_BRIDGE_FORWARDER__SUSPENDED="true") as running:
        intake = asyncio.create_task(submit(running.api, COMPLAINTS))
        forwarding = running.environment(OSS_BRIDGE_FORWARDER__SUSPENDED="false")
        chance = random.Random(1129)
        killed = 0
        for _ in range(KILL_CYCLES):
            process = await asyncio.create_subprocess_exec(
                *oss_bridge("complaints", "forward"),
                env=forwarding,
                stdout=asyncio.subprocess.DEVNULL,
                stderr=asyncio.subprocess.DEVNULL,
            )
            # The moment is counted from the process's first lease, not from its start: how
            # long start-up and a pass take depends on the machine, and a kill is meant to land
            # while rows are in flight.
            if await holds_leases(running, process, within=30):
                try:
                    await asyncio.wait_for(process.wait(), timeout=chance.uniform(0.0, 0.25))
                except TimeoutError:
                    process.send_signal(signal.SIGKILL)
                    await process.wait()
                    killed += 1
        receipts = await intake
        deadline = time.monotonic() + 90
        while (await running.outbox()).get("sent", 0) < COMPLAINTS:
            assert time.monotonic() < deadline, f"still waiting: {await running.outbox()}"
            finished = await asyncio.create_subprocess_exec(
                *oss_bridge("complaints", "forward", "--json"),
                env=forwarding,
                stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.DEVNULL,
            )
            output, _ = await finished.communicate()
            assert finished.returncode == 0, output
            if json.loads(output)["claimed"] == 0:
                await asyncio.sleep(POLL)  # rows of killed passes wait for their leases

        assert killed >= KILL_CYCLES // 4, f"only {killed} passes were cut short"
        await assert_exactly_once(faulty_mock, running, receipts)


async def test_a_status_advanced_on_the_channel_shows_in_the_api_after_one_pull(
    mock: str, tmp_path: Path
) -> None:
    await control(mock, "/_mock/reset", {})
    with bridge(mock, tmp_path) as running:
        [receipt] = await submit(running.api, 1)
        await all_sent(running, 1, within=30)
        async with httpx.AsyncClient(base_url=running.api, timeout=10) as api:
            before = (await api.get(f"/api/v1/complaints/{receipt}")).json()
            await control(
                mock,
                "/_mock/advance",
                {"complaint_id": before["external_id"], "to": "Dalam Proses"},
            )

            started = await api.post(
                "/api/v1/admin/resync",
                json={"target": "status"},
                headers={"Authorization": f"Bearer {ADMIN_TOKEN}"},
            )
            assert started.status_code == 202, started.text
            run = await finished_run(api, started.json()["run_id"])
            after = (await api.get(f"/api/v1/complaints/{receipt}")).json()

    assert run["state"] == "succeeded"
    # The daemon's own status job may already have pulled the first status before we looked.
    assert before["external_status"] in (None, "Belum Terverifikasi")
    assert (after["external_status"], after["stage"], after["final"]) == (
        "Dalam Proses",
        "d",
        False,
    )
    assert [
        entry["external_status"] for entry in after["history"] if entry["kind"] == "status"
    ] == [
        "Belum Terverifikasi",
        "Dalam Proses",
    ]


async def finished_run(api: httpx.AsyncClient, run_id: str) -> dict[str, Any]:
    deadline = time.monotonic() + 30
    while True:
        answer = await api.get(
            f"/api/v1/admin/runs/{run_id}", headers={"Authorization": f"Bearer {ADMIN_TOKEN}"}
        )
        assert answer.status_code == 200, answer.text
        run: dict[str, Any] = answer.json()
        if run["state"] in ("succeeded", "failed"):
            return run
        assert time.monotonic() < deadline, f"the run did not finish: {run}"
        await asyncio.sleep(POLL)
