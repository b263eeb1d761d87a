"""`oss-bridge complaints ...` as an operator runs it, on every backend.

The channel is a loopback port nothing listens on, so every send fails before it leaves: enough
to make dead letters without a server. The happy path against a real channel is in the e2e tests.
"""

from __future__ import annotations

import asyncio
import json
import socket
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from typer.testing import CliRunner, Result

from oss_bridge.cli import app
from oss_bridge.config import DatabaseSettings
from oss_bridge.store import Store, create_engine
from tests.integration.forwarding_support import add_complaints, receipt, set_complaint

RECEIVED = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=1)


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


@pytest.fixture
def cli(database_url: str, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    monkeypatch.setenv("OSS_BRIDGE_DATABASE__URL", database_url)
    monkeypatch.setenv("OSS_BRIDGE_LAPOR__BASE_URL", f"http://127.0.0.1:{closed_port()}/lapor")
    monkeypatch.setenv("OSS_BRIDGE_FORWARDER__MAX_ATTEMPTS", "1")
    return CliRunner()


def invoke(runner: CliRunner, *args: str) -> Result:
    return runner.invoke(app, ["complaints", *args])


def seed(
    database_url: str, count: int = 1, *, at: datetime = RECEIVED, first: int = 1, **values: Any
) -> list[int]:
    """``count`` received complaints numbered from ``first``; ``values`` set columns after."""

    async def insert() -> list[int]:
        engine = create_engine(DatabaseSettings(url=database_url))
        try:
            ids = await add_complaints(engine, count, at=at, first=first)
            for complaint_id in ids if values else []:
                await set_complaint(engine, complaint_id, **values)
            return ids
        finally:
            await engine.dispose()

    return asyncio.run(insert())


def outbox_states(database_url: str) -> dict[str, int]:
    async def read() -> dict[str, int]:
        async with Store.open(DatabaseSettings(url=database_url)) as store:
            counts = await store.outbox_counts()
        return {state: n for state, n in counts.by_state.items() if n}

    return asyncio.run(read())


def dead(runner: CliRunner, database_url: str, count: int = 1) -> list[int]:
    ids = seed(database_url, count)
    assert invoke(runner, "forward").exit_code == 1
    return ids


def test_a_forward_pass_that_leaves_dead_letters_exits_1_and_says_what_to_do(
    cli: CliRunner, database_url: str
) -> None:
    seed(database_url)

    result = invoke(cli, "forward")

    assert result.exit_code == 1
    assert result.stdout.splitlines() == [
        "1 tried: 0 sent, 0 reconciled, 0 to retry, 1 dead",
        "failures: 1 TransportError",
        "1 dead letters wait: `oss-bridge complaints list --state dead`, then "
        "`oss-bridge complaints requeue ID|--all-dead` or `complaints acknowledge ID`",
    ]


def test_a_forward_pass_whose_failures_will_be_retried_exits_0(
    cli: CliRunner, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OSS_BRIDGE_FORWARDER__MAX_ATTEMPTS", "5")
    seed(database_url, 2)

    result = invoke(cli, "forward", "--json")

    assert result.exit_code == 0
    report = json.loads(result.stdout)
    assert (report["retrying"], report["dead_letters"], report["errors"]) == (
        2,
        0,
        {"TransportError": 2},
    )


def test_listing_dead_letters_shows_each_with_its_reason(cli: CliRunner, database_url: str) -> None:
    ids = dead(cli, database_url)
    waiting = seed(database_url, first=2)

    result = invoke(cli, "list", "--state", "dead", "--json")

    assert result.exit_code == 0
    listed = json.loads(result.stdout)
    assert [row["id"] for row in listed] == ids
    assert waiting[0] not in [row["id"] for row in listed]
    assert listed[0]["forward_state"] == "dead"
    assert listed[0]["forward_last_error"].startswith("TransportError:")


def test_showing_a_complaint_by_receipt_number_gives_its_delivery(
    cli: CliRunner, database_url: str
) -> None:
    [complaint_id] = dead(cli, database_url)

    result = invoke(cli, "show", receipt(1), "--json")

    assert result.exit_code == 0
    shown = json.loads(result.stdout)
    assert (shown["id"], shown["forward_state"], shown["forward_attempts"]) == (
        complaint_id,
        "dead",
        1,
    )


def test_requeueing_a_dead_complaint_makes_it_pending_again(
    cli: CliRunner, database_url: str
) -> None:
    [complaint_id] = dead(cli, database_url)

    result = invoke(cli, "requeue", str(complaint_id))

    assert result.exit_code == 0
    assert result.stdout == f"complaint {complaint_id} ({receipt(1)}) requeued\n"
    assert outbox_states(database_url) == {"pending": 1}


def test_requeue_all_dead_requeues_every_dead_complaint(cli: CliRunner, database_url: str) -> None:
    dead(cli, database_url, count=3)

    result = invoke(cli, "requeue", "--all-dead")

    assert (result.exit_code, result.stdout) == (0, "3 dead complaints requeued\n")
    assert outbox_states(database_url) == {"pending": 3}


@pytest.mark.parametrize("args", [[], ["7", "--all-dead"]])
def test_requeue_takes_either_an_id_or_all_dead(
    cli: CliRunner, database_url: str, args: list[str]
) -> None:
    result = invoke(cli, "requeue", *args)

    assert result.exit_code == 2
    assert "give either a complaint ID or --all-dead" in result.stderr


def test_acknowledging_a_dead_complaint_clears_the_dead_letters(
    cli: CliRunner, database_url: str
) -> None:
    [complaint_id] = dead(cli, database_url)

    acknowledged = invoke(cli, "acknowledge", str(complaint_id))
    forward = invoke(cli, "forward")

    assert acknowledged.exit_code == 0
    assert forward.exit_code == 0
    assert outbox_states(database_url) == {"acknowledged": 1}


def test_acting_on_a_complaint_that_is_not_dead_exits_2_with_the_reason(
    cli: CliRunner, database_url: str
) -> None:
    [complaint_id] = seed(database_url)

    result = invoke(cli, "acknowledge", str(complaint_id))

    assert result.exit_code == 2
    assert "is 'pending' for 'lapor', not dead" in result.stderr


def test_a_suspended_destination_keeps_its_queue_until_resumed(
    cli: CliRunner, database_url: str
) -> None:
    seed(database_url)

    suspended = invoke(cli, "suspend", "lapor")
    forward = invoke(cli, "forward", "--json")
    resumed = invoke(cli, "resume", "lapor")

    assert suspended.exit_code == forward.exit_code == resumed.exit_code == 0
    assert json.loads(forward.stdout)["suspended"] is True
    assert outbox_states(database_url) == {"pending": 1}
    assert invoke(cli, "forward").exit_code == 1


def test_an_unknown_destination_is_refused(cli: CliRunner) -> None:
    result = invoke(cli, "suspend", "nowhere")

    assert result.exit_code == 2
    assert "'nowhere' is not a destination; use one of: lapor" in result.stderr


def test_list_overdue_shows_only_complaints_past_a_deadline(
    cli: CliRunner, database_url: str
) -> None:
    [old] = seed(database_url, at=RECEIVED - timedelta(days=90))
    seed(database_url, at=RECEIVED, first=2)

    result = invoke(cli, "list", "--overdue", "--json")

    assert result.exit_code == 0
    assert [row["id"] for row in json.loads(result.stdout)] == [old]


def test_a_status_pull_that_cannot_reach_the_channel_counts_the_failure_and_exits_0(
    cli: CliRunner, database_url: str
) -> None:
    seed(database_url, external_id="100001", next_pull_at=RECEIVED)

    result = invoke(cli, "pull-status", "--json")

    assert result.exit_code == 0
    report = json.loads(result.stdout)
    assert (report["pulled"], report["failed"], report["errors"]) == (
        0,
        1,
        {"TransportError": 1},
    )
