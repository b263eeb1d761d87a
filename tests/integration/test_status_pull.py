"""The status puller against the mock channel in process, on every backend.

Complaints are first forwarded for real, so they carry the channel's ids; the mock then moves
them on through its control API, as the channel's staff would.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from oss_bridge.config import ForwarderSettings, PullTier, StatusPullSettings
from oss_bridge.domain import Stage
from oss_bridge.errors import ConfigError
from oss_bridge.services.forwarder import ComplaintForwarder
from oss_bridge.services.status_pull import StatusPuller
from oss_bridge.store import Store
from oss_bridge.store._pulls import NewEvent, PullUpdate
from oss_bridge.store.schema import complaint_events
from tests.factories import FakeClock
from tests.integration.forwarding_support import (
    Channel,
    add_complaints,
    complaint_row,
    open_channel,
    set_complaint,
)

DETAIL = "GET /lapor/complaints/{id}/complaint"
FIVE_MINUTES = timedelta(minutes=5)


@pytest.fixture
async def channel() -> AsyncIterator[Channel]:
    async with open_channel() as channel:
        yield channel


def make_puller(store: Store, channel: Channel, clock: FakeClock, **settings: Any) -> StatusPuller:
    values: dict[str, Any] = {
        "jitter": 0.0,
        "unchanged_growth": 1.0,
        "tiers": [
            PullTier(quiet_below_hours=24, every_minutes=5),
            PullTier(every_minutes=60),
        ],
    }
    values.update(settings)
    return StatusPuller(
        store, channel.lapor, StatusPullSettings(**values), owner="puller-1", clock=clock
    )


async def forwarded(
    store: Store, engine: AsyncEngine, clock: FakeClock, channel: Channel, count: int = 1
) -> list[int]:
    """``count`` complaints received and forwarded now; returns their ids."""
    ids = await add_complaints(engine, count, at=clock.now)
    forwarder = ComplaintForwarder(store, channel.lapor, ForwarderSettings(), clock=clock)
    assert (await forwarder.run_once()).sent == count
    return ids


async def history(engine: AsyncEngine, complaint_id: int) -> list[tuple[str, dict[str, Any]]]:
    async with engine.connect() as connection:
        rows = await connection.execute(
            sa.select(complaint_events.c.kind, complaint_events.c.payload)
            .where(
                complaint_events.c.complaint_id == complaint_id,
                complaint_events.c.kind != "note",
            )
            .order_by(complaint_events.c.id)
        )
        return [(row.kind, row.payload) for row in rows]


async def external_id(engine: AsyncEngine, complaint_id: int) -> str:
    value: str = (await complaint_row(engine, complaint_id)).external_id
    return value


# --- pulling -----------------------------------------------------------------------------------


async def test_the_first_pull_keeps_the_national_status_beside_a_stage_that_never_goes_back(
    store: Store, engine: AsyncEngine, clock: FakeClock, channel: Channel
) -> None:
    [complaint_id] = await forwarded(store, engine, clock, channel)

    report = await make_puller(store, channel, clock).run_once()

    assert (report.pulled, report.changed, report.moved) == (1, 1, 0)
    row = await complaint_row(engine, complaint_id)
    assert (row.external_status, row.stage, row.final) == ("Belum Terverifikasi", "c", False)
    assert row.next_pull_at == clock.now + FIVE_MINUTES
    assert [(kind, payload["status"]) for kind, payload in await history(engine, complaint_id)] == [
        ("status", "Belum Terverifikasi")
    ]


async def test_a_status_advanced_on_the_channel_moves_the_stage_after_one_pull(
    store: Store, engine: AsyncEngine, clock: FakeClock, channel: Channel
) -> None:
    [complaint_id] = await forwarded(store, engine, clock, channel)
    puller = make_puller(store, channel, clock)
    await puller.run_once()
    await channel.advance(await external_id(engine, complaint_id), "Dalam Proses")
    clock.advance(minutes=5)

    report = await puller.run_once()

    assert (report.pulled, report.moved) == (1, 1)
    row = await complaint_row(engine, complaint_id)
    assert (row.external_status, row.stage) == ("Dalam Proses", "d")
    events = await history(engine, complaint_id)
    assert [kind for kind, _ in events] == ["status", "status", "followup", "stage"]
    assert events[1][1]["status"] == "Dalam Proses"
    assert "sedang ditindaklanjuti" in events[2][1]["content"]
    assert (events[3][1]["from"], events[3][1]["to"]) == ("c", "d")


async def test_a_repeated_pull_adds_nothing_and_stretches_nothing_it_should_not(
    store: Store, engine: AsyncEngine, clock: FakeClock, channel: Channel
) -> None:
    [complaint_id] = await forwarded(store, engine, clock, channel)
    await channel.advance(await external_id(engine, complaint_id), "Dalam Proses")
    puller = make_puller(store, channel, clock)
    await puller.run_once()
    before = await history(engine, complaint_id)
    clock.advance(minutes=5)

    report = await puller.run_once()

    assert (report.pulled, report.changed, report.events) == (1, 0, 0)
    assert await history(engine, complaint_id) == before
    row = await complaint_row(engine, complaint_id)
    assert (row.pull_attempts, row.next_pull_at) == (1, clock.now + FIVE_MINUTES)


async def test_a_final_status_closes_the_complaint_and_ends_its_pulls(
    store: Store, engine: AsyncEngine, clock: FakeClock, channel: Channel
) -> None:
    [complaint_id] = await forwarded(store, engine, clock, channel)
    await channel.advance(await external_id(engine, complaint_id), "Selesai")
    puller = make_puller(store, channel, clock)

    report = await puller.run_once()
    clock.advance(days=400)
    later = await puller.run_once()

    assert report.finished == 1
    row = await complaint_row(engine, complaint_id)
    assert (row.external_status, row.stage, row.final, row.next_pull_at) == (
        "Selesai",
        "f",
        True,
        None,
    )
    assert later.claimed == 0


async def test_a_status_that_maps_below_the_stage_is_kept_raw_and_the_stage_stays(
    store: Store, engine: AsyncEngine, clock: FakeClock, channel: Channel
) -> None:
    [complaint_id] = await forwarded(store, engine, clock, channel)
    await set_complaint(engine, complaint_id, stage="e")
    await channel.advance(await external_id(engine, complaint_id), "Terverifikasi")

    await make_puller(store, channel, clock).run_once()

    row = await complaint_row(engine, complaint_id)
    assert (row.external_status, row.stage) == ("Terverifikasi", "e")


async def test_a_complaint_is_pulled_only_once_it_is_due(
    store: Store, engine: AsyncEngine, clock: FakeClock, channel: Channel
) -> None:
    await forwarded(store, engine, clock, channel)
    puller = make_puller(store, channel, clock)
    await puller.run_once()
    clock.advance(minutes=4)

    assert (await puller.run_once()).claimed == 0


async def test_a_complaint_not_yet_forwarded_is_never_pulled(
    store: Store, engine: AsyncEngine, clock: FakeClock, channel: Channel
) -> None:
    [complaint_id] = await add_complaints(engine, 1, at=clock.now)
    await set_complaint(engine, complaint_id, next_pull_at=clock.now)

    assert (await make_puller(store, channel, clock).run_once()).claimed == 0


async def test_a_failed_pull_is_counted_and_tried_again_on_schedule(
    store: Store, engine: AsyncEngine, clock: FakeClock, channel: Channel
) -> None:
    [complaint_id] = await forwarded(store, engine, clock, channel)
    await channel.faults({"endpoints": {DETAIL: {"error_rate": 1.0, "error_statuses": [503]}}})

    report = await make_puller(store, channel, clock).run_once()

    assert (report.failed, dict(report.errors)) == (1, {"ServerError": 1})
    row = await complaint_row(engine, complaint_id)
    assert (row.external_status, row.pull_lease_owner, row.pull_attempts) == (None, None, 1)
    assert row.next_pull_at == clock.now + FIVE_MINUTES


async def test_no_more_than_concurrency_complaints_are_pulled_at_once(
    store: Store, engine: AsyncEngine, clock: FakeClock, channel: Channel
) -> None:
    await forwarded(store, engine, clock, channel, count=6)
    channel.recording.most_in_flight = 0

    report = await make_puller(store, channel, clock, concurrency=2).run_once()

    assert report.pulled == 6
    assert channel.recording.most_in_flight == 2


async def test_the_puller_refuses_to_start_when_a_known_status_is_unmapped(
    store: Store, channel: Channel, clock: FakeClock, tmp_path: Path
) -> None:
    path = tmp_path / "status-mapping.toml"
    path.write_text(
        "\n".join(
            f'[statuses."{name}"]\nstage = "{stage}"\nopen311 = "{state}"\nfinal = {final}\n'
            for name, stage, state, final in [
                ("Belum Terverifikasi", "a", "open", "false"),
                ("Terverifikasi", "c", "open", "false"),
                ("Dalam Proses", "d", "open", "false"),
                ("Selesai", "f", "closed", "true"),
                ("Diarsipkan", "e", "closed", "true"),
            ]
        ),
        encoding="utf-8",
    )

    with pytest.raises(ConfigError, match="national status 'Ditolak' is not mapped"):
        make_puller(store, channel, clock, mapping_file=path)


# --- the store's guards ------------------------------------------------------------------------


async def test_two_pullers_never_hold_the_same_complaint(
    store: Store, engine: AsyncEngine, clock: FakeClock, channel: Channel
) -> None:
    await forwarded(store, engine, clock, channel, count=2)

    first = await store.claim_pulls(owner="a", lease_seconds=60, limit=10)
    second = await store.claim_pulls(owner="b", lease_seconds=60, limit=10)
    clock.advance(seconds=60)
    after_expiry = await store.claim_pulls(owner="b", lease_seconds=60, limit=10)

    assert (len(first), len(second), len(after_expiry)) == (2, 0, 2)


def _update(stage: Stage | None, **changes: Any) -> PullUpdate:
    values: dict[str, Any] = {
        "external_status": "Terverifikasi",
        "external_status_at": None,
        "stage": stage,
        "final": False,
        "events": (),
        "next_pull_at": None,
        "changed": True,
    }
    values.update(changes)
    return PullUpdate(**values)


async def test_a_puller_that_lost_its_lease_writes_nothing(
    store: Store, engine: AsyncEngine, clock: FakeClock, channel: Channel
) -> None:
    [complaint_id] = await forwarded(store, engine, clock, channel)
    await store.claim_pulls(owner="a", lease_seconds=60, limit=10)

    [applied] = await store.apply_pulls([(complaint_id, _update(Stage.D))], owner="b")

    assert applied is None
    assert (await complaint_row(engine, complaint_id)).stage == "c"


@pytest.mark.parametrize(
    ("current", "mapped", "kept"),
    [("c", Stage.A, "c"), ("c", Stage.C, "c"), ("c", Stage.D, "d"), ("f", Stage.D, "f")],
)
async def test_the_store_never_moves_a_stage_backwards(
    store: Store,
    engine: AsyncEngine,
    clock: FakeClock,
    channel: Channel,
    current: str,
    mapped: Stage,
    kept: str,
) -> None:
    [complaint_id] = await forwarded(store, engine, clock, channel)
    await set_complaint(engine, complaint_id, stage=current)
    await store.claim_pulls(owner="a", lease_seconds=60, limit=10)

    [applied] = await store.apply_pulls([(complaint_id, _update(mapped))], owner="a")

    assert applied is not None
    assert (applied.stage.value, (await complaint_row(engine, complaint_id)).stage) == (kept, kept)


async def test_several_pulls_are_applied_together_each_as_alone(
    store: Store, engine: AsyncEngine, clock: FakeClock, channel: Channel
) -> None:
    first, second, third = await forwarded(store, engine, clock, channel, count=3)
    await store.claim_pulls(owner="a", lease_seconds=60, limit=10)
    reply = NewEvent(kind="followup", dedupe_key="followup:1", payload={"text": "Diproses"})
    pulls = [
        (first, _update(Stage.D, events=(reply,))),
        (second, _update(None, changed=False, external_status=None)),
        (third, _update(Stage.E, final=True)),
    ]

    applied = await store.apply_pulls(pulls, owner="a")

    assert [(a.stage.value, a.events_added, a.final) if a else None for a in applied] == [
        ("d", 2, False),
        ("c", 0, False),
        ("e", 1, True),
    ]
    rows = [await complaint_row(engine, complaint_id) for complaint_id in (first, second, third)]
    assert [(row.stage, row.final, row.pull_lease_owner) for row in rows] == [
        ("d", False, None),
        ("c", False, None),
        ("e", True, None),
    ]
    assert [kind for kind, _ in await history(engine, first)] == ["followup", "stage"]


async def test_a_pull_whose_lease_was_lost_is_skipped_and_the_others_are_applied(
    store: Store, engine: AsyncEngine, clock: FakeClock, channel: Channel
) -> None:
    kept, lost = await forwarded(store, engine, clock, channel, count=2)
    await store.claim_pulls(owner="a", lease_seconds=60, limit=10)
    await set_complaint(engine, lost, pull_lease_owner="b")

    applied = await store.apply_pulls(
        [(kept, _update(Stage.D)), (lost, _update(Stage.D))], owner="a"
    )

    assert [a.complaint_id if a else None for a in applied] == [kept, None]
    assert [(await complaint_row(engine, i)).stage for i in (kept, lost)] == ["d", "c"]


async def test_events_a_complaint_already_holds_are_not_counted_again(
    store: Store, engine: AsyncEngine, clock: FakeClock, channel: Channel
) -> None:
    [complaint_id] = await forwarded(store, engine, clock, channel)
    reply = NewEvent(kind="followup", dedupe_key="followup:1", payload={"text": "Diproses"})
    await store.claim_pulls(owner="a", lease_seconds=60, limit=10)
    due_again = _update(None, events=(reply,), next_pull_at=clock.now)
    await store.apply_pulls([(complaint_id, due_again)], owner="a")
    assert len(await store.claim_pulls(owner="a", lease_seconds=60, limit=10)) == 1

    [again] = await store.apply_pulls([(complaint_id, _update(None, events=(reply,)))], owner="a")

    assert again is not None
    assert again.events_added == 0


async def test_a_complaint_applied_twice_in_one_call_is_refused(store: Store) -> None:
    with pytest.raises(ValueError, match="once per call"):
        await store.apply_pulls([(1, _update(Stage.D)), (1, _update(Stage.E))], owner="a")


async def test_an_event_repeated_within_one_batch_is_stored_and_counted_once(
    store: Store, engine: AsyncEngine, clock: FakeClock, channel: Channel
) -> None:
    [complaint_id] = await forwarded(store, engine, clock, channel)
    await store.claim_pulls(owner="a", lease_seconds=60, limit=10)
    reply = NewEvent(kind="followup", dedupe_key="followup:1", payload={"text": "Diproses"})

    [applied] = await store.apply_pulls(
        [(complaint_id, _update(None, events=(reply, reply)))], owner="a"
    )

    assert applied is not None
    assert applied.events_added == 1
    assert [kind for kind, _ in await history(engine, complaint_id)] == ["followup"]
