"""Open311 GeoReport v2 under ``/open311/v2``: services, definitions, requests; JSON and XML."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import timedelta
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncEngine

from oss_bridge.api import create_app
from oss_bridge.config import Settings
from oss_bridge.services.intake import ComplaintIntake
from oss_bridge.store import Store
from tests.api.support import API_KEY, MONDAY, NOTHING, Wakes, set_national_status, stored
from tests.factories import FakeClock, make_standard

BASE = "/open311/v2"
LONG = "Petugas meminta uang tambahan agar izin usaha kami cepat terbit, mohon ditindak."
CATEGORIES = "perizinan_berusaha, kegiatan_usaha, pengawasan, penyalahgunaan_oss, hambatan_oss"
OBJECTS = "pelaku_usaha, pemerintah_kabupaten, asn_ptt, profesi_ahli"
# The elements of a service request in GET requests, as the standard names them.
REQUEST_ELEMENTS = [
    "service_request_id",
    "status",
    "status_notes",
    "service_name",
    "service_code",
    "description",
    "agency_responsible",
    "service_notice",
    "requested_datetime",
    "updated_datetime",
    "expected_datetime",
    "address",
]


def form(**changes: str | None) -> dict[str, str]:
    fields: dict[str, str | None] = {
        "api_key": API_KEY,
        "service_code": "hambatan_oss",
        "attribute[objek]": "asn_ptt",
        "description": LONG,
        "first_name": "Budi",
        "last_name": "Santoso",
        "email": "budi@contoh.co.id",
        "phone": "+62 812 3456 7890",
        "lat": "0.4051",
        "long": "101.8550",
        "address_string": "Jl. Lintas Timur, Pangkalan Kerinci",
    }
    fields.update(changes)
    return {key: value for key, value in fields.items() if value is not None}


def parse(response: httpx.Response) -> ET.Element:
    assert response.headers["content-type"] == "text/xml; charset=utf-8"
    assert response.text.startswith('<?xml version="1.0" encoding="utf-8"?>')
    return ET.fromstring(response.content)


async def submit(client: httpx.AsyncClient, **changes: str | None) -> str:
    response = await client.post(f"{BASE}/requests.json", data=form(**changes))
    assert response.status_code == 200, response.text
    receipt: str = response.json()[0]["service_request_id"]
    return receipt


# --- services --------------------------------------------------------------------------------


async def test_the_services_are_the_five_complaint_categories(client: httpx.AsyncClient) -> None:
    response = await client.get(f"{BASE}/services.json")

    assert response.status_code == 200
    services = response.json()
    assert [service["service_code"] for service in services] == CATEGORIES.split(", ")
    assert services[4] == {
        "service_code": "hambatan_oss",
        "service_name": "Pengaduan terhadap hambatan dan permasalahan dalam penggunaan Sistem OSS",
        "description": "Pengaduan: Pengaduan terhadap hambatan dan permasalahan dalam "
        "penggunaan Sistem OSS",
        "metadata": True,
        "type": "realtime",
        "keywords": "pengaduan, hambatan oss",
        "group": "Pengaduan",
    }


async def test_the_services_come_as_the_standard_s_xml(client: httpx.AsyncClient) -> None:
    root = parse(await client.get(f"{BASE}/services.xml"))

    assert root.tag == "services"
    assert [service.tag for service in root] == ["service"] * 5
    first = root[0]
    assert [child.tag for child in first] == [
        "service_code",
        "service_name",
        "description",
        "metadata",
        "type",
        "keywords",
        "group",
    ]
    assert (first.findtext("service_code"), first.findtext("metadata")) == (
        "perizinan_berusaha",
        "true",
    )


async def test_a_service_definition_offers_the_objects_and_the_live_catalogue(
    client: httpx.AsyncClient, store: Store
) -> None:
    await store.save_local_version(make_standard(), origin="import", actor="staff")
    await store.save_local_version(make_standard(code="izin-lama"), origin="import", actor="staff")
    await store.mark_deleted("izin-lama", actor="staff")

    response = await client.get(f"{BASE}/services/perizinan_berusaha.json")

    assert response.status_code == 200
    definition = response.json()
    assert definition["service_code"] == "perizinan_berusaha"
    attributes = {attribute["code"]: attribute for attribute in definition["attributes"]}
    assert list(attributes) == ["objek", "layanan", "tanggal_kejadian", "anonim", "rahasia"]
    assert [attribute["order"] for attribute in attributes.values()] == [1, 2, 3, 4, 5]
    objek = attributes["objek"]
    assert (objek["datatype"], objek["required"], objek["variable"]) == (
        "singlevaluelist",
        True,
        True,
    )
    assert objek["values"][2] == {"key": "asn_ptt", "name": "ASN/PTT"}
    assert [value["key"] for value in objek["values"]] == OBJECTS.split(", ")
    assert attributes["layanan"]["required"] is False
    assert attributes["layanan"]["values"] == [
        {"key": make_standard().code, "name": make_standard().name}
    ]


async def test_a_service_definition_comes_as_the_standard_s_xml(
    client: httpx.AsyncClient,
) -> None:
    root = parse(await client.get(f"{BASE}/services/hambatan_oss.xml"))

    assert root.tag == "service_definition"
    assert root.findtext("service_code") == "hambatan_oss"
    attribute = root.find("attributes/attribute")
    assert attribute is not None
    assert [child.tag for child in attribute] == [
        "variable",
        "code",
        "datatype",
        "required",
        "datatype_description",
        "order",
        "description",
        "values",
    ]
    first = attribute.find("values/value")
    assert first is not None
    assert (first.findtext("key"), first.findtext("name")) == ("pelaku_usaha", "Pelaku Usaha")


@pytest.mark.parametrize("fmt", ["json", "xml"])
async def test_an_unknown_service_is_404_in_the_error_list(
    client: httpx.AsyncClient, fmt: str
) -> None:
    response = await client.get(f"{BASE}/services/sampah.{fmt}")

    assert response.status_code == 404
    description = f"service_code 'sampah' is not a service; use one of: {CATEGORIES}"
    if fmt == "json":
        assert response.json() == [{"code": 404, "description": description}]
    else:
        root = parse(response)
        assert [(e.findtext("code"), e.findtext("description")) for e in root] == [
            ("404", description)
        ]


async def test_an_unknown_format_is_404(client: httpx.AsyncClient) -> None:
    response = await client.get(f"{BASE}/services.html")

    assert response.status_code == 404
    assert response.json() == [
        {"code": 404, "description": "format 'html' is not served; end the path with .json or .xml"}
    ]


async def test_discovery_names_the_endpoint_and_its_formats(client: httpx.AsyncClient) -> None:
    document = (await client.get(f"{BASE}/discovery.json")).json()

    assert document["endpoints"] == [
        {
            "specification": "http://wiki.open311.org/GeoReport_v2",
            "url": "http://bridge.test/open311/v2",
            "changeset": document["changeset"],
            "type": "production",
            "formats": ["text/xml", "application/json"],
        }
    ]


# --- POST requests ---------------------------------------------------------------------------


async def test_a_request_is_received_with_the_receipt_number_as_its_id(
    client: httpx.AsyncClient, intake: ComplaintIntake, store: Store, wakes: Wakes
) -> None:
    await store.save_local_version(make_standard(), origin="import", actor="staff")

    response = await client.post(
        f"{BASE}/requests.json",
        data=form(**{"attribute[layanan]": make_standard().code, "attribute[rahasia]": "true"}),
    )

    assert response.status_code == 200
    assert response.json() == [
        {
            "service_request_id": "PGD-1405-20261130-000001",
            "service_notice": "Received with receipt number PGD-1405-20261130-000001; the "
            "office answers by 2026-12-07",
            "account_id": None,
        }
    ]
    complaint = (await intake.get_by_receipt("PGD-1405-20261130-000001")).complaint
    assert (complaint.category.value, complaint.object.value, complaint.service_code) == (
        "hambatan_oss",
        "asn_ptt",
        make_standard().code,
    )
    assert complaint.description == LONG
    assert complaint.reporter is not None
    assert (complaint.reporter.name, complaint.reporter.email, complaint.reporter.phone) == (
        "Budi Santoso",
        "budi@contoh.co.id",
        "+6281234567890",
    )
    assert (complaint.secret, complaint.anonymous, complaint.occurred_on) == (True, False, None)
    assert wakes.calls == 1


async def test_a_request_answers_in_the_standard_s_xml(client: httpx.AsyncClient) -> None:
    root = parse(await client.post(f"{BASE}/requests.xml", data=form()))

    assert root.tag == "service_requests"
    request = root.find("request")
    assert request is not None
    assert [child.tag for child in request] == [
        "service_request_id",
        "service_notice",
        "account_id",
    ]
    assert request.findtext("service_request_id") == "PGD-1405-20261130-000001"
    assert request.findtext("account_id") == ""


async def test_the_day_it_happened_may_come_as_a_date_time(
    client: httpx.AsyncClient, intake: ComplaintIntake
) -> None:
    receipt = await submit(client, **{"attribute[tanggal_kejadian]": "2026-11-27T10:00:00+07:00"})

    complaint = (await intake.get_by_receipt(receipt)).complaint
    assert complaint.occurred_on is not None
    assert complaint.occurred_on.isoformat() == "2026-11-27"


BAD_REQUESTS: list[Any] = [
    pytest.param(
        form(api_key=None),
        403,
        [(403, "api_key is missing; send the key the office gave you")],
        id="missing api_key",
    ),
    pytest.param(
        form(api_key="tebakan"),
        403,
        [(403, "api_key is not valid; check the key the office gave you")],
        id="wrong api_key",
    ),
    pytest.param(
        form(service_code="sampah"),
        400,
        [(404, f"service_code: 'sampah' is not a complaint category; use one of: {CATEGORIES}")],
        id="unknown service code",
    ),
    pytest.param(
        form(service_code=None),
        400,
        [(400, f"service_code: is required; use one of: {CATEGORIES}")],
        id="missing service code",
    ),
    pytest.param(
        form(**{"attribute[objek]": "warga"}),
        400,
        [(400, f"attribute[objek]: 'warga' is not a complaint object; use one of: {OBJECTS}")],
        id="unknown object",
    ),
    pytest.param(
        form(**{"attribute[objek]": None}),
        400,
        [(400, f"attribute[objek]: is required; use one of: {OBJECTS}")],
        id="missing object",
    ),
    pytest.param(
        form(description="  "),
        400,
        [(400, "description: is required")],
        id="empty description",
    ),
    pytest.param(
        form(description="x" * 4001),
        400,
        [(400, "description: has 4001 characters; at most 4000 are allowed")],
        id="description over 4000 characters",
    ),
    pytest.param(
        form(email="budi.contoh.co.id"),
        400,
        [(400, "email: 'budi.contoh.co.id' is not an e-mail address like nama@contoh.go.id")],
        id="malformed email",
    ),
    pytest.param(
        form(phone="12-34"),
        400,
        [
            (
                400,
                "phone: '12-34' is not an Indonesian phone number; write it like 0812 3456 7890 "
                "or +62 812 3456 7890",
            )
        ],
        id="malformed phone",
    ),
    pytest.param(
        form(**{"attribute[layanan]": "izin-tambang"}),
        400,
        [
            (
                400,
                "attribute[layanan]: no service in the catalogue has the code 'izin-tambang'; "
                f"use one of: {make_standard().code}, or leave service_code out",
            )
        ],
        id="unknown catalogue service",
    ),
    pytest.param(
        form(**{"attribute[tanggal_kejadian]": "kemarin"}),
        400,
        [
            (
                400,
                "attribute[tanggal_kejadian]: 'kemarin' is not a date; write it as YYYY-MM-DD, "
                "like 2026-11-29",
            )
        ],
        id="bad date",
    ),
    pytest.param(
        form(**{"attribute[rahasia]": "mungkin"}),
        400,
        [(400, "attribute[rahasia]: must be true or false; got 'mungkin'")],
        id="bad secret flag",
    ),
]


@pytest.mark.parametrize(("fields", "status", "errors"), BAD_REQUESTS)
async def test_a_bad_request_is_refused_and_nothing_is_stored(
    client: httpx.AsyncClient,
    store: Store,
    engine: AsyncEngine,
    wakes: Wakes,
    fields: dict[str, str],
    status: int,
    errors: list[tuple[int, str]],
) -> None:
    await store.save_local_version(make_standard(), origin="import", actor="staff")

    response = await client.post(f"{BASE}/requests.json", data=fields)

    assert response.status_code == status
    assert response.json() == [{"code": code, "description": text} for code, text in errors]
    assert await stored(engine) == NOTHING
    assert wakes.calls == 0


async def test_a_bad_request_answers_the_standard_s_xml_errors(
    client: httpx.AsyncClient, engine: AsyncEngine
) -> None:
    root = parse(await client.post(f"{BASE}/requests.xml", data=form(api_key="tebakan")))

    assert root.tag == "errors"
    assert [[child.tag for child in error] for error in root] == [["code", "description"]]
    assert root.findtext("error/code") == "403"
    assert await stored(engine) == NOTHING


@pytest.mark.parametrize(
    ("content", "headers", "status", "description"),
    [
        pytest.param(
            b'{"service_code": "hambatan_oss"}',
            {"content-type": "application/json"},
            415,
            "the body must be sent as application/x-www-form-urlencoded (form-encoded, as "
            "Open311 requires); the Content-Type was 'application/json'",
            id="wrong content type",
        ),
        pytest.param(
            b"api_key=" + b"x" * (1024 * 1024),
            {"content-type": "application/x-www-form-urlencoded"},
            413,
            f"the body has {8 + 1024 * 1024} bytes; at most 1048576 bytes are accepted "
            "(api.max_body_bytes): shorten the description",
            id="body over 1 MiB",
        ),
        pytest.param(
            b"api_key=" + API_KEY.encode() + b"&description=\xff",
            {"content-type": "application/x-www-form-urlencoded"},
            400,
            f"(body): cannot be read: byte {len(API_KEY) + 21} is not UTF-8 text; encode the form "
            "as UTF-8",
            id="form not UTF-8",
        ),
    ],
)
async def test_a_body_that_cannot_be_read_is_refused_and_nothing_is_stored(
    client: httpx.AsyncClient,
    engine: AsyncEngine,
    content: bytes,
    headers: dict[str, str],
    status: int,
    description: str,
) -> None:
    response = await client.post(f"{BASE}/requests.json", content=content, headers=headers)

    assert response.status_code == status
    assert response.json() == [{"code": status, "description": description}]
    assert await stored(engine) == NOTHING


async def test_without_a_configured_key_every_request_is_refused_with_the_fix(
    store: Store, settings: Settings, clock: FakeClock, engine: AsyncEngine
) -> None:
    app: FastAPI = create_app(
        store=store, settings=settings, intake=ComplaintIntake(store, settings, clock=clock)
    )
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://bridge.test") as client:
        response = await client.post(f"{BASE}/requests.json", data=form())

    assert response.status_code == 403
    assert "its operator must set api.open311_api_key" in response.json()[0]["description"]
    assert await stored(engine) == NOTHING


# --- GET requests ----------------------------------------------------------------------------


async def test_a_request_is_shown_as_a_list_of_one_without_personal_data(
    client: httpx.AsyncClient,
) -> None:
    receipt = await submit(client)

    response = await client.get(f"{BASE}/requests/{receipt}.json")

    assert response.status_code == 200
    assert response.json() == [
        {
            "service_request_id": receipt,
            "status": "open",
            "status_notes": "Stage c: mengklasifikasi dan memprioritaskan penyelesaian",
            "service_name": "Pengaduan terhadap hambatan dan permasalahan dalam penggunaan "
            "Sistem OSS",
            "service_code": "hambatan_oss",
            "description": LONG,
            "agency_responsible": "Dinas Penanaman Modal dan Pelayanan Terpadu Satu Pintu "
            "Kabupaten Pelalawan",
            "service_notice": f"Received with receipt number {receipt}; the office answers by "
            "2026-12-07",
            "requested_datetime": "2026-11-30T09:00:00+07:00",
            "updated_datetime": "2026-11-30T09:00:00+07:00",
            "expected_datetime": "2027-01-29T23:59:59+07:00",
            "address": None,
        }
    ]
    for personal in ("Budi", "Santoso", "budi@contoh.co.id", "812", "Lintas Timur"):
        assert personal not in response.text


async def test_a_request_comes_as_the_standard_s_xml(client: httpx.AsyncClient) -> None:
    receipt = await submit(client)

    root = parse(await client.get(f"{BASE}/requests/{receipt}.xml"))

    assert root.tag == "service_requests"
    assert [request.tag for request in root] == ["request"]
    assert [child.tag for child in root[0]] == REQUEST_ELEMENTS
    assert root[0].findtext("status") == "open"


async def test_a_secret_request_is_shown_without_its_description(
    client: httpx.AsyncClient,
) -> None:
    receipt = await submit(client, **{"attribute[rahasia]": "true"})

    shown = (await client.get(f"{BASE}/requests/{receipt}.json")).json()[0]

    assert "description" not in shown
    assert LONG not in str(shown)


async def test_a_request_closed_by_the_channel_is_closed(
    client: httpx.AsyncClient, engine: AsyncEngine, intake: ComplaintIntake, clock: FakeClock
) -> None:
    receipt = await submit(client)
    done = clock.advance(days=12)
    view = await intake.get_by_receipt(receipt)
    await set_national_status(engine, view.complaint.id, "Selesai", at=done, final=True)

    shown = (await client.get(f"{BASE}/requests/{receipt}.json")).json()[0]

    assert shown["status"] == "closed"
    assert shown["status_notes"] == (
        "Stage c: mengklasifikasi dan memprioritaskan penyelesaian; SP4N-LAPOR! status: Selesai"
    )
    assert shown["updated_datetime"] == "2026-12-12T09:00:00+07:00"
    assert shown["service_notice"] == f"Received with receipt number {receipt}"


@pytest.mark.parametrize("fmt", ["json", "xml"])
async def test_an_unknown_request_is_404(client: httpx.AsyncClient, fmt: str) -> None:
    response = await client.get(f"{BASE}/requests/PGD-1405-20261130-000404.{fmt}")

    assert response.status_code == 404
    text = "no service request has the id 'PGD-1405-20261130-000404'; check the receipt number"
    if fmt == "json":
        assert response.json() == [{"code": 404, "description": text}]
    else:
        assert parse(response).findtext("error/description") == text


@pytest.fixture
async def history(
    client: httpx.AsyncClient, clock: FakeClock, engine: AsyncEngine, intake: ComplaintIntake
) -> list[str]:
    """Four requests: 100 days ago, 30 days ago (pengawasan), 10 days ago (closed), today."""
    receipts = []
    for days_ago, code in (
        (100, "hambatan_oss"),
        (30, "pengawasan"),
        (10, "hambatan_oss"),
        (0, "hambatan_oss"),
    ):
        clock.now = MONDAY - timedelta(days=days_ago)
        receipts.append(await submit(client, service_code=code))
    clock.now = MONDAY
    closed = await intake.get_by_receipt(receipts[2])
    await set_national_status(engine, closed.complaint.id, "Ditolak", at=MONDAY, final=True)
    return receipts


def ids(response: httpx.Response) -> list[str]:
    assert response.status_code == 200, response.text
    return [request["service_request_id"] for request in response.json()]


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({}, [3, 2, 1]),
        ({"status": "open"}, [3, 1]),
        ({"status": "closed"}, [2]),
        ({"status": "open,closed"}, [3, 2, 1]),
        ({"service_code": "pengawasan"}, [1]),
        ({"service_code": "pengawasan,hambatan_oss", "status": "open"}, [3, 1]),
        ({"start_date": "2026-10-01T00:00:00+07:00", "end_date": "2026-11-29T23:59:59Z"}, [2, 1]),
        ({"start_date": "2026-08-15T00:00:00Z"}, [1, 0]),
        ({"end_date": "2026-11-20"}, [2, 1]),
        ({"service_request_id": "{0},{2},bukan-nomor", "status": "open"}, [2, 0]),
        ({"status": "", "service_code": ""}, [3, 2, 1]),
    ],
)
async def test_requests_are_listed_by_the_standard_s_filters(
    client: httpx.AsyncClient, history: list[str], query: dict[str, str], expected: list[int]
) -> None:
    if "service_request_id" in query:
        query = {**query, "service_request_id": query["service_request_id"].format(*history)}

    response = await client.get(f"{BASE}/requests.json", params=query)

    assert ids(response) == [history[i] for i in expected]


async def test_listed_requests_come_as_the_standard_s_xml(
    client: httpx.AsyncClient, history: list[str]
) -> None:
    root = parse(await client.get(f"{BASE}/requests.xml"))

    assert root.tag == "service_requests"
    assert [request.findtext("service_request_id") for request in root] == history[:0:-1]
    assert all([child.tag for child in request] == REQUEST_ELEMENTS for request in root)


@pytest.mark.parametrize(
    ("query", "description"),
    [
        (
            {"service_code": "sampah"},
            f"service_code: 'sampah' is not a complaint category; use one of: {CATEGORIES}",
        ),
        ({"status": "pending"}, "status: 'pending' is not a status; use open or closed"),
        (
            {"start_date": "kemarin"},
            "start_date: 'kemarin' is not a w3 date-time; write it like 2026-11-01T00:00:00+07:00",
        ),
        (
            {"end_date": "2026-11-01T00:00:00"},
            "end_date: '2026-11-01T00:00:00' has no time zone; add Z or an offset like +07:00",
        ),
        (
            {"start_date": "2026-01-01T00:00:00Z", "end_date": "2026-11-01T00:00:00Z"},
            "end_date: the span from start_date may not exceed 90 days; ask for less",
        ),
        (
            {"start_date": "2026-11-01T00:00:00Z", "end_date": "2026-10-01T00:00:00Z"},
            "end_date: is before start_date; swap them",
        ),
    ],
)
async def test_bad_filters_are_400_in_the_error_list(
    client: httpx.AsyncClient, query: dict[str, str], description: str
) -> None:
    response = await client.get(f"{BASE}/requests.json", params=query)

    assert response.status_code == 400
    assert response.json() == [{"code": 400, "description": description}]


async def test_control_characters_in_a_description_keep_the_xml_well_formed(
    client: httpx.AsyncClient,
) -> None:
    receipt = await submit(client, description="Izin tertahan\x0b sejak\x01 Senin\ufffe lalu.")

    root = parse(await client.get(f"{BASE}/requests/{receipt}.xml"))

    assert root.findtext("request/description") == "Izin tertahan sejak Senin lalu."
