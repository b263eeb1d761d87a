"""The OSS wire mapping, both ways, as pure functions."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import BaseModel, ValidationError, field_validator
from pydantic_core import PydanticKnownError, to_json

from oss_bridge.clients.oss_wire import (
    ENTRY_DATA,
    LOCAL_ONLY_FIELDS,
    Entry,
    EntryDefaults,
    SharedParts,
    _as_data,
    answer_payload,
    canonical_from,
    folded_already,
    standard_from,
    to_domain,
    to_wire,
)
from oss_bridge.domain import ServiceStandard
from oss_bridge.domain.canonical import canonical_content
from oss_bridge.domain.service_standard import CONTENT_FIELDS, _fold
from oss_bridge.store._catalogue_sync import canonical_text
from tests.clients.support import AGENCY
from tests.factories import make_standard
from tests.strategies import service_standards

STAMP = datetime(2025, 1, 6, 2, 0, tzinfo=UTC)


def received_data(
    standard: ServiceStandard, *, agency: str = AGENCY, versi: int = 1
) -> dict[str, Any]:
    """The JSON OSS would send back after storing ``to_wire(standard)``."""
    sent = to_wire(standard, kd_daerah="1405", agency=agency, versi_dasar=None)
    data = sent.model_dump(mode="json", exclude={"versi_dasar"})
    if data["instansi"] is None:
        del data["instansi"]
    return {**data, "versi": versi, "diperbarui": STAMP.isoformat()}


def as_received(standard: ServiceStandard, *, agency: str = AGENCY, versi: int = 1) -> Entry:
    """What OSS would send back after storing ``to_wire(standard)``, read."""
    return Entry.model_validate(received_data(standard, agency=agency, versi=versi))


@settings(max_examples=150, deadline=None)
@given(service_standards())
def test_a_standard_sent_and_read_back_with_its_local_entry_is_the_same_standard(
    standard: ServiceStandard,
) -> None:
    entry = as_received(standard)

    assert to_domain(entry, defaults=EntryDefaults(agency=AGENCY, local=standard)) == standard


@settings(max_examples=50, deadline=None)
@given(service_standards())
def test_without_the_local_entry_only_the_fields_oss_does_not_hold_are_lost(
    standard: ServiceStandard,
) -> None:
    back = to_domain(as_received(standard), defaults=EntryDefaults(agency=AGENCY))

    for name in CONTENT_FIELDS:
        if name in LOCAL_ONLY_FIELDS:
            assert getattr(back, name) == ServiceStandard.model_fields[name].default
        else:
            assert getattr(back, name) == getattr(standard, name), name


def test_every_field_of_a_standard_is_either_on_the_wire_or_kept_locally() -> None:
    on_the_wire = {
        "code",
        "name",
        "agency",
        "permit_code",
        "requirements",
        "procedure",
        "completion_time",
        "fee",
        "products",
        "complaint_handling",
        "status",
    }

    assert on_the_wire | set(LOCAL_ONLY_FIELDS) == set(ServiceStandard.model_fields)
    assert not on_the_wire & set(LOCAL_ONLY_FIELDS)


def test_a_standard_of_the_regions_own_agency_is_sent_without_instansi() -> None:
    sent = to_wire(make_standard(), kd_daerah="1405", agency=AGENCY, versi_dasar=2)

    assert sent.instansi is None
    assert sent.versi_dasar == 2


def test_an_entry_without_instansi_is_read_as_the_regions_agency() -> None:
    entry = as_received(make_standard(agency="Dinas Lain"), agency="Dinas Lain")

    assert to_domain(entry, defaults=EntryDefaults(agency="Dinas Kita")).agency == "Dinas Kita"


@pytest.mark.parametrize(
    ("amount", "nominal"),
    [
        (Decimal(0), 0),
        (Decimal("50000.00"), 50000),
        (Decimal("12500.50"), 12500.5),
        (Decimal("0.10"), 0.1),
    ],
)
def test_a_fee_is_sent_as_a_json_number_whole_when_it_can_be(
    amount: Decimal, nominal: float
) -> None:
    standard = make_standard(fee={"amount": amount, "note": None})

    sent = to_wire(standard, kd_daerah="1405", agency=AGENCY, versi_dasar=None).biaya.nominal

    assert sent == nominal
    assert isinstance(sent, int) is (amount == amount.to_integral_value())


@pytest.mark.parametrize(("unit", "satuan"), [("day", "hari"), ("working_day", "hari_kerja")])
def test_completion_time_units_map_both_ways(unit: str, satuan: str) -> None:
    standard = make_standard(completion_time={"value": 3, "unit": unit})

    entry = as_received(standard)

    assert entry.waktu_penyelesaian.satuan == satuan
    assert to_domain(entry, defaults=EntryDefaults(agency=AGENCY)).completion_time == (
        standard.completion_time
    )


@pytest.mark.parametrize(("status", "wire_status"), [("active", "aktif"), ("inactive", "nonaktif")])
def test_status_maps_both_ways(status: str, wire_status: str) -> None:
    entry = as_received(make_standard(status=status))

    assert entry.status == wire_status
    assert to_domain(entry, defaults=EntryDefaults(agency=AGENCY)).status == status


@pytest.mark.parametrize(
    ("body", "payload"),
    [
        ({"responreceiveStandarPelayanan": {"kode": 200}}, {"kode": 200}),
        ({"responReceiveStandarPelayanan": {"kode": 200}}, {"kode": 200}),
        ({"respon_receiveStandarPelayanan": {"kode": 200}}, {"kode": 200}),
        ({"responreceivestandarpelayanan": {"kode": 200}, "debug": 1}, {"kode": 200}),
    ],
)
def test_the_payload_is_found_under_any_spelling_of_its_wrapper(
    body: dict[str, Any], payload: dict[str, Any]
) -> None:
    assert answer_payload(body, "receiveStandarPelayanan") == payload


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({}, "found []"),
        ({"respongetDataReferensi": {}}, "found ['respongetDataReferensi']"),
        ({"responX": 1, "RESPONX": 2}, "several spellings"),
        ("text", "expected a JSON object"),
    ],
)
def test_a_missing_or_ambiguous_wrapper_is_named(body: Any, message: str) -> None:
    method = "X" if isinstance(body, dict) and "responX" in body else "receiveStandarPelayanan"

    with pytest.raises(LookupError, match=message.replace("[", r"\[").replace("]", r"\]")):
        answer_payload(body, method)


# --- reading a page in one pass ------------------------------------------------------------------

# Where an entry can go wrong, and with what: wrong types, blanks, unknown keys, missing keys.
WIRE_PATHS: list[tuple[str, ...]] = [
    ("id_layanan",),
    ("kd_daerah",),
    ("kd_izin",),
    ("nama_layanan",),
    ("instansi",),
    ("persyaratan",),
    ("prosedur",),
    ("waktu_penyelesaian",),
    ("waktu_penyelesaian", "nilai"),
    ("waktu_penyelesaian", "satuan"),
    ("biaya",),
    ("biaya", "nominal"),
    ("biaya", "keterangan"),
    ("produk",),
    ("pengaduan",),
    ("pengaduan", "ketentuan"),
    ("pengaduan", "kontak"),
    ("pengaduan", "kontak", "situs"),
    ("pengaduan", "aturan"),
    ("pengaduan", "kontak", "email"),
    ("versi",),
    ("diperbarui",),
    ("status",),
    ("tambahan",),
]
ODD_VALUES: list[Any] = [
    None,
    "",
    "   ",
    "Layanan  baru",
    "bad code!",
    "3",
    3,
    -1,
    1.5,
    0.001,
    10**20,
    True,
    [],
    ["KTP"],
    [" "],
    [1],
    {},
    {"nilai": 2, "satuan": "hari"},
    {"nominal": "0"},
    "2025-01-06T09:15:00",
    "2025-01-06T09:15:00+07:00",
    "nonaktif",
    "minggu",
]
DEFAULTS = EntryDefaults(agency=AGENCY)


@st.composite
def wire_items(draw: st.DrawFn) -> Any:
    """Entries as OSS may send them: a valid one, then changed at up to three places."""
    item: Any = received_data(draw(service_standards()), versi=draw(st.integers(0, 9)))
    for _ in range(draw(st.integers(min_value=0, max_value=3))):
        *parents, key = draw(st.sampled_from(WIRE_PATHS))
        target = item
        for parent in parents:
            target = target.get(parent) if isinstance(target, dict) else None
        if not isinstance(target, dict):
            continue
        if draw(st.booleans()):
            target.pop(key, None)
        else:
            target[key] = draw(st.sampled_from(ODD_VALUES))
    return draw(st.sampled_from([item, item, "not an entry", None, [item]]))


def _read_alone(item: Any) -> ServiceStandard | str:
    try:
        return to_domain(Entry.model_validate(item), defaults=DEFAULTS)
    except ValidationError:
        return "not a valid service standard"


def _read_in_bulk(item: Any, parts: SharedParts | None) -> ServiceStandard | str:
    try:
        (data,) = ENTRY_DATA.validate_python([item])
        return standard_from(data, defaults=DEFAULTS, parts=parts)
    except ValidationError:
        return "not a valid service standard"


@settings(max_examples=400, deadline=None)
@given(wire_items(), st.booleans())
def test_an_entry_read_in_one_pass_with_its_page_is_read_as_alone(item: Any, shared: bool) -> None:
    assert _read_in_bulk(item, SharedParts() if shared else None) == _read_alone(item)


@settings(max_examples=200, deadline=None)
@given(wire_items())
def test_the_bulk_reading_accepts_exactly_the_entries_the_wire_model_accepts(item: Any) -> None:
    def accepted(read: Any) -> bool:
        try:
            read()
        except ValidationError:
            return False
        return True

    assert accepted(lambda: ENTRY_DATA.validate_python([item])) == accepted(
        lambda: Entry.model_validate(item)
    )


def test_entries_that_repeat_a_part_share_one_model_of_it() -> None:
    parts = SharedParts()
    first, second = (
        standard_from(
            ENTRY_DATA.validate_python([received_data(make_standard(code=code))])[0],
            defaults=DEFAULTS,
            parts=parts,
        )
        for code in ("sp-1", "sp-2")
    )

    assert first.complaint_handling is second.complaint_handling
    assert first.fee is second.fee


def test_equal_fees_written_differently_are_not_shared() -> None:
    parts = SharedParts()
    amounts = [
        standard_from(
            {**ENTRY_DATA.validate_python([received_data(make_standard())])[0], "biaya": biaya},
            defaults=DEFAULTS,
            parts=parts,
        ).fee.amount
        for biaya in ({"nominal": Decimal("5000")}, {"nominal": Decimal("5000.00")})
    ]

    assert [str(amount) for amount in amounts] == ["5000", "5000.00"]


def test_a_wire_model_with_a_validator_is_not_mirrored_for_bulk_reading() -> None:
    class Checked(BaseModel):
        nilai: int

        @field_validator("nilai")
        @classmethod
        def positive(cls, value: int) -> int:
            return abs(value)

    with pytest.raises(TypeError, match="validators"):
        _as_data(Checked, {})


# --- the canonical reading of plain entries ----------------------------------------------------

# Every character str.split() takes for white space, and characters JSON escapes.
WHITE_SPACE = [chr(code) for code in range(0x110000) if chr(code).isspace()]
TRICKY = [*WHITE_SPACE, '"', "\\", "\x00", "\x7f", "é", "\u00e9"]
# The text fields of a wire entry, as paths; a list's path ends in its index.
TEXT_PATHS: list[tuple[str | int, ...]] = [
    ("nama_layanan",),
    ("instansi",),
    ("kd_izin",),
    ("persyaratan", 0),
    ("prosedur", 0),
    ("produk", 0),
    ("biaya", "keterangan"),
    ("pengaduan", "ketentuan", 0),
    ("pengaduan", "kontak", "alamat"),
]


@st.composite
def messy_items(draw: st.DrawFn) -> Any:
    """Valid entries whose text may hold any white space, quotes, escapes, or be blank."""
    item: Any = received_data(draw(service_standards()), versi=draw(st.integers(0, 9)))
    for _ in range(draw(st.integers(min_value=1, max_value=3))):
        *parents, last = draw(st.sampled_from(TEXT_PATHS))
        target = item
        for parent in parents:
            target = target[parent]
        pieces = draw(st.lists(st.sampled_from(["kata", " ", *TRICKY]), max_size=5))
        if isinstance(target, list) and not target:
            target.append("")  # an empty list of texts gets one to spoil
        target[last] = "".join(pieces)
    biaya = item["biaya"]
    biaya["nominal"] = draw(
        st.sampled_from([0, 5000, 1500.5, 0.25, 0.001, -0.0, 10**16, 10**15, 12345678.91, 1e20])
    )
    return item


def _slow_canonical(data: dict[str, Any]) -> str | None:
    try:
        standard = standard_from(data, defaults=DEFAULTS)
    except ValidationError:
        return None
    return canonical_text(standard)[1]


@settings(max_examples=400, deadline=None)
@given(st.one_of(wire_items(), messy_items()))
def test_the_canonical_reading_of_an_entry_is_the_standard_or_declines(item: Any) -> None:
    try:
        (data,) = ENTRY_DATA.validate_python([item])
    except ValidationError:
        return
    held = canonical_from(data, agency=AGENCY)
    if held is None:
        return  # the ordinary reading decides
    slow = _slow_canonical(data)
    assert held.text == slow
    assert held.content == canonical_content(held.standard)
    assert held.standard == standard_from(data, defaults=DEFAULTS)


def test_a_plain_entry_is_read_canonically() -> None:
    standard = make_standard(fee={"amount": Decimal("15000.50")})
    (data,) = ENTRY_DATA.validate_python([received_data(standard)])

    held = canonical_from(data, agency=AGENCY)

    assert held is not None
    assert held.text == canonical_text(standard_from(data, defaults=DEFAULTS))[1]


@pytest.mark.parametrize(
    ("change", "why"),
    [
        ({"nama_layanan": "Layanan  baru"}, "two spaces in a row"),
        ({"nama_layanan": " Layanan"}, "a leading space"),
        ({"persyaratan": ["KTP\t"]}, "a tab"),
        ({"produk": ["NIB\u00a0"]}, "a non-breaking space"),
        ({"instansi": ""}, "an empty agency falls back, but an empty text is refused"),
        ({"prosedur": []}, "a required list empty"),
        ({"id_layanan": "bad code!"}, "a code outside the pattern"),
        ({"id_layanan": "sp-1\n"}, "a code with a trailing line break"),
        ({"biaya": {"nominal": 0.001}}, "a fee with three decimals"),
        ({"biaya": {"nominal": 10**17}}, "a fee with too many digits"),
        ({"biaya": {"nominal": -0.0}}, "a negative zero"),
        ({"biaya": {"nominal": 0, "keterangan": 'kata \\"dikutip\\"'}}, "an escape"),
    ],
)
def test_the_canonical_reading_declines_what_it_cannot_vouch_for(
    change: dict[str, Any], why: str
) -> None:
    item = {**received_data(make_standard(code="sp-1")), **change}
    (data,) = ENTRY_DATA.validate_python([item])

    assert canonical_from(data, agency="" if "agency" in why else AGENCY) is None, why


@settings(max_examples=500, deadline=None)
@given(st.lists(st.text(alphabet=st.sampled_from(["a", "b", " ", *TRICKY]) | st.characters())))
def test_text_said_to_be_folded_already_is_left_as_it_is_by_folding(texts: list[str]) -> None:
    try:
        text = to_json(texts).decode("utf-8")
    except Exception:  # lone surrogates: nothing to decide
        return
    if folded_already(text):
        for one in texts:
            assert _fold(one) == one


@pytest.mark.parametrize("space", [space for space in WHITE_SPACE if space != " "])
def test_every_kind_of_white_space_but_the_space_is_noticed(space: str) -> None:
    assert not folded_already(to_json([f"a{space}b"]).decode("utf-8"))


def test_plain_words_are_folded_already() -> None:
    assert folded_already(to_json(["Surat izin usaha", "é à", "Rp 5.000"]).decode("utf-8"))


def test_an_empty_text_is_not_folded_already() -> None:
    with pytest.raises(PydanticKnownError):
        _fold("")
    assert not folded_already(to_json(["a", ""]).decode("utf-8"))
