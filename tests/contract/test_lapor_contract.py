"""The complaint channel client against the mock channel, operation by operation (DESIGN.md 3.2)."""

from __future__ import annotations

import pytest

from oss_bridge.domain import ComplaintCategory
from oss_bridge.errors import AuthenticationFailed, RequestRejected, ValidationRejected
from tests.clients.support import make_complaint
from tests.contract.conftest import Systems, SystemsFactory

CATEGORY = "105"


async def test_a_created_complaint_is_held_once_under_our_receipt_number(
    systems: Systems,
) -> None:
    complaint = make_complaint(3)

    created = await systems.lapor.create_complaint(complaint, category_id=CATEGORY)

    (held,) = (await systems.state())["complaints"]
    assert held == {
        "complaint_id": created.complaint_id,
        "external_reference": complaint.receipt_number,
        "create_calls": 1,
        "status_name": "Belum Terverifikasi",
    }
    assert created.tracking_id


async def test_a_complaint_is_found_by_our_receipt_number(systems: Systems) -> None:
    complaint = make_complaint(3)
    created = await systems.lapor.create_complaint(complaint, category_id=CATEGORY)

    found = await systems.lapor.find_by_external_reference(complaint.receipt_number)

    assert found is not None
    assert (found.complaint_id, found.tracking_id, found.external_reference) == (
        created.complaint_id,
        created.tracking_id,
        complaint.receipt_number,
    )


async def test_a_receipt_number_the_channel_never_saw_is_not_found(systems: Systems) -> None:
    await systems.lapor.create_complaint(make_complaint(1), category_id=CATEGORY)

    assert await systems.lapor.find_by_external_reference(make_complaint(2).receipt_number) is None


async def test_sending_the_same_complaint_twice_creates_it_once(systems: Systems) -> None:
    complaint = make_complaint(4)

    first = await systems.lapor.create_complaint(complaint, category_id=CATEGORY)
    second = await systems.lapor.create_complaint(complaint, category_id=CATEGORY)

    assert first == second
    assert len((await systems.state())["complaints"]) == 1


async def test_a_new_complaint_is_unverified_with_one_logged_transition(systems: Systems) -> None:
    created = await systems.lapor.create_complaint(make_complaint(), category_id=CATEGORY)

    detail = await systems.lapor.complaint(created.complaint_id)

    assert (detail.complaint_id, detail.status_name) == (
        created.complaint_id,
        "Belum Terverifikasi",
    )
    assert detail.disposition_name == "DPMPTSP Kabupaten Pelalawan"
    assert [log.status_name for log in detail.logs] == ["Belum Terverifikasi"]
    assert detail.updated_at == systems.time.now().replace(microsecond=0)


async def test_status_moves_and_follow_ups_come_back_in_order(systems: Systems) -> None:
    created = await systems.lapor.create_complaint(make_complaint(), category_id=CATEGORY)
    for status in ("Terverifikasi", "Dalam Proses", "Selesai"):
        systems.time.advance(3600)
        await systems.advance(created.complaint_id, status)

    detail = await systems.lapor.complaint(created.complaint_id)
    followups = await systems.lapor.followups(created.complaint_id)

    assert detail.status_name == "Selesai"
    assert [log.status_name for log in detail.logs] == [
        "Belum Terverifikasi",
        "Terverifikasi",
        "Dalam Proses",
        "Selesai",
    ]
    assert [log.at for log in detail.logs] == sorted(log.at for log in detail.logs)
    assert len(followups) == 2
    assert followups[0].created_at < followups[1].created_at
    assert followups[-1].created_at == detail.updated_at


async def test_the_categories_include_every_one_of_ours_by_label(systems: Systems) -> None:
    names = {item.name for item in await systems.lapor.categories()}

    assert {category.label for category in ComplaintCategory} <= names


async def test_the_institutions_include_our_default_disposition(systems: Systems) -> None:
    ids = {item.id for item in await systems.lapor.institutions()}

    assert systems.lapor.disposition_id in ids


async def test_an_unknown_category_is_refused_with_its_field_named(systems: Systems) -> None:
    with pytest.raises(ValidationRejected) as caught:
        await systems.lapor.create_complaint(make_complaint(), category_id="777")

    assert set(caught.value.errors) == {"category_id"}
    assert (await systems.state())["complaints"] == []


async def test_an_unknown_complaint_is_refused_with_404(systems: Systems) -> None:
    with pytest.raises(RequestRejected) as caught:
        await systems.lapor.complaint("424242")

    assert caught.value.status == 404


async def test_wrong_credentials_name_the_config_keys_to_check(
    make_systems: SystemsFactory,
) -> None:
    systems: Systems = await make_systems(auth_value="stale")

    with pytest.raises(AuthenticationFailed, match=r"check lapor\.auth_value and lapor\.token"):
        await systems.lapor.categories()
