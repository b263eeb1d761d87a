"""The forwarder against the mock channel in process, on every backend.

The store and the forwarder share one fake clock; backoff jitter is fixed at 0.5, so with
``backoff_initial = 4`` the first retry waits 2 s, the second 4 s.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from oss_bridge.clients import CreatedComplaint, LaporClient
from oss_bridge.config import ForwarderSettings
from oss_bridge.domain import Complaint
from oss_bridge.services.forwarder import ComplaintForwarder
from oss_bridge.store import Store, idempotency_key
from tests.factories import FakeClock
from tests.integration.forwarding_support import (
    Channel,
    add_complaints,
    complaint_row,
    open_channel,
    receipt,
    set_complaint,
)

CREATE = "POST /lapor/complaints/complaint"
FIND = "GET /lapor/complaints"
OWNER = "worker-1"


@pytest.fixture
async def channel() -> AsyncIterator[Channel]:
    async with open_channel() as channel:
        yield channel


def make_forwarder(
    store: Store,
    lapor: LaporClient,
    clock: FakeClock,
    *,
    category_ids: dict[str, str] | None = None,
    **settings: Any,
) -> ComplaintForwarder:
    values: dict[str, Any] = {"backoff_initial": 4, "backoff_max": 64, "max_attempts": 3}
    values.update(settings)
    options: dict[str, Any] = {}
    if category_ids is not None:
        options["category_ids"] = category_ids
    return ComplaintForwarder(
        store,
        lapor,
        ForwarderSettings(**values),
        owner=OWNER,
        clock=clock,
        rand=lambda: 0.5,
        **options,
    )


async def delivery_of(store: Store, complaint_id: int) -> Any:
    delivery = await store.get_delivery(complaint_id)
    assert delivery is not None
    return delivery


# --- delivering --------------------------------------------------------------------------------


async def test_a_pass_delivers_every_due_complaint_once_and_keeps_the_national_ids(
    store: Store, engine: AsyncEngine, clock: FakeClock, channel: Channel
) -> None:
    ids = await add_complaints(engine, 5, at=clock.now)

    report = await make_forwarder(store, channel.lapor, clock).run_once()

    assert (report.claimed, report.sent, report.retrying, report.dead) == (5, 5, 0, 0)
    national = {row["external_reference"]: row for row in await channel.complaints()}
    assert sorted(national) == [receipt(n) for n in range(1, 6)]
    assert {row["create_calls"] for row in national.values()} == {1}
    for number, complaint_id in enumerate(ids, start=1):
        row = await complaint_row(engine, complaint_id)
        assert row.external_id == national[receipt(number)]["complaint_id"]
        assert row.tracking_id is not None
        assert (await delivery_of(store, complaint_id)).state == "sent"


async def test_a_delivered_complaint_is_sent_in_the_channels_category(
    store: Store, engine: AsyncEngine, clock: FakeClock, channel: Channel
) -> None:
    await add_complaints(engine, 1, at=clock.now, category="pengawasan")

    await make_forwarder(store, channel.lapor, clock).run_once()

    [create] = channel.recording.sent("POST", "/lapor/complaints/complaint")
    body = json.loads(create.content)
    assert (body["category_id"], body["external_reference"]) == ("103", receipt(1))


async def test_every_attempt_at_a_complaint_carries_the_same_idempotency_key(
    store: Store, engine: AsyncEngine, clock: FakeClock, channel: Channel
) -> None:
    await add_complaints(engine, 1, at=clock.now)
    forwarder = make_forwarder(store, channel.lapor, clock)
    await channel.faults({"endpoints": {CREATE: {"error_rate": 1.0}}})
    await forwarder.run_once()
    await channel.faults({})
    clock.advance(seconds=2)

    report = await forwarder.run_once()

    assert report.delivered == 1
    creates = channel.recording.sent("POST", "/lapor/complaints/complaint")
    assert [r.headers["Idempotency-Key"] for r in creates] == [
        idempotency_key("lapor", receipt(1))
    ] * 2


@pytest.mark.parametrize("mode", ["drop", "hang"])
async def test_a_create_whose_answer_never_came_is_settled_by_lookup_not_resent(
    store: Store, engine: AsyncEngine, clock: FakeClock, channel: Channel, mode: str
) -> None:
    [complaint_id] = await add_complaints(engine, 1, at=clock.now)
    forwarder = make_forwarder(store, channel.lapor, clock)
    await channel.faults(
        {"endpoints": {CREATE: {"timeout_after_commit": {"rate": 1.0, "mode": mode}}}}
    )
    first = await forwarder.run_once()
    await channel.faults({})
    clock.advance(seconds=2)

    second = await forwarder.run_once()

    assert (first.retrying, dict(first.errors)) == (1, {"OutcomeUnknown": 1})
    assert (second.reconciled, second.sent) == (1, 0)
    [national] = await channel.complaints()
    assert national["create_calls"] == 1
    assert await channel.requests(FIND) == 1
    assert (await complaint_row(engine, complaint_id)).external_id == national["complaint_id"]
    delivery = await delivery_of(store, complaint_id)
    assert (delivery.state, delivery.outcome_unknown) == ("sent", False)


async def test_an_unknown_outcome_the_channel_never_saw_is_sent_after_the_lookup(
    store: Store, engine: AsyncEngine, clock: FakeClock, channel: Channel
) -> None:
    await add_complaints(engine, 1, at=clock.now)
    await store.claim_due("lapor", owner="gone", lease_seconds=60, limit=1, max_attempts=3)
    await store.release_leases("gone")

    report = await make_forwarder(store, channel.lapor, clock).run_once()

    assert report.sent == 1
    assert (await channel.requests(FIND), await channel.requests(CREATE)) == (1, 1)


async def test_a_complaint_that_already_has_its_national_id_is_settled_without_a_send(
    store: Store, engine: AsyncEngine, clock: FakeClock, channel: Channel
) -> None:
    [complaint_id] = await add_complaints(engine, 1, at=clock.now)
    await set_complaint(engine, complaint_id, external_id="555", tracking_id="777")

    report = await make_forwarder(store, channel.lapor, clock).run_once()

    assert report.reconciled == 1
    assert await channel.requests(CREATE) == 0
    assert (await delivery_of(store, complaint_id)).state == "sent"


# --- failing -----------------------------------------------------------------------------------


async def test_a_failed_attempt_is_counted_with_its_reason_and_waits_its_backoff(
    store: Store, engine: AsyncEngine, clock: FakeClock, channel: Channel
) -> None:
    [complaint_id] = await add_complaints(engine, 1, at=clock.now)
    await channel.faults({"endpoints": {CREATE: {"error_rate": 1.0, "error_statuses": [500]}}})

    report = await make_forwarder(store, channel.lapor, clock).run_once()

    assert (report.retrying, dict(report.errors)) == (1, {"ServerError": 1})
    delivery = await delivery_of(store, complaint_id)
    assert (delivery.state, delivery.attempts, delivery.next_attempt_at) == (
        "pending",
        1,
        clock.now + timedelta(seconds=2),
    )
    assert delivery.last_error.startswith(
        "ServerError: lapor POST /complaints/complaint (HTTP 500)"
    )


async def test_retry_after_is_the_least_wait_and_pauses_the_destination(
    store: Store, engine: AsyncEngine, clock: FakeClock, channel: Channel
) -> None:
    [first, second] = await add_complaints(engine, 2, at=clock.now)
    await channel.faults({"rate_limit": {"rate": 1.0, "retry_after_seconds": 120}})
    forwarder = make_forwarder(store, channel.lapor, clock, concurrency=1)
    resume_at = clock.now + timedelta(seconds=120)

    limited = await forwarder.run_once()
    paused = await forwarder.run_once()

    assert (limited.claimed, limited.paused_until, dict(limited.errors)) == (
        1,
        resume_at,
        {"RateLimited": 1},
    )
    assert (paused.claimed, paused.paused_until) == (0, resume_at)
    assert (await delivery_of(store, first)).next_attempt_at == resume_at
    untried = await delivery_of(store, second)
    assert (untried.state, untried.attempts, untried.lease_owner, untried.outcome_unknown) == (
        "pending",
        0,
        None,
        False,
    )
    await channel.faults({})
    clock.advance(seconds=120)
    assert (await forwarder.run_once()).sent == 2


async def test_a_complaint_the_channel_refuses_is_dead_at_once(
    store: Store, engine: AsyncEngine, clock: FakeClock, channel: Channel
) -> None:
    [complaint_id] = await add_complaints(engine, 1, at=clock.now)
    forwarder = make_forwarder(store, channel.lapor, clock, category_ids={"hambatan_oss": "424242"})

    report = await forwarder.run_once()

    assert (report.dead, dict(report.errors)) == (1, {"ValidationRejected": 1})
    delivery = await delivery_of(store, complaint_id)
    assert (delivery.state, delivery.attempts) == ("dead", 1)
    assert "category_id" in delivery.last_error


async def test_a_complaint_without_a_channel_category_is_dead_naming_the_key_to_set(
    store: Store, engine: AsyncEngine, clock: FakeClock, channel: Channel
) -> None:
    [complaint_id] = await add_complaints(engine, 1, at=clock.now)

    report = await make_forwarder(store, channel.lapor, clock, category_ids={}).run_once()

    assert report.dead == 1
    delivery = await delivery_of(store, complaint_id)
    assert "set lapor.category_ids.hambatan_oss" in delivery.last_error
    assert await channel.requests(CREATE) == 0


async def test_a_row_is_dead_after_max_attempts_failures(
    store: Store, engine: AsyncEngine, clock: FakeClock, channel: Channel
) -> None:
    [complaint_id] = await add_complaints(engine, 1, at=clock.now)
    await channel.faults({"endpoints": {CREATE: {"error_rate": 1.0, "error_statuses": [502]}}})
    forwarder = make_forwarder(store, channel.lapor, clock, max_attempts=3)

    reports = []
    for _ in range(3):
        reports.append(await forwarder.run_once())
        clock.advance(hours=1)

    assert [(r.retrying, r.dead) for r in reports] == [(1, 0), (1, 0), (0, 1)]
    delivery = await delivery_of(store, complaint_id)
    assert (delivery.state, delivery.attempts) == ("dead", 3)
    assert (await forwarder.run_once()).claimed == 0


class _Broken(LaporClient):
    """A client whose create fails with an error no one planned for."""

    async def create_complaint(self, complaint: Complaint, **options: Any) -> CreatedComplaint:
        raise KeyError("boom")


async def test_an_unexpected_exception_counts_as_a_failed_attempt_of_unknown_outcome(
    store: Store, engine: AsyncEngine, clock: FakeClock, channel: Channel
) -> None:
    [complaint_id] = await add_complaints(engine, 1, at=clock.now)
    broken = _Broken(channel.http, channel.settings)

    report = await make_forwarder(store, broken, clock).run_once()

    assert (report.retrying, dict(report.errors)) == (1, {"KeyError": 1})
    delivery = await delivery_of(store, complaint_id)
    assert (delivery.attempts, delivery.last_error, delivery.outcome_unknown) == (
        1,
        "KeyError: 'boom'",
        True,
    )


class _Stuck(LaporClient):
    """A client whose create never answers until ``release`` is set."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.entered = asyncio.Event()
        self.release = asyncio.Event()

    async def create_complaint(self, complaint: Complaint, **options: Any) -> CreatedComplaint:
        self.entered.set()
        await self.release.wait()
        return await super().create_complaint(complaint, **options)


async def test_an_attempt_that_outlives_its_share_of_the_lease_is_an_unknown_outcome(
    store: Store, engine: AsyncEngine, clock: FakeClock, channel: Channel
) -> None:
    [complaint_id] = await add_complaints(engine, 1, at=clock.now)
    stuck = _Stuck(channel.http, channel.settings)

    report = await make_forwarder(store, stuck, clock, lease_seconds=0.01).run_once()

    assert dict(report.errors) == {"TimeoutError": 1}
    delivery = await delivery_of(store, complaint_id)
    assert delivery.outcome_unknown is True
    assert delivery.last_error.startswith("TimeoutError: the attempt took longer")


async def test_a_row_that_waited_too_long_for_a_slot_is_given_back_untried(
    store: Store, engine: AsyncEngine, clock: FakeClock, channel: Channel
) -> None:
    [first, second] = await add_complaints(engine, 2, at=clock.now)
    stuck = _Stuck(channel.http, channel.settings)

    report = await make_forwarder(store, stuck, clock, concurrency=1, lease_seconds=0.05).run_once()

    assert (report.claimed, dict(report.errors)) == (1, {"TimeoutError": 1})
    assert (await delivery_of(store, first)).attempts == 1
    untried = await delivery_of(store, second)
    assert (untried.state, untried.attempts, untried.outcome_unknown, untried.lease_owner) == (
        "pending",
        0,
        False,
        None,
    )


class _Overtaken(LaporClient):
    """A client so slow that the row's lease expires and another worker takes it over."""

    def __init__(self, store: Store, clock: FakeClock, *args: Any) -> None:
        super().__init__(*args)
        self.store = store
        self.clock = clock

    async def create_complaint(self, complaint: Complaint, **options: Any) -> CreatedComplaint:
        self.clock.advance(seconds=61)
        await self.store.claim_due(
            "lapor", owner="worker-2", lease_seconds=60, limit=1, max_attempts=3
        )
        return await super().create_complaint(complaint, **options)


async def test_a_worker_overtaken_by_another_leaves_the_row_to_it(
    store: Store, engine: AsyncEngine, clock: FakeClock, channel: Channel
) -> None:
    [complaint_id] = await add_complaints(engine, 1, at=clock.now)
    slow = _Overtaken(store, clock, channel.http, channel.settings)

    report = await make_forwarder(store, slow, clock, lease_seconds=60).run_once()

    assert (report.lost_lease, report.sent) == (1, 0)
    delivery = await delivery_of(store, complaint_id)
    assert (delivery.state, delivery.lease_owner, delivery.outcome_unknown) == (
        "in_flight",
        "worker-2",
        True,
    )
    assert (await complaint_row(engine, complaint_id)).external_id is None


# --- bounds and switches -----------------------------------------------------------------------


async def test_no_more_than_concurrency_sends_are_in_flight_at_once(
    store: Store, engine: AsyncEngine, clock: FakeClock, channel: Channel
) -> None:
    await add_complaints(engine, 12, at=clock.now)

    report = await make_forwarder(store, channel.lapor, clock, concurrency=3).run_once()

    assert report.sent == 12
    assert channel.recording.most_in_flight == 3


async def test_a_pass_tries_at_most_batch_size_rows(
    store: Store, engine: AsyncEngine, clock: FakeClock, channel: Channel
) -> None:
    await add_complaints(engine, 5, at=clock.now)

    report = await make_forwarder(store, channel.lapor, clock, batch_size=2).run_once()

    assert (report.claimed, report.sent) == (2, 2)


async def test_a_suspended_destination_keeps_its_queue_and_sends_nothing(
    store: Store, engine: AsyncEngine, clock: FakeClock, channel: Channel
) -> None:
    await add_complaints(engine, 2, at=clock.now)
    await store.set_suspended("lapor", True, actor="staff")
    forwarder = make_forwarder(store, channel.lapor, clock)

    suspended = await forwarder.run_once()
    await store.set_suspended("lapor", False, actor="staff")
    resumed = await forwarder.run_once()

    assert (suspended.suspended, suspended.claimed) == (True, 0)
    assert (resumed.suspended, resumed.sent) == (False, 2)


async def test_the_suspended_setting_stops_sending_too(
    store: Store, engine: AsyncEngine, clock: FakeClock, channel: Channel
) -> None:
    await add_complaints(engine, 1, at=clock.now)

    report = await make_forwarder(store, channel.lapor, clock, suspended=True).run_once()

    assert report.suspended is True
    assert await channel.requests(CREATE) == 0
    assert (await store.outbox_counts()).count("pending") == 1


# --- the loop ----------------------------------------------------------------------------------


class _Sleeps:
    """A sleep that never ends by itself and records what it was asked to wait."""

    def __init__(self) -> None:
        self.asked: list[float] = []
        self._asked = asyncio.Event()

    async def __call__(self, seconds: float) -> None:
        self.asked.append(seconds)
        self._asked.set()
        await asyncio.Event().wait()

    async def until_asked(self, times: int) -> None:
        """Return once the loop has gone to sleep ``times`` times (it has finished as many
        passes); the bound only stops a broken loop from hanging the suite."""
        async with asyncio.timeout(30):
            while len(self.asked) < times:
                self._asked.clear()
                await self._asked.wait()


@asynccontextmanager
async def looping(forwarder: ComplaintForwarder) -> AsyncIterator[None]:
    """The forwarder's loop running beside the test, stopped (and awaited) at the end."""
    stop = asyncio.Event()
    loop = asyncio.create_task(forwarder.run_forever(stop))
    try:
        yield
    finally:
        stop.set()
        await loop


async def test_a_woken_forwarder_sends_a_new_complaint_without_waiting_for_the_interval(
    store: Store, engine: AsyncEngine, clock: FakeClock, channel: Channel
) -> None:
    sleeps = _Sleeps()
    forwarder = make_forwarder(store, channel.lapor, clock, interval_seconds=3600)
    forwarder._sleep = sleeps
    async with looping(forwarder):
        await sleeps.until_asked(1)
        [complaint_id] = await add_complaints(engine, 1, at=clock.now)

        forwarder.wake()
        await sleeps.until_asked(2)

    assert sleeps.asked == [3600, 3600]
    assert (await delivery_of(store, complaint_id)).state == "sent"


async def test_the_loop_waits_only_until_the_next_retry_falls_due(
    store: Store, engine: AsyncEngine, clock: FakeClock, channel: Channel
) -> None:
    await add_complaints(engine, 1, at=clock.now)
    await channel.faults({"endpoints": {CREATE: {"error_rate": 1.0, "error_statuses": [500]}}})
    sleeps = _Sleeps()
    forwarder = make_forwarder(store, channel.lapor, clock, interval_seconds=3600)
    forwarder._sleep = sleeps

    async with looping(forwarder):
        await sleeps.until_asked(1)

    assert sleeps.asked == [2.0]


async def test_a_cancelled_loop_gives_back_the_rows_it_held(
    store: Store, engine: AsyncEngine, clock: FakeClock, channel: Channel
) -> None:
    [complaint_id] = await add_complaints(engine, 1, at=clock.now)
    stuck = _Stuck(channel.http, channel.settings)
    forwarder = make_forwarder(store, stuck, clock)
    loop = asyncio.create_task(forwarder.run_forever(asyncio.Event()))
    async with asyncio.timeout(30):
        await stuck.entered.wait()

    loop.cancel()
    with pytest.raises(asyncio.CancelledError):
        await loop

    delivery = await delivery_of(store, complaint_id)
    assert (delivery.state, delivery.lease_owner, delivery.outcome_unknown, delivery.attempts) == (
        "pending",
        None,
        True,
        0,
    )
