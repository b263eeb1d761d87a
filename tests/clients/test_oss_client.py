"""The OSS client against scripted answers (respx): wire shapes, kode handling, paging, writes."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
import respx

from oss_bridge.clients import OssClient, RemoteEntry, StandardsPage
from oss_bridge.clients.oss_wire import Entry, EntryDefaults, to_domain
from oss_bridge.config import OssSettings
from oss_bridge.domain import ServiceStandard
from oss_bridge.domain.canonical import CanonicalStandard
from oss_bridge.errors import (
    AuthenticationFailed,
    MalformedResponse,
    OutcomeUnknown,
    RateLimited,
    RequestRejected,
    ServerError,
    VersionConflict,
)
from oss_bridge.store._catalogue_sync import canonical_text
from tests.clients.support import AGENCY, OSS_BASE, FakeTime

RBA = "/v1/kl/rba"
PERMITS = [
    {"kode_referensi": "I-78103", "uraian_referensi": "Job portal", "keterangan_referensi": "x"},
    {"kode_referensi": 4711, "uraian_referensi": "Toko", "keterangan_referensi": None},
]


def wire_entry(number: int = 1, **changes: Any) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "id_layanan": f"SP-1405-{number:06d}",
        "kd_daerah": "1405",
        "kd_izin": "I-78103",
        "nama_layanan": f"Layanan {number}",
        "persyaratan": ["KTP", "NPWP"],
        "prosedur": ["Daftar", "Unggah", "Terbit"],
        "waktu_penyelesaian": {"nilai": 5, "satuan": "hari_kerja"},
        "biaya": {"nominal": 0, "keterangan": "Tidak dipungut biaya"},
        "produk": ["NIB"],
        "pengaduan": {
            "ketentuan": ["cepat dan tepat"],
            "tahapan": ["menerima", "menanggapi"],
            "kategori": ["Pelaksanaan kegiatan usaha"],
            "objek": ["Pelaku Usaha"],
            "prosedur": ["daring"],
            "kontak": {"alamat": "Bhakti Praja", "telepon": "08117699877", "situs": None},
        },
        "versi": 3,
        "diperbarui": "2025-01-06T09:15:00+07:00",
        "status": "aktif",
    }
    entry.update(changes)
    return entry


def answer(method: str, kode: Any = 200, **payload: Any) -> dict[str, Any]:
    return {f"respon{method}": {"kode": kode, "keterangan": "Sukses", **payload}}


def references(kode: Any = 200, key: str = "respongetDataReferensi") -> dict[str, Any]:
    return {key: {"kode": kode, "keterangan": "Sukses", "dataReferensi": PERMITS}}


def _referensi(api: respx.MockRouter) -> respx.Route:
    return api.post(f"{RBA}/getDataReferensi")


def _inquery(api: respx.MockRouter) -> respx.Route:
    return api.post(f"{RBA}/inqueryStandarPelayanan")


def _receive(api: respx.MockRouter) -> respx.Route:
    return api.post(f"{RBA}/receiveStandarPelayanan")


def body_of(request: httpx.Request) -> Any:
    return json.loads(request.content)


async def test_permit_codes_are_asked_for_as_reference_table_8_with_the_user_key(
    oss: OssClient, oss_api: respx.MockRouter
) -> None:
    route = _referensi(oss_api).respond(200, json=references())

    items = await oss.permit_codes()

    request = route.calls.last.request
    assert request.url == "http://oss.test/oss/v1/kl/rba/getDataReferensi"
    assert request.headers["user_key"] == "demo-user-key"
    assert body_of(request) == {"GETDATAREFERENSI": {"kode": "8"}}
    assert [(i.code, i.description, i.note) for i in items] == [
        ("I-78103", "Job portal", "x"),
        ("4711", "Toko", None),
    ]


@pytest.mark.parametrize("kode", [200, "200", " 200 "], ids=["number", "text", "padded-text"])
async def test_kode_is_read_as_a_number_or_a_numeric_text(
    oss: OssClient, oss_api: respx.MockRouter, kode: Any
) -> None:
    _referensi(oss_api).respond(200, json=references(kode=kode))

    assert len(await oss.permit_codes()) == 2


@pytest.mark.parametrize(
    "key",
    [
        "respongetDataReferensi",
        "responGetDataReferensi",
        "respon_getDataReferensi",
        "respongetdatareferensi",
        "RESPONGETDATAREFERENSI",
    ],
)
async def test_the_answers_wrapper_key_is_found_whatever_its_spelling(
    oss: OssClient, oss_api: respx.MockRouter, key: str
) -> None:
    _referensi(oss_api).respond(200, json=references(key=key))

    assert len(await oss.permit_codes()) == 2


@pytest.mark.parametrize(
    "body",
    [
        pytest.param({"responinqueryStandarPelayanan": {"kode": 200}}, id="other-methods-key"),
        pytest.param(
            {
                "respongetDataReferensi": {"kode": 200, "dataReferensi": []},
                "responGetDataReferensi": {"kode": 200, "dataReferensi": []},
            },
            id="two-spellings",
        ),
        pytest.param(
            {"respongetDataReferensi": {"kode": True, "dataReferensi": []}}, id="bool-kode"
        ),
        pytest.param(
            {"respongetDataReferensi": {"kode": "OK", "dataReferensi": []}}, id="word-kode"
        ),
        pytest.param({"respongetDataReferensi": {"kode": 200}}, id="no-data"),
        pytest.param(
            {"respongetDataReferensi": {"kode": 200, "dataReferensi": [{"kode_referensi": "x"}]}},
            id="row-missing-fields",
        ),
        pytest.param(
            {"respongetDataReferensi": {"kode": 299, "dataReferensi": "x"}}, id="wrong-type"
        ),
        pytest.param({"respongetDataReferensi": {"kode": 302}}, id="undocumented-kode"),
        pytest.param([], id="list"),
    ],
)
async def test_an_answer_that_does_not_validate_raises_malformed_response(
    oss: OssClient, oss_api: respx.MockRouter, body: Any
) -> None:
    route = _referensi(oss_api).respond(200, json=body)

    with pytest.raises(MalformedResponse) as caught:
        await oss.permit_codes()

    assert caught.value.excerpt == route.calls.last.response.content.decode()


@pytest.mark.parametrize(
    ("http_status", "kode", "error", "attempts"),
    [
        pytest.param(200, 400, RequestRejected, 1, id="kode-400"),
        pytest.param(400, 400, RequestRejected, 1, id="http-400"),
        pytest.param(200, 401, AuthenticationFailed, 1, id="kode-401"),
        pytest.param(401, 401, AuthenticationFailed, 1, id="http-401"),
        pytest.param(403, 403, RequestRejected, 1, id="kode-403"),
        pytest.param(404, 404, RequestRejected, 1, id="kode-404"),
        pytest.param(405, 405, RequestRejected, 1, id="kode-405"),
        pytest.param(200, 500, ServerError, 4, id="kode-500-in-a-200"),
        pytest.param(500, 500, ServerError, 4, id="http-500"),
        pytest.param(200, 504, ServerError, 4, id="kode-504-in-a-200"),
        pytest.param(504, 504, ServerError, 4, id="http-504"),
        pytest.param(400, "200", MalformedResponse, 4, id="http-400-contradicts-kode-200"),
    ],
)
async def test_each_kode_raises_its_error_after_the_attempts_it_deserves(
    oss: OssClient,
    oss_api: respx.MockRouter,
    http_status: int,
    kode: Any,
    error: type[Exception],
    attempts: int,
) -> None:
    route = _referensi(oss_api).respond(
        http_status, json={"respongetDataReferensi": {"kode": kode, "keterangan": "Gagal"}}
    )

    with pytest.raises(error) as caught:
        await oss.permit_codes()

    assert type(caught.value) is error
    assert route.call_count == attempts


async def test_a_refusal_quotes_oss_keterangan_and_says_what_to_do(
    oss: OssClient, oss_api: respx.MockRouter
) -> None:
    _referensi(oss_api).respond(
        403, json={"respongetDataReferensi": {"kode": 403, "keterangan": "Illegal access"}}
    )

    with pytest.raises(RequestRejected, match="Illegal access") as caught:
        await oss.permit_codes()

    assert "ask the OSS helpdesk" in str(caught.value)


async def test_a_refused_user_key_names_the_config_key(
    oss: OssClient, oss_api: respx.MockRouter
) -> None:
    _referensi(oss_api).respond(
        200, json={"respongetDataReferensi": {"kode": "401", "keterangan": "Invalid user access"}}
    )

    with pytest.raises(AuthenticationFailed) as caught:
        await oss.permit_codes()

    assert caught.value.config_key == "oss.user_key"
    assert "check oss.user_key" in str(caught.value)
    assert caught.value.status == 401


@pytest.mark.parametrize("status", [429, 503])
async def test_a_gateways_rate_limit_in_front_of_oss_is_waited_out(
    oss: OssClient, oss_api: respx.MockRouter, fake_time: FakeTime, status: int
) -> None:
    _referensi(oss_api).mock(
        side_effect=[
            httpx.Response(status, headers={"Retry-After": "9"}, text="slow down"),
            httpx.Response(200, json=references()),
        ]
    )

    await oss.permit_codes()

    assert fake_time.waits == [9.0]


async def test_a_rate_limit_without_an_oss_body_is_still_a_rate_limit(
    oss: OssClient, oss_api: respx.MockRouter
) -> None:
    _referensi(oss_api).respond(429, text="<html>Too Many Requests</html>")

    with pytest.raises(RateLimited):
        await oss.permit_codes()


# --- inquiry --------------------------------------------------------------------------------


def _pages(route: respx.Route, *pages: tuple[list[dict[str, Any]], str | None]) -> None:
    route.mock(
        side_effect=[
            httpx.Response(
                200,
                json=answer("inqueryStandarPelayanan", data=data, next_cursor=cursor),
            )
            for data, cursor in pages
        ]
    )


async def collect(pages: Any) -> list[StandardsPage]:
    return [page async for page in pages]


async def test_the_standards_are_read_page_by_page_each_with_its_cursor(
    oss: OssClient, oss_api: respx.MockRouter
) -> None:
    route = _inquery(oss_api)
    _pages(route, ([wire_entry(1), wire_entry(2)], "c1"), ([wire_entry(3)], None))

    pages = await collect(oss.standards_since(None))

    assert [[e.standard.code for e in p.entries] for p in pages] == [
        ["SP-1405-000001", "SP-1405-000002"],
        ["SP-1405-000003"],
    ]
    assert [p.cursor for p in pages] == ["c1", None]
    assert [body_of(call.request) for call in route.calls] == [
        {
            "INQUERYSTANDARPELAYANAN": {
                "kd_daerah": "1405",
                "sejak": None,
                "cursor": None,
                "limit": 2,
            }
        },
        {
            "INQUERYSTANDARPELAYANAN": {
                "kd_daerah": "1405",
                "sejak": None,
                "cursor": "c1",
                "limit": 2,
            }
        },
    ]


async def test_the_inquiry_sends_since_as_iso_8601_and_resumes_from_a_saved_cursor(
    oss: OssClient, oss_api: respx.MockRouter
) -> None:
    route = _inquery(oss_api)
    _pages(route, ([wire_entry(3)], None))
    since = datetime(2025, 1, 6, 2, 0, tzinfo=UTC)

    await collect(oss.standards_since(since, cursor="c1"))

    assert body_of(route.calls.last.request)["INQUERYSTANDARPELAYANAN"] == {
        "kd_daerah": "1405",
        "sejak": "2025-01-06T02:00:00+00:00",
        "cursor": "c1",
        "limit": 2,
    }


async def test_an_empty_region_gives_one_empty_last_page(
    oss: OssClient, oss_api: respx.MockRouter
) -> None:
    _pages(_inquery(oss_api), ([], None))

    pages = await collect(oss.standards_since(None))

    assert pages == [StandardsPage(entries=(), cursor=None)]


async def test_a_naive_since_is_refused_before_anything_is_sent(
    oss: OssClient, oss_api: respx.MockRouter
) -> None:
    route = _inquery(oss_api)

    with pytest.raises(ValueError, match="no time zone"):
        await collect(oss.standards_since(datetime(2025, 1, 6)))

    assert route.call_count == 0


async def test_a_page_is_mapped_to_remote_entries_with_oss_version_stamps(
    oss: OssClient, oss_api: respx.MockRouter
) -> None:
    _pages(_inquery(oss_api), ([wire_entry(1, status="nonaktif", versi=7)], None))

    (page,) = await collect(oss.standards_since(None))

    (entry,) = page.entries
    assert isinstance(entry, RemoteEntry)
    assert entry.versi == 7
    assert entry.diperbarui == datetime(2025, 1, 6, 2, 15, tzinfo=UTC)
    assert entry.status == "inactive"
    assert entry.standard.status == "inactive"
    assert entry.standard.agency == AGENCY
    assert entry.standard.completion_time.unit == "working_day"
    assert entry.standard.complaint_handling.rules == ("cepat dan tepat",)


async def test_a_plain_entry_of_a_tolerant_page_is_read_as_canonical_content(
    oss: OssClient, oss_api: respx.MockRouter
) -> None:
    _pages(_inquery(oss_api), ([wire_entry(1)], None))

    (page,) = await collect(oss.standards_since(None, tolerant=True))

    (entry,) = page.entries
    assert entry.canonical is not None
    assert entry.code == "SP-1405-000001"
    assert entry.standard == to_domain(
        Entry.model_validate(wire_entry(1)), defaults=EntryDefaults(agency=AGENCY)
    )


def test_an_entry_held_as_canonical_content_equals_the_same_entry_held_as_a_model() -> None:
    standard = to_domain(Entry.model_validate(wire_entry(1)), defaults=EntryDefaults(AGENCY))
    _, text, _ = canonical_text(standard)
    stamp = datetime(2025, 1, 6, 2, 15, tzinfo=UTC)

    as_content = RemoteEntry(CanonicalStandard(json.loads(text), text), versi=3, diperbarui=stamp)
    as_model = RemoteEntry(standard, versi=3, diperbarui=stamp)

    assert as_content == as_model
    assert hash(as_content) == hash(as_model)
    assert as_content != RemoteEntry(standard, versi=4, diperbarui=stamp)


async def test_local_only_fields_come_from_the_local_entry_when_given(
    oss: OssClient, oss_api: respx.MockRouter
) -> None:
    _pages(_inquery(oss_api), ([wire_entry(1)], None))
    (page,) = await collect(oss.standards_since(None))
    local = page.entries[0].standard.model_copy(
        update={"sk_number": "SK-12/2024", "legal_basis": ("PP 5/2021",), "name": "Lama"}
    )
    _pages(_inquery(oss_api), ([wire_entry(1)], None))

    (page,) = await collect(oss.standards_since(None, local={local.code: local}))

    remote = page.entries[0].standard
    assert (remote.sk_number, remote.legal_basis, remote.name) == (
        "SK-12/2024",
        ("PP 5/2021",),
        "Layanan 1",
    )


async def test_a_failed_page_is_retried_and_paging_continues(
    oss: OssClient, oss_api: respx.MockRouter
) -> None:
    route = _inquery(oss_api)
    route.mock(
        side_effect=[
            httpx.Response(
                200, json=answer("inqueryStandarPelayanan", data=[wire_entry(1)], next_cursor="c1")
            ),
            httpx.ReadTimeout("slow"),
            httpx.Response(200, json=answer("inqueryStandarPelayanan", kode=504)),
            httpx.Response(
                200, json=answer("inqueryStandarPelayanan", data=[wire_entry(2)], next_cursor=None)
            ),
        ]
    )

    pages = await collect(oss.standards_since(None))

    assert [p.cursor for p in pages] == ["c1", None]
    assert [body_of(c.request)["INQUERYSTANDARPELAYANAN"]["cursor"] for c in route.calls] == [
        None,
        "c1",
        "c1",
        "c1",
    ]


async def test_a_cursor_that_repeats_itself_is_malformed_rather_than_followed_forever(
    oss: OssClient, oss_api: respx.MockRouter
) -> None:
    _inquery(oss_api).respond(
        200, json=answer("inqueryStandarPelayanan", data=[], next_cursor="c1")
    )

    with pytest.raises(MalformedResponse, match="repeats"):
        await collect(oss.standards_since(None, cursor="c1"))


@pytest.mark.parametrize(
    ("changes", "problem"),
    [
        pytest.param({"waktu_penyelesaian": {"nilai": 5, "satuan": "minggu"}}, "satuan", id="unit"),
        pytest.param({"versi": "3"}, "versi", id="versi-as-text"),
        pytest.param({"diperbarui": "2025-01-06T09:15:00"}, "diperbarui", id="naive-time"),
        pytest.param({"diperbarui": 1736130900}, "diperbarui", id="epoch-time"),
        pytest.param({"biaya": {"nominal": "0"}}, "nominal", id="fee-as-text"),
        pytest.param({"status": "hapus"}, "status", id="status"),
        pytest.param({"persyaratan": "KTP"}, "persyaratan", id="text-for-list"),
        pytest.param({"pengaduan": {"aturan": ["x"]}}, "aturan", id="unknown-pengaduan-key"),
        pytest.param({"persyaratan": []}, "SP-1405-000001", id="no-requirements"),
        pytest.param({"id_layanan": "bad code!"}, "bad code!", id="invalid-code"),
    ],
)
async def test_an_entry_that_is_not_a_valid_standard_makes_the_page_malformed(
    oss: OssClient, oss_api: respx.MockRouter, changes: dict[str, Any], problem: str
) -> None:
    _inquery(oss_api).respond(
        200, json=answer("inqueryStandarPelayanan", data=[wire_entry(1, **changes)])
    )

    with pytest.raises(MalformedResponse, match="cannot be read") as caught:
        await collect(oss.standards_since(None))

    assert problem in str(caught.value)


async def test_a_tolerant_reading_keeps_the_good_entries_and_sets_the_bad_ones_aside(
    oss: OssClient, oss_api: respx.MockRouter
) -> None:
    bad = wire_entry(2, persyaratan=[])
    route = _inquery(oss_api).respond(
        200,
        json=answer("inqueryStandarPelayanan", data=[wire_entry(1), bad, wire_entry(3)]),
    )

    (page,) = await collect(oss.standards_since(None, tolerant=True))

    assert [e.standard.code for e in page.entries] == ["SP-1405-000001", "SP-1405-000003"]
    (rejected,) = page.rejected
    assert rejected.id_layanan == "SP-1405-000002"
    assert json.loads(rejected.raw) == bad
    assert "requirements" in rejected.reason
    assert route.call_count == 1


@pytest.mark.parametrize(
    ("item", "id_layanan"),
    [
        pytest.param({"id_layanan": 7, "nama_layanan": "x"}, None, id="numeric-id"),
        pytest.param("not an entry", None, id="text"),
        pytest.param({"id_layanan": "SP-9"}, "SP-9", id="fields-missing"),
    ],
)
async def test_a_tolerant_reading_sets_aside_entries_that_are_not_entries_at_all(
    oss: OssClient, oss_api: respx.MockRouter, item: Any, id_layanan: str | None
) -> None:
    _inquery(oss_api).respond(200, json=answer("inqueryStandarPelayanan", data=[item]))

    (page,) = await collect(oss.standards_since(None, tolerant=True))

    assert page.entries == ()
    assert [r.id_layanan for r in page.rejected] == [id_layanan]


async def test_a_tolerant_reading_still_refuses_a_page_that_is_not_a_page(
    oss: OssClient, oss_api: respx.MockRouter
) -> None:
    route = _inquery(oss_api).respond(
        200, json=answer("inqueryStandarPelayanan", data={"items": []})
    )

    with pytest.raises(MalformedResponse):
        await collect(oss.standards_since(None, tolerant=True))

    assert route.call_count == 4


# --- receive ---------------------------------------------------------------------------------


@pytest.fixture
def standard() -> ServiceStandard:
    return to_domain(Entry.model_validate(wire_entry(1)), defaults=EntryDefaults(agency=AGENCY))


@pytest.mark.parametrize("base_version", [None, 3])
async def test_an_entry_is_sent_with_its_base_version_and_the_new_versi_returned(
    oss: OssClient, oss_api: respx.MockRouter, standard: ServiceStandard, base_version: int | None
) -> None:
    route = _receive(oss_api).respond(200, json=answer("receiveStandarPelayanan", versi=4))

    versi = await oss.put_standard(standard, base_version=base_version)

    assert versi == 4
    sent = body_of(route.calls.last.request)
    expected = {k: v for k, v in wire_entry(1).items() if k not in ("versi", "diperbarui")}
    assert sent == {"STANDARPELAYANAN": {**expected, "versi_dasar": base_version}}


async def test_an_entry_of_another_agency_is_sent_with_its_instansi(
    oss: OssClient, oss_api: respx.MockRouter, standard: ServiceStandard
) -> None:
    route = _receive(oss_api).respond(200, json=answer("receiveStandarPelayanan", versi=4))

    await oss.put_standard(
        standard.model_copy(update={"agency": "Dinas Kesehatan"}), base_version=3
    )

    assert body_of(route.calls.last.request)["STANDARPELAYANAN"]["instansi"] == "Dinas Kesehatan"


async def test_a_stale_base_version_raises_a_conflict_carrying_oss_current_entry(
    oss: OssClient, oss_api: respx.MockRouter, standard: ServiceStandard
) -> None:
    local = standard.model_copy(update={"sk_number": "SK-1"})
    route = _receive(oss_api).respond(
        409,
        json=answer(
            "receiveStandarPelayanan", kode=409, data=wire_entry(1, versi=5, nama_layanan="Baru")
        ),
    )

    with pytest.raises(VersionConflict) as caught:
        await oss.put_standard(local, base_version=3)

    current = caught.value.current
    assert isinstance(current, RemoteEntry)
    assert (current.versi, current.standard.name, current.standard.sk_number) == (5, "Baru", "SK-1")
    assert caught.value.status == 409
    assert route.call_count == 1


async def test_a_conflict_over_an_entry_oss_does_not_hold_carries_no_current_entry(
    oss: OssClient, oss_api: respx.MockRouter, standard: ServiceStandard
) -> None:
    _receive(oss_api).respond(
        409, json=answer("receiveStandarPelayanan", kode=409, data=None, keterangan="tidak ada")
    )

    with pytest.raises(VersionConflict, match="no base version") as caught:
        await oss.put_standard(standard, base_version=3)

    assert caught.value.current is None


async def test_a_refused_entry_raises_request_rejected_at_once(
    oss: OssClient, oss_api: respx.MockRouter, standard: ServiceStandard
) -> None:
    route = _receive(oss_api).respond(
        400, json=answer("receiveStandarPelayanan", kode=400, keterangan="kd_izin tidak dikenal")
    )

    with pytest.raises(RequestRejected, match="kd_izin tidak dikenal"):
        await oss.put_standard(standard, base_version=3)

    assert route.call_count == 1


@pytest.mark.parametrize(
    "failure", [httpx.ReadTimeout, httpx.RemoteProtocolError], ids=lambda e: e.__name__
)
async def test_a_write_whose_answer_never_came_raises_outcome_unknown_without_resending(
    oss: OssClient, oss_api: respx.MockRouter, standard: ServiceStandard, failure: type[Exception]
) -> None:
    route = _receive(oss_api).mock(side_effect=failure)

    with pytest.raises(OutcomeUnknown):
        await oss.put_standard(standard, base_version=3)

    assert route.call_count == 1


async def test_a_write_refused_by_a_server_error_is_sent_again(
    oss: OssClient, oss_api: respx.MockRouter, standard: ServiceStandard
) -> None:
    route = _receive(oss_api).mock(
        side_effect=[
            httpx.Response(200, json=answer("receiveStandarPelayanan", kode="500")),
            httpx.Response(200, json=answer("receiveStandarPelayanan", versi=4)),
        ]
    )

    assert await oss.put_standard(standard, base_version=3) == 4
    assert route.call_count == 2


async def test_an_accepted_write_with_an_unreadable_answer_is_an_unknown_outcome(
    oss: OssClient, oss_api: respx.MockRouter, standard: ServiceStandard
) -> None:
    route = _receive(oss_api).respond(200, json=answer("receiveStandarPelayanan", versi="4"))

    with pytest.raises(OutcomeUnknown) as caught:
        await oss.put_standard(standard, base_version=3)

    assert isinstance(caught.value.__cause__, MalformedResponse)
    assert route.call_count == 1


def test_a_region_code_that_is_not_numeric_is_refused(oss_settings: OssSettings) -> None:
    http = httpx.AsyncClient(
        base_url=OSS_BASE, transport=httpx.MockTransport(lambda request: httpx.Response(500))
    )

    with pytest.raises(ValueError, match="'14O5'"):
        OssClient(http, oss_settings, kd_daerah="14O5", agency=AGENCY)


async def test_a_negative_base_version_is_refused_before_anything_is_sent(
    oss: OssClient, oss_api: respx.MockRouter, standard: ServiceStandard
) -> None:
    route = _receive(oss_api)

    with pytest.raises(ValueError, match="-1"):
        await oss.put_standard(standard, base_version=-1)

    assert route.call_count == 0
