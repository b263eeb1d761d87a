"""The outbox's contract, on every backend: leases, attempts, dead letters, operator actions."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from oss_bridge.config import DatabaseSettings
from oss_bridge.errors import InputError, NotFound
from oss_bridge.store import Store
from oss_bridge.store._outbox import Delivered
from tests.factories import FakeClock
from tests.integration.forwarding_support import (
    add_complaints,
    complaint_row,
    receipt,
    set_complaint,
)

LEASE = 60.0
MAX_ATTEMPTS = 3


async def claim(store: Store, owner: str = "worker-1", limit: int = 10) -> list[int]:
    claims = await store.claim_due(
        "lapor", owner=owner, lease_seconds=LEASE, limit=limit, max_attempts=MAX_ATTEMPTS
    )
    return [c.complaint.id for c in claims]


async def fail(store: Store, outbox_id: int, clock: FakeClock, **options: object) -> None:
    values: dict[object, object] = {
        "owner": "worker-1",
        "error": "ServerError: HTTP 503",
        "retry_at": clock.now + timedelta(seconds=30),
        "outcome_unknown": False,
        "max_attempts": MAX_ATTEMPTS,
    }
    values.update(options)
    assert await store.record_failure(outbox_id, **values) is not None  # type: ignore[arg-type]


# --- claiming ----------------------------------------------------------------------------------


async def test_a_due_row_is_claimed_in_flight_and_leased_to_its_owner(
    store: Store, engine: AsyncEngine, clock: FakeClock
) -> None:
    [complaint_id] = await add_complaints(engine, 1, at=clock.now)

    [claimed] = await store.claim_due(
        "lapor", owner="worker-1", lease_seconds=LEASE, limit=10, max_attempts=MAX_ATTEMPTS
    )

    assert claimed.complaint.id == complaint_id
    assert claimed.complaint.receipt_number == receipt(1)
    assert (claimed.item.state, claimed.item.lease_owner, claimed.item.lease_until) == (
        "in_flight",
        "worker-1",
        clock.now + timedelta(seconds=LEASE),
    )
    stored = await store.get_delivery(complaint_id)
    assert stored == claimed.item


async def test_a_claim_carries_the_complaint_as_received(
    store: Store, engine: AsyncEngine, clock: FakeClock
) -> None:
    await add_complaints(engine, 1, at=clock.now, anonymous=True, reporter_name=None)

    [claimed] = await store.claim_due(
        "lapor", owner="w", lease_seconds=LEASE, limit=1, max_attempts=MAX_ATTEMPTS
    )

    complaint = claimed.complaint
    assert (complaint.category.value, complaint.object.value) == (
        "hambatan_oss",
        "pemerintah_kabupaten",
    )
    assert complaint.anonymous is True
    assert complaint.reporter is not None
    assert (complaint.reporter.name, complaint.reporter.email) == (None, "siti@contoh.id")
    assert (claimed.external_id, claimed.tracking_id) == (None, None)


async def test_a_leased_row_is_not_claimed_again(
    store: Store, engine: AsyncEngine, clock: FakeClock
) -> None:
    await add_complaints(engine, 1, at=clock.now)
    await claim(store, "worker-1")

    assert await claim(store, "worker-2") == []


async def test_a_row_waiting_for_its_retry_time_is_not_claimed(
    store: Store, engine: AsyncEngine, clock: FakeClock
) -> None:
    await add_complaints(engine, 1, at=clock.now + timedelta(seconds=5))

    assert await claim(store) == []
    clock.advance(seconds=5)
    assert len(await claim(store)) == 1


async def test_claims_take_the_longest_due_rows_first_up_to_the_limit(
    store: Store, engine: AsyncEngine, clock: FakeClock
) -> None:
    later = await add_complaints(engine, 2, at=clock.now - timedelta(seconds=1))
    earlier = await add_complaints(engine, 2, first=3, at=clock.now - timedelta(seconds=9))

    assert await claim(store, limit=3) == [*earlier, later[0]]


async def test_a_claim_takes_expired_leases_and_pending_rows_together_longest_due_first(
    store: Store, engine: AsyncEngine, clock: FakeClock
) -> None:
    abandoned = await add_complaints(engine, 2, at=clock.now - timedelta(seconds=20))
    assert await claim(store, "crashed") == abandoned
    oldest = await add_complaints(engine, 1, first=3, at=clock.now - timedelta(seconds=30))
    newer = await add_complaints(engine, 1, first=4, at=clock.now - timedelta(seconds=10))
    newest = await add_complaints(engine, 2, first=5, at=clock.now + timedelta(seconds=LEASE + 5))
    clock.advance(seconds=LEASE)

    assert await claim(store, "worker-2", limit=3) == [*oldest, *abandoned]
    assert await claim(store, "worker-2", limit=3) == newer
    clock.advance(seconds=5)
    assert await claim(store, "worker-3", limit=3) == newest


async def test_a_claim_takes_only_its_destination(
    store: Store, engine: AsyncEngine, clock: FakeClock
) -> None:
    await add_complaints(engine, 1, at=clock.now, destination="elsewhere")

    assert await claim(store) == []


async def test_an_expired_lease_is_taken_over_as_a_failed_attempt_of_unknown_outcome(
    store: Store, engine: AsyncEngine, clock: FakeClock
) -> None:
    [complaint_id] = await add_complaints(engine, 1, at=clock.now)
    await claim(store, "crashed")
    clock.advance(seconds=LEASE)

    [taken] = await store.claim_due(
        "lapor", owner="worker-2", lease_seconds=LEASE, limit=10, max_attempts=MAX_ATTEMPTS
    )

    assert taken.complaint.id == complaint_id
    item = taken.item
    assert (item.state, item.lease_owner, item.attempts, item.outcome_unknown) == (
        "in_flight",
        "worker-2",
        1,
        True,
    )
    assert item.last_error is not None
    assert "'crashed'" in item.last_error
    assert await store.get_delivery(complaint_id) == item


async def test_a_takeover_that_uses_up_the_attempts_makes_the_row_dead(
    store: Store, engine: AsyncEngine, clock: FakeClock
) -> None:
    [complaint_id] = await add_complaints(engine, 1, at=clock.now)
    for _ in range(MAX_ATTEMPTS):
        await claim(store, "crashing")
        clock.advance(seconds=LEASE)

    assert await claim(store, "worker-2") == []
    delivery = await store.get_delivery(complaint_id)
    assert delivery is not None
    assert (delivery.state, delivery.attempts, delivery.lease_owner) == (
        "dead",
        MAX_ATTEMPTS,
        None,
    )


@pytest.mark.parametrize("workers", [4])
async def test_concurrent_workers_never_claim_the_same_row(
    store: Store, engine: AsyncEngine, clock: FakeClock, database_url: str, workers: int
) -> None:
    await add_complaints(engine, 40, at=clock.now)
    stores = [Store.open(DatabaseSettings(url=database_url), clock=clock) for _ in range(workers)]
    try:

        async def drain(worker: Store, owner: str) -> list[int]:
            taken: list[int] = []
            while batch := await claim(worker, owner, limit=3):
                taken.extend(batch)
            return taken

        results = await asyncio.gather(*(drain(s, f"w{i}") for i, s in enumerate(stores)))
    finally:
        for worker in stores:
            await worker.close()

    claimed = [complaint_id for taken in results for complaint_id in taken]
    assert len(claimed) == 40
    assert len(set(claimed)) == 40


# --- settling an attempt -----------------------------------------------------------------------


async def test_a_success_marks_the_row_sent_and_gives_the_complaint_its_national_ids(
    store: Store, engine: AsyncEngine, clock: FakeClock
) -> None:
    [complaint_id] = await add_complaints(engine, 1, at=clock.now)
    [claimed] = await store.claim_due(
        "lapor", owner="worker-1", lease_seconds=LEASE, limit=1, max_attempts=MAX_ATTEMPTS
    )
    clock.advance(seconds=2)

    sent = await store.record_success(
        claimed.id, owner="worker-1", external_id="100001", tracking_id="0007919"
    )

    assert sent is not None
    assert (sent.state, sent.sent_at, sent.lease_owner, sent.lease_until) == (
        "sent",
        clock.now,
        None,
        None,
    )
    row = await complaint_row(engine, complaint_id)
    assert (row.external_id, row.tracking_id, row.next_pull_at) == ("100001", "0007919", clock.now)


async def test_successes_recorded_together_each_reach_their_own_complaint_and_note_it_once(
    store: Store, engine: AsyncEngine, clock: FakeClock
) -> None:
    ids = await add_complaints(engine, 3, at=clock.now)
    await set_complaint(engine, ids[2], next_pull_at=clock.now - timedelta(days=1))
    claims = await store.claim_due(
        "lapor", owner="worker-1", lease_seconds=LEASE, limit=3, max_attempts=MAX_ATTEMPTS
    )
    later = clock.now + timedelta(hours=1)
    clock.advance(seconds=2)

    settled = await store.record_successes(
        [
            Delivered(claims[0].id, external_id="E-1", tracking_id="T-1"),
            Delivered(claims[1].id, external_id="E-2", tracking_id=None, next_pull_at=later),
            Delivered(claims[2].id, external_id="E-3", tracking_id="T-3", reconciled=True),
        ],
        owner="worker-1",
    )

    assert settled == {claim.id for claim in claims}
    rows = [await complaint_row(engine, complaint_id) for complaint_id in ids]
    assert [(r.external_id, r.tracking_id, r.next_pull_at) for r in rows] == [
        ("E-1", "T-1", clock.now),
        ("E-2", None, later),
        ("E-3", "T-3", clock.now - timedelta(days=1, seconds=2)),  # its pull time is kept
    ]
    notes = [await store.complaint_events(complaint_id) for complaint_id in ids]
    assert [[(e.kind, e.dedupe_key, e.created_at) for e in n] for n in notes] == [
        [("note", "forwarded:lapor", clock.now)]
    ] * 3
    assert [n[0].payload for n in notes] == [
        {
            "type": "forwarded",
            "destination": "lapor",
            "external_id": external_id,
            "tracking_id": tracking_id,
            "reconciled": reconciled,
            "attempts": 1,
        }
        for external_id, tracking_id, reconciled in [
            ("E-1", "T-1", False),
            ("E-2", None, False),
            ("E-3", "T-3", True),
        ]
    ]


async def test_a_worker_that_lost_its_lease_cannot_record_success(
    store: Store, engine: AsyncEngine, clock: FakeClock
) -> None:
    [complaint_id] = await add_complaints(engine, 1, at=clock.now)
    [stale] = await store.claim_due(
        "lapor", owner="slow", lease_seconds=LEASE, limit=1, max_attempts=MAX_ATTEMPTS
    )
    clock.advance(seconds=LEASE)
    await claim(store, "worker-2")

    result = await store.record_success(stale.id, owner="slow", external_id="1", tracking_id=None)

    assert result is None
    delivery = await store.get_delivery(complaint_id)
    assert delivery is not None
    assert (delivery.state, delivery.lease_owner) == ("in_flight", "worker-2")
    assert (await complaint_row(engine, complaint_id)).external_id is None


async def test_a_worker_that_lost_its_lease_cannot_record_a_failure(
    store: Store, engine: AsyncEngine, clock: FakeClock
) -> None:
    await add_complaints(engine, 1, at=clock.now)
    [stale] = await store.claim_due(
        "lapor", owner="slow", lease_seconds=LEASE, limit=1, max_attempts=MAX_ATTEMPTS
    )
    clock.advance(seconds=LEASE)
    await claim(store, "worker-2")

    result = await store.record_failure(
        stale.id,
        owner="slow",
        error="late",
        retry_at=clock.now,
        outcome_unknown=False,
        max_attempts=MAX_ATTEMPTS,
    )

    assert result is None


async def test_a_late_result_is_accepted_while_no_one_took_the_row_over(
    store: Store, engine: AsyncEngine, clock: FakeClock
) -> None:
    await add_complaints(engine, 1, at=clock.now)
    [claimed] = await store.claim_due(
        "lapor", owner="slow", lease_seconds=LEASE, limit=1, max_attempts=MAX_ATTEMPTS
    )
    clock.advance(seconds=LEASE * 2)

    sent = await store.record_success(claimed.id, owner="slow", external_id="7", tracking_id=None)

    assert sent is not None
    assert sent.state == "sent"


async def test_a_failure_counts_the_attempt_stores_its_reason_and_waits(
    store: Store, engine: AsyncEngine, clock: FakeClock
) -> None:
    [complaint_id] = await add_complaints(engine, 1, at=clock.now)
    [claimed] = await store.claim_due(
        "lapor", owner="worker-1", lease_seconds=LEASE, limit=1, max_attempts=MAX_ATTEMPTS
    )

    await fail(store, claimed.id, clock)

    delivery = await store.get_delivery(complaint_id)
    assert delivery is not None
    assert (
        delivery.state,
        delivery.attempts,
        delivery.last_error,
        delivery.next_attempt_at,
        delivery.lease_owner,
    ) == ("pending", 1, "ServerError: HTTP 503", clock.now + timedelta(seconds=30), None)
    assert await claim(store) == []


async def test_the_last_allowed_failed_attempt_makes_the_row_dead(
    store: Store, engine: AsyncEngine, clock: FakeClock
) -> None:
    [complaint_id] = await add_complaints(engine, 1, at=clock.now)
    for _ in range(MAX_ATTEMPTS):
        [claimed] = await store.claim_due(
            "lapor", owner="worker-1", lease_seconds=LEASE, limit=1, max_attempts=MAX_ATTEMPTS
        )
        await fail(store, claimed.id, clock, retry_at=clock.now)

    delivery = await store.get_delivery(complaint_id)
    assert delivery is not None
    assert (delivery.state, delivery.attempts) == ("dead", MAX_ATTEMPTS)
    assert await claim(store) == []


async def test_a_hopeless_failure_makes_the_row_dead_at_once(
    store: Store, engine: AsyncEngine, clock: FakeClock
) -> None:
    [complaint_id] = await add_complaints(engine, 1, at=clock.now)
    [claimed] = await store.claim_due(
        "lapor", owner="worker-1", lease_seconds=LEASE, limit=1, max_attempts=MAX_ATTEMPTS
    )

    await fail(store, claimed.id, clock, give_up=True, error="ValidationRejected: title")

    delivery = await store.get_delivery(complaint_id)
    assert delivery is not None
    assert (delivery.state, delivery.attempts, delivery.last_error) == (
        "dead",
        1,
        "ValidationRejected: title",
    )


async def test_an_unknown_outcome_stays_unknown_until_the_row_is_sent(
    store: Store, engine: AsyncEngine, clock: FakeClock
) -> None:
    [complaint_id] = await add_complaints(engine, 1, at=clock.now)
    [first] = await store.claim_due(
        "lapor", owner="worker-1", lease_seconds=LEASE, limit=1, max_attempts=MAX_ATTEMPTS
    )
    await fail(store, first.id, clock, retry_at=clock.now, outcome_unknown=True)
    [second] = await store.claim_due(
        "lapor", owner="worker-1", lease_seconds=LEASE, limit=1, max_attempts=MAX_ATTEMPTS
    )
    await fail(store, second.id, clock, retry_at=clock.now, outcome_unknown=False)

    delivery = await store.get_delivery(complaint_id)
    assert delivery is not None
    assert delivery.outcome_unknown is True


async def test_an_overlong_error_is_clipped(
    store: Store, engine: AsyncEngine, clock: FakeClock
) -> None:
    [complaint_id] = await add_complaints(engine, 1, at=clock.now)
    [claimed] = await store.claim_due(
        "lapor", owner="worker-1", lease_seconds=LEASE, limit=1, max_attempts=MAX_ATTEMPTS
    )

    await fail(store, claimed.id, clock, error="x" * 5000)

    delivery = await store.get_delivery(complaint_id)
    assert delivery is not None
    assert delivery.last_error is not None
    assert (len(delivery.last_error), delivery.last_error[-3:]) == (2000, "...")


async def test_released_leases_are_due_again_at_once_with_an_unknown_outcome(
    store: Store, engine: AsyncEngine, clock: FakeClock
) -> None:
    await add_complaints(engine, 2, at=clock.now)
    await claim(store, "stopping")

    released = await store.release_leases("stopping")

    assert released == 2
    claims = await store.claim_due(
        "lapor", owner="next", lease_seconds=LEASE, limit=10, max_attempts=MAX_ATTEMPTS
    )
    assert [(c.item.attempts, c.item.outcome_unknown) for c in claims] == [(0, True), (0, True)]


async def test_claimed_rows_given_back_untried_keep_their_attempts_and_outcome(
    store: Store, engine: AsyncEngine, clock: FakeClock
) -> None:
    [first, second] = await add_complaints(engine, 2, at=clock.now)
    claims = await store.claim_due(
        "lapor", owner="worker-1", lease_seconds=LEASE, limit=2, max_attempts=MAX_ATTEMPTS
    )

    released = await store.release_claims([claims[1].id], owner="worker-1")
    foreign = await store.release_claims([claims[0].id], owner="someone-else")

    assert (released, foreign) == (1, 0)
    kept, given_back = await store.get_delivery(first), await store.get_delivery(second)
    assert kept is not None
    assert given_back is not None
    assert kept.state == "in_flight"
    assert (given_back.state, given_back.attempts, given_back.outcome_unknown) == (
        "pending",
        0,
        False,
    )
    assert await claim(store, "worker-2") == [second]


# --- operator actions --------------------------------------------------------------------------


async def _dead(store: Store, engine: AsyncEngine, clock: FakeClock, count: int = 1) -> list[int]:
    ids = await add_complaints(engine, count, at=clock.now)
    for claimed in await store.claim_due(
        "lapor", owner="worker-1", lease_seconds=LEASE, limit=count, max_attempts=MAX_ATTEMPTS
    ):
        await fail(store, claimed.id, clock, give_up=True)
    return ids


async def test_a_requeued_dead_row_is_due_now_with_its_attempts_reset_and_audited(
    store: Store, engine: AsyncEngine, clock: FakeClock
) -> None:
    [complaint_id] = await _dead(store, engine, clock)
    clock.advance(minutes=5)

    requeued = await store.requeue(complaint_id, actor="staff:rina")

    assert (requeued.state, requeued.attempts, requeued.next_attempt_at) == (
        "pending",
        0,
        clock.now,
    )
    assert await claim(store) == [complaint_id]
    [entry] = await store.list_audit("outbox", str(complaint_id))
    assert (entry.actor, entry.action, entry.before["state"], entry.after["state"]) == (
        "staff:rina",
        "requeue",
        "dead",
        "pending",
    )


async def test_requeue_all_dead_requeues_every_dead_row(
    store: Store, engine: AsyncEngine, clock: FakeClock
) -> None:
    dead = await _dead(store, engine, clock, count=3)

    requeued = await store.requeue_all_dead(actor="staff")

    assert [item.complaint_id for item in requeued] == dead
    counts = await store.outbox_counts("lapor")
    assert (counts.dead, counts.count("pending")) == (0, 3)


async def test_an_acknowledged_row_leaves_the_dead_letters_unsent(
    store: Store, engine: AsyncEngine, clock: FakeClock
) -> None:
    [complaint_id] = await _dead(store, engine, clock)

    acknowledged = await store.acknowledge(complaint_id, actor="staff")
    again = await store.acknowledge(complaint_id, actor="staff")

    assert acknowledged.state == again.state == "acknowledged"
    counts = await store.outbox_counts()
    assert (counts.dead, counts.count("acknowledged")) == (0, 1)
    assert [e.action for e in await store.list_audit("outbox", str(complaint_id))] == [
        "acknowledge"
    ]


@pytest.mark.parametrize("action", ["requeue", "acknowledge"])
async def test_operator_actions_refuse_a_row_that_is_not_dead(
    store: Store, engine: AsyncEngine, clock: FakeClock, action: str
) -> None:
    [complaint_id] = await add_complaints(engine, 1, at=clock.now)

    with pytest.raises(InputError, match="'pending'"):
        await getattr(store, action)(complaint_id, actor="staff")


@pytest.mark.parametrize("action", ["requeue", "acknowledge"])
async def test_operator_actions_on_an_unknown_complaint_raise_not_found(
    store: Store, action: str
) -> None:
    with pytest.raises(NotFound, match="complaint 404"):
        await getattr(store, action)(404, actor="staff")


# --- looking -----------------------------------------------------------------------------------


async def test_counts_show_each_state_and_the_oldest_undelivered_row(
    store: Store, engine: AsyncEngine, clock: FakeClock
) -> None:
    received = clock.now
    await _dead(store, engine, clock)
    clock.advance(minutes=1)
    await add_complaints(engine, 2, first=10, at=clock.now)
    clock.advance(minutes=1)
    [claimed] = await store.claim_due(
        "lapor", owner="w", lease_seconds=LEASE, limit=1, max_attempts=MAX_ATTEMPTS
    )
    await store.record_success(claimed.id, owner="w", external_id="1", tracking_id=None)

    counts = await store.outbox_counts()

    assert counts.by_state == {
        "pending": 1,
        "in_flight": 0,
        "sent": 1,
        "dead": 1,
        "acknowledged": 0,
    }
    assert counts.oldest_pending_at == received + timedelta(minutes=1)
    assert counts.next_attempt_at == received + timedelta(minutes=1)
    assert counts.waiting == 1


async def test_an_empty_outbox_has_no_oldest_row(store: Store) -> None:
    counts = await store.outbox_counts()

    assert (sum(counts.by_state.values()), counts.oldest_pending_at, counts.next_attempt_at) == (
        0,
        None,
        None,
    )


async def test_the_outbox_lists_rows_of_one_state(
    store: Store, engine: AsyncEngine, clock: FakeClock
) -> None:
    dead = await _dead(store, engine, clock)
    await add_complaints(engine, 1, first=5, at=clock.now)

    assert [item.complaint_id for item in await store.list_outbox(state="dead")] == dead
