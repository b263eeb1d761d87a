"""Several instances on one database: the instance-wide lock, and every job run by every instance.

The instances here are wired daemons (``build_runtime``) in this process, each with its own store
(its own connection pool) and lease owner, sharing one database and the mock in process: what
separates instances is the database, and the database is real. The lock is also tried across
processes, since the point of it is that a crashed holder never leaves it behind.
"""

from __future__ import annotations

import asyncio
import sys
import time
from collections import Counter
from collections.abc import AsyncIterator, Sequence
from contextlib import AsyncExitStack
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from oss_bridge.config import DatabaseSettings, ForwarderSettings, Settings
from oss_bridge.daemon import Runtime, build_runtime
from oss_bridge.daemon._jobs import CATALOGUE_BUSY
from oss_bridge.domain import ComplaintCategory, ComplaintDraft, ComplaintObject
from oss_bridge.services.runs import JobName
from oss_bridge.store import Store
from oss_bridge.store._locks import CATALOGUE_SYNC_LOCK, check_lock_name, lock_key
from oss_bridge_mock import FaultProfile, create_app
from tests.daemon.support import with_tokens
from tests.reliability.support import postgres_only

pytestmark = pytest.mark.reliability

INQUERY = "POST /oss/v1/kl/rba/inqueryStandarPelayanan"
DRAFT = ComplaintDraft(
    category=ComplaintCategory.HAMBATAN_OSS,
    object=ComplaintObject.PEMERINTAH_KABUPATEN,
    description="Permohonan NIB tertahan tanpa kabar sejak dua minggu; mohon ditindaklanjuti.",
)


# --- the lock -------------------------------------------------------------------------------------


async def test_a_lock_one_store_holds_is_refused_to_another(
    database_settings: DatabaseSettings,
) -> None:
    async with (
        Store.open(database_settings) as one,
        Store.open(database_settings) as other,
        one.exclusive("catalogue-sync") as first,
        other.exclusive("catalogue-sync") as second,
    ):
        assert (first, second) == (True, False)


async def test_a_lock_is_free_again_once_its_holder_is_done(
    database_settings: DatabaseSettings,
) -> None:
    async with Store.open(database_settings) as one, Store.open(database_settings) as other:
        async with one.exclusive("catalogue-sync") as first:
            assert first
        async with other.exclusive("catalogue-sync") as second:
            assert second


async def test_a_lock_is_free_again_when_its_holder_failed(
    database_settings: DatabaseSettings,
) -> None:
    async with Store.open(database_settings) as one, Store.open(database_settings) as other:
        with pytest.raises(RuntimeError, match="sync broke"):
            async with one.exclusive("catalogue-sync"):
                raise RuntimeError("sync broke")
        async with other.exclusive("catalogue-sync") as second:
            assert second


async def test_locks_of_other_names_do_not_exclude_each_other(
    database_settings: DatabaseSettings,
) -> None:
    async with (
        Store.open(database_settings) as one,
        Store.open(database_settings) as other,
        one.exclusive("catalogue-sync") as first,
        other.exclusive("summary") as second,
    ):
        assert (first, second) == (True, True)


async def test_the_lock_of_a_process_killed_while_holding_it_is_free(database_url: str) -> None:
    holder = (
        "import asyncio, sys\n"
        "from oss_bridge.config import DatabaseSettings\n"
        "from oss_bridge.store import Store\n"
        "async def hold():\n"
        f"    async with Store.open(DatabaseSettings(url={database_url!r})) as store:\n"
        "        async with store.exclusive('catalogue-sync') as held:\n"
        "            print(held, flush=True)\n"
        "            await asyncio.get_running_loop().run_in_executor(None, sys.stdin.read)\n"
        "asyncio.run(hold())\n"
    )
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-c",
        holder,
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
    )
    assert process.stdout is not None
    try:
        said = await asyncio.wait_for(process.stdout.readline(), timeout=30)
        assert said.strip() == b"True"
        async with Store.open(DatabaseSettings(url=database_url)) as store:
            async with store.exclusive("catalogue-sync") as while_alive:
                assert not while_alive
            process.kill()
            await process.wait()
            # The server notices the dead client's closed socket at once, but asynchronously.
            deadline = time.monotonic() + 10
            while True:
                async with store.exclusive("catalogue-sync") as after:
                    if after:
                        break
                assert time.monotonic() < deadline, "the dead holder's lock was never freed"
                await asyncio.sleep(0.05)
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()


@pytest.mark.parametrize(
    "name", ["", "Catalogue", "1sync", "sync catalogue", "a" * 64, "sync/catalogue"]
)
def test_a_malformed_lock_name_is_refused_naming_it(name: str) -> None:
    with pytest.raises(ValueError, match="lock name") as refused:
        check_lock_name(name)
    assert repr(name) in str(refused.value)


def test_each_lock_name_has_its_own_key_apart_from_the_migrations_key() -> None:
    names = ["catalogue-sync", "summary", "deadlines", "catalogue-sync.push"]
    keys = [lock_key(name) for name in names]
    assert len(set(keys)) == len(names)
    assert all(0 < key < 2**63 for key in keys)
    assert 0x0055_B21D not in keys


# --- the catalogue job on several instances -------------------------------------------------------


class Gate:
    """The mock's sleep: every wait inside the mock lasts until the test opens the gate."""

    def __init__(self) -> None:
        self.open = asyncio.Event()

    async def __call__(self, seconds: float) -> None:
        await self.open.wait()


def held_back_oss() -> FaultProfile:
    """Every catalogue page waits at the mock's gate (a 'latency' the gate stretches)."""
    return FaultProfile.model_validate({"endpoints": {INQUERY: {"latency_ms": 1}}})


@pytest.fixture
def gate() -> Gate:
    return Gate()


@pytest.fixture
def national(gate: Gate) -> FastAPI:
    return create_app(sleep=gate)


def instance_settings(settings: Settings) -> Settings:
    tokens = with_tokens(settings)
    return tokens.model_copy(
        update={
            "oss": tokens.oss.model_copy(update={"max_attempts": 1}),
            "lapor": tokens.lapor.model_copy(update={"max_attempts": 1}),
            "forwarder": ForwarderSettings(batch_size=100, concurrency=8),
        }
    )


async def open_instances(
    stack: AsyncExitStack, settings: Settings, national: FastAPI, count: int
) -> list[Runtime]:
    transport = httpx.ASGITransport(app=national)
    instances = []
    for number in range(1, count + 1):
        runtime = build_runtime(
            instance_settings(settings),
            transports={"oss": transport, "lapor": transport},
            owner=f"instance-{number}",
        )
        stack.push_async_callback(runtime.aclose)
        stack.push_async_callback(runtime.stop, grace=0)
        instances.append(runtime)
    return instances


@pytest.fixture
async def instance(settings: Settings, national: FastAPI) -> AsyncIterator[Runtime]:
    async with AsyncExitStack() as stack:
        [runtime] = await open_instances(stack, settings, national, 1)
        yield runtime


async def oss_requests(national: FastAPI) -> int:
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=national), base_url="http://mock"
    ) as control:
        counts: dict[str, int] = (await control.get("/_mock/state")).json()["requests"]
    return sum(n for endpoint, n in counts.items() if endpoint.startswith("POST /oss/"))


async def test_a_catalogue_run_is_skipped_saying_so_while_another_instance_syncs(
    instance: Runtime, database_settings: DatabaseSettings, national: FastAPI
) -> None:
    async with Store.open(database_settings) as other, other.exclusive(CATALOGUE_SYNC_LOCK):
        run = await instance.runs.run("catalogue", requested_by="scheduler")

    assert run is not None
    assert run.state == "succeeded"
    assert run.skipped is True
    assert run.result is not None
    assert run.result["skipped"] is True
    assert run.result["summary"] == f"skipped: {CATALOGUE_BUSY}"
    assert await oss_requests(national) == 0


async def test_a_catalogue_run_syncs_and_gives_the_lock_back_when_nobody_holds_it(
    instance: Runtime, database_settings: DatabaseSettings, national: FastAPI
) -> None:
    run = await instance.runs.run("catalogue", requested_by="scheduler")

    assert run is not None
    assert run.state == "succeeded"
    assert not run.skipped
    assert run.result is not None
    assert "skipped" not in run.result
    assert await oss_requests(national) > 0
    async with Store.open(database_settings) as other, other.exclusive(CATALOGUE_SYNC_LOCK) as held:
        assert held


async def test_a_dry_run_of_the_catalogue_is_not_held_back_by_another_instance_syncing(
    instance: Runtime, database_settings: DatabaseSettings
) -> None:
    async with Store.open(database_settings) as other, other.exclusive(CATALOGUE_SYNC_LOCK):
        run = await instance.runs.run("catalogue", requested_by="admin", dry_run=True)

    assert run is not None
    assert not run.skipped
    assert run.result is not None
    assert "skipped" not in run.result
    assert run.result["dry_run"] is True


# --- every job on three instances at once (PostgreSQL) ----------------------------------------


async def each_finished(tasks: Sequence[asyncio.Task[Any]], count: int) -> None:
    """Wait until ``count`` of ``tasks`` are done (bounded)."""
    async with asyncio.timeout(30):
        while sum(task.done() for task in tasks) < count:
            await asyncio.wait(
                [task for task in tasks if not task.done()], return_when=asyncio.FIRST_COMPLETED
            )


async def on_every_instance(instances: Sequence[Runtime], job: JobName) -> list[Any]:
    runs = await asyncio.gather(
        *(runtime.runs.run(job, requested_by="scheduler") for runtime in instances)
    )
    assert all(run is not None and run.state == "succeeded" for run in runs), runs
    return [run.result for run in runs if run is not None]


@postgres_only
async def test_three_instances_running_every_job_at_once_do_each_piece_of_work_once(
    settings: Settings, national: FastAPI, gate: Gate
) -> None:
    complaints = 300
    async with AsyncExitStack() as stack:
        instances = await open_instances(stack, settings, national, 3)
        for number in range(complaints):
            await instances[number % 3].intake.submit(DRAFT)
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=national), base_url="http://mock"
        ) as control:
            await control.post("/_mock/faults", json=held_back_oss().model_dump(mode="json"))

            # The catalogue: whichever instance takes the lock first is held at the mock's gate
            # until the other two have finished their runs.
            syncs = [
                asyncio.create_task(runtime.runs.run("catalogue", requested_by="scheduler"))
                for runtime in instances
            ]
            await each_finished(syncs, 2)
            gate.open.set()
            await each_finished(syncs, 3)
            catalogue = [run for task in syncs if (run := task.result()) is not None]

            # Forwarding and status pulls on all three at once, until every complaint is sent.
            for _ in range(10):
                await on_every_instance(instances, "complaints")
                counts = await instances[0].store.outbox_counts()
                if counts.count("sent") == complaints:
                    break
            await on_every_instance(instances, "status")
            deadlines = await on_every_instance(instances, "deadlines")
            summaries = await on_every_instance(instances, "summary")
            state = (await control.get("/_mock/state")).json()

    assert [run.state for run in catalogue] == ["succeeded"] * 3
    assert sorted(
        isinstance(run.result, dict) and "skipped" in run.result for run in catalogue
    ) == [
        False,
        True,
        True,
    ]
    assert {state: n for state, n in counts.by_state.items() if n} == {"sent": complaints}
    assert Counter(row["create_calls"] for row in state["complaints"]) == {1: complaints}
    assert state["requests"]["GET /lapor/complaints/{id}/complaint"] == complaints
    assert [result["overdue"] for result in deadlines] == [0, 0, 0]
    assert len(summaries) == 3
