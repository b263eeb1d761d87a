"""A daemon killed with SIGKILL at random moments of forwarding, twenty times: nothing lost, nothing
doubled.

One database (each backend in turn) holds 600 complaints received before the first daemon
starts, and a portal files 200 more through the intake API while daemons come and go. Twenty
times a daemon starts, forwards to a channel that errs, drops connections after storing and
answers slowly, and is killed with SIGKILL at a random moment once it answers: mid-send,
mid-write or between the two. Then one last daemon is left to finish. Every complaint stored
must be in the channel exactly once, under the id the bridge recorded.

The daemons are forks of one process that has already imported the bridge (``Launcher``), so
that twenty starts cost seconds, not half a minute of imports.
"""

from __future__ import annotations

import asyncio
import random
import signal
from datetime import UTC, datetime
from multiprocessing.process import BaseProcess
from pathlib import Path
from typing import Any

import pytest

from oss_bridge.config import DatabaseSettings
from oss_bridge.store import create_engine
from tests.daemon.support import free_port
from tests.integration.forwarding_support import add_complaints
from tests.reliability.support import (
    Launcher,
    Mock,
    Portal,
    alive,
    all_sent,
    answering,
    assert_each_complaint_once,
    bridge_env,
    ended,
    eventually,
    leased_by,
)

pytestmark = [pytest.mark.reliability, pytest.mark.e2e]

KILLS = 20
PRELOADED = 600
FILED = 200
FAULTS: dict[str, Any] = {
    "seed": 20261131,
    "error_rate": 0.2,
    "latency_ms": {"min": 5, "max": 40},
    "timeout_after_commit": {"rate": 0.05, "mode": "drop"},
}


async def killed_while_running(
    launcher: Launcher,
    env: dict[str, str],
    directory: Path,
    url: str,
    database_url: str,
    moment: float,
) -> BaseProcess:
    """Start a daemon, let it run ``moment`` seconds once it forwards, then SIGKILL it.

    It forwards from its first lease on (or, once everything is sent, from answering): counting
    the moment from there, not from its start, keeps the kills inside forwarding on a machine
    busy enough to slow the start down.
    """
    daemon = launcher.start(env, directory)
    assert daemon.pid is not None
    pid = daemon.pid

    async def forwarding() -> bool:
        return bool(await leased_by(database_url, pid)) or await all_sent(database_url)

    try:
        await eventually(
            lambda: answering(url), within=30, what="the daemon answering", alive=alive(daemon)
        )
        await eventually(forwarding, within=30, what="the daemon taking rows", alive=alive(daemon))
        # The daemon runs on until the random moment comes; it must not end before.
        await asyncio.to_thread(daemon.join, moment)
        alive(daemon)()
        daemon.kill()
        await asyncio.to_thread(daemon.join, 10)
    finally:
        ended(daemon)
    assert daemon.exitcode == -signal.SIGKILL
    return daemon


async def test_a_daemon_killed_twenty_times_while_forwarding_loses_and_doubles_nothing(
    fresh_mock: Mock, database_url: str, tmp_path: Path, launcher: Launcher
) -> None:
    await fresh_mock.faults(FAULTS)
    engine = create_engine(DatabaseSettings(url=database_url))
    try:
        await add_complaints(engine, PRELOADED, at=datetime.now(UTC))
    finally:
        await engine.dispose()
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    env = bridge_env(database_url, fresh_mock, port=port)
    portal = Portal([url], patience=120)
    filing = asyncio.create_task(portal.file(FILED, concurrency=4))
    chance = random.Random(1131)
    caught_forwarding = 0
    try:
        for _ in range(KILLS):
            daemon = await killed_while_running(
                launcher, env, tmp_path, url, database_url, chance.uniform(0.05, 0.8)
            )
            assert daemon.pid is not None
            caught_forwarding += bool(await leased_by(database_url, daemon.pid))

        last = launcher.start(env, tmp_path)
        try:
            await filing
            await eventually(
                lambda: all_sent(database_url, PRELOADED + FILED),
                within=120,
                what="every complaint being sent",
                alive=alive(last),
            )
        finally:
            ended(last)
    finally:
        filing.cancel()

    assert caught_forwarding >= KILLS // 2, "too few kills landed while rows were in flight"
    assert len(portal.receipts) == FILED
    await assert_each_complaint_once(database_url, fresh_mock, portal.receipts)
