"""The store's complaint queries, run against every backend (see tests/conftest.py)."""

from __future__ import annotations

import asyncio
import re
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from oss_bridge.domain.complaint import ComplaintDraft, Reporter
from oss_bridge.domain.vocabulary import ComplaintCategory, ComplaintObject, Stage
from oss_bridge.errors import StoreError
from oss_bridge.store import ComplaintFilter, ComplaintRecord, NewEvent, Store
from tests.api.support import NOTHING, set_delivery_state, set_national_status, stored
from tests.factories import FakeClock

DAY = date(2024, 5, 6)  # the office day of the clock fixture's start


def draft(**changes: Any) -> ComplaintDraft:
    fields: dict[str, Any] = {
        "category": ComplaintCategory.HAMBATAN_OSS,
        "object": ComplaintObject.PEMERINTAH_KABUPATEN,
        "description": "Akun OSS kami terkunci sejak pekan lalu.",
        "reporter": Reporter(name="Siti", email="siti@contoh.id", phone="081234567890"),
        "occurred_on": date(2024, 5, 2),
    }
    fields.update(changes)
    return ComplaintDraft(**fields)


def number(kd_daerah: str, day: date) -> Any:
    return lambda seq: f"PGD-{kd_daerah}-{day:%Y%m%d}-{seq:06d}"


async def receive(
    store: Store,
    *,
    kd_daerah: str = "1405",
    day: date = DAY,
    stage: Stage = Stage.C,
    events: tuple[NewEvent, ...] = (),
    **changes: Any,
) -> ComplaintRecord:
    return await store.insert_complaint(
        draft(**changes),
        kd_daerah=kd_daerah,
        day=day,
        receipt_number=number(kd_daerah, day),
        stage=stage,
        priority="sedang",
        completeness={"complete": stage is Stage.C},
        events=events,
    )


# --- intake --------------------------------------------------------------------------------


async def test_a_new_complaint_is_stored_with_a_pending_delivery_due_now(
    store: Store, clock: FakeClock
) -> None:
    saved = await receive(store)

    assert saved.receipt_number == "PGD-1405-20240506-000001"
    assert saved.complaint.received_at == saved.complaint.updated_at == clock.now
    assert saved.complaint.reporter == Reporter(
        name="Siti", email="siti@contoh.id", phone="081234567890"
    )
    assert saved.completeness == {"complete": True}
    assert saved.delivery is not None
    assert (
        saved.delivery.destination,
        saved.delivery.state,
        saved.delivery.attempts,
        saved.delivery.next_attempt_at,
        saved.delivery.idempotency_key,
        saved.delivery.suspended,
    ) == ("lapor", "pending", 0, clock.now, "lapor:PGD-1405-20240506-000001", False)
    assert await store.get_complaint(saved.id) == saved


async def test_the_receipt_numbers_of_a_day_count_from_one(store: Store) -> None:
    numbers = [(await receive(store)).receipt_number for _ in range(3)]

    assert numbers == [
        "PGD-1405-20240506-000001",
        "PGD-1405-20240506-000002",
        "PGD-1405-20240506-000003",
    ]


async def test_each_day_and_each_region_has_its_own_count(store: Store) -> None:
    await receive(store)
    await receive(store)

    next_day = await receive(store, day=DAY + timedelta(days=1))
    other_region = await receive(store, kd_daerah="1471")

    assert next_day.receipt_number == "PGD-1405-20240507-000001"
    assert other_region.receipt_number == "PGD-1471-20240506-000001"


async def test_a_failed_intake_stores_nothing_and_gives_its_number_back(
    store: Store, engine: AsyncEngine
) -> None:
    first = await receive(store)
    before = await stored(engine)

    with pytest.raises(StoreError):
        # The number is already taken, so the complaint's insert fails after the counter moved.
        await store.insert_complaint(
            draft(),
            kd_daerah="1405",
            day=DAY,
            receipt_number=lambda seq: first.receipt_number,
            stage=Stage.C,
            priority=None,
        )

    assert await stored(engine) == before
    assert (await receive(store)).receipt_number == "PGD-1405-20240506-000002"


async def test_fifty_concurrent_intakes_get_fifty_consecutive_numbers(store: Store) -> None:
    saved = await asyncio.gather(*(receive(store) for _ in range(50)))

    assert sorted(record.receipt_number for record in saved) == [
        f"PGD-1405-20240506-{seq:06d}" for seq in range(1, 51)
    ]
    assert len({record.id for record in saved}) == 50


async def test_the_events_written_with_a_complaint_come_back_in_order(store: Store) -> None:
    events = (
        NewEvent(kind="stage", dedupe_key="stage:a", payload={"stage": "a"}),
        NewEvent(kind="stage", dedupe_key="stage:b", payload={"stage": "b"}),
        NewEvent(kind="note", dedupe_key="intake:note", payload={"text": "catatan"}),
    )

    saved = await receive(store, events=events)

    assert [(e.kind, e.dedupe_key, e.payload) for e in saved.events] == [
        ("stage", "stage:a", {"stage": "a"}),
        ("stage", "stage:b", {"stage": "b"}),
        ("note", "intake:note", {"text": "catatan"}),
    ]
    assert await store.complaint_events(saved.id) == list(saved.events)


async def test_a_bad_event_is_refused_before_anything_is_written(
    store: Store, engine: AsyncEngine
) -> None:
    with pytest.raises(ValueError, match="event kind 'receipt'"):
        await receive(store, events=(NewEvent(kind="receipt", dedupe_key="x", payload={}),))  # type: ignore[arg-type]

    assert await stored(engine) == NOTHING


async def test_a_receipt_day_must_be_a_date_not_an_instant(store: Store) -> None:
    with pytest.raises(ValueError, match="must be a date"):
        await receive(store, day=datetime(2024, 5, 6, tzinfo=UTC))


# --- reading -------------------------------------------------------------------------------


async def test_a_complaint_is_found_by_its_receipt_number(store: Store) -> None:
    saved = await receive(store)

    assert await store.get_complaint_by_receipt(saved.receipt_number) == saved


async def test_an_unknown_complaint_is_none(store: Store) -> None:
    assert await store.get_complaint(404) is None
    assert await store.get_complaint_by_receipt("PGD-1405-20240506-000404") is None


async def test_a_delivery_shows_when_its_destination_is_suspended(store: Store) -> None:
    saved = await receive(store)

    await store.set_suspended("lapor", True, actor="staff")
    found = await store.get_complaint(saved.id)

    assert found is not None
    assert found.delivery is not None
    assert found.delivery.suspended


async def test_a_complaint_read_for_another_destination_has_no_delivery(store: Store) -> None:
    saved = await receive(store)

    found = await store.get_complaint(saved.id, destination="email")

    assert found is not None
    assert found.delivery is None


async def test_a_national_status_comes_back_with_the_complaint(
    store: Store, engine: AsyncEngine, clock: FakeClock
) -> None:
    saved = await receive(store)
    at = clock.advance(days=1)

    await set_national_status(engine, saved.id, "Selesai", at=at, final=True)
    found = await store.get_complaint(saved.id)

    assert found is not None
    assert (found.external_id, found.external_status, found.external_status_at, found.final) == (
        f"L-{saved.id}",
        "Selesai",
        at,
        True,
    )
    assert found.events[-1].kind == "status"
    assert await store.external_statuses() == ["Selesai"]


# --- listing -------------------------------------------------------------------------------


@pytest.fixture
async def four(store: Store, engine: AsyncEngine, clock: FakeClock) -> list[ComplaintRecord]:
    """Four complaints a day apart: 1 pending, 2 sent and verified, 3 dead, 4 sent and done."""
    saved = []
    for stage, category, code in (
        (Stage.A, ComplaintCategory.HAMBATAN_OSS, None),
        (Stage.C, ComplaintCategory.PERIZINAN_BERUSAHA, "job-portal"),
        (Stage.C, ComplaintCategory.PENGAWASAN, None),
        (Stage.C, ComplaintCategory.HAMBATAN_OSS, "job-portal"),
    ):
        saved.append(await receive(store, stage=stage, category=category, service_code=code))
        clock.advance(days=1)
    await set_delivery_state(engine, saved[1].id, "sent")
    await set_national_status(engine, saved[1].id, "Terverifikasi", at=clock.now)
    await set_delivery_state(engine, saved[2].id, "dead")
    await set_delivery_state(engine, saved[3].id, "sent")
    await set_national_status(engine, saved[3].id, "Selesai", at=clock.now, final=True)
    return saved


START = datetime(2024, 5, 6, 1, 2, 3, tzinfo=UTC)


@pytest.mark.parametrize(
    ("where", "expected"),
    [
        (ComplaintFilter(), [4, 3, 2, 1]),
        (ComplaintFilter(stages=["a"]), [1]),
        (ComplaintFilter(stages=[]), []),
        (ComplaintFilter(categories=["hambatan_oss", "pengawasan"]), [4, 3, 1]),
        (ComplaintFilter(service_code="job-portal"), [4, 2]),
        (ComplaintFilter(forward_states=["sent", "dead"]), [4, 3, 2]),
        (ComplaintFilter(destination_suspended=False), [4, 3, 2, 1]),
        (ComplaintFilter(final=True), [4]),
        (ComplaintFilter(final=False), [3, 2, 1]),
        (ComplaintFilter(external_status_in=["Selesai"]), [4]),
        (ComplaintFilter(external_status_not_in=["Selesai"]), [3, 2, 1]),
        (ComplaintFilter(received_from=START + timedelta(days=1)), [4, 3, 2]),
        (ComplaintFilter(received_to=START + timedelta(days=1)), [2, 1]),
        (
            ComplaintFilter(
                received_from=START + timedelta(days=1), received_to=START + timedelta(days=2)
            ),
            [3, 2],
        ),
        (ComplaintFilter(receipt_numbers=["PGD-1405-20240506-000003", "PGD-X"]), [3]),
        (ComplaintFilter(forward_states=["sent"], final=False), [2]),
    ],
)
async def test_complaints_are_listed_by_filter(
    store: Store, four: list[ComplaintRecord], where: ComplaintFilter, expected: list[int]
) -> None:
    listed = await store.list_complaints(where)

    assert [int(record.receipt_number[-6:]) for record in listed] == expected
    assert await store.count_complaints(where) == len(expected)


async def test_a_suspended_destination_is_a_filter_too(
    store: Store, four: list[ComplaintRecord]
) -> None:
    await store.set_suspended("lapor", True, actor="staff")

    listed = await store.list_complaints(
        ComplaintFilter(forward_states=["pending"], destination_suspended=True)
    )

    assert [record.id for record in listed] == [four[0].id]


async def test_lists_page_by_limit_and_offset_in_either_order(
    store: Store, four: list[ComplaintRecord]
) -> None:
    newest = await store.list_complaints(limit=2, offset=1)
    oldest = await store.list_complaints(limit=3, offset=0, newest_first=False)

    assert [record.id for record in newest] == [four[2].id, four[1].id]
    assert [record.id for record in oldest] == [four[0].id, four[1].id, four[2].id]


async def test_listed_complaints_carry_their_events(
    store: Store, four: list[ComplaintRecord]
) -> None:
    listed = await store.list_complaints(ComplaintFilter(final=True))

    assert [event.payload for event in listed[0].events] == [{"external_status": "Selesai"}]


@pytest.mark.parametrize(
    ("arguments", "problem"),
    [
        ({"limit": 0}, "limit 0 must be between 1 and 10000"),
        ({"offset": -1}, "offset -1 must not be negative"),
        (
            {"where": ComplaintFilter(received_from=datetime(2024, 5, 6))},
            "received_from datetime.datetime(2024, 5, 6, 0, 0) has no time zone",
        ),
    ],
)
async def test_bad_list_arguments_are_refused(
    store: Store, arguments: dict[str, Any], problem: str
) -> None:
    with pytest.raises(ValueError, match=f"^{re.escape(problem)}"):
        await store.list_complaints(**arguments)
