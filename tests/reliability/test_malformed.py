"""Malformed answers from both national systems: quarantined or retried, and the daemon stays up.

Nearly a third of the answers of OSS and of the complaint channel arrive corrupted (truncated
JSON, values of the wrong type, fields missing), after the request took effect. On top of that,
OSS holds one catalogue entry that is not a valid service standard. A daemon syncs the catalogue
and pulls statuses every second while a portal files complaints. In the end: every complaint is
in the channel exactly once (a garbled answer to a create is an unknown outcome, looked up before
sending again), every status change is back, the valid catalogue entries are mirrored, the
invalid one is quarantined with its reason, and the daemon never stopped answering.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.reliability.support import (
    Mock,
    Portal,
    all_sent,
    assert_each_complaint_once,
    daemons,
    eventually,
    opened,
    outbox_rows,
    stored_complaints,
)

pytestmark = [pytest.mark.reliability, pytest.mark.e2e]

COMPLAINTS = 60
MALFORMED: dict[str, Any] = {
    "seed": 20261201,
    "malformed": {"rate": 0.3, "kinds": ["truncated", "wrong_types", "missing_fields"]},
}
INVALID_ENTRY = "SP-1405-000002"
VALID_ENTRIES = ("SP-1405-000001", "SP-1405-000003", "SP-1405-000004", "SP-1405-000005")
EVERY_SECOND = {
    "OSS_BRIDGE_CATALOGUE__INTERVAL_SECONDS": "1",
    "OSS_BRIDGE_STATUS_PULL__INTERVAL_SECONDS": "1",
    "OSS_BRIDGE_STATUS_PULL__TIERS": json.dumps([{"every_minutes": 0.01}]),
}


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
async def test_malformed_answers_of_both_systems_are_retried_or_quarantined_and_the_daemon_stays_up(
    fresh_mock: Mock, database_url: str, tmp_path: Path
) -> None:
    await fresh_mock.edit(INVALID_ENTRY, persyaratan=[])
    await fresh_mock.faults(MALFORMED)
    with daemons(1, tmp_path, database_url, fresh_mock, **EVERY_SECOND) as [daemon]:
        portal = Portal([daemon.url])
        await portal.file(COMPLAINTS)
        await eventually(
            lambda: all_sent(database_url, COMPLAINTS),
            within=60,
            what="every complaint being sent",
            alive=daemon.require_alive,
        )
        await fresh_mock.advance_all("Dalam Proses")

        async def statuses_back() -> bool:
            stored = await stored_complaints(database_url)
            return {record.external_status for record in stored} == {"Dalam Proses"}

        await eventually(
            statuses_back, within=60, what="every status coming back", alive=daemon.require_alive
        )

        async def catalogue_mirrored() -> bool:
            async with opened(database_url) as store:
                codes = {standard.code for standard in await store.list_standards()}
                quarantined = await store.list_quarantine(source="oss")
            return set(VALID_ENTRIES) <= codes and bool(quarantined)

        await eventually(
            catalogue_mirrored,
            within=60,
            what="the catalogue being mirrored",
            alive=daemon.require_alive,
        )
        async with opened(database_url) as store:
            quarantined = await store.list_quarantine(source="oss")
            codes = {standard.code for standard in await store.list_standards()}
        rows = await outbox_rows(database_url)
        requests = await fresh_mock.requests()
        daemon.require_alive()

    assert [entry.entity_id for entry in quarantined] == [INVALID_ENTRY]
    assert "requirements" in quarantined[0].reason
    assert INVALID_ENTRY not in codes
    # Garbled answers to creates were met: counted as failed attempts, and the complaints looked
    # up by their receipt numbers before any resend.
    assert any(row.attempts > 0 for row in rows)
    assert requests["GET /lapor/complaints"] > 0
    await assert_each_complaint_once(database_url, fresh_mock, portal.receipts)
