"""The intake JSON API (``/api/v1/complaints``), the health checks and the app's plug-ins."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from fastapi import APIRouter
from sqlalchemy.ext.asyncio import AsyncEngine

from oss_bridge.api import create_app
from oss_bridge.config import DatabaseSettings, Settings
from oss_bridge.services.intake import ComplaintIntake
from oss_bridge.store import Store
from oss_bridge.store.schema import complaints
from tests.api.support import MONDAY, NOTHING, Wakes, stored
from tests.factories import FakeClock, make_standard

URL = "/api/v1/complaints"
LONG = "Permohonan izin usaha kami belum diproses sejak bulan lalu tanpa kabar apa pun."
CATEGORIES = "perizinan_berusaha, kegiatan_usaha, pengawasan, penyalahgunaan_oss, hambatan_oss"
OBJECTS = "pelaku_usaha, pemerintah_kabupaten, asn_ptt, profesi_ahli"
MIB = 1024 * 1024


def complaint(**changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "category": "hambatan_oss",
        "object": "pemerintah_kabupaten",
        "description": LONG,
        "reporter": {
            "name": "Budi Santoso",
            "email": "budi@contoh.co.id",
            "phone": "0812-3456-7890",
        },
        "anonymous": False,
        "secret": False,
        "occurred_on": "2026-11-27",
    }
    body.update(changes)
    return body


# --- receiving -------------------------------------------------------------------------------


async def test_a_complaint_is_received_with_its_receipt(
    client: httpx.AsyncClient, engine: AsyncEngine
) -> None:
    response = await client.post(URL, json=complaint())

    # The id is the stored row's: PostgreSQL's sequence is not reset between tests.
    async with engine.connect() as connection:
        [stored_id] = (await connection.execute(sa.select(complaints.c.id))).scalars().all()
    assert response.status_code == 201
    assert response.json() == {
        "id": stored_id,
        "receipt_number": "PGD-1405-20261130-000001",
        "stage": "c",
    }
    assert response.headers["location"] == f"{URL}/{stored_id}"
    assert await stored(engine) == {
        "complaints": 1,
        "outbox": 1,
        "complaint_events": 3,
        "receipt_counters": 1,
    }


async def test_a_new_complaint_wakes_the_forwarder(client: httpx.AsyncClient, wakes: Wakes) -> None:
    await client.post(URL, json=complaint())

    assert wakes.calls == 1


async def test_a_complaint_is_shown_by_its_id_and_by_its_receipt_number(
    client: httpx.AsyncClient,
) -> None:
    receipt = (await client.post(URL, json=complaint())).json()

    by_id = await client.get(f"{URL}/{receipt['id']}")
    by_number = await client.get(f"{URL}/{receipt['receipt_number']}")

    assert by_id.status_code == by_number.status_code == 200
    assert by_id.json() == by_number.json()
    shown = by_id.json()
    assert {key: shown[key] for key in ("id", "receipt_number", "stage", "forward_state")} == {
        **receipt,
        "forward_state": "pending",
    }
    assert (shown["external_id"], shown["external_status"], shown["overdue"]) == (None, None, False)
    assert shown["description"] == LONG
    assert shown["received_at"] == "2026-11-30T02:00:00Z"
    assert [entry["stage"] for entry in shown["history"]] == ["a", "b", "c"]
    assert [(d["name"], d["due_at"]) for d in shown["deadlines"]] == [
        ("verification", "2026-12-03T16:59:59.999999Z"),
        ("first_response", "2026-12-07T16:59:59.999999Z"),
        ("resolution", "2027-01-29T16:59:59.999999Z"),
    ]


async def test_the_reporter_is_never_shown(client: httpx.AsyncClient) -> None:
    receipt = (await client.post(URL, json=complaint())).json()

    shown = (await client.get(f"{URL}/{receipt['id']}")).text

    for personal in ("Budi", "budi@contoh.co.id", "081234567890", "reporter"):
        assert personal not in shown


async def test_a_secret_complaint_shows_neither_its_text_nor_its_history_texts(
    client: httpx.AsyncClient,
) -> None:
    receipt = (await client.post(URL, json=complaint(secret=True))).json()

    shown = (await client.get(f"{URL}/{receipt['id']}")).json()

    assert "description" not in shown
    assert shown["secret"] is True
    assert [entry["text"] for entry in shown["history"]] == [None, None, None]


async def test_an_overdue_complaint_is_flagged(client: httpx.AsyncClient, clock: FakeClock) -> None:
    receipt = (await client.post(URL, json=complaint())).json()
    clock.now = MONDAY + timedelta(days=4)  # Friday: three working days have ended

    shown = (await client.get(f"{URL}/{receipt['id']}")).json()

    assert shown["overdue"] is True
    assert [d["name"] for d in shown["deadlines"] if d["overdue"]] == ["verification"]


@pytest.mark.parametrize("reference", ["999", "PGD-1405-20261130-000999", "tidak-ada"])
async def test_an_unknown_complaint_is_404(client: httpx.AsyncClient, reference: str) -> None:
    response = await client.get(f"{URL}/{reference}")

    assert response.status_code == 404
    assert response.json()["message"].startswith("no complaint")


# --- refusing bad input: every case stores nothing -------------------------------------------


def as_json(body: Any) -> dict[str, Any]:
    return {"content": json.dumps(body).encode(), "headers": {"content-type": "application/json"}}


async def oversized() -> AsyncIterator[bytes]:
    """A body of more than 1 MiB, streamed without a Content-Length."""
    yield b'{"category": "hambatan_oss", "description": "'
    for _ in range(MIB // 65536 + 1):
        yield b"x" * 65536
    yield b'"}'


BAD_INPUT: list[Any] = [
    pytest.param(
        as_json(complaint(category="keluhan")),
        422,
        {"category": [f"'keluhan' is not a complaint category; use one of: {CATEGORIES}"]},
        "correct category as the errors say",
        id="unknown category",
    ),
    pytest.param(
        as_json(complaint(object="warga")),
        422,
        {"object": [f"'warga' is not a complaint object; use one of: {OBJECTS}"]},
        "correct object as the errors say",
        id="unknown object",
    ),
    pytest.param(
        as_json(complaint(service_code="izin-tambang")),
        422,
        {
            "service_code": [
                "no service in the catalogue has the code 'izin-tambang'; use one of: "
                f"{make_standard().code}, or leave service_code out"
            ]
        },
        "correct service_code as the errors say",
        id="unknown service code",
    ),
    pytest.param(
        as_json(complaint(description="")),
        422,
        {"description": ["must not be empty; describe what happened"]},
        "correct description as the errors say",
        id="empty description",
    ),
    pytest.param(
        as_json(complaint(description="   \n  ")),
        422,
        {"description": ["must not be blank; describe what happened"]},
        "correct description as the errors say",
        id="blank description",
    ),
    pytest.param(
        as_json(complaint(description="x" * 4001)),
        422,
        {"description": ["has 4001 characters; at most 4000 are allowed"]},
        "correct description as the errors say",
        id="description over 4000 characters",
    ),
    pytest.param(
        as_json(complaint(reporter={"email": "budi@contoh"})),
        422,
        {"reporter.email": ["'budi@contoh' is not an e-mail address like nama@contoh.go.id"]},
        "correct reporter.email as the errors say",
        id="malformed email",
    ),
    pytest.param(
        as_json(complaint(reporter={"phone": "+1 555 0100"})),
        422,
        {
            "reporter.phone": [
                "'+1 555 0100' is not an Indonesian phone number; write it like 0812 3456 7890 "
                "or +62 812 3456 7890"
            ]
        },
        "correct reporter.phone as the errors say",
        id="malformed phone",
    ),
    pytest.param(
        as_json({}),
        422,
        {
            "category": [f"is required; use one of: {CATEGORIES}"],
            "object": [f"is required; use one of: {OBJECTS}"],
            "description": ["is required"],
        },
        "correct category, object, description as the errors say",
        id="required fields missing",
    ),
    pytest.param(
        as_json(complaint(lokasi="Pangkalan Kerinci")),
        422,
        {
            "lokasi": [
                "is not a field of a complaint; the fields are: category, object, description, "
                "service_code, reporter, anonymous, secret, occurred_on"
            ]
        },
        "correct lokasi as the errors say",
        id="unknown field",
    ),
    pytest.param(
        {
            "content": b'{"category": "hambatan_oss",',
            "headers": {"content-type": "application/json"},
        },
        422,
        {
            "(body)": [
                "not valid JSON: Expecting property name enclosed in double quotes at line 1, column 29 (character 28)"
            ]
        },
        "the body is not valid JSON: Expecting property name",
        id="malformed JSON",
    ),
    pytest.param(
        {"content": b'{"description": "\xff"}', "headers": {"content-type": "application/json"}},
        422,
        {"(body)": ["not valid JSON: byte 17 is not UTF-8 text"]},
        "the body is not valid JSON: byte 17 is not UTF-8 text; send one JSON object",
        id="not UTF-8",
    ),
    pytest.param(
        {"content": b"[" * 200_000, "headers": {"content-type": "application/json"}},
        422,
        {"(body)": ["not valid JSON: it is nested too deeply"]},
        "the body is not valid JSON: it is nested too deeply",
        id="nested too deeply",
    ),
    pytest.param(
        as_json([complaint()]),
        422,
        {
            "(body)": [
                "must be an object with the fields category, object, description, service_code, "
                "reporter, anonymous, secret, occurred_on; got list"
            ]
        },
        "correct (body) as the errors say",
        id="JSON that is not an object",
    ),
    pytest.param(
        {"content": json.dumps(complaint()).encode(), "headers": {"content-type": "text/plain"}},
        415,
        {},
        "the body must be sent as application/json (Content-Type: application/json); the Content-Type was 'text/plain'",
        id="wrong content type",
    ),
    pytest.param(
        {"content": json.dumps(complaint()).encode(), "headers": {}},
        415,
        {},
        "the body must be sent as application/json (Content-Type: application/json); the Content-Type was none",
        id="no content type",
    ),
    pytest.param(
        as_json(complaint(description="x" * MIB)),
        413,
        {},
        f"the body has {len(as_json(complaint(description='x' * MIB))['content'])} bytes; at most "
        "1048576 bytes are accepted (api.max_body_bytes): shorten the description",
        id="body over 1 MiB by Content-Length",
    ),
    pytest.param(
        {"content": oversized, "headers": {"content-type": "application/json"}},
        413,
        {},
        "the body grew past 1048576 bytes; at most 1048576 bytes are accepted (api.max_body_bytes)",
        id="body over 1 MiB while streaming",
    ),
]


@pytest.mark.parametrize(("request_args", "status", "errors", "message"), BAD_INPUT)
async def test_bad_input_is_refused_and_nothing_is_stored(
    client: httpx.AsyncClient,
    store: Store,
    engine: AsyncEngine,
    wakes: Wakes,
    request_args: dict[str, Any],
    status: int,
    errors: dict[str, list[str]],
    message: str,
) -> None:
    await store.save_local_version(make_standard(), origin="import", actor="staff")
    if callable(request_args["content"]):
        request_args = {**request_args, "content": request_args["content"]()}

    response = await client.post(URL, **request_args)

    assert response.status_code == status
    body = response.json()
    assert body["errors"] == errors
    assert message in body["message"]
    assert await stored(engine) == NOTHING
    assert wakes.calls == 0


# --- health and plug-ins ---------------------------------------------------------------------


async def test_the_process_is_alive(client: httpx.AsyncClient) -> None:
    response = await client.get("/healthz")

    assert (response.status_code, response.json()) == (200, {"status": "ok"})


async def test_a_migrated_database_is_ready(client: httpx.AsyncClient) -> None:
    response = await client.get("/readyz")

    assert response.status_code == 200
    assert response.json()["status"] == "ready"


async def serve(settings: Settings, path: str) -> httpx.Response:
    store = Store.open(settings.database)
    app = create_app(store=store, settings=settings, intake=ComplaintIntake(store, settings))
    try:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://bridge.test") as client:
            return await client.get(path)
    finally:
        await store.close()


async def test_a_database_without_the_schema_is_not_ready(empty_database_url: str) -> None:
    settings = Settings(database=DatabaseSettings(url=empty_database_url))

    response = await serve(settings, "/readyz")

    assert response.status_code == 503
    assert response.json()["check"] == "schema"
    assert "oss-bridge db upgrade" in response.json()["reason"]


async def test_a_file_that_is_no_database_is_not_ready(tmp_path: Path) -> None:
    path = tmp_path / "oss-bridge.db"
    path.write_bytes(b"this is not a SQLite database, just text " * 100)
    settings = Settings(database=DatabaseSettings(url=f"sqlite:///{path}"))

    response = await serve(settings, "/readyz")

    assert response.status_code == 503
    assert response.json()["check"] == "database"
    assert "is not a SQLite database" in response.json()["reason"]


async def test_an_unknown_path_answers_404_in_json(client: httpx.AsyncClient) -> None:
    response = await client.get("/api/v1/keluhan")

    assert response.status_code == 404
    assert response.json() == {
        "message": "there is nothing at '/api/v1/keluhan'; check the address",
        "errors": {},
    }


async def test_routers_of_other_surfaces_plug_in(
    store: Store, api_settings: Settings, intake: ComplaintIntake
) -> None:
    metrics = APIRouter()

    @metrics.get("/metrics")
    async def scrape() -> dict[str, int]:
        return {"complaints_received_total": 0}

    app = create_app(store=store, settings=api_settings, intake=intake, extra_routers=[metrics])
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://bridge.test") as client:
        response = await client.get("/metrics")

    assert (response.status_code, response.json()) == (200, {"complaints_received_total": 0})


async def test_the_api_document_describes_the_complaint_body(client: httpx.AsyncClient) -> None:
    document = (await client.get("/openapi.json")).json()

    body = document["paths"][URL]["post"]["requestBody"]["content"]["application/json"]["schema"]
    assert set(body["properties"]) == {
        "category",
        "object",
        "description",
        "service_code",
        "reporter",
        "anonymous",
        "secret",
        "occurred_on",
    }
    assert body["properties"]["category"]["enum"] == CATEGORIES.split(", ")
    assert "$ref" not in json.dumps(body)
