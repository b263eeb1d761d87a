"""The status numbers (`oss-bridge status`, admin API, /ui/) and the chart's daily tally."""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from typer.testing import CliRunner

from oss_bridge.cli import app
from oss_bridge.config import Settings
from oss_bridge.daemon import Runtime
from oss_bridge.services.status_report import tally_by_day
from oss_bridge.store import Store
from oss_bridge.store._reports import ComplaintMark
from tests.daemon.support import ADMIN
from tests.factories import FakeClock

COMPLAINT = {
    "category": "kegiatan_usaha",
    "object": "pelaku_usaha",
    "description": "Kegiatan usaha tanpa pemberitahuan kepada warga sekitar.",
}
TODAY = date(2026, 11, 30)


def mark(at: datetime, category: str = "pengawasan", stage: str = "a") -> ComplaintMark:
    return ComplaintMark(received_at=at, category=category, stage=stage)


def test_complaints_are_counted_on_the_office_day_they_came_in() -> None:
    marks = [
        mark(datetime(2026, 11, 29, 16, 59, tzinfo=UTC)),  # 23:59 WIB on the 29th
        mark(datetime(2026, 11, 29, 17, 0, tzinfo=UTC)),  # 00:00 WIB on the 30th
        mark(datetime(2026, 11, 30, 9, 0, tzinfo=UTC), category="hambatan_oss", stage="d"),
    ]
    tally = tally_by_day(marks, today=TODAY, days=2)
    assert tally.days == (date(2026, 11, 29), TODAY)
    assert tally.by_category["pengawasan"] == (1, 1)
    assert tally.by_category["hambatan_oss"] == (0, 1)
    assert tally.by_stage["a"] == (1, 1)
    assert tally.by_stage["d"] == (0, 1)
    assert tally.total == 3


def test_every_category_and_stage_has_a_row_even_without_complaints() -> None:
    tally = tally_by_day([], today=TODAY, days=3)
    assert len(tally.by_category) == 5
    assert set(tally.by_stage) == set("abcdefg")
    assert all(counts == (0, 0, 0) for counts in tally.by_stage.values())


@pytest.mark.parametrize(
    "outside",
    [
        mark(datetime(2026, 11, 27, 16, 0, tzinfo=UTC)),  # 27 Nov WIB, before the window
        mark(datetime(2026, 11, 30, 17, 0, tzinfo=UTC)),  # 1 Dec WIB, after it
        mark(datetime(2026, 11, 30, 5, 0, tzinfo=UTC), category="retired_category"),
    ],
)
def test_marks_outside_the_window_or_vocabulary_are_left_out(outside: ComplaintMark) -> None:
    tally = tally_by_day([outside], today=TODAY, days=3)
    assert sum(sum(counts) for counts in tally.by_category.values()) == 0


def test_a_window_of_no_days_is_refused() -> None:
    with pytest.raises(ValueError, match="days 0"):
        tally_by_day([], today=TODAY, days=0)


async def test_the_board_lists_waiting_complaints_without_personal_data(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    body = {**COMPLAINT, "reporter": {"name": "Rahmat Hidayat", "phone": "081377788899"}}
    receipt = (await client.post("/api/v1/complaints", json=body)).json()["receipt_number"]
    board = await runtime.report.board()
    (line,) = board.waiting
    assert line.receipt_number == receipt
    assert "Rahmat" not in repr(line)
    assert board.tally.total == 1


async def test_dead_letters_need_a_person_and_the_lines_say_what_to_do(
    client: httpx.AsyncClient, runtime: Runtime, mock_client: httpx.AsyncClient
) -> None:
    await mock_client.post(
        "/_mock/faults",
        json={
            "endpoints": {
                "POST /lapor/complaints/complaint": {"error_rate": 1, "error_statuses": [500]}
            }
        },
    )
    await client.post("/api/v1/complaints", json=COMPLAINT)
    forwarder = runtime.settings.forwarder
    runtime.forwarder.settings = forwarder.model_copy(update={"max_attempts": 1})
    await runtime.runs.run("complaints", requested_by="test")
    snapshot = await runtime.report.snapshot()
    assert snapshot.dead_letters == 1
    assert snapshot.needs_person
    assert any("complaints requeue" in line for line in snapshot.lines())
    status = (await client.get("/api/v1/admin/status", headers=ADMIN)).json()
    assert status["dead_letters"] == 1


async def test_a_job_shows_its_last_run_and_the_last_run_that_did_the_work(
    runtime: Runtime,
) -> None:
    store = runtime.store
    worked = await runtime.runs.run("catalogue", requested_by="test")
    assert worked is not None
    skipped = await store.create_run(job="catalogue", requested_by="scheduler")
    await store.update_run(skipped.run_id, state="running")
    await store.update_run(skipped.run_id, state="succeeded", skipped=True)

    snapshot = await runtime.report.snapshot()

    [catalogue] = [status for status in snapshot.jobs if status.job == "catalogue"]
    assert catalogue.last_run is not None
    assert catalogue.last_run.run_id == skipped.run_id
    assert catalogue.last_success_at == worked.finished_at


async def test_the_daily_summary_deletes_runs_kept_longer_than_configured(
    runtime: Runtime,
) -> None:
    days = runtime.settings.scheduler.keep_runs_days
    past = FakeClock(datetime.now(UTC) - timedelta(days=days + 1))
    async with Store.open(runtime.settings.database, clock=past) as then:
        old = await then.create_run(job="status", requested_by="scheduler")
        await then.update_run(old.run_id, state="running")
        await then.update_run(old.run_id, state="failed", error="the channel was down")

    summary = await runtime.runs.run("summary", requested_by="test")

    assert summary is not None
    assert summary.result["runs_pruned"] == 1
    assert f"1 runs older than {days} days deleted" in summary.result["summary"]
    assert await runtime.store.get_run(old.run_id) is None


def test_the_status_command_prints_the_numbers_and_exits_0_when_all_is_well(
    daemon_settings: Settings,
) -> None:
    result = CliRunner().invoke(
        app, ["status", "--json"], env={"OSS_BRIDGE_DATABASE__URL": daemon_settings.database.url}
    )
    assert result.exit_code == 0, result.output
    assert '"dead_letters": 0' in result.output


def test_the_status_command_exits_1_when_something_waits_for_a_person(
    daemon_settings: Settings,
) -> None:
    async def quarantine_one() -> None:
        async with Store.open(daemon_settings.database) as store:
            await store.quarantine(source="oss", raw="{", reason="not JSON")

    asyncio.run(quarantine_one())
    result = CliRunner().invoke(
        app, ["status"], env={"OSS_BRIDGE_DATABASE__URL": daemon_settings.database.url}
    )
    assert result.exit_code == 1, result.output
    assert "quarantined: 1" in result.output
    assert "quarantined entries wait" in result.output


def test_the_status_command_exits_2_on_a_database_without_schema(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'empty.db'}"
    result = CliRunner().invoke(app, ["status"], env={"OSS_BRIDGE_DATABASE__URL": url})
    assert result.exit_code == 2
    assert "oss-bridge db upgrade" in result.output
