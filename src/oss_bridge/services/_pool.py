"""Work on leased rows with bounded concurrency, claiming only as many rows as there are free slots.

Claiming a whole batch up front would start every row's lease at once while most rows wait for a
slot, so a slow system could make leases expire before their rows were even tried. Here each
claim asks for exactly the free slots, so a row's lease starts when its work can start.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from typing import TypeVar

T = TypeVar("T")


async def run_leased(
    claim: Callable[[int], Awaitable[Sequence[T]]],
    work: Callable[[T], Awaitable[None]],
    *,
    concurrency: int,
    budget: int,
    may_claim: Callable[[], bool] = lambda: True,
) -> int:
    """Claim rows (``claim(n)`` returns at most ``n``) and run ``work`` on each, at most
    ``concurrency`` at once, until ``budget`` rows were claimed, a claim comes back short (nothing
    more is due) or ``may_claim()`` says stop. Returns how many rows were claimed.

    ``work`` should not raise for a failure of one row; anything it raises ends the run: the
    other rows' work is cancelled and the error propagates (so does a cancellation).
    """
    if concurrency < 1:
        raise ValueError(f"concurrency {concurrency!r} must be 1 or more")
    running: set[asyncio.Task[None]] = set()
    claimed = 0
    drained = False
    try:
        while True:
            free = min(concurrency - len(running), budget - claimed)
            if free > 0 and not drained and may_claim():
                rows = await claim(free)
                claimed += len(rows)
                drained = len(rows) < free
                running.update(asyncio.create_task(_run(work, row)) for row in rows)
            if not running:
                return claimed
            done, running = await asyncio.wait(running, return_when=asyncio.FIRST_COMPLETED)
            for task in done:
                task.result()
    except BaseException:
        for task in running:
            task.cancel()
        await asyncio.gather(*running, return_exceptions=True)
        raise


async def _run(work: Callable[[T], Awaitable[None]], row: T) -> None:
    await work(row)
