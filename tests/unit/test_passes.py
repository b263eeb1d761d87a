"""run_passes: the pass, wait, pass loop of the forwarder and the status puller."""

from __future__ import annotations

import asyncio

import structlog
from structlog.testing import capture_logs

from oss_bridge.services._passes import run_passes

log = structlog.get_logger("test.passes")


class Sleeps:
    """An injected sleep that records what was asked and never sleeps; it stops the loop after
    ``limit`` waits, so each test sees a finite loop."""

    def __init__(self, stop: asyncio.Event, limit: int) -> None:
        self.stop = stop
        self.limit = limit
        self.asked: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.asked.append(seconds)
        if len(self.asked) >= self.limit:
            self.stop.set()


async def test_each_pass_says_how_long_to_wait_before_the_next() -> None:
    stop = asyncio.Event()
    sleeps = Sleeps(stop, limit=2)
    waits = iter([5.0, 0.0, 7.5])

    async def one_pass() -> float:
        return next(waits)

    await run_passes(stop, one_pass, failed_wait=60, failure="failed", log=log, sleep=sleeps)

    assert sleeps.asked == [5.0, 7.5]  # none after the pass that asked for 0


async def test_a_failing_pass_is_logged_and_the_loop_goes_on_after_the_failed_wait() -> None:
    stop = asyncio.Event()
    sleeps = Sleeps(stop, limit=2)
    passes = 0

    async def one_pass() -> float:
        nonlocal passes
        passes += 1
        if passes == 1:
            raise ConnectionError("database is down")
        return 5.0

    with capture_logs() as logs:
        await run_passes(
            stop, one_pass, failed_wait=60, failure="pass failed", log=log, sleep=sleeps
        )

    assert (passes, sleeps.asked) == (2, [60, 5.0])
    assert logs == [
        {
            "event": "pass failed",
            "error": "ConnectionError('database is down')",
            "log_level": "error",
        }
    ]


async def test_a_wake_ends_the_wait_and_brings_the_next_pass_at_once() -> None:
    stop, wake, first = asyncio.Event(), asyncio.Event(), asyncio.Event()
    passes = 0

    async def one_pass() -> float:
        nonlocal passes
        passes += 1
        first.set()
        if passes == 2:
            stop.set()
        return 3600.0

    loop = asyncio.create_task(
        run_passes(stop, one_pass, failed_wait=60, failure="failed", log=log, wake=wake)
    )
    await first.wait()
    wake.set()
    async with asyncio.timeout(5):
        await loop

    assert passes == 2


async def test_stop_ends_the_wait_at_once() -> None:
    stop, first = asyncio.Event(), asyncio.Event()

    async def one_pass() -> float:
        first.set()
        return 3600.0

    loop = asyncio.create_task(
        run_passes(stop, one_pass, failed_wait=60, failure="failed", log=log)
    )
    await first.wait()
    stop.set()
    async with asyncio.timeout(5):
        await loop
