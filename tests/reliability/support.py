"""What the reliability suite shares: daemons on short timers, a portal that files complaints,
the channel's and the store's view of them, and the outages and kills the tests inflict.

Processes are started with the daemon tests' helpers (``tests.daemon.support``): the mock with
``mock_process``, ``oss-bridge run`` with ``started`` and ``daemon_env``. The bridge's intervals,
leases and backoff are shortened through its configuration (``FAST``), so that a takeover after
an expired lease, a retry after a refusal and a run after an outage happen within seconds.

Waiting on real processes and real outages takes real time: ``eventually`` polls, with a bound.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import multiprocessing
import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Sequence
from dataclasses import dataclass, field
from multiprocessing.context import ForkServerContext
from multiprocessing.process import BaseProcess
from pathlib import Path
from typing import Any, TypeVar

import httpx
import pytest
from sqlalchemy.engine import make_url

from oss_bridge.config import DatabaseSettings, normalise_database_url
from oss_bridge.store import ComplaintRecord, Store
from oss_bridge.store._engine import parse_url, sqlite_file
from oss_bridge.store._outbox import OutboxItem
from tests.daemon.support import STARTUP_SECONDS, Process, daemon_env, free_port, started

T = TypeVar("T")

postgres_only = pytest.mark.parametrize(
    "backend", [pytest.param("postgresql", marks=pytest.mark.postgres)], indirect=True
)
"""For tests of several instances, which share a PostgreSQL database (see conftest.py)."""

POLL = 0.2
"""Seconds between two looks at a process, a database or the mock while waiting on them."""

FAST: dict[str, str] = {
    "OSS_BRIDGE_LOGGING__LEVEL": "WARNING",
    "OSS_BRIDGE_LAPOR__READ_TIMEOUT": "1",
    "OSS_BRIDGE_LAPOR__CONNECT_TIMEOUT": "1",
    "OSS_BRIDGE_OSS__READ_TIMEOUT": "2",
    "OSS_BRIDGE_OSS__CONNECT_TIMEOUT": "1",
    "OSS_BRIDGE_OSS__BACKOFF_INITIAL": "0.05",
    "OSS_BRIDGE_OSS__BACKOFF_MAX": "0.2",
    "OSS_BRIDGE_LAPOR__BACKOFF_INITIAL": "0.05",
    "OSS_BRIDGE_LAPOR__BACKOFF_MAX": "0.2",
    "OSS_BRIDGE_FORWARDER__INTERVAL_SECONDS": "0.5",
    "OSS_BRIDGE_FORWARDER__BATCH_SIZE": "400",
    "OSS_BRIDGE_FORWARDER__LEASE_SECONDS": "2.5",
    "OSS_BRIDGE_FORWARDER__BACKOFF_INITIAL": "0.05",
    "OSS_BRIDGE_FORWARDER__BACKOFF_MAX": "0.5",
    "OSS_BRIDGE_FORWARDER__RETRY_AFTER_CAP": "1",
    "OSS_BRIDGE_FORWARDER__MAX_ATTEMPTS": "1000",
    "OSS_BRIDGE_STATUS_PULL__INTERVAL_SECONDS": "3600",
    "OSS_BRIDGE_STATUS_PULL__LEASE_SECONDS": "2.5",
    "OSS_BRIDGE_CATALOGUE__INTERVAL_SECONDS": "3600",
    "OSS_BRIDGE_SCHEDULER__DEADLINE_CHECK_INTERVAL_SECONDS": "3600",
    "OSS_BRIDGE_SCHEDULER__MISFIRE_GRACE_SECONDS": "5",
    "OSS_BRIDGE_SCHEDULER__SHUTDOWN_GRACE_SECONDS": "3",
}
"""Settings that make a daemon act within seconds: a crashed one's leases expire after 2.5 s."""


async def eventually(
    check: Callable[[], Awaitable[T | None]],
    *,
    within: float,
    what: str,
    alive: Callable[[], None] = lambda: None,
) -> T:
    """Call ``check`` until it returns something other than ``None`` or ``False``; fail naming
    ``what`` after ``within`` seconds. ``alive`` is called on every round and may fail the test
    (a daemon that died)."""
    deadline = time.monotonic() + within
    while True:
        alive()
        found = await check()
        if found is not None and found is not False:
            return found
        if time.monotonic() > deadline:
            pytest.fail(f"{what} did not happen within {within:.0f} s")
        await asyncio.sleep(POLL)


# --- the mock ----------------------------------------------------------------------------------


@dataclass
class Mock:
    """The mock national systems as a process, through its control API."""

    url: str
    process: Process

    async def _control(self, method: str, path: str, body: Any = None) -> Any:
        async with httpx.AsyncClient(base_url=self.url, timeout=30) as client:
            answer = await client.request(method, path, json=body)
        assert answer.status_code == 200, answer.text
        return answer.json()

    async def reset(self, faults: dict[str, Any] | None = None) -> None:
        """Forget every complaint and edit, and put ``faults`` in force (none by default)."""
        await self._control("POST", "/_mock/reset", {})
        await self._control("POST", "/_mock/faults", faults or {})

    async def faults(self, profile: dict[str, Any]) -> None:
        await self._control("POST", "/_mock/faults", profile)

    async def edit(self, id_layanan: str, **changes: Any) -> None:
        await self._control("POST", "/_mock/edit", {"id_layanan": id_layanan, "changes": changes})

    async def advance_all(self, to: str) -> None:
        await self._control("POST", "/_mock/advance", {"complaint_id": None, "to": to})

    async def state(self) -> dict[str, Any]:
        state: dict[str, Any] = await self._control("GET", "/_mock/state")
        return state

    async def complaints(self) -> list[dict[str, Any]]:
        rows: list[dict[str, Any]] = (await self.state())["complaints"]
        return rows

    async def requests(self) -> dict[str, int]:
        counts: dict[str, int] = (await self.state())["requests"]
        return counts


# --- daemons ------------------------------------------------------------------------------------


def bridge_env(database_url: str, mock: Mock, *, port: int, **extra: str) -> dict[str, str]:
    """The environment of a daemon on ``database_url`` and ``port`` against ``mock``, with the
    short timers of ``FAST`` (``extra`` overrides them)."""
    return daemon_env(
        database=database_url,
        port=port,
        mock_port=int(mock.url.rsplit(":", 1)[1]),
        **{**FAST, **extra},
    )


@dataclass
class Daemon:
    """One ``oss-bridge run`` process and where it answers."""

    process: Process
    url: str

    @property
    def pid(self) -> int:
        return self.process.popen.pid

    def require_alive(self) -> None:
        self.process.require_alive(f"the daemon at {self.url}")

    def kill(self) -> None:
        self.process.signal(signal.SIGKILL)
        self.process.wait(timeout=10)


@contextlib.contextmanager
def daemons(
    count: int, directory: Path, database_url: str, mock: Mock, **extra: str
) -> Iterator[list[Daemon]]:
    """``count`` daemons on one database, each in a folder of its own, all ready before this
    yields; stopped (SIGTERM, then SIGKILL) at the end."""
    with contextlib.ExitStack() as stack:
        running: list[Daemon] = []
        for number in range(count):
            folder = directory / f"instance-{number + 1}"
            folder.mkdir(exist_ok=True)
            port = free_port()
            env = bridge_env(database_url, mock, port=port, **extra)
            process = stack.enter_context(
                started(["run"], directory=folder, name="daemon", env=env)
            )
            running.append(Daemon(process, f"http://127.0.0.1:{port}"))
        deadline = time.monotonic() + STARTUP_SECONDS
        for daemon in running:
            while not _answers(f"{daemon.url}/readyz"):
                daemon.require_alive()
                if time.monotonic() > deadline:
                    pytest.fail(f"the daemon at {daemon.url} was not ready in {STARTUP_SECONDS} s")
                time.sleep(0.05)
        yield running


def _answers(url: str) -> bool:
    try:
        return httpx.get(url, timeout=2).status_code == 200
    except httpx.TransportError:
        return False


class Launcher:
    """Starts ``oss-bridge run`` as forks of one process that has already imported the bridge.

    A daemon killed twenty times would otherwise spend most of the test importing itself again.
    The forks run the command line's own entry point (``oss_bridge.cli.main``, as the
    ``oss-bridge`` script does) in processes of their own, which a SIGKILL ends like any other.
    """

    PRELOAD = ("oss_bridge.cli", "oss_bridge.daemon", "tests.reliability.support")

    def __init__(self) -> None:
        context = multiprocessing.get_context("forkserver")
        assert isinstance(context, ForkServerContext)
        context.set_forkserver_preload(list(self.PRELOAD))
        self._context = context
        self._numbers = itertools.count(1)

    def start(self, env: dict[str, str], directory: Path) -> BaseProcess:
        log = directory / f"daemon-{next(self._numbers)}.log"
        process = self._context.Process(
            target=_run_daemon, args=(env, str(log)), name="oss-bridge run", daemon=False
        )
        process.start()
        return process


def _run_daemon(env: dict[str, str], log: str) -> None:
    """The body of a launched daemon: ``oss-bridge run`` with ``env``, output to ``log``."""
    output = os.open(log, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    os.dup2(output, 1)
    os.dup2(output, 2)
    for name in [name for name in os.environ if name.startswith("OSS_BRIDGE_")]:
        del os.environ[name]
    os.environ.update(env)
    sys.argv = ["oss-bridge", "run"]
    from oss_bridge.cli import main

    main()


def alive(process: BaseProcess) -> Callable[[], None]:
    """A check for ``eventually`` that fails the test once the launched daemon has ended."""

    def check() -> None:
        assert process.is_alive(), f"the daemon exited with {process.exitcode}"

    return check


async def answering(url: str) -> bool:
    """Whether the daemon at ``url`` answers its health check."""
    try:
        async with httpx.AsyncClient(timeout=2) as client:
            return (await client.get(f"{url}/healthz")).status_code == 200
    except httpx.TransportError:
        return False


def ended(process: BaseProcess) -> None:
    """Make sure a launched daemon has ended: SIGTERM, then SIGKILL."""
    if process.is_alive():
        process.terminate()
        process.join(timeout=10)
    if process.is_alive():
        process.kill()
        process.join(timeout=10)


# --- the portal ---------------------------------------------------------------------------------


def complaint_body(number: int) -> dict[str, Any]:
    return {
        "category": "hambatan_oss",
        "object": "pemerintah_kabupaten",
        "description": f"Permohonan NIB nomor {number} tertahan tanpa kabar sejak dua minggu; "
        "mohon ditindaklanjuti.",
        "reporter": {"name": f"Pelapor {number}"},
    }


@dataclass
class Portal:
    """The regional portal: files complaints with whichever instance answers, and files one
    again when no receipt came back (a refused, dropped or unanswered request).

    ``receipts`` holds every receipt number an instance gave; ``refusals`` counts the answers
    that were not a receipt, by status (``"no answer"`` for a dropped connection).
    """

    urls: Sequence[str]
    receipts: list[str] = field(default_factory=list)
    refusals: Counter[str] = field(default_factory=Counter)
    patience: float = 120.0

    async def file(self, count: int, *, concurrency: int = 8, first: int = 1) -> None:
        """File complaints ``first`` .. ``first + count - 1``, ``concurrency`` at a time."""
        numbers = iter(range(first, first + count))
        turns = itertools.count()
        async with httpx.AsyncClient(timeout=10) as client:

            async def sender() -> None:
                for number in numbers:
                    await self._file_one(client, number, turns)

            await asyncio.gather(*(sender() for _ in range(concurrency)))

    async def _file_one(self, client: httpx.AsyncClient, number: int, turns: Iterator[int]) -> None:
        deadline = time.monotonic() + self.patience
        while True:
            url = self.urls[next(turns) % len(self.urls)]
            try:
                answer = await client.post(f"{url}/api/v1/complaints", json=complaint_body(number))
            except httpx.TransportError:
                self.refusals["no answer"] += 1
            else:
                if answer.status_code == 201:
                    self.receipts.append(answer.json()["receipt_number"])
                    return
                assert answer.status_code == 503, answer.text
                self.refusals[str(answer.status_code)] += 1
            assert time.monotonic() < deadline, f"complaint {number} got no receipt in time"
            await asyncio.sleep(POLL)


# --- what the store and the channel hold ------------------------------------------------------


@contextlib.asynccontextmanager
async def opened(database_url: str) -> AsyncIterator[Store]:
    async with Store.open(DatabaseSettings(url=database_url)) as store:
        yield store


async def stored_complaints(database_url: str) -> list[ComplaintRecord]:
    async with opened(database_url) as store:
        return await store.list_complaints(limit=10_000)


async def outbox_rows(database_url: str) -> list[OutboxItem]:
    async with opened(database_url) as store:
        return await store.list_outbox(limit=10_000)


async def leased_by(database_url: str, pid: int) -> list[OutboxItem]:
    """The outbox rows in flight under a lease of the process ``pid`` (lease owners name it)."""
    return [
        row
        for row in await outbox_rows(database_url)
        if row.state == "in_flight" and f":{pid}:" in (row.lease_owner or "")
    ]


async def all_sent(database_url: str, count: int | None = None) -> bool:
    """Whether every outbox row (and at least ``count``) is sent; fails on a dead letter."""
    async with opened(database_url) as store:
        states = (await store.outbox_counts()).by_state
    assert states.get("dead", 0) == 0, f"dead letters: {states}"
    total = sum(states.values())
    return states.get("sent", 0) == total and (count is None or total >= count)


async def assert_each_complaint_once(
    database_url: str, mock: Mock, receipts: Sequence[str]
) -> None:
    """The channel holds every stored complaint exactly once, under the national id the bridge
    recorded, and nothing else; every receipt a caller was given is among them."""
    stored = {
        record.receipt_number: record.external_id
        for record in await stored_complaints(database_url)
    }
    national = await mock.complaints()
    holders = Counter(row["external_reference"] for row in national)
    assert {reference: n for reference, n in holders.items() if n > 1} == {}
    assert sorted(holders) == sorted(stored)
    assert set(receipts) <= set(stored)
    assert len(set(receipts)) == len(receipts)
    assert stored == {row["external_reference"]: row["complaint_id"] for row in national}


# --- outages ------------------------------------------------------------------------------------


def is_loopback(database_url: str) -> bool:
    host = make_url(normalise_database_url(database_url)).host
    return host in ("127.0.0.1", "localhost", "::1")


def postgres_cluster(database_url: str) -> tuple[str, str]:
    """The Debian cluster (version, name) serving the port of ``database_url`` on this host."""
    port = make_url(normalise_database_url(database_url)).port or 5432
    listed = subprocess.run(
        ["pg_lsclusters", "--no-header"], capture_output=True, text=True, check=True
    ).stdout
    for line in listed.splitlines():
        version, name, cluster_port, *_ = line.split()
        if int(cluster_port) == port:
            return version, name
    pytest.fail(f"no PostgreSQL cluster of this host listens on port {port}:\n{listed}")


def _pg_ctlcluster(cluster: tuple[str, str], action: str, *options: str) -> None:
    version, name = cluster
    subprocess.run(
        ["pg_ctlcluster", "--skip-systemctl-redirect", version, name, action, *options],
        check=True,
        capture_output=True,
        timeout=60,
    )


def _postgres_answers(database_url: str) -> bool:
    url = make_url(normalise_database_url(database_url))
    done = subprocess.run(
        ["pg_isready", "-q", "-h", url.host or "127.0.0.1", "-p", str(url.port or 5432)],
        check=False,
        timeout=10,
    )
    return done.returncode == 0


@contextlib.contextmanager
def postgres_stopped(database_url: str) -> Iterator[None]:
    """The PostgreSQL server of ``database_url`` stopped for the block (connections cut at
    once), then started again and answering. It is started again whatever the block did."""
    cluster = postgres_cluster(database_url)
    _pg_ctlcluster(cluster, "stop", "--", "-m", "fast")
    try:
        yield
    finally:
        _pg_ctlcluster(cluster, "start")
        deadline = time.monotonic() + 60
        while not _postgres_answers(database_url):
            assert time.monotonic() < deadline, "PostgreSQL did not come back within 60 s"
            time.sleep(POLL)


@contextlib.contextmanager
def sqlite_locked(database_url: str) -> Iterator[None]:
    """Another connection holds the SQLite database's write lock (BEGIN EXCLUSIVE) for the block."""
    path = sqlite_file(parse_url(normalise_database_url(database_url)))
    assert path is not None, f"{database_url!r} names no SQLite file"
    holder = sqlite3.connect(path, isolation_level=None, timeout=30)
    try:
        holder.execute("BEGIN EXCLUSIVE")
        try:
            yield
        finally:
            holder.execute("ROLLBACK")
    finally:
        holder.close()
