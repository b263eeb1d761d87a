"""Group commit: writes that arrive while a batch is written go together in the next one."""

from __future__ import annotations

import asyncio

import pytest

from oss_bridge.services._batch import GroupWriter


class Database:
    """Records each batch; a batch's write finishes only when the test lets it."""

    def __init__(self, *, fail_on: str | None = None) -> None:
        self.batches: list[list[str]] = []
        self.gates: list[asyncio.Event] = []
        self.fail_on = fail_on
        self.started = asyncio.Condition()

    async def write(self, items: list[str]) -> list[str]:
        gate = asyncio.Event()
        async with self.started:
            self.batches.append(items)
            self.gates.append(gate)
            self.started.notify_all()
        await gate.wait()
        if self.fail_on in items:
            raise RuntimeError(f"could not write {self.fail_on}")
        return [item.upper() for item in items]

    async def written(self, count: int) -> None:
        """Until ``count`` batches have started."""
        async with self.started:
            await self.started.wait_for(lambda: len(self.batches) >= count)


async def test_a_write_alone_is_written_at_once_and_gets_its_result() -> None:
    database = Database()
    writer = GroupWriter(database.write)

    task = asyncio.create_task(writer.submit("a"))
    await database.written(1)
    database.gates[0].set()

    assert await task == "A"
    assert database.batches == [["a"]]


async def test_writes_arriving_during_a_batch_go_together_in_the_next() -> None:
    database = Database()
    writer = GroupWriter(database.write)

    first = asyncio.create_task(writer.submit("a"))
    await database.written(1)
    later = [asyncio.create_task(writer.submit(item)) for item in ("b", "c", "d")]
    await asyncio.sleep(0)
    database.gates[0].set()
    await database.written(2)
    database.gates[1].set()

    assert await asyncio.gather(first, *later) == ["A", "B", "C", "D"]
    assert database.batches == [["a"], ["b", "c", "d"]]


async def test_a_failed_batch_fails_its_own_writes_and_the_next_batch_is_still_written() -> None:
    database = Database(fail_on="b")
    writer = GroupWriter(database.write)

    first = asyncio.create_task(writer.submit("a"))
    await database.written(1)
    failing = [asyncio.create_task(writer.submit(item)) for item in ("b", "c")]
    await asyncio.sleep(0)
    database.gates[0].set()
    await database.written(2)
    after = asyncio.create_task(writer.submit("e"))
    await asyncio.sleep(0)
    database.gates[1].set()
    await database.written(3)
    database.gates[2].set()

    assert await first == "A"
    for task in failing:
        with pytest.raises(RuntimeError, match="could not write b"):
            await task
    assert await after == "E"


async def test_a_write_answering_the_wrong_number_of_results_fails_its_batch() -> None:
    async def short(items: list[str]) -> list[str]:
        return items[:-1]

    writer = GroupWriter(short)

    with pytest.raises(ValueError, match="0 results for a batch of 1"):
        await writer.submit("a")


async def test_closing_waits_for_the_batch_being_written() -> None:
    database = Database()
    writer = GroupWriter(database.write)
    task = asyncio.create_task(writer.submit("a"))
    await database.written(1)

    closing = asyncio.create_task(writer.close())
    await asyncio.sleep(0)
    assert not closing.done()
    database.gates[0].set()
    await closing

    assert task.done()
    assert task.result() == "A"
