"""``ComplaintIntake`` on the real store, every backend: receipts, triage, wake-ups, views."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from oss_bridge.config import Settings
from oss_bridge.domain.complaint import ComplaintDraft, Reporter
from oss_bridge.domain.vocabulary import ComplaintCategory, ComplaintObject, Stage
from oss_bridge.errors import FieldErrors, NotFound
from oss_bridge.services.intake import ComplaintIntake
from oss_bridge.store import Store
from tests.api.support import (
    MONDAY,
    NOTHING,
    Wakes,
    set_delivery_state,
    set_national_status,
    stored,
)
from tests.factories import FakeClock, make_standard

LONG = "Permohonan izin usaha kami belum diproses sejak bulan lalu tanpa kabar apa pun."


@pytest.fixture
def wakes() -> Wakes:
    return Wakes()


@pytest.fixture
def intake(store: Store, settings: Settings, clock: FakeClock, wakes: Wakes) -> ComplaintIntake:
    clock.now = MONDAY
    return ComplaintIntake(store, settings, clock=clock, notify=wakes)


def draft(**changes: Any) -> ComplaintDraft:
    fields: dict[str, Any] = {
        "category": ComplaintCategory.HAMBATAN_OSS,
        "object": ComplaintObject.PEMERINTAH_KABUPATEN,
        "description": LONG,
        "reporter": Reporter(email="budi@contoh.co.id"),
    }
    fields.update(changes)
    return ComplaintDraft(**fields)


# --- submit ----------------------------------------------------------------------------------


async def test_a_complete_complaint_gets_its_receipt_at_stage_c(intake: ComplaintIntake) -> None:
    receipt = await intake.submit(draft())

    assert (receipt.receipt_number, receipt.stage) == ("PGD-1405-20261130-000001", Stage.C)
    view = await intake.get(receipt.id)
    assert (view.complaint.stage, view.complaint.priority, view.forward_state) == (
        Stage.C,
        "sedang",
        "pending",
    )
    assert [entry.stage for entry in view.history] == [Stage.A, Stage.B, Stage.C]


async def test_an_incomplete_complaint_gets_its_receipt_at_stage_a(intake: ComplaintIntake) -> None:
    receipt = await intake.submit(draft(reporter=None))

    view = await intake.get(receipt.id)
    assert receipt.stage is Stage.A
    assert [entry.kind for entry in view.history] == ["stage", "note"]
    assert view.history[1].text is not None
    assert "e-mail address or a phone number" in view.history[1].text


async def test_the_receipt_is_numbered_by_the_office_day(
    intake: ComplaintIntake, clock: FakeClock
) -> None:
    clock.now = datetime(2026, 11, 30, 18, 30, tzinfo=UTC)  # 01:30 on 1 December in WIB

    receipt = await intake.submit(draft())

    assert receipt.receipt_number == "PGD-1405-20261201-000001"


async def test_the_forwarder_is_woken_once_per_complaint(
    intake: ComplaintIntake, wakes: Wakes
) -> None:
    await intake.submit(draft())
    await intake.submit(draft())

    assert wakes.calls == 2


async def test_a_failing_wake_up_loses_no_complaint(
    store: Store, settings: Settings, clock: FakeClock, engine: AsyncEngine
) -> None:
    def broken() -> None:
        raise RuntimeError("forwarder gone")

    receipt = await ComplaintIntake(store, settings, clock=clock, notify=broken).submit(draft())

    assert (await store.get_complaint(receipt.id)) is not None
    assert (await stored(engine))["outbox"] == 1


async def test_fifty_concurrent_submits_get_fifty_consecutive_receipts(
    intake: ComplaintIntake, wakes: Wakes
) -> None:
    receipts = await asyncio.gather(*(intake.submit(draft()) for _ in range(50)))

    assert sorted(receipt.receipt_number for receipt in receipts) == [
        f"PGD-1405-20261130-{seq:06d}" for seq in range(1, 51)
    ]
    assert wakes.calls == 50


async def test_a_complaint_may_name_a_service_of_the_catalogue(
    intake: ComplaintIntake, store: Store
) -> None:
    standard = make_standard()
    await store.save_local_version(standard, origin="import", actor="staff")

    receipt = await intake.submit(draft(service_code=f" {standard.code} "))

    assert (await intake.get(receipt.id)).complaint.service_code == standard.code


async def test_an_unknown_service_is_refused_with_the_known_codes(
    intake: ComplaintIntake, store: Store, engine: AsyncEngine, wakes: Wakes
) -> None:
    await store.save_local_version(make_standard(), origin="import", actor="staff")

    with pytest.raises(FieldErrors) as caught:
        await intake.submit(draft(service_code="izin-tambang"))

    assert caught.value.errors == {
        "service_code": [
            "no service in the catalogue has the code 'izin-tambang'; use one of: "
            f"{make_standard().code}, or leave service_code out"
        ]
    }
    assert (await stored(engine))["complaints"] == 0
    assert wakes.calls == 0


async def test_a_withdrawn_service_is_refused(
    intake: ComplaintIntake, store: Store, engine: AsyncEngine
) -> None:
    standard = make_standard()
    await store.save_local_version(standard, origin="import", actor="staff")
    await store.mark_deleted(standard.code, actor="staff")

    with pytest.raises(FieldErrors) as caught:
        await intake.submit(draft(service_code=standard.code))

    assert caught.value.errors["service_code"] == [
        f"the service {standard.code!r} was withdrawn from the catalogue; the catalogue is "
        "empty, so leave service_code out"
    ]
    assert await stored(engine) == NOTHING


# --- reading ---------------------------------------------------------------------------------


async def test_a_complaint_is_found_by_its_receipt_number_as_people_type_it(
    intake: ComplaintIntake,
) -> None:
    receipt = await intake.submit(draft())

    assert (await intake.find(" pgd-1405-20261130-0000001 ")).complaint.id == receipt.id
    assert (await intake.find(str(receipt.id))).complaint.receipt_number == receipt.receipt_number


@pytest.mark.parametrize(
    ("reference", "message"),
    [
        ("404", "no complaint has the id 404; check the id or look the complaint up by its"),
        ("PGD-1405-20261130-000404", "no complaint has the receipt number 'PGD-1405-20261130"),
        ("nomor-saya", "no complaint can have that number: 'nomor-saya' is not a receipt number"),
    ],
)
async def test_an_unknown_complaint_is_not_found(
    intake: ComplaintIntake, reference: str, message: str
) -> None:
    with pytest.raises(NotFound) as caught:
        await intake.find(reference)

    assert str(caught.value).startswith(message)


async def test_deadlines_turn_overdue_as_the_clock_runs(
    intake: ComplaintIntake, clock: FakeClock
) -> None:
    receipt = await intake.submit(draft())

    clock.now = MONDAY + timedelta(days=4)  # Friday: three working days have ended

    view = await intake.get(receipt.id)
    assert view.overdue
    assert [d.name for d in view.deadlines if d.overdue] == ["verification"]


# --- listing ---------------------------------------------------------------------------------


@pytest.fixture
async def three(intake: ComplaintIntake, engine: AsyncEngine, clock: FakeClock) -> list[int]:
    """Three complaints a day apart: the first still waiting, the second verified and in
    progress, the third finished ("Selesai")."""
    ids = []
    for category in (
        ComplaintCategory.HAMBATAN_OSS,
        ComplaintCategory.PENGAWASAN,
        ComplaintCategory.HAMBATAN_OSS,
    ):
        ids.append((await intake.submit(draft(category=category, occurred_on=None))).id)
        clock.advance(days=1)
    await set_delivery_state(engine, ids[1], "sent")
    await set_national_status(engine, ids[1], "Terverifikasi", at=clock.now)
    await set_national_status(engine, ids[1], "Dalam Proses", at=clock.now)
    await set_delivery_state(engine, ids[2], "sent")
    await set_national_status(engine, ids[2], "Selesai", at=clock.now, final=True)
    return ids


@pytest.mark.parametrize(
    ("arguments", "expected"),
    [
        ({}, [2, 1, 0]),
        ({"newest_first": False}, [0, 1, 2]),
        ({"statuses": ["open"]}, [1, 0]),
        ({"statuses": ["closed"]}, [2]),
        ({"statuses": ["open", "closed"]}, [2, 1, 0]),
        ({"statuses": []}, []),
        ({"categories": ["pengawasan"]}, [1]),
        ({"stages": ["a"]}, [1]),
        ({"forward_state": "sent"}, [2, 1]),
        ({"forward_state": "pending"}, [0]),
        ({"limit": 1, "offset": 1}, [1]),
    ],
)
async def test_complaints_are_listed_by_what_people_ask(
    intake: ComplaintIntake, three: list[int], arguments: dict[str, Any], expected: list[int]
) -> None:
    listed = await intake.list(**arguments)

    assert [view.complaint.id for view in listed] == [three[i] for i in expected]


async def test_waiting_complaints_of_a_suspended_destination_are_listed_as_suspended(
    intake: ComplaintIntake, store: Store, three: list[int]
) -> None:
    await store.set_suspended("lapor", True, actor="staff")

    suspended = await intake.list(forward_state="suspended")
    pending = await intake.list(forward_state="pending")

    assert [view.complaint.id for view in suspended] == [three[0]]
    assert suspended[0].forward_state == "suspended"
    assert pending == []


async def test_only_overdue_complaints_are_listed_when_asked(
    intake: ComplaintIntake, three: list[int], clock: FakeClock
) -> None:
    clock.now = MONDAY + timedelta(days=7)  # the next Monday

    overdue = await intake.list(overdue=True)

    # The first was never verified; the second was, and is within its other deadlines; the
    # third is finished. Pengawasan without a date stays at stage a, which changes nothing here.
    assert [view.complaint.id for view in overdue] == [three[0]]


@pytest.mark.parametrize(
    ("arguments", "field", "message"),
    [
        ({"stages": ["z"]}, "stage", "'z' is not a stage; use one of: a, b, c, d, e, f, g"),
        ({"statuses": ["pending"]}, "status", "'pending' is not a status; use open or closed"),
        (
            {"categories": ["keluhan"]},
            "category",
            "'keluhan' is not a complaint category; use one of: perizinan_berusaha,",
        ),
        ({"forward_state": "lost"}, "forward_state", "'lost' is not a forward state; use one of:"),
        ({"limit": 1001}, "limit", "1001 is out of range; ask for 1 to 1000 complaints"),
        ({"offset": -5}, "offset", "-5 must not be negative"),
        (
            {"received_from": datetime(2026, 11, 30)},
            "received_from",
            "'2026-11-30T00:00:00' has no time zone; add one, like +07:00",
        ),
    ],
)
async def test_bad_list_arguments_are_named(
    intake: ComplaintIntake, arguments: dict[str, Any], field: str, message: str
) -> None:
    with pytest.raises(FieldErrors) as caught:
        await intake.list(**arguments)

    assert list(caught.value.errors) == [field]
    assert caught.value.errors[field][0].startswith(message)
