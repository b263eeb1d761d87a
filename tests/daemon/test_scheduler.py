"""The schedule: jobs and triggers from the config, no overlap, wake-ups, runs again on demand."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Mapping
from datetime import UTC, datetime, timedelta

import pytest

from oss_bridge.config import (
    CatalogueSettings,
    ForwarderSettings,
    SchedulerSettings,
    Settings,
    StatusPullSettings,
)
from oss_bridge.daemon import JobScheduler, JobSpec, first_runs_after, job_specs
from oss_bridge.services.runs import Job, JobName, JobOutcome, RunContext, RunService
from oss_bridge.store import Store

# Monday 30 November 2026, 09:30 in Western Indonesia Time.
NOW = datetime(2026, 11, 30, 2, 30, tzinfo=UTC)
FAR = NOW + timedelta(days=365)


def configured(**scheduler: float) -> Settings:
    return Settings(
        catalogue=CatalogueSettings(interval_seconds=600),
        forwarder=ForwarderSettings(interval_seconds=20),
        status_pull=StatusPullSettings(interval_seconds=45),
        scheduler=SchedulerSettings(
            **{"jitter_seconds": 0, "deadline_check_interval_seconds": 300, **scheduler}
        ),
    )


def test_every_job_runs_at_start_except_the_daily_summary() -> None:
    specs = job_specs(configured(), now=NOW)
    assert {spec.name: spec.first_run_at for spec in specs} == {
        "catalogue": NOW,
        "complaints": NOW,
        "status": NOW,
        "deadlines": NOW,
        "summary": None,
    }


@pytest.mark.parametrize(
    ("job", "seconds"),
    [("catalogue", 600), ("complaints", 20), ("status", 45), ("deadlines", 300)],
)
def test_interval_jobs_repeat_at_their_configured_interval(job: str, seconds: int) -> None:
    (spec,) = [spec for spec in job_specs(configured(), now=NOW) if spec.name == job]
    second = spec.trigger.get_next_fire_time(NOW, NOW + timedelta(seconds=1))
    assert second == NOW + timedelta(seconds=seconds)


@pytest.mark.parametrize(
    ("hour", "expected"),
    [
        (7, datetime(2026, 12, 1, 0, 0, tzinfo=UTC)),  # 07:00 WIB tomorrow: today's has passed
        (10, datetime(2026, 11, 30, 3, 0, tzinfo=UTC)),  # 10:00 WIB today
        (0, datetime(2026, 11, 30, 17, 0, tzinfo=UTC)),  # midnight WIB
    ],
)
def test_the_daily_summary_runs_at_its_hour_of_the_office_day(
    hour: int, expected: datetime
) -> None:
    specs = job_specs(configured(daily_summary_hour=hour), now=NOW)
    assert first_runs_after(NOW, specs)["summary"] == expected


def test_jitter_delays_a_run_by_at_most_the_configured_seconds() -> None:
    (spec,) = [s for s in job_specs(configured(jitter_seconds=5), now=NOW) if s.name == "status"]
    fires = {spec.trigger.get_next_fire_time(NOW, NOW + timedelta(seconds=1)) for _ in range(50)}
    due = NOW + timedelta(seconds=45)
    assert all(due <= fire <= due + timedelta(seconds=5) for fire in fires if fire is not None)
    assert len(fires) > 1


class Counting:
    """A job that counts its runs; it may hold each run until told, or ask to run again."""

    def __init__(self, *, again: int = 0) -> None:
        self.calls = 0
        self.again = again
        self.entered = asyncio.Event()
        self.release = asyncio.Event()
        self.release.set()

    async def __call__(self, context: RunContext) -> JobOutcome:
        self.calls += 1
        self.entered.set()
        await self.release.wait()
        more = self.again > 0
        self.again -= 1
        return JobOutcome(result={}, summary=f"run {self.calls}", again=more)


def idle_specs() -> list[JobSpec]:
    """The real triggers, with every first run a year away so that nothing fires by itself."""
    return [JobSpec(spec.name, spec.trigger, FAR) for spec in job_specs(configured(), now=NOW)]


RunServices = Callable[[Mapping[JobName, Job]], RunService]


@pytest.fixture
async def run_service(store: Store) -> AsyncIterator[RunServices]:
    """Makes run services on the test store; each is closed (its runs finished) at the end."""
    made: list[RunService] = []

    def make(jobs: Mapping[JobName, Job]) -> RunService:
        made.append(RunService(store, jobs))
        return made[-1]

    yield make
    for runs in made:
        await runs.close(grace=5)


async def test_every_job_is_added_with_one_instance_coalescing_and_misfire_grace(
    run_service: RunServices,
) -> None:
    runs = run_service({})
    scheduler = JobScheduler(runs, idle_specs(), misfire_grace_seconds=90)
    scheduler.start()
    try:
        jobs = {job.id: job for job in scheduler.scheduler.get_jobs()}
        assert set(jobs) == {"catalogue", "complaints", "status", "deadlines", "summary"}
        for job in jobs.values():
            assert (job.max_instances, job.coalesce, job.misfire_grace_time) == (1, True, 90)
        assert scheduler.next_runs()["catalogue"] == FAR
    finally:
        await scheduler.stop()
    assert scheduler.next_runs() == dict.fromkeys(jobs)


async def test_a_wake_up_before_the_start_runs_nothing(
    store: Store, run_service: RunServices
) -> None:
    job = Counting()
    scheduler = JobScheduler(
        run_service({"complaints": job}), idle_specs(), misfire_grace_seconds=60
    )
    scheduler.wake("complaints")
    await asyncio.sleep(0)
    assert job.calls == 0
    assert await store.list_runs() == []


async def test_a_wake_up_runs_the_job_now(store: Store, run_service: RunServices) -> None:
    job = Counting()
    scheduler = JobScheduler(
        run_service({"complaints": job}), idle_specs(), misfire_grace_seconds=60
    )
    scheduler.start()
    try:
        scheduler.wake("complaints")
        await job.entered.wait()
    finally:
        await scheduler.stop()
    assert job.calls == 1


async def test_a_wake_up_during_a_run_makes_the_job_run_once_more(
    store: Store, run_service: RunServices
) -> None:
    job = Counting()
    job.release.clear()
    runs = run_service({"complaints": job})
    scheduler = JobScheduler(runs, idle_specs(), misfire_grace_seconds=60)
    scheduler.start()
    try:
        firing = asyncio.create_task(scheduler.fire("complaints"))
        await job.entered.wait()
        scheduler.wake("complaints")
        scheduler.wake("complaints")
        job.release.set()
        await firing
    finally:
        await scheduler.stop()
    assert job.calls == 2
    assert len(await store.list_runs(job="complaints")) == 2


async def test_a_job_that_stopped_at_its_batch_limit_runs_again_until_done(
    store: Store, run_service: RunServices
) -> None:
    job = Counting(again=3)
    scheduler = JobScheduler(
        run_service({"complaints": job}), idle_specs(), misfire_grace_seconds=60
    )
    await scheduler.fire("complaints")
    assert job.calls == 4


async def test_a_scheduled_run_is_skipped_while_a_run_by_hand_goes_on(
    store: Store, run_service: RunServices
) -> None:
    job = Counting()
    job.release.clear()
    runs = run_service({"catalogue": job})
    by_hand = await runs.start("catalogue", requested_by="staff")
    await job.entered.wait()
    scheduler = JobScheduler(runs, idle_specs(), misfire_grace_seconds=60)
    await scheduler.fire("catalogue")
    job.release.set()
    await runs.wait(by_hand.run_id)
    assert job.calls == 1


async def test_nothing_fires_after_stop(store: Store, run_service: RunServices) -> None:
    job = Counting()
    scheduler = JobScheduler(
        run_service({"complaints": job}), idle_specs(), misfire_grace_seconds=60
    )
    scheduler.start()
    await scheduler.stop()
    scheduler.wake("complaints")
    await asyncio.sleep(0)
    assert job.calls == 0
