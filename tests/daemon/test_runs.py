"""RunService: every run recorded with progress and result, one run of a job at a time."""

from __future__ import annotations

import asyncio
import io
import json
import logging
from collections.abc import Iterator
from typing import Any

import pytest
import structlog

from oss_bridge.errors import InputError, NotFound, ShuttingDown
from oss_bridge.log import configure_logging
from oss_bridge.services.runs import (
    CUT_SHORT,
    HEARTBEAT_SECONDS,
    SILENT_BEATS,
    JobOutcome,
    RunContext,
    RunService,
    prune_runs,
)
from oss_bridge.store import JobRun, Store
from tests.factories import FakeClock


class Gate:
    """A job that reports progress, then waits until the test opens the gate."""

    def __init__(self) -> None:
        self.entered = asyncio.Event()
        self.open = asyncio.Event()
        self.calls = 0

    async def __call__(self, context: RunContext) -> JobOutcome:
        self.calls += 1
        context.report_progress({"done": 1, "total": 2})
        self.entered.set()
        await self.open.wait()
        return JobOutcome(result={"done": 2}, summary="two done")


async def quick(context: RunContext) -> JobOutcome:
    structlog.get_logger("test.job").info("attempt", receipt_number="PGD-1")
    return JobOutcome(result={"dry_run": context.dry_run}, summary="quick")


async def broken(context: RunContext) -> JobOutcome:
    raise RuntimeError("the channel said no")


class Ticks:
    """An injected sleep that returns only when the test ticks."""

    def __init__(self) -> None:
        self.sleepers: asyncio.Queue[asyncio.Future[None]] = asyncio.Queue()

    async def __call__(self, seconds: float) -> None:
        woken = asyncio.get_running_loop().create_future()
        self.sleepers.put_nowait(woken)
        await woken

    async def tick(self) -> None:
        """Wake the sleeper, then wait until it sleeps again: what it did in between is done.
        Sleeps cut short by cancellation (a heartbeat stopped) are passed over."""
        (await self._next()).set_result(None)
        self.sleepers.put_nowait(await self._next())

    async def _next(self) -> asyncio.Future[None]:
        while (sleeper := await self.sleepers.get()).cancelled():
            pass
        return sleeper


class Finished:
    """A run listener that keeps what it was told."""

    def __init__(self) -> None:
        self.runs: list[tuple[JobRun, JobOutcome | None, float]] = []

    def run_finished(self, run: JobRun, outcome: JobOutcome | None, duration: float) -> None:
        self.runs.append((run, outcome, duration))


@pytest.fixture
def logs() -> Iterator[io.StringIO]:
    stream = io.StringIO()
    configure_logging(stream=stream)
    try:
        yield stream
    finally:
        logging.getLogger().handlers.clear()
        structlog.reset_defaults()


def lines(stream: io.StringIO) -> list[dict[str, object]]:
    return [json.loads(line) for line in stream.getvalue().splitlines() if line.strip()]


async def test_a_finished_run_holds_its_result_and_summary(store: Store) -> None:
    runs = RunService(store, {"catalogue": quick})
    run = await runs.run("catalogue", requested_by="test", dry_run=True)
    assert run is not None
    assert run.state == "succeeded"
    assert run.result == {
        "summary": "quick",
        "needs_person": False,
        "again": False,
        "dry_run": True,
    }
    assert run.started_at is not None
    assert run.finished_at is not None


async def test_a_failing_job_is_a_failed_run_with_its_reason(store: Store) -> None:
    listener = Finished()
    runs = RunService(store, {"catalogue": broken}, listeners=[listener])
    run = await runs.run("catalogue", requested_by="test")
    assert run is not None
    assert run.state == "failed"
    assert run.error == "RuntimeError: the channel said no"
    assert [(seen.state, outcome) for seen, outcome, _ in listener.runs] == [("failed", None)]


async def test_progress_is_written_while_the_run_goes_on(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    written = asyncio.Event()
    update_run = store.update_run

    async def noting_progress(run_id: str, **changes: Any) -> JobRun:
        updated = await update_run(run_id, **changes)
        if "progress" in changes:
            written.set()
        return updated

    monkeypatch.setattr(store, "update_run", noting_progress)
    gate = Gate()
    runs = RunService(store, {"catalogue": gate})
    run = await runs.start("catalogue", requested_by="test")
    await gate.entered.wait()
    await written.wait()  # the progress write is in flight: let it land
    seen = await runs.get(run.run_id)
    assert seen.state == "running"
    assert seen.progress == {"done": 1, "total": 2}
    gate.open.set()
    assert (await runs.wait(run.run_id)).result["done"] == 2


async def test_a_second_request_for_a_running_job_waits_its_turn(store: Store) -> None:
    gate = Gate()
    runs = RunService(store, {"catalogue": gate})
    first = await runs.start("catalogue", requested_by="test")
    await gate.entered.wait()
    second = await runs.start("catalogue", requested_by="test")
    await asyncio.sleep(0)
    assert (await runs.get(second.run_id)).state == "queued"
    assert gate.calls == 1
    gate.open.set()
    await runs.wait(first.run_id)
    assert (await runs.wait(second.run_id)).state == "succeeded"
    assert gate.calls == 2


async def test_a_scheduled_run_is_skipped_while_the_job_runs(store: Store) -> None:
    gate = Gate()
    runs = RunService(store, {"catalogue": gate})
    first = await runs.start("catalogue", requested_by="staff")
    await gate.entered.wait()
    assert await runs.run("catalogue", requested_by="scheduler", skip_if_busy=True) is None
    gate.open.set()
    await runs.wait(first.run_id)
    assert [run.run_id for run in await store.list_runs()] == [first.run_id]


async def test_different_jobs_run_side_by_side(store: Store) -> None:
    gate = Gate()
    runs = RunService(store, {"catalogue": gate, "status": quick})
    slow = await runs.start("catalogue", requested_by="test")
    await gate.entered.wait()
    fast = await runs.run("status", requested_by="test")
    assert fast is not None
    assert fast.state == "succeeded"
    gate.open.set()
    await runs.wait(slow.run_id)


@pytest.mark.parametrize("target", ["deadlines", "summary", "everything", ""])
async def test_only_the_resync_targets_can_be_started_by_hand(store: Store, target: str) -> None:
    runs = RunService(store, {"catalogue": quick, "deadlines": quick, "summary": quick})
    with pytest.raises(InputError, match="choose one of catalogue, complaints, status"):
        await runs.start(target, requested_by="test")
    assert await store.list_runs() == []


async def test_an_unknown_run_id_is_not_found(store: Store) -> None:
    with pytest.raises(NotFound, match="nope"):
        await RunService(store, {}).get("nope")


async def test_closing_refuses_new_runs(store: Store) -> None:
    runs = RunService(store, {"catalogue": quick})
    await runs.close(grace=0)
    with pytest.raises(ShuttingDown, match="shutting down"):
        await runs.start("catalogue", requested_by="test")


async def test_closing_lets_a_run_finish_within_the_grace_period(store: Store) -> None:
    gate = Gate()
    runs = RunService(store, {"catalogue": gate})
    run = await runs.start("catalogue", requested_by="test")
    await gate.entered.wait()
    closing = asyncio.create_task(runs.close(grace=30))
    await asyncio.sleep(0)
    gate.open.set()
    await closing
    assert (await runs.get(run.run_id)).state == "succeeded"


async def test_closing_cuts_short_a_run_that_outlasts_the_grace_period(store: Store) -> None:
    gate = Gate()
    runs = RunService(store, {"catalogue": gate})
    run = await runs.start("catalogue", requested_by="test")
    await gate.entered.wait()
    await runs.close(grace=0)
    stopped = await runs.get(run.run_id)
    assert stopped.state == "failed"
    assert stopped.error == CUT_SHORT
    assert runs.in_progress == 0


async def test_closing_cuts_short_a_run_still_waiting_its_turn(store: Store) -> None:
    gate = Gate()
    runs = RunService(store, {"catalogue": gate})
    await runs.start("catalogue", requested_by="test")
    await gate.entered.wait()
    waiting = await runs.start("catalogue", requested_by="test")
    await runs.close(grace=0)
    assert (await runs.get(waiting.run_id)).state == "failed"


async def test_runs_left_unfinished_by_an_earlier_daemon_are_marked_failed(store: Store) -> None:
    left = await store.create_run(job="catalogue", requested_by="scheduler")
    await store.update_run(left.run_id, state="running")
    done = await store.create_run(job="status", requested_by="scheduler")
    await store.update_run(done.run_id, state="succeeded")
    assert await RunService(store, {}).abandon_unfinished() == 1
    assert (await store.get_run(left.run_id)).state == "failed"  # type: ignore[union-attr]
    assert (await store.get_run(done.run_id)).state == "succeeded"  # type: ignore[union-attr]


async def test_each_run_is_logged_once_with_its_run_id(store: Store, logs: io.StringIO) -> None:
    runs = RunService(store, {"catalogue": quick})
    run = await runs.run("catalogue", requested_by="test")
    assert run is not None
    finished = [line for line in lines(logs) if line["event"] == "job run finished"]
    assert len(finished) == 1
    assert finished[0]["run_id"] == run.run_id
    assert finished[0]["summary"] == "quick"


async def test_what_a_job_logs_carries_its_run_id(store: Store, logs: io.StringIO) -> None:
    runs = RunService(store, {"catalogue": quick})
    run = await runs.run("catalogue", requested_by="test")
    assert run is not None
    attempts = [line for line in lines(logs) if line["event"] == "attempt"]
    assert attempts == [
        {
            "receipt_number": "PGD-1",
            "event": "attempt",
            "run_id": run.run_id,
            "job": "catalogue",
            "level": "info",
            "timestamp": attempts[0]["timestamp"],
        }
    ]


async def test_a_run_that_needs_a_person_is_logged_as_a_warning(
    store: Store, logs: io.StringIO
) -> None:
    async def finds_dead_letters(context: RunContext) -> JobOutcome:
        return JobOutcome(result={}, summary="1 dead", needs_person=True)

    runs = RunService(store, {"complaints": finds_dead_letters})
    await runs.run("complaints", requested_by="test")
    (finished,) = [line for line in lines(logs) if line["event"] == "job run finished"]
    assert finished["level"] == "warning"


SILENCE = HEARTBEAT_SECONDS * SILENT_BEATS


async def one_interval_later(clock: FakeClock, ticks: Ticks) -> None:
    """Move the clock on one heartbeat interval and let the heartbeat beat once."""
    clock.advance(seconds=HEARTBEAT_SECONDS)
    await ticks.tick()


async def finish(runs: RunService, gate: Gate, run: JobRun) -> None:
    gate.open.set()
    await runs.wait(run.run_id)


async def running_elsewhere(store: Store) -> JobRun:
    """A run another instance started and has been running."""
    run = await store.create_run(job="catalogue", requested_by="another instance")
    return await store.update_run(run.run_id, state="running")


async def test_a_run_in_progress_writes_its_heartbeat_every_interval(
    store: Store, clock: FakeClock
) -> None:
    gate, ticks = Gate(), Ticks()
    runs = RunService(store, {"catalogue": gate}, sleep=ticks)
    run = await runs.start("catalogue", requested_by="test")
    await gate.entered.wait()

    await one_interval_later(clock, ticks)

    assert (await runs.get(run.run_id)).heartbeat_at == clock.now
    await finish(runs, gate, run)


async def test_a_run_keeps_its_heartbeat_when_another_run_ends(
    store: Store, clock: FakeClock
) -> None:
    long, short, ticks = Gate(), Gate(), Ticks()
    runs = RunService(store, {"catalogue": long, "status": short}, sleep=ticks)
    kept = await runs.start("catalogue", requested_by="test")
    ended = await runs.start("status", requested_by="test")
    await long.entered.wait()
    await short.entered.wait()
    await finish(runs, short, ended)

    await one_interval_later(clock, ticks)

    assert (await runs.get(kept.run_id)).heartbeat_at == clock.now
    await finish(runs, long, kept)


async def test_a_run_started_after_all_others_ended_gets_a_heartbeat_of_its_own(
    store: Store, clock: FakeClock
) -> None:
    first, second, ticks = Gate(), Gate(), Ticks()
    runs = RunService(store, {"catalogue": first, "status": second}, sleep=ticks)
    await finish(runs, first, await runs.start("catalogue", requested_by="test"))

    later = await runs.start("status", requested_by="test")
    await second.entered.wait()
    await one_interval_later(clock, ticks)

    assert (await runs.get(later.run_id)).heartbeat_at == clock.now
    await finish(runs, second, later)


async def test_a_run_whose_instance_fell_silent_is_failed_when_the_next_run_starts(
    store: Store, clock: FakeClock
) -> None:
    left = await running_elsewhere(store)
    clock.advance(seconds=SILENCE + 1)

    await RunService(store, {"status": quick}).run("status", requested_by="test")

    failed = await store.get_run(left.run_id)
    assert failed is not None
    assert (failed.state, failed.finished_at) == ("failed", clock.now)
    assert failed.error is not None
    assert f"no heartbeat for {SILENCE:.0f} s" in failed.error


async def test_a_run_of_an_instance_still_beating_is_left_alone(
    store: Store, clock: FakeClock
) -> None:
    other = await running_elsewhere(store)
    clock.advance(seconds=SILENCE - 1)
    await store.beat_runs([other.run_id])
    clock.advance(seconds=SILENCE - 1)

    await RunService(store, {"status": quick}).run("status", requested_by="test")

    assert (await runs_state(store, other.run_id)) == "running"


async def test_an_instance_never_fails_its_own_runs_as_silent(
    store: Store, clock: FakeClock
) -> None:
    gate, ticks = Gate(), Ticks()
    seconds = iter(range(0, 10_000, 100))
    runs = RunService(
        store, {"catalogue": gate, "status": quick}, sleep=ticks, monotonic=lambda: next(seconds)
    )
    mine = await runs.start("catalogue", requested_by="test")
    await gate.entered.wait()
    clock.advance(seconds=SILENCE + 1)  # its beats are late: the event loop was busy, say

    await runs.run("status", requested_by="test")

    assert (await runs_state(store, mine.run_id)) == "running"
    await finish(runs, gate, mine)


async def test_silent_runs_are_looked_for_at_most_once_an_interval(
    store: Store, clock: FakeClock
) -> None:
    now = [0.0]
    runs = RunService(store, {"status": quick}, monotonic=lambda: now[0])
    await runs.run("status", requested_by="test")
    left = await store.create_run(job="catalogue", requested_by="another instance")
    clock.advance(seconds=SILENCE + 1)

    now[0] = HEARTBEAT_SECONDS - 1
    await runs.run("status", requested_by="test")
    state_before = await runs_state(store, left.run_id)
    now[0] = HEARTBEAT_SECONDS
    await runs.run("status", requested_by="test")

    assert (state_before, await runs_state(store, left.run_id)) == ("queued", "failed")


async def runs_state(store: Store, run_id: str) -> str:
    run = await store.get_run(run_id)
    assert run is not None
    return run.state


async def test_pruning_keeps_the_last_success_of_each_job_whatever_its_age(
    store: Store, clock: FakeClock
) -> None:
    runs = RunService(store, {"catalogue": quick, "status": broken})
    last_success = await runs.run("catalogue", requested_by="test")
    failed_long_ago = await runs.run("status", requested_by="test")
    clock.advance(days=40)
    await runs.run("status", requested_by="test")

    assert await prune_runs(store, keep_days=30) == 1

    assert last_success is not None
    assert failed_long_ago is not None
    assert await store.get_run(last_success.run_id) is not None
    assert await store.get_run(failed_long_ago.run_id) is None


@pytest.mark.parametrize("days", [0, -1])
async def test_pruning_refuses_to_keep_less_than_a_day(store: Store, days: int) -> None:
    with pytest.raises(ValueError, match="keep_days"):
        await prune_runs(store, keep_days=days)
