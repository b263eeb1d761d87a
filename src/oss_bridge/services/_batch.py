"""Group commit: several tasks' writes go to the database together, none waits for a timer.

The first write starts at once. Writes submitted while it runs wait for it, then go together in
the next transaction; so under load each transaction carries as many writes as arrived during
the last one, and alone each write is written at once.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from typing import Generic, TypeVar

T = TypeVar("T")
R = TypeVar("R")


class GroupWriter(Generic[T, R]):
    """Hands submitted items to ``write`` in batches; each submitter gets its item's result.

    ``write`` takes a batch and answers one result per item, in order. When it raises, every
    submitter of that batch gets the error; later batches are still written. ``close`` waits
    for the batch being written, if any.
    """

    def __init__(self, write: Callable[[list[T]], Awaitable[Sequence[R]]]) -> None:
        self._write = write
        self._waiting: list[tuple[T, asyncio.Future[R]]] = []
        self._writer: asyncio.Task[None] | None = None

    async def submit(self, item: T) -> R:
        """Write ``item`` with the next batch and return its result."""
        result: asyncio.Future[R] = asyncio.get_running_loop().create_future()
        self._waiting.append((item, result))
        if self._writer is None or self._writer.done():
            self._writer = asyncio.create_task(self._drain())
        return await result

    async def close(self) -> None:
        if self._writer is not None:
            await asyncio.gather(self._writer, return_exceptions=True)

    async def _drain(self) -> None:
        while self._waiting:
            batch, self._waiting = self._waiting, []
            try:
                results = await self._write([item for item, _ in batch])
                if len(results) != len(batch):
                    raise ValueError(f"{len(results)} results for a batch of {len(batch)}")
            except Exception as exc:  # noqa: BLE001 - handed to every submitter of the batch
                for _, result in batch:
                    if not result.done():
                        result.set_exception(exc)
                continue
            except BaseException:
                for _, result in [*batch, *self._waiting]:
                    result.cancel()
                self._waiting = []
                raise
            for (_, result), value in zip(batch, results, strict=True):
                if not result.done():
                    result.set_result(value)


__all__ = ["GroupWriter"]
