"""The loop of a service that works in passes until it is told to stop.

The forwarder and the status puller run as the daemon's long-lived tasks: a pass, a wait, a
pass. A pass that fails (the database is down, say) is logged and the loop goes on, since the
daemon must outlive an outage; only ``stop`` ends it.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

from structlog.typing import FilteringBoundLogger


async def run_passes(
    stop: asyncio.Event,
    one_pass: Callable[[], Awaitable[float]],
    *,
    failed_wait: float,
    failure: str,
    log: FilteringBoundLogger,
    sleep: Callable[[float], Awaitable[Any]] = asyncio.sleep,
    wake: asyncio.Event | None = None,
    describe: Callable[[BaseException], str] = repr,
) -> None:
    """Run ``one_pass`` until ``stop`` is set.

    Each pass returns the seconds to wait before the next (0 for at once). A pass that raises is
    logged as ``failure`` (the error told by ``describe``) and followed by ``failed_wait``. A
    wait ends early when ``stop`` is set, or when ``wake`` is, which is cleared as each pass
    begins so that a wake during a pass brings the next one at once.
    """
    while not stop.is_set():
        if wake is not None:
            wake.clear()
        try:
            wait = await one_pass()
        except Exception as exc:  # noqa: BLE001 - the loop must outlive a database outage
            log.error(failure, error=describe(exc))
            wait = failed_wait
        if wait > 0:
            await wait_until(stop, wait, sleep=sleep, wake=wake)


async def wait_until(
    stop: asyncio.Event,
    seconds: float,
    *,
    sleep: Callable[[float], Awaitable[Any]] = asyncio.sleep,
    wake: asyncio.Event | None = None,
) -> None:
    """Sleep up to ``seconds``, ending early when ``stop`` or ``wake`` is set."""
    waiters: list[asyncio.Future[Any]] = [
        asyncio.ensure_future(sleep(seconds)),
        asyncio.ensure_future(stop.wait()),
    ]
    if wake is not None:
        waiters.append(asyncio.ensure_future(wake.wait()))
    try:
        await asyncio.wait(waiters, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for waiter in waiters:
            waiter.cancel()
        await asyncio.gather(*waiters, return_exceptions=True)
