"""The mock OSS (DESIGN.md 3.1): PIA envelope, reference data, paged inquiry, optimistic writes."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from oss_bridge_mock import FaultProfile, Quirks
from oss_bridge_mock.faults import alternate_spellings
from tests.mock._support import (
    OSS_KEY,
    RBA,
    START,
    FakeClock,
    mock_client,
    mock_state,
    oss_call,
    pia,
)

INQUERY = "inqueryStandarPelayanan"
RECEIVE = "receiveStandarPelayanan"
REFERENSI = "getDataReferensi"
SEED_SERVICE = "SP-1405-000001"
SEED_REGION_IDS = [f"SP-1405-00000{n}" for n in range(1, 7)]


async def inquire(client: httpx.AsyncClient, **payload: Any) -> dict[str, Any]:
    payload.setdefault("kd_daerah", "1405")
    response = await oss_call(client, INQUERY, payload)
    assert response.status_code == 200, response.text
    return pia(response, INQUERY)


async def everything(client: httpx.AsyncClient, **payload: Any) -> list[dict[str, Any]]:
    """Every entry of an inquiry, following the cursor to the last page."""
    entries: list[dict[str, Any]] = []
    cursor = None
    while True:
        page = await inquire(client, cursor=cursor, **payload)
        entries.extend(page["data"])
        cursor = page["next_cursor"]
        if cursor is None:
            return entries


async def entry(client: httpx.AsyncClient, id_layanan: str) -> dict[str, Any]:
    found = [e for e in await everything(client, limit=1000) if e["id_layanan"] == id_layanan]
    assert len(found) == 1
    return found[0]


def writable(wire: dict[str, Any], **changes: Any) -> dict[str, Any]:
    """An entry as a writer sends it back: without OSS's own fields, plus changes."""
    body = {k: v for k, v in wire.items() if k not in ("versi", "diperbarui")}
    body.update(changes)
    return body


NEW_ENTRY: dict[str, Any] = {
    "kd_daerah": "1405",
    "kd_izin": "I-86201",
    "nama_layanan": "Surat Izin Praktik Bidan",
    "persyaratan": ["Surat Tanda Registrasi"],
    "prosedur": ["Ajukan permohonan", "Verifikasi", "Terbit"],
    "waktu_penyelesaian": {"nilai": 5, "satuan": "hari_kerja"},
    "biaya": {"nominal": 0, "keterangan": "Tidak dipungut biaya"},
    "produk": ["Surat Izin Praktik Bidan"],
    "pengaduan": {"prosedur": ["Melalui SP4N-LAPOR!"]},
}


@pytest.mark.parametrize(
    "headers",
    [{}, {"user_key": "wrong"}, {"user-key": "demo-user-key"}],
    ids=["missing", "wrong", "hyphenated-name"],
)
@pytest.mark.parametrize("method", [REFERENSI, INQUERY, RECEIVE])
async def test_a_call_without_the_right_user_key_is_401_in_the_pia_envelope(
    method: str, headers: dict[str, str]
) -> None:
    async with mock_client() as client:
        response = await oss_call(client, method, {"kode": "8"}, headers=headers)
    assert response.status_code == 401
    assert pia(response, method)["kode"] == 401


@pytest.mark.parametrize("kode", ["8", 8])
async def test_reference_table_8_lists_permit_codes_whether_kode_is_text_or_number(
    kode: object,
) -> None:
    async with mock_client() as client:
        response = await oss_call(client, REFERENSI, {"kode": kode})
    payload = pia(response, REFERENSI)
    assert response.status_code == payload["kode"] == 200
    assert payload["keterangan"] == "Sukses"
    codes = {row["kode_referensi"] for row in payload["dataReferensi"]}
    assert "I-78103" in codes
    assert all(
        set(row) == {"kode_referensi", "uraian_referensi", "keterangan_referensi"}
        for row in payload["dataReferensi"]
    )


@pytest.mark.parametrize("kode", ["99", None, "", True])
async def test_an_unknown_or_missing_reference_table_is_a_bad_parameter(kode: object) -> None:
    async with mock_client() as client:
        response = await oss_call(client, REFERENSI, {"kode": kode})
    assert response.status_code == 400
    assert pia(response, REFERENSI)["kode"] == 400


@pytest.mark.parametrize(
    "body",
    [b'{"getDataReferensi": {"kode": "8"}}', b'{"GETDATAREFERENSI": "8"}', b"not json", b"[]"],
    ids=["wrong-case-wrapper", "payload-not-object", "not-json", "list"],
)
async def test_a_body_without_the_upper_case_wrapper_is_a_bad_parameter(body: bytes) -> None:
    async with mock_client() as client:
        response = await client.post(f"{RBA}/{REFERENSI}", content=body, headers=OSS_KEY)
    assert response.status_code == 400
    assert "GETDATAREFERENSI" in pia(response, REFERENSI)["keterangan"]


@pytest.mark.parametrize(
    ("method", "wrapper"),
    [
        (RECEIVE, "RECEIVESTANDARPELAYANAN"),
        (INQUERY, "STANDARPELAYANAN"),
        (REFERENSI, "DATAREFERENSI"),
    ],
)
async def test_each_method_takes_only_its_own_wrapper(method: str, wrapper: str) -> None:
    async with mock_client() as client:
        response = await client.post(
            f"{RBA}/{method}", json={wrapper: {"kd_daerah": "1405"}}, headers=OSS_KEY
        )
    assert response.status_code == 400
    assert pia(response, method)["kode"] == 400


async def test_an_entry_may_name_the_agency_that_provides_it() -> None:
    async with mock_client() as client:
        response = await oss_call(
            client, RECEIVE, {**NEW_ENTRY, "instansi": "Dinas Kesehatan Kabupaten Pelalawan"}
        )
        stored = await entry(client, pia(response, RECEIVE)["id_layanan"])
        seed = await entry(client, SEED_SERVICE)
    assert stored["instansi"] == "Dinas Kesehatan Kabupaten Pelalawan"
    assert "instansi" not in seed


async def test_an_unknown_method_is_service_not_found() -> None:
    async with mock_client() as client:
        response = await oss_call(client, "receiveNIB", {})
    assert response.status_code == 404
    assert pia(response, "receiveNIB")["kode"] == 404


async def test_the_seed_service_carries_the_published_facts() -> None:
    async with mock_client() as client:
        seed = await entry(client, SEED_SERVICE)
    assert seed["nama_layanan"] == "Aktivitas Pendaftaran Tenaga Kerja Daring (Job Portal)"
    assert seed["kd_daerah"] == "1405"
    assert len(seed["persyaratan"]) == 1
    assert "Lampiran II Peraturan Pemerintah Nomor 5 Tahun 2021" in seed["persyaratan"][0]
    assert len(seed["prosedur"]) == 3
    assert seed["waktu_penyelesaian"] == {"nilai": 5, "satuan": "hari"}
    assert seed["biaya"] == {"nominal": 0, "keterangan": "Tidak dipungut biaya"}
    assert seed["produk"] == ["NIB dan Sertifikat Standar"]
    assert len(seed["pengaduan"]["tahapan"]) == 7
    assert len(seed["pengaduan"]["kategori"]) == 5
    assert seed["status"] == "aktif"


async def test_every_entry_has_the_wire_fields_and_a_known_permit_code() -> None:
    async with mock_client() as client:
        entries = await everything(client)
        table = pia(await oss_call(client, REFERENSI, {"kode": "8"}), REFERENSI)
    permit_codes = {row["kode_referensi"] for row in table["dataReferensi"]}
    fields = {
        "id_layanan",
        "kd_daerah",
        "kd_izin",
        "nama_layanan",
        "persyaratan",
        "prosedur",
        "waktu_penyelesaian",
        "biaya",
        "produk",
        "pengaduan",
        "versi",
        "diperbarui",
        "status",
    }
    assert entries
    for wire in entries:
        assert set(wire) == fields
        assert wire["kd_izin"] is None or wire["kd_izin"] in permit_codes


async def test_an_inquiry_returns_only_the_region_asked_for() -> None:
    async with mock_client() as client:
        pelalawan = await everything(client)
        pekanbaru = await everything(client, kd_daerah="1471")
        nowhere = await everything(client, kd_daerah="9999")
    assert sorted(e["id_layanan"] for e in pelalawan) == SEED_REGION_IDS
    assert [e["id_layanan"] for e in pekanbaru] == ["SP-1471-000001"]
    assert nowhere == []


async def test_a_deactivated_entry_comes_back_as_nonaktif() -> None:
    async with mock_client() as client:
        entries = await everything(client)
    assert {e["id_layanan"] for e in entries if e["status"] == "nonaktif"} == {"SP-1405-000006"}


async def test_entries_come_in_diperbarui_order_with_id_layanan_breaking_ties() -> None:
    async with mock_client() as client:
        entries = await everything(client, limit=1)
    keys = [(datetime.fromisoformat(e["diperbarui"]), e["id_layanan"]) for e in entries]
    assert keys == sorted(keys)
    # Entries 2 and 3 share their diperbarui; the tie is broken by id_layanan.
    ids = [e["id_layanan"] for e in entries]
    assert ids.index("SP-1405-000002") + 1 == ids.index("SP-1405-000003")


@pytest.mark.parametrize(
    ("sejak", "includes_the_entry"),
    [
        ("2024-06-11T08:30:00+07:00", True),
        ("2024-06-11T01:30:00Z", True),
        ("2024-06-11T01:30:00+00:00", True),
        ("2024-06-11T08:29:59.999999+07:00", True),
        ("2024-06-11T08:30:00.000001+07:00", False),
        ("2024-06-11T08:31:00+07:00", False),
    ],
)
async def test_sejak_includes_an_entry_changed_exactly_at_that_instant(
    sejak: str, includes_the_entry: bool
) -> None:
    # SP-1405-000004 was last changed at 2024-06-11T08:30:00+07:00; two entries changed later.
    async with mock_client() as client:
        ids = [e["id_layanan"] for e in await everything(client, sejak=sejak)]
    assert ("SP-1405-000004" in ids) is includes_the_entry
    assert {"SP-1405-000005", "SP-1405-000006"} <= set(ids)
    assert "SP-1405-000003" not in ids


async def test_a_write_is_found_by_sejak_equal_to_its_diperbarui() -> None:
    clock = FakeClock()
    async with mock_client(clock=clock) as client:
        edited = (
            await client.post(
                "/_mock/edit", json={"id_layanan": "SP-1405-000002", "changes": {"produk": ["X"]}}
            )
        ).json()
        clock.advance(seconds=1)
        at_the_instant = await everything(client, sejak=edited["diperbarui"])
        after_it = await everything(client, sejak="2025-01-06T09:00:00.000001+07:00")
    assert datetime.fromisoformat(edited["diperbarui"]) == START
    assert [e["id_layanan"] for e in at_the_instant] == ["SP-1405-000002"]
    assert after_it == []


@pytest.mark.parametrize(
    "payload",
    [
        {},
        {"kd_daerah": "Pelalawan"},
        {"kd_daerah": "1405", "limit": 0},
        {"kd_daerah": "1405", "limit": 1001},
        {"kd_daerah": "1405", "limit": "many"},
        {"kd_daerah": "1405", "sejak": "2024-06-11T08:30:00"},
        {"kd_daerah": "1405", "sejak": "yesterday"},
        {"kd_daerah": "1405", "sejak": 1718069400},
        {"kd_daerah": "1405", "cursor": "not-a-cursor"},
        {"kd_daerah": "1405", "cursor": 5},
    ],
    ids=[
        "no-region",
        "region-name",
        "limit-zero",
        "limit-too-big",
        "limit-text",
        "sejak-without-offset",
        "sejak-words",
        "sejak-number",
        "cursor-garbage",
        "cursor-number",
    ],
)
async def test_an_inquiry_with_bad_parameters_is_400(payload: dict[str, Any]) -> None:
    async with mock_client() as client:
        response = await oss_call(client, INQUERY, payload)
    assert response.status_code == 400
    assert pia(response, INQUERY)["kode"] == 400


async def test_paging_walks_a_10000_entry_catalogue_once_each_in_order() -> None:
    async with mock_client(generate_catalogue=10_000) as client:
        pages = []
        cursor = None
        while True:
            page = await inquire(client, cursor=cursor, limit=200)
            pages.append(page["data"])
            cursor = page["next_cursor"]
            if cursor is None:
                break
    entries = [e for page in pages for e in page]
    ids = [e["id_layanan"] for e in entries]
    assert len(ids) == len(set(ids)) == 10_000 + len(SEED_REGION_IDS)
    assert all(len(page) == 200 for page in pages[:-1])
    assert 0 < len(pages[-1]) <= 200
    keys = [(datetime.fromisoformat(e["diperbarui"]), e["id_layanan"]) for e in entries]
    assert keys == sorted(keys)
    # The generated stamps tie on purpose, so the order relies on the id_layanan tie-break.
    assert len({k[0] for k in keys}) < len(keys)


async def test_paging_during_edits_neither_skips_nor_repeats_unchanged_entries() -> None:
    clock = FakeClock()
    async with mock_client(clock=clock, generate_catalogue=60) as client:
        before = [e["id_layanan"] for e in await everything(client, limit=1000)]
        seen: list[str] = []
        page = await inquire(client, limit=10)
        seen += [e["id_layanan"] for e in page["data"]]
        already_seen, not_yet_seen = seen[3], before[40]
        for id_layanan in (already_seen, not_yet_seen):
            clock.advance(seconds=1)
            await client.post(
                "/_mock/edit", json={"id_layanan": id_layanan, "changes": {"produk": ["Baru"]}}
            )
        cursor = page["next_cursor"]
        while cursor is not None:
            page = await inquire(client, limit=10, cursor=cursor)
            seen += [e["id_layanan"] for e in page["data"]]
            cursor = page["next_cursor"]
    unchanged = set(before) - {already_seen, not_yet_seen}
    assert all(seen.count(i) == 1 for i in unchanged)
    assert set(seen) == set(before)
    # Edited entries come again at the end, in their new version.
    assert seen[-2:] == [already_seen, not_yet_seen]
    assert seen.count(already_seen) == 2


async def test_receive_without_versi_dasar_creates_an_entry_at_versi_1() -> None:
    clock = FakeClock()
    async with mock_client(clock=clock) as client:
        response = await oss_call(client, RECEIVE, {**NEW_ENTRY, "versi_dasar": None})
        payload = pia(response, RECEIVE)
        stored = await entry(client, payload["id_layanan"])
    assert response.status_code == 200
    assert payload["kode"] == 200
    assert payload["versi"] == 1
    assert datetime.fromisoformat(payload["diperbarui"]) == clock.now
    assert stored == payload["data"]
    assert stored["status"] == "aktif"
    assert stored["nama_layanan"] == "Surat Izin Praktik Bidan"


async def test_receive_may_name_the_id_of_a_new_entry() -> None:
    async with mock_client() as client:
        response = await oss_call(client, RECEIVE, {**NEW_ENTRY, "id_layanan": "REG-0001"})
        stored = await entry(client, "REG-0001")
    assert pia(response, RECEIVE)["id_layanan"] == "REG-0001"
    assert stored["versi"] == 1


async def test_receive_with_the_current_versi_writes_the_next_one() -> None:
    clock = FakeClock()
    async with mock_client(clock=clock) as client:
        current = await entry(client, SEED_SERVICE)
        body = writable(current, biaya={"nominal": 0, "keterangan": "Gratis"}, versi_dasar=3)
        response = await oss_call(client, RECEIVE, body)
        stored = await entry(client, SEED_SERVICE)
    assert response.status_code == 200
    assert pia(response, RECEIVE)["versi"] == 4
    assert stored["versi"] == 4
    assert stored["biaya"]["keterangan"] == "Gratis"
    assert datetime.fromisoformat(stored["diperbarui"]) == clock.now


async def test_receive_with_a_stale_versi_is_409_with_the_current_entry_and_writes_nothing() -> (
    None
):
    async with mock_client() as client:
        current = await entry(client, SEED_SERVICE)
        body = writable(current, nama_layanan="Nama lain", versi_dasar=2)
        response = await oss_call(client, RECEIVE, body)
        after = await entry(client, SEED_SERVICE)
    assert response.status_code == 409
    payload = pia(response, RECEIVE)
    assert payload["kode"] == 409
    assert payload["data"] == current
    assert after == current


async def test_receive_creating_an_id_that_exists_is_409_with_the_current_entry() -> None:
    async with mock_client() as client:
        current = await entry(client, SEED_SERVICE)
        response = await oss_call(client, RECEIVE, writable(current, versi_dasar=None))
    assert response.status_code == 409
    assert pia(response, RECEIVE)["data"] == current


async def test_receive_updating_an_id_that_does_not_exist_is_409_without_an_entry() -> None:
    async with mock_client() as client:
        body = {**NEW_ENTRY, "id_layanan": "NOPE-1", "versi_dasar": 1}
        response = await oss_call(client, RECEIVE, body)
        ids = [e["id_layanan"] for e in await everything(client)]
    assert response.status_code == 409
    assert pia(response, RECEIVE)["data"] is None
    assert "NOPE-1" not in ids


@pytest.mark.parametrize(
    "changes",
    [
        {"nama_layanan": ""},
        {"waktu_penyelesaian": {"nilai": 5, "satuan": "minggu"}},
        {"waktu_penyelesaian": {"nilai": 0, "satuan": "hari"}},
        {"biaya": {"nominal": -1, "keterangan": None}},
        {"kd_izin": "I-00000"},
        {"kd_daerah": "Riau"},
        {"persyaratan": "satu"},
        {"status": "hapus"},
        {"nama": "typo of nama_layanan"},
    ],
    ids=[
        "empty-name",
        "unknown-unit",
        "zero-days",
        "negative-fee",
        "unknown-permit-code",
        "bad-region",
        "requirements-not-list",
        "unknown-status",
        "unknown-field",
    ],
)
async def test_receive_refuses_an_invalid_entry_with_400_and_writes_nothing(
    changes: dict[str, Any],
) -> None:
    async with mock_client() as client:
        before = await everything(client)
        response = await oss_call(client, RECEIVE, {**NEW_ENTRY, **changes})
        after = await everything(client)
    assert response.status_code == 400
    assert pia(response, RECEIVE)["kode"] == 400
    assert after == before


async def test_receive_can_deactivate_an_entry() -> None:
    async with mock_client() as client:
        current = await entry(client, SEED_SERVICE)
        await oss_call(client, RECEIVE, writable(current, status="nonaktif", versi_dasar=3))
        stored = await entry(client, SEED_SERVICE)
    assert stored["status"] == "nonaktif"


async def test_an_edit_by_oss_staff_bumps_versi_and_diperbarui() -> None:
    clock = FakeClock()
    async with mock_client(clock=clock) as client:
        response = await client.post(
            "/_mock/edit",
            json={"id_layanan": SEED_SERVICE, "changes": {"persyaratan": ["NIB", "KTP"]}},
        )
        stored = await entry(client, SEED_SERVICE)
    assert response.status_code == 200
    assert stored == response.json()
    assert stored["versi"] == 4
    assert stored["persyaratan"] == ["NIB", "KTP"]
    assert datetime.fromisoformat(stored["diperbarui"]) == clock.now


async def test_an_edit_can_deactivate_an_entry() -> None:
    async with mock_client() as client:
        await client.post(
            "/_mock/edit", json={"id_layanan": SEED_SERVICE, "changes": {"status": "nonaktif"}}
        )
        state = await mock_state(client)
    assert {"id_layanan": SEED_SERVICE, "versi": 4, "status": "nonaktif"} in state["catalogue"]


async def test_an_edit_of_an_unknown_id_adds_the_entry_when_every_field_is_given() -> None:
    async with mock_client() as client:
        response = await client.post(
            "/_mock/edit", json={"id_layanan": "OSS-NEW-1", "changes": NEW_ENTRY}
        )
        stored = await entry(client, "OSS-NEW-1")
    assert response.status_code == 201
    assert stored["versi"] == 1


@pytest.mark.parametrize(
    ("id_layanan", "changes"),
    [
        ("OSS-NEW-1", {"nama_layanan": "Tanpa bidang lain"}),
        (SEED_SERVICE, {"versi": 9}),
        (SEED_SERVICE, {"diperbarui": "2020-01-01T00:00:00Z"}),
        (SEED_SERVICE, {"id_layanan": "OTHER"}),
        (SEED_SERVICE, {"kd_izin": "I-00000"}),
    ],
    ids=["incomplete-new-entry", "versi", "diperbarui", "id", "unknown-permit-code"],
)
async def test_an_invalid_edit_is_refused_with_422_and_changes_nothing(
    id_layanan: str, changes: dict[str, Any]
) -> None:
    async with mock_client() as client:
        before = await mock_state(client)
        response = await client.post(
            "/_mock/edit", json={"id_layanan": id_layanan, "changes": changes}
        )
        after = await mock_state(client)
    assert response.status_code == 422
    assert after["catalogue"] == before["catalogue"]


async def test_kode_arrives_as_a_numeric_string_when_that_quirk_is_on() -> None:
    faults = FaultProfile(quirks=Quirks(kode_as_string=1.0))
    async with mock_client(faults=faults) as client:
        ok = await oss_call(client, REFERENSI, {"kode": "8"})
        refused = await oss_call(client, REFERENSI, {"kode": "8"}, headers={})
    assert pia(ok, REFERENSI)["kode"] == "200"
    assert pia(refused, REFERENSI)["kode"] == "401"
    assert refused.status_code == 401


@pytest.mark.parametrize("method", [REFERENSI, INQUERY])
async def test_the_answer_key_is_spelled_another_way_when_that_quirk_is_on(method: str) -> None:
    faults = FaultProfile(quirks=Quirks(alt_spelling=1.0))
    payload = {"kode": "8"} if method == REFERENSI else {"kd_daerah": "1405"}
    async with mock_client(faults=faults) as client:
        response = await oss_call(client, method, payload)
    ((key, body),) = response.json().items()
    assert key in alternate_spellings(f"respon{method}")
    assert key.lower().replace("_", "") == f"respon{method}".lower()
    assert body["kode"] == 200


def test_the_alternative_spellings_include_the_capitalised_method() -> None:
    assert alternate_spellings("respongetDataReferensi") == [
        "responGetDataReferensi",
        "respongetdatareferensi",
        "respon_getDataReferensi",
    ]
    assert "responInqueryStandarPelayanan" in alternate_spellings("responinqueryStandarPelayanan")


async def test_without_quirks_kode_is_a_number_and_the_key_is_respon_method() -> None:
    async with mock_client() as client:
        response = await oss_call(client, REFERENSI, {"kode": "8"})
    assert list(response.json()) == ["respongetDataReferensi"]
    assert pia(response, REFERENSI)["kode"] == 200


async def test_the_clock_may_be_naive_utc() -> None:
    naive = datetime(2025, 1, 6, 2, 0)
    async with mock_client(clock=lambda: naive) as client:
        response = await oss_call(client, RECEIVE, NEW_ENTRY)
    stamp = datetime.fromisoformat(pia(response, RECEIVE)["diperbarui"])
    assert stamp == naive.replace(tzinfo=UTC)
    assert stamp.utcoffset() is not None
    assert stamp.isoformat().endswith("+07:00")
