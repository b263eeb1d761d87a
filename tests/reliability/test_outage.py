"""The database unreachable for thirty seconds: the daemon waits, retries, stays up, loses nothing.

A daemon forwards to a slow channel, so attempts are in flight when the database goes. Then,
for 30 s, the database cannot be written: on PostgreSQL the server is stopped (connections cut)
and started again; on SQLite another connection holds its write lock (BEGIN EXCLUSIVE). While
it lasts a portal keeps filing complaints, and the daemon's health check is watched. Afterwards
every complaint stored reaches the channel exactly once, and every complaint the portal filed was
stored in the end: refused with 503 while the database was away, accepted once it was back.

On PostgreSQL the test stops the server that ``OSS_BRIDGE_TEST_POSTGRES_URL`` names, so it runs
only when that server is on this machine, and it always starts the server again.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.reliability.support import (
    Mock,
    Portal,
    all_sent,
    assert_each_complaint_once,
    daemons,
    eventually,
    postgres_stopped,
    sqlite_locked,
)

pytestmark = [pytest.mark.reliability, pytest.mark.e2e]

OUTAGE_SECONDS = 30.0
BEFORE = 150
"""Complaints filed as the outage begins: some are in flight when the database goes."""
DURING = 40
"""Complaints the portal files during the outage (it files each again until one is stored)."""
SLOW_CHANNEL: dict[str, Any] = {
    "endpoints": {"POST /lapor/complaints/complaint": {"latency_ms": {"min": 50, "max": 250}}}
}


def outage(database_url: str, *, stops_postgres: bool) -> contextlib.AbstractContextManager[None]:
    return postgres_stopped(database_url) if stops_postgres else sqlite_locked(database_url)


async def health_status(url: str) -> int | str:
    try:
        async with httpx.AsyncClient(timeout=5) as client:
            return (await client.get(f"{url}/healthz")).status_code
    except httpx.TransportError as exc:
        return type(exc).__name__


async def test_the_daemon_rides_out_thirty_seconds_without_its_database_and_loses_nothing(
    fresh_mock: Mock, database_url: str, stops_postgres: bool, tmp_path: Path
) -> None:
    await fresh_mock.faults(SLOW_CHANNEL)
    with daemons(1, tmp_path, database_url, fresh_mock) as [daemon]:
        before = Portal([daemon.url])
        await before.file(BEFORE, concurrency=8)
        during = Portal([daemon.url], patience=OUTAGE_SECONDS + 60)
        health: list[int | str] = []
        with outage(database_url, stops_postgres=stops_postgres):
            ends = time.monotonic() + OUTAGE_SECONDS
            filing = asyncio.create_task(during.file(DURING, concurrency=4, first=BEFORE + 1))
            # Watch the daemon for as long as the outage lasts.
            while time.monotonic() < ends:
                daemon.require_alive()
                health.append(await health_status(daemon.url))
                await asyncio.sleep(1)
            stored_during = len(during.receipts)
        await filing
        await eventually(
            lambda: all_sent(database_url, BEFORE + DURING),
            within=90,
            what="every complaint being sent after the outage",
            alive=daemon.require_alive,
        )
        daemon.require_alive()

    assert set(health) == {200}
    assert len(health) >= OUTAGE_SECONDS * 0.8
    assert stored_during < DURING, "the outage refused nothing"
    assert during.refusals["503"] > 0
    assert len(before.receipts + during.receipts) == BEFORE + DURING
    await assert_each_complaint_once(database_url, fresh_mock, before.receipts + during.receipts)
