"""The mock complaint channel (DESIGN.md 3.2): auth, create, idempotency, lookup, lifecycle."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.mock._support import (
    ABSENT,
    LAPOR_AUTH,
    FakeClock,
    complaint_body,
    create_complaint,
    mock_client,
    mock_state,
)

PUBLISHED_CATEGORIES = {
    "Pelaksanaan Perizinan Berusaha Berbasis Risiko",
    "Pelaksanaan kegiatan usaha",
    "Pelaksanaan kegiatan Pengawasan",
    "Penyalahgunaan penggunaan Sistem OSS yang tidak sesuai dengan ketentuan perundang-undangan",
    "Pengaduan terhadap hambatan dan permasalahan dalam penggunaan Sistem OSS",
}


async def detail(client: httpx.AsyncClient, complaint_id: str) -> dict[str, Any]:
    response = await client.get(f"/lapor/complaints/{complaint_id}/complaint", headers=LAPOR_AUTH)
    assert response.status_code == 200, response.text
    results: dict[str, Any] = response.json()["results"]
    return results


async def followups(client: httpx.AsyncClient, complaint_id: str) -> list[dict[str, Any]]:
    response = await client.get(f"/lapor/complaints/{complaint_id}/followups", headers=LAPOR_AUTH)
    assert response.status_code == 200, response.text
    data: list[dict[str, Any]] = response.json()["results"]["data"]
    return data


async def created_id(client: httpx.AsyncClient, **changes: Any) -> str:
    response = await create_complaint(client, **changes)
    assert response.status_code == 201, response.text
    complaint_id: str = response.json()["results"]["complaint_id"]
    return complaint_id


async def advance(client: httpx.AsyncClient, **body: Any) -> httpx.Response:
    return await client.post("/_mock/advance", json=body)


ENDPOINT_CALLS = [
    ("POST", "/lapor/complaints/complaint"),
    ("GET", "/lapor/complaints?external_reference=X"),
    ("GET", "/lapor/complaints/100001/complaint"),
    ("GET", "/lapor/complaints/100001/followups"),
    ("GET", "/lapor/masters/categories?page_size=1000"),
    ("GET", "/lapor/masters/institutions/external?page_size=1000"),
]
BAD_CREDENTIALS = {
    "none": {},
    "no-token": {"Authorization": "Bearer demo-auth-value"},
    "no-authorization": {"token": "demo-token"},
    "wrong-bearer": {"Authorization": "Bearer nope", "token": "demo-token"},
    "wrong-token": {"Authorization": "Bearer demo-auth-value", "token": "nope"},
    "not-bearer": {"Authorization": "Basic demo-auth-value", "token": "demo-token"},
}


@pytest.mark.parametrize("credentials", BAD_CREDENTIALS.values(), ids=BAD_CREDENTIALS.keys())
@pytest.mark.parametrize(("method", "url"), ENDPOINT_CALLS)
async def test_every_endpoint_refuses_a_request_without_both_credentials(
    method: str, url: str, credentials: dict[str, str]
) -> None:
    async with mock_client() as client:
        response = await client.request(method, url, json=complaint_body(), headers=credentials)
        state = await mock_state(client)
    assert response.status_code == 401
    assert response.json() == {"message": "Unauthenticated."}
    assert state["complaints"] == []


async def test_the_bearer_scheme_is_case_insensitive() -> None:
    async with mock_client() as client:
        response = await client.get(
            "/lapor/masters/categories",
            headers={"Authorization": "bearer demo-auth-value", "token": "demo-token"},
        )
    assert response.status_code == 200


async def test_a_valid_complaint_is_created_with_201_and_its_ids() -> None:
    async with mock_client() as client:
        response = await create_complaint(client)
        state = await mock_state(client)
    assert response.status_code == 201
    results = response.json()["results"]
    assert set(results) == {"complaint_id", "tracking_id"}
    assert all(isinstance(v, str) and v for v in results.values())
    assert state["complaints"] == [
        {
            "complaint_id": results["complaint_id"],
            "external_reference": "PGD-1405-20250106-000001",
            "create_calls": 1,
            "status_name": "Belum Terverifikasi",
        }
    ]


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"title": ABSENT}, "title", "The title field is required."),
        ({"title": "   "}, "title", "The title field is required."),
        ({"title": 5}, "title", "The title must be a string."),
        ({"title": "x" * 151}, "title", "The title may not be greater than 150 characters."),
        ({"content": ABSENT}, "content", "The content field is required."),
        ({"category_id": ABSENT}, "category_id", "The category_id field is required."),
        ({"category_id": "satu"}, "category_id", "The category_id must be an integer."),
        ({"category_id": True}, "category_id", "The category_id must be an integer."),
        ({"category_id": 7}, "category_id", "The selected category_id is invalid."),
        ({"disposition_id": ABSENT}, "disposition_id", "The disposition_id field is required."),
        ({"disposition_id": "0000"}, "disposition_id", "The selected disposition_id is invalid."),
        ({"disposition_id": ["1405"]}, "disposition_id", "The selected disposition_id is invalid."),
        ({"is_anonymous": "yes"}, "is_anonymous", "The is_anonymous field must be true or false."),
        ({"is_secret": 2}, "is_secret", "The is_secret field must be true or false."),
        (
            {"date_of_incident": "06-01-2025"},
            "date_of_incident",
            "The date_of_incident does not match the format Y-m-d.",
        ),
        (
            {"date_of_incident": "2025-02-30"},
            "date_of_incident",
            "The date_of_incident does not match the format Y-m-d.",
        ),
        (
            {"date_of_incident": "2025-01-07"},
            "date_of_incident",
            "The date_of_incident must be a date before or equal to today.",
        ),
        (
            {"external_reference": 12},
            "external_reference",
            "The external_reference must be a string.",
        ),
        (
            {"external_reference": "R" * 101},
            "external_reference",
            "The external_reference may not be greater than 100 characters.",
        ),
    ],
)
async def test_an_invalid_complaint_is_422_with_field_errors_and_nothing_stored(
    changes: dict[str, Any], field: str, message: str
) -> None:
    async with mock_client() as client:
        response = await create_complaint(client, **changes)
        state = await mock_state(client)
    assert response.status_code == 422
    assert response.json() == {
        "message": "The given data was invalid.",
        "errors": {field: [message]},
    }
    assert state["complaints"] == []


async def test_every_invalid_field_is_reported_at_once() -> None:
    async with mock_client() as client:
        response = await client.post(
            "/lapor/complaints/complaint", json={"is_secret": "maybe"}, headers=LAPOR_AUTH
        )
    assert set(response.json()["errors"]) == {
        "title",
        "content",
        "category_id",
        "disposition_id",
        "is_secret",
    }


@pytest.mark.parametrize("body", [b"not json", b"[1, 2]", b'"text"'])
async def test_a_body_that_is_not_a_json_object_is_422(body: bytes) -> None:
    async with mock_client() as client:
        response = await client.post(
            "/lapor/complaints/complaint", content=body, headers=LAPOR_AUTH
        )
    assert response.status_code == 422
    assert response.json()["message"] == "The given data was invalid."


@pytest.mark.parametrize(
    ("given", "stored"),
    [
        (True, True),
        (False, False),
        (1, True),
        (0, False),
        ("1", True),
        ("false", False),
        (None, False),
    ],
)
async def test_flags_accept_the_boolean_forms_laravel_accepts(given: object, stored: bool) -> None:
    async with mock_client() as client:
        complaint_id = await created_id(client, is_anonymous=given, is_secret=given)
        data = (await detail(client, complaint_id))["data"]
    assert data["is_anonymous"] is stored
    assert data["is_secret"] is stored


async def test_optional_fields_may_be_left_out() -> None:
    async with mock_client() as client:
        complaint_id = await created_id(
            client,
            is_anonymous=ABSENT,
            is_secret=ABSENT,
            date_of_incident=ABSENT,
            external_reference=ABSENT,
        )
        data = (await detail(client, complaint_id))["data"]
    assert data["external_reference"] is None
    assert data["date_of_incident"] is None


async def test_the_same_idempotency_key_and_body_get_the_first_answer_and_no_second_complaint() -> (
    None
):
    async with mock_client() as client:
        first = await create_complaint(client, key="key-1")
        again = await create_complaint(client, key="key-1")
        state = await mock_state(client)
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json()
    assert again.headers["Idempotent-Replayed"] == "true"
    assert "Idempotent-Replayed" not in first.headers
    assert len(state["complaints"]) == 1
    assert state["complaints"][0]["create_calls"] == 2


async def test_the_same_idempotency_key_with_another_body_is_422_and_creates_nothing() -> None:
    async with mock_client() as client:
        first = await create_complaint(client, key="key-1")
        other = await create_complaint(client, key="key-1", title="Judul lain")
        state = await mock_state(client)
    assert first.status_code == 201
    assert other.status_code == 422
    assert list(other.json()["errors"]) == ["Idempotency-Key"]
    assert len(state["complaints"]) == 1


async def test_idempotency_compares_bodies_by_content_not_key_order() -> None:
    body = complaint_body()
    reordered = dict(reversed(list(body.items())))
    headers = {**LAPOR_AUTH, "Idempotency-Key": "key-1"}
    async with mock_client() as client:
        first = await client.post("/lapor/complaints/complaint", json=body, headers=headers)
        again = await client.post("/lapor/complaints/complaint", json=reordered, headers=headers)
        state = await mock_state(client)
    assert again.json() == first.json()
    assert len(state["complaints"]) == 1


async def test_different_idempotency_keys_create_different_complaints() -> None:
    async with mock_client() as client:
        first = await create_complaint(client, key="key-1")
        second = await create_complaint(client, key="key-2")
    assert first.json() != second.json()


async def test_a_rejected_create_does_not_claim_its_idempotency_key() -> None:
    async with mock_client() as client:
        rejected = await create_complaint(client, key="key-1", title=ABSENT)
        fixed = await create_complaint(client, key="key-1")
    assert rejected.status_code == 422
    assert fixed.status_code == 201


async def test_without_an_idempotency_key_a_resend_creates_a_duplicate_as_the_real_channel_does() -> (
    None
):
    async with mock_client() as client:
        await create_complaint(client)
        await create_complaint(client)
        state = await mock_state(client)
    assert len(state["complaints"]) == 2
    assert [c["create_calls"] for c in state["complaints"]] == [2, 2]


async def test_lookup_by_external_reference_finds_the_complaint() -> None:
    async with mock_client() as client:
        complaint_id = await created_id(client, external_reference="PGD-1")
        await created_id(client, external_reference="PGD-2")
        found = await client.get(
            "/lapor/complaints", params={"external_reference": "PGD-1"}, headers=LAPOR_AUTH
        )
        missing = await client.get(
            "/lapor/complaints", params={"external_reference": "PGD-3"}, headers=LAPOR_AUTH
        )
    data = found.json()["results"]["data"]
    assert [c["complaint_id"] for c in data] == [complaint_id]
    assert data[0]["external_reference"] == "PGD-1"
    assert missing.json()["results"]["data"] == []


async def test_the_complaint_detail_shows_its_status_and_status_log() -> None:
    async with mock_client() as client:
        complaint_id = await created_id(client)
        results = await detail(client, complaint_id)
    data = results["data"]
    assert data["complaint_id"] == complaint_id
    assert data["status_name"] == "Belum Terverifikasi"
    assert isinstance(data["status_code"], int)
    assert data["disposition_name"] == "DPMPTSP Kabupaten Pelalawan"
    assert data["updated_at"] == "2025-01-06 09:00:00"
    assert [log["status_name"] for log in results["data_logs"]] == ["Belum Terverifikasi"]


@pytest.mark.parametrize("view", ["complaint", "followups"])
async def test_an_unknown_complaint_is_404(view: str) -> None:
    async with mock_client() as client:
        response = await client.get(f"/lapor/complaints/999/{view}", headers=LAPOR_AUTH)
    assert response.status_code == 404
    assert "999" in response.json()["message"]


async def test_an_unknown_path_under_lapor_is_404() -> None:
    async with mock_client() as client:
        response = await client.get("/lapor/nothing-here", headers=LAPOR_AUTH)
    assert response.status_code == 404


async def test_followups_are_dated_d_m_y_in_jakarta_time() -> None:
    clock = FakeClock()
    async with mock_client(clock=clock) as client:
        complaint_id = await created_id(client)
        clock.advance(hours=16, minutes=30, seconds=5)
        await advance(client, complaint_id=complaint_id, to="Dalam Proses")
        items = await followups(client, complaint_id)
    # 2025-01-06 18:30:05 UTC is 01:30:05 on the next day in Jakarta.
    assert [item["created_at"] for item in items] == ["07-01-2025 01:30:05"]
    assert set(items[0]) == {"id", "content", "created_at"}


async def test_the_categories_include_the_five_published_ones() -> None:
    async with mock_client() as client:
        response = await client.get(
            "/lapor/masters/categories", params={"page_size": 1000}, headers=LAPOR_AUTH
        )
    names = {row["name"] for row in response.json()["results"]["data"]}
    assert names >= PUBLISHED_CATEGORIES


async def test_the_institutions_include_the_office_as_1405() -> None:
    async with mock_client() as client:
        response = await client.get(
            "/lapor/masters/institutions/external",
            params={"page_size": 1000},
            headers=LAPOR_AUTH,
        )
    rows = response.json()["results"]["data"]
    assert {"id": "1405", "name": "DPMPTSP Kabupaten Pelalawan"} in rows


async def test_masters_are_paged() -> None:
    async with mock_client() as client:
        first = await client.get(
            "/lapor/masters/categories", params={"page_size": 4}, headers=LAPOR_AUTH
        )
        third = await client.get(
            "/lapor/masters/categories", params={"page_size": 4, "page": 3}, headers=LAPOR_AUTH
        )
    assert len(first.json()["results"]["data"]) == 4
    assert third.json()["results"]["total"] == 9
    assert len(third.json()["results"]["data"]) == 1


@pytest.mark.parametrize(
    "params", [{"page": "0"}, {"page": "x"}, {"page_size": "1001"}, {"page_size": "-1"}]
)
async def test_bad_paging_is_422(params: dict[str, str]) -> None:
    async with mock_client() as client:
        response = await client.get("/lapor/masters/categories", params=params, headers=LAPOR_AUTH)
    assert response.status_code == 422
    assert set(response.json()["errors"]) == set(params)


async def test_advancing_without_a_target_walks_the_main_path_to_selesai() -> None:
    async with mock_client() as client:
        complaint_id = await created_id(client)
        walked = []
        for _ in range(3):
            response = await advance(client, complaint_id=complaint_id)
            walked.append(response.json()["moved"][0]["status_name"])
        final = await advance(client, complaint_id=complaint_id)
        results = await detail(client, complaint_id)
    assert walked == ["Terverifikasi", "Dalam Proses", "Selesai"]
    assert final.status_code == 409
    assert [log["status_name"] for log in results["data_logs"]] == [
        "Belum Terverifikasi",
        "Terverifikasi",
        "Dalam Proses",
        "Selesai",
    ]
    assert results["data"]["status_name"] == "Selesai"


async def test_reaching_dalam_proses_and_selesai_adds_follow_ups() -> None:
    async with mock_client() as client:
        complaint_id = await created_id(client)
        await advance(client, complaint_id=complaint_id, to="Terverifikasi")
        after_verification = await followups(client, complaint_id)
        await advance(client, complaint_id=complaint_id, to="Dalam Proses")
        await advance(client, complaint_id=complaint_id, to="Selesai")
        items = await followups(client, complaint_id)
    assert after_verification == []
    assert len(items) == 2
    assert all("DPMPTSP Kabupaten Pelalawan" in item["content"] for item in items)


async def test_an_advance_may_bring_its_own_follow_up_text() -> None:
    async with mock_client() as client:
        complaint_id = await created_id(client)
        await advance(client, complaint_id=complaint_id, followup="Mohon lengkapi dokumen.")
        items = await followups(client, complaint_id)
    assert [item["content"] for item in items] == ["Mohon lengkapi dokumen."]


@pytest.mark.parametrize(
    ("path", "to", "allowed"),
    [
        ([], "Terverifikasi", True),
        ([], "Selesai", True),
        ([], "Ditolak", True),
        ([], "Diarsipkan", True),
        (["Dalam Proses"], "Ditolak", True),
        (["Dalam Proses"], "Diarsipkan", True),
        (["Dalam Proses"], "Terverifikasi", False),
        ([], "Belum Terverifikasi", False),
        (["Selesai"], "Diarsipkan", False),
        (["Ditolak"], "Terverifikasi", False),
        (["Diarsipkan"], "Selesai", False),
        ([], "Dihapus", False),
    ],
)
async def test_a_complaint_only_moves_forward_and_never_out_of_a_final_status(
    path: list[str], to: str, allowed: bool
) -> None:
    async with mock_client() as client:
        complaint_id = await created_id(client)
        for step in path:
            await advance(client, complaint_id=complaint_id, to=step)
        before = (await detail(client, complaint_id))["data"]["status_name"]
        response = await advance(client, complaint_id=complaint_id, to=to)
        after = (await detail(client, complaint_id))["data"]["status_name"]
    assert (response.status_code == 200) is allowed
    assert after == (to if allowed else before)
    if not allowed:
        assert response.status_code == 409


async def test_advancing_an_unknown_complaint_is_404() -> None:
    async with mock_client() as client:
        response = await advance(client, complaint_id="999", to="Selesai")
    assert response.status_code == 404


async def test_advancing_all_moves_every_complaint_that_can_move() -> None:
    async with mock_client() as client:
        open_id = await created_id(client, external_reference="A")
        closed_id = await created_id(client, external_reference="B")
        await advance(client, complaint_id=closed_id, to="Ditolak")
        response = await advance(client, complaint_id=None, to="Terverifikasi")
        state = await mock_state(client)
    assert response.json()["moved"] == [{"complaint_id": open_id, "status_name": "Terverifikasi"}]
    assert [c["status_name"] for c in state["complaints"]] == ["Terverifikasi", "Ditolak"]


async def test_with_auto_advance_a_complaint_moves_one_step_per_interval_of_mock_time() -> None:
    clock = FakeClock()
    async with mock_client(clock=clock, auto_advance_seconds=60) as client:
        complaint_id = await created_id(client)
        clock.advance(seconds=59)
        still = (await detail(client, complaint_id))["data"]["status_name"]
        clock.advance(seconds=1)
        verified = (await detail(client, complaint_id))["data"]["status_name"]
        clock.advance(minutes=10)
        results = await detail(client, complaint_id)
        items = await followups(client, complaint_id)
    assert still == "Belum Terverifikasi"
    assert verified == "Terverifikasi"
    assert results["data"]["status_name"] == "Selesai"
    # Each move is stamped when it fell due, not when it was noticed.
    assert [log["created_at"] for log in results["data_logs"]] == [
        "2025-01-06 09:00:00",
        "2025-01-06 09:01:00",
        "2025-01-06 09:02:00",
        "2025-01-06 09:03:00",
    ]
    assert [item["created_at"] for item in items] == ["06-01-2025 09:02:00", "06-01-2025 09:03:00"]


async def test_the_mock_clock_can_be_moved_forward_to_drive_auto_advance() -> None:
    async with mock_client(auto_advance_seconds=3600) as client:
        complaint_id = await created_id(client)
        moved = await client.post("/_mock/clock", json={"advance_seconds": 7200})
        state = await mock_state(client)
        backwards = await client.post("/_mock/clock", json={"advance_seconds": -1})
    assert moved.json() == {"now": "2025-01-06T04:00:00+00:00"}
    assert state["complaints"][0]["status_name"] == "Dalam Proses"
    assert state["complaints"][0]["complaint_id"] == complaint_id
    assert backwards.status_code == 422


async def test_auto_advance_must_be_a_positive_interval() -> None:
    with pytest.raises(ValueError, match="auto_advance_seconds"):
        async with mock_client(auto_advance_seconds=0):
            pass
