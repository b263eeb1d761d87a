"""The complaint channel client against scripted answers (respx): requests sent, answers read."""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta, timezone
from typing import Any

import pytest
import respx
from structlog.testing import capture_logs

from oss_bridge.clients import (
    ChannelComplaint,
    CreatedComplaint,
    FollowUp,
    FoundComplaint,
    LaporClient,
    MasterItem,
    StatusChange,
)
from oss_bridge.clients.lapor_wire import complaint_to_wire
from oss_bridge.errors import MalformedResponse, RequestRejected, ValidationRejected
from tests.clients.support import make_complaint

WIB = timezone(timedelta(hours=7))
CREATED = {"results": {"complaint_id": 9001, "tracking_id": "LAPOR-9001"}}


def _create(api: respx.MockRouter) -> respx.Route:
    return api.post("/complaints/complaint")


def sent_json(route: respx.Route) -> Any:
    return json.loads(route.calls.last.request.content)


async def test_a_complaint_is_created_with_credentials_key_and_our_receipt_as_reference(
    lapor: LaporClient, lapor_api: respx.MockRouter
) -> None:
    route = _create(lapor_api).respond(201, json=CREATED)

    created = await lapor.create_complaint(make_complaint(7), category_id="105")

    assert created == CreatedComplaint(complaint_id="9001", tracking_id="LAPOR-9001")
    request = route.calls.last.request
    assert request.url == "http://lapor.test/lapor/complaints/complaint"
    assert request.headers["Authorization"] == "Bearer demo-auth-value"
    assert request.headers["token"] == "demo-token"
    assert request.headers["Idempotency-Key"] == "oss-bridge-PGD-1405-20250106-000007"
    assert sent_json(route) == {
        "title": "PGD-1405-20250106-000007 - Pengaduan terhadap hambatan dan permasalahan "
        "dalam penggunaan Sistem OSS",
        "content": "Permohonan NIB saya tertahan sejak dua minggu tanpa kabar.\n\n"
        "Objek pengaduan: Pemerintah Kabupaten\n"
        "Layanan: SP-1405-000001\n"
        "Pelapor: Siti Aminah\n"
        "Nomor tanda terima: PGD-1405-20250106-000007",
        "category_id": "105",
        "disposition_id": "1405",
        "is_anonymous": False,
        "is_secret": False,
        "date_of_incident": "2025-01-02",
        "external_reference": "PGD-1405-20250106-000007",
    }


async def test_an_anonymous_secret_complaint_names_no_reporter_and_says_so(
    lapor: LaporClient, lapor_api: respx.MockRouter
) -> None:
    route = _create(lapor_api).respond(201, json=CREATED)
    complaint = make_complaint(anonymous=True, secret=True, occurred_on=None, service_code=None)

    await lapor.create_complaint(complaint, category_id="105")

    body = sent_json(route)
    assert (body["is_anonymous"], body["is_secret"], body["date_of_incident"]) == (True, True, None)
    assert "Siti" not in body["content"]
    assert "Layanan:" not in body["content"]


async def test_contact_details_never_leave_the_region(
    lapor: LaporClient, lapor_api: respx.MockRouter
) -> None:
    route = _create(lapor_api).respond(201, json=CREATED)

    await lapor.create_complaint(make_complaint(), category_id="105")

    sent = route.calls.last.request.content.decode()
    assert "siti@contoh.id" not in sent
    assert "081234567890" not in sent


def test_a_long_title_is_shortened_to_the_channels_limit() -> None:
    complaint = make_complaint(category="penyalahgunaan_oss")

    title = complaint_to_wire(complaint, category_id="1", disposition_id="2", title_max=40).title

    assert title == "PGD-1405-20250106-000001 - Penyalahgu..."
    assert len(title) == 40


async def test_an_explicit_idempotency_key_and_disposition_are_sent_as_given(
    lapor: LaporClient, lapor_api: respx.MockRouter
) -> None:
    route = _create(lapor_api).respond(201, json=CREATED)

    await lapor.create_complaint(
        make_complaint(), category_id="105", idempotency_key="outbox-17", disposition_id="14"
    )

    assert route.calls.last.request.headers["Idempotency-Key"] == "outbox-17"
    assert sent_json(route)["disposition_id"] == "14"


async def test_a_blank_category_is_refused_before_anything_is_sent(
    lapor: LaporClient, lapor_api: respx.MockRouter
) -> None:
    route = _create(lapor_api)

    with pytest.raises(ValueError, match="' '"):
        await lapor.create_complaint(make_complaint(), category_id=" ")

    assert route.call_count == 0


async def test_field_errors_of_a_refused_complaint_are_kept(
    lapor: LaporClient, lapor_api: respx.MockRouter
) -> None:
    _create(lapor_api).respond(
        422,
        json={
            "message": "The given data was invalid.",
            "errors": {"category_id": ["The selected category id is invalid."]},
        },
    )

    with pytest.raises(ValidationRejected, match="given data was invalid") as caught:
        await lapor.create_complaint(make_complaint(), category_id="777")

    assert caught.value.errors == {"category_id": ["The selected category id is invalid."]}


async def test_a_validation_refusal_without_field_errors_has_none(
    lapor: LaporClient, lapor_api: respx.MockRouter
) -> None:
    _create(lapor_api).respond(422, text="Unprocessable")

    with pytest.raises(ValidationRejected) as caught:
        await lapor.create_complaint(make_complaint(), category_id="777")

    assert caught.value.errors == {}


# --- look-up by external reference ---------------------------------------------------------


def _found(*rows: dict[str, Any]) -> dict[str, Any]:
    return {"results": {"data": list(rows)}}


def _row(complaint_id: Any, reference: str = "PGD-1405-20250106-000001") -> dict[str, Any]:
    return {
        "complaint_id": complaint_id,
        "tracking_id": f"LAPOR-{complaint_id}",
        "external_reference": reference,
        "status_name": "Belum Terverifikasi",
    }


async def test_a_complaint_is_found_by_our_receipt_number(
    lapor: LaporClient, lapor_api: respx.MockRouter
) -> None:
    route = lapor_api.get("/complaints").respond(200, json=_found(_row(9001)))

    found = await lapor.find_by_external_reference("PGD-1405-20250106-000001")

    assert found == FoundComplaint(
        complaint_id="9001",
        tracking_id="LAPOR-9001",
        external_reference="PGD-1405-20250106-000001",
        status_name="Belum Terverifikasi",
    )
    assert route.calls.last.request.url.params["external_reference"] == "PGD-1405-20250106-000001"


async def test_no_complaint_under_a_receipt_number_is_none(
    lapor: LaporClient, lapor_api: respx.MockRouter
) -> None:
    lapor_api.get("/complaints").respond(200, json=_found())

    assert await lapor.find_by_external_reference("PGD-1405-20250106-000001") is None


async def test_rows_for_another_reference_are_not_taken_for_ours(
    lapor: LaporClient, lapor_api: respx.MockRouter
) -> None:
    lapor_api.get("/complaints").respond(
        200, json=_found(_row(1, reference="PGD-1405-20250106-000002"))
    )

    assert await lapor.find_by_external_reference("PGD-1405-20250106-000001") is None


async def test_duplicates_on_the_channel_give_the_first_and_are_logged(
    lapor: LaporClient, lapor_api: respx.MockRouter
) -> None:
    lapor_api.get("/complaints").respond(200, json=_found(_row(1), _row(2)))

    with capture_logs() as logs:
        found = await lapor.find_by_external_reference("PGD-1405-20250106-000001")

    assert found is not None
    assert found.complaint_id == "1"
    assert [(e["event"], e["complaint_ids"]) for e in logs] == [
        ("duplicate complaints on the channel", ["1", "2"])
    ]


# --- detail, follow-ups, masters ------------------------------------------------------------


async def test_a_complaints_status_and_transitions_are_read_in_jakarta_time(
    lapor: LaporClient, lapor_api: respx.MockRouter
) -> None:
    route = lapor_api.get("/complaints/9001/complaint").respond(
        200,
        json={
            "results": {
                "data": {
                    "complaint_id": 9001,
                    "tracking_id": "LAPOR-9001",
                    "status_code": 3,
                    "status_name": "Dalam Proses",
                    "disposition_name": "DPMPTSP Kabupaten Pelalawan",
                    "updated_at": "2025-01-07 10:30:00",
                },
                "data_logs": [
                    {
                        "status_code": "2",
                        "status_name": "Terverifikasi",
                        "created_at": "07-01-2025 09:00:00",
                    },
                    {
                        "status_code": 1,
                        "status_name": "Belum Terverifikasi",
                        "created_at": "2025-01-06T08:00:00+07:00",
                        "note": "diterima",
                    },
                ],
            }
        },
    )

    complaint = await lapor.complaint("9001")

    assert route.call_count == 1
    assert complaint == ChannelComplaint(
        complaint_id="9001",
        tracking_id="LAPOR-9001",
        status_code="3",
        status_name="Dalam Proses",
        disposition_name="DPMPTSP Kabupaten Pelalawan",
        updated_at=datetime(2025, 1, 7, 10, 30, tzinfo=WIB),
        logs=(
            StatusChange(
                "1", "Belum Terverifikasi", datetime(2025, 1, 6, 8, 0, tzinfo=WIB), "diterima"
            ),
            StatusChange("2", "Terverifikasi", datetime(2025, 1, 7, 9, 0, tzinfo=WIB), None),
        ),
    )


async def test_a_complaint_id_is_escaped_into_the_path(
    lapor: LaporClient, lapor_api: respx.MockRouter
) -> None:
    route = lapor_api.get(url__regex=r".*/complaints/.*/followups").respond(
        200, json={"results": {"data": []}}
    )

    await lapor.followups("a/b c")

    assert route.calls.last.request.url.raw_path == b"/lapor/complaints/a%2Fb%20c/followups"


async def test_follow_ups_are_read_with_their_d_m_y_times_oldest_first(
    lapor: LaporClient, lapor_api: respx.MockRouter
) -> None:
    lapor_api.get("/complaints/9001/followups").respond(
        200,
        json={
            "results": {
                "data": [
                    {"id": 2, "content": "Sudah ditangani", "created_at": "08-01-2025 14:05:09"},
                    {"id": "1", "content": "Sedang diperiksa", "created_at": "07-01-2025 09:00:00"},
                ]
            }
        },
    )

    followups = await lapor.followups("9001")

    assert followups == (
        FollowUp("1", "Sedang diperiksa", datetime(2025, 1, 7, 9, 0, tzinfo=WIB)),
        FollowUp("2", "Sudah ditangani", datetime(2025, 1, 8, 14, 5, 9, tzinfo=WIB)),
    )


@pytest.mark.parametrize(
    "created_at",
    ["2025/01/07 09:00", "31-02-2025 09:00:00", "07-01-2025", 1736215200, None],
)
async def test_a_follow_up_time_in_no_known_form_makes_the_answer_malformed(
    lapor: LaporClient, lapor_api: respx.MockRouter, created_at: Any
) -> None:
    lapor_api.get("/complaints/9001/followups").respond(
        200, json={"results": {"data": [{"id": 1, "content": "x", "created_at": created_at}]}}
    )

    with pytest.raises(MalformedResponse, match="created_at"):
        await lapor.followups("9001")


async def test_an_unknown_complaint_is_a_refusal_with_status_404(
    lapor: LaporClient, lapor_api: respx.MockRouter
) -> None:
    lapor_api.get("/complaints/404/complaint").respond(404, json={"message": "Not found"})

    with pytest.raises(RequestRejected, match="Not found") as caught:
        await lapor.complaint("404")

    assert caught.value.status == 404


@pytest.mark.parametrize(
    ("method", "path"),
    [("categories", "/masters/categories"), ("institutions", "/masters/institutions/external")],
)
async def test_master_tables_are_read_whole_with_ids_as_text(
    lapor: LaporClient, lapor_api: respx.MockRouter, method: str, path: str
) -> None:
    route = lapor_api.get(path).respond(
        200, json={"results": {"data": [{"id": 101, "name": "A"}, {"id": "K-1", "name": "B"}]}}
    )

    items = await getattr(lapor, method)()

    assert items == (MasterItem("101", "A"), MasterItem("K-1", "B"))
    assert route.calls.last.request.url.params["page_size"] == "1000"


def test_the_wire_date_of_incident_is_an_iso_date() -> None:
    body = complaint_to_wire(
        make_complaint(occurred_on=date(2024, 12, 31)), category_id="1", disposition_id="2"
    )

    assert body.date_of_incident == "2024-12-31"
