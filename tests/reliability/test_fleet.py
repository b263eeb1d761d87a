"""Three instances on one PostgreSQL, three thousand complaints, a faulty channel, one instance killed.

Three ``oss-bridge run`` processes share one database holding 2,700 complaints received before
they start (written as intake writes them, ``tests.integration.forwarding_support``); a portal
files 300 more through their intake APIs, spread over all three, while they forward. The
channel misbehaves: a fifth of its answers are errors, one create in twenty is stored and then
its connection dropped (the outcome is unknown to the bridge), and every thousand requests a
burst of 429s comes back. Early in the run the first instance is killed with SIGKILL while it
holds leased rows.

Exactly once means: every complaint stored reaches the channel, none twice, and the bridge
records the channel's id for each; every receipt the portal was given is among them. The killed
instance's rows are taken over by the others once their leases have expired, not before, and
its unfinished job runs are recorded as failed once their heartbeat has been silent long enough.
"""

from __future__ import annotations

import asyncio
from collections.abc import Collection
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from oss_bridge.config import DatabaseSettings
from oss_bridge.services.runs import SILENT, SILENT_BEATS
from oss_bridge.store import JobRun, create_engine
from tests.integration.forwarding_support import add_complaints
from tests.reliability.support import (
    Mock,
    Portal,
    all_sent,
    assert_each_complaint_once,
    daemons,
    eventually,
    leased_by,
    opened,
    outbox_rows,
    postgres_only,
)

pytestmark = [pytest.mark.reliability, pytest.mark.e2e]

COMPLAINTS = 3000
FILED = 300
"""Of the complaints, those filed through the instances' intake APIs during the run."""
FAULTS: dict[str, Any] = {
    "seed": 20261130,
    "error_rate": 0.2,
    "timeout_after_commit": {"rate": 0.05, "mode": "drop"},
    "rate_limit": {"burst": {"allow": 1000, "refuse": 10}, "retry_after_seconds": 1},
}
HEARTBEAT_SECONDS = 2
"""Short enough that the killed instance's runs fall silent within the test."""


@postgres_only
async def test_three_instances_deliver_each_complaint_once_and_take_over_a_killed_ones_rows(
    fresh_mock: Mock, database_url: str, tmp_path: Path
) -> None:
    await fresh_mock.faults(FAULTS)
    engine = create_engine(DatabaseSettings(url=database_url))
    try:
        await add_complaints(engine, COMPLAINTS - FILED, at=datetime.now(UTC))
    finally:
        await engine.dispose()
    heartbeat = {"OSS_BRIDGE_SCHEDULER__HEARTBEAT_SECONDS": str(HEARTBEAT_SECONDS)}
    with daemons(3, tmp_path, database_url, fresh_mock, **heartbeat) as fleet:
        victim, *survivors = fleet
        portal = Portal([daemon.url for daemon in fleet])
        filing = asyncio.create_task(portal.file(FILED))

        async def victim_busy() -> bool:
            return len(await leased_by(database_url, victim.pid)) >= 8

        await eventually(victim_busy, within=60, what="the first instance leasing rows")
        victim.kill()
        orphaned = await leased_by(database_url, victim.pid)
        unfinished = {run.run_id for run in (await runs(database_url)).values() if not run.finished}

        def survivors_alive() -> None:
            for daemon in survivors:
                daemon.require_alive()

        await filing

        async def delivered() -> bool:
            return await all_sent(database_url, COMPLAINTS)

        await eventually(
            delivered, within=180, what="every complaint being sent", alive=survivors_alive
        )
        rows = {row.id: row for row in await outbox_rows(database_url)}

        async def runs_of_the_kill_ended() -> bool:
            return all(run.finished for run in (await runs(database_url, unfinished)).values())

        await eventually(
            runs_of_the_kill_ended,
            within=HEARTBEAT_SECONDS * SILENT_BEATS + 30,
            what="the runs unfinished at the kill ending",
            alive=survivors_alive,
        )
        ended = await runs(database_url, unfinished)

    assert orphaned, "the kill left no leased rows to take over"
    for before in orphaned:
        after = rows[before.id]
        assert after.state == "sent"
        assert before.lease_until is not None
        assert after.sent_at is not None
        assert after.sent_at >= before.lease_until
        assert after.attempts >= 1  # the takeover counted the killed attempt
    silent = SILENT.format(seconds=HEARTBEAT_SECONDS * SILENT_BEATS)
    abandoned = [run for run in ended.values() if run.error == silent]
    assert abandoned, f"no run unfinished at the kill was failed for its silence: {ended}"
    assert all(run.state == "failed" for run in abandoned)
    assert "complaints" in {run.job for run in abandoned}  # the victim was forwarding
    assert len(portal.receipts) == FILED
    await assert_each_complaint_once(database_url, fresh_mock, portal.receipts)


async def runs(database_url: str, ids: Collection[str] | None = None) -> dict[str, JobRun]:
    """The job runs of the database (those of ``ids`` only, if given) by run id."""
    async with opened(database_url) as store:
        if ids is None:
            return {run.run_id: run for run in await store.list_runs(limit=500)}
        found = {run_id: await store.get_run(run_id) for run_id in ids}
    return {run_id: run for run_id, run in found.items() if run is not None}
