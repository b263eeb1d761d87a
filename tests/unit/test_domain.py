"""Domain models and vocabularies: what the seed page fixes, and what input they refuse."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from pydantic import ValidationError

from oss_bridge.domain import (
    ComplaintCategory,
    ComplaintDraft,
    ComplaintHandling,
    ComplaintObject,
    CompletionTime,
    Fee,
    ServiceStandard,
    Stage,
)
from oss_bridge.domain.service_standard import CONTENT_FIELDS, slugify


def test_there_are_five_categories_four_objects_and_seven_stages() -> None:
    assert len(ComplaintCategory) == 5
    assert len(ComplaintObject) == 4
    assert [s.value for s in Stage] == list("abcdefg")


def test_each_vocabulary_member_carries_its_published_label() -> None:
    assert ComplaintCategory.HAMBATAN_OSS.label == (
        "Pengaduan terhadap hambatan dan permasalahan dalam penggunaan Sistem OSS"
    )
    assert ComplaintObject.ASN_PTT.label == "ASN/PTT"
    assert Stage.A.label == "menerima dan memberikan tanda terima"


@pytest.mark.parametrize(
    ("label", "member"),
    [
        ("Pelaku Usaha", ComplaintObject.PELAKU_USAHA),
        ("  pelaku   usaha ", ComplaintObject.PELAKU_USAHA),
        ("PEMERINTAH KABUPATEN", ComplaintObject.PEMERINTAH_KABUPATEN),
    ],
)
def test_a_label_finds_its_member_whatever_the_case_and_spacing(
    label: str, member: ComplaintObject
) -> None:
    assert ComplaintObject.from_label(label) is member


def test_an_unknown_label_is_refused_by_name() -> None:
    with pytest.raises(ValueError, match="'Camat' is not a known ComplaintObject label"):
        ComplaintObject.from_label("Camat")


def test_stages_rank_in_their_published_order() -> None:
    ranks = [stage.rank for stage in Stage]
    assert ranks == sorted(ranks) == list(range(7))


def _standard(**overrides: Any) -> ServiceStandard:
    data: dict[str, Any] = {
        "code": "job-portal",
        "name": "Aktivitas Pendaftaran Tenaga Kerja Daring (Job Portal)",
        "agency": "Dinas Penanaman Modal dan Pelayanan Terpadu Satu Pintu Kabupaten Pelalawan",
        "requirements": ["Persyaratan sesuai Lampiran II PP 5/2021"],
        "procedure": ["Daftar", "Ajukan", "Terima"],
        "completion_time": {"value": 5, "unit": "day"},
        "fee": {"amount": 0, "note": "Tidak dipungut biaya"},
        "products": ["NIB", "Sertifikat Standar"],
        "complaint_handling": {"rules": ["cepat dan tepat"]},
    }
    data.update(overrides)
    return ServiceStandard.model_validate(data)


def test_a_service_standard_needs_the_six_delivery_components_only() -> None:
    standard = _standard()
    assert standard.completion_time == CompletionTime(value=5, unit="day")
    assert standard.fee == Fee(amount=Decimal(0), note="Tidak dipungut biaya")
    assert standard.legal_basis == ()
    assert standard.staff_count is None


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("requirements", []),
        ("procedure", []),
        ("products", []),
        ("code", "has space"),
        ("code", ""),
        ("name", "   "),
        ("completion_time", {"value": -1, "unit": "day"}),
        ("completion_time", {"value": 5, "unit": "week"}),
        ("fee", {"amount": -5}),
        ("fee", {"amount": 5, "currency": "USD"}),
    ],
)
def test_a_service_standard_refuses_a_bad_component(field: str, value: Any) -> None:
    with pytest.raises(ValidationError) as info:
        _standard(**{field: value})
    assert field in str(info.value)


@pytest.mark.parametrize(
    ("field", "value", "location"),
    [
        ("name", " \n\t ", ("name",)),
        ("agency", "", ("agency",)),
        ("requirements", ["Surat permohonan", "   "], ("requirements", 1)),
        ("complaint_handling", {"stages": ["\u3000"]}, ("complaint_handling", "stages", 0)),
    ],
)
def test_text_of_only_white_space_is_refused_as_too_short_where_it_stands(
    field: str, value: Any, location: tuple[str | int, ...]
) -> None:
    with pytest.raises(ValidationError) as info:
        _standard(**{field: value})

    [error] = info.value.errors()
    assert (error["type"], error["loc"], error["ctx"]) == (
        "string_too_short",
        location,
        {"min_length": 1},
    )


def test_text_keeps_the_published_wording_but_folds_white_space() -> None:
    standard = _standard(requirements=["  dilakukans   ecara\nElektronik "])
    assert standard.requirements == ("dilakukans ecara Elektronik",)


def test_a_service_standard_round_trips_through_json() -> None:
    standard = _standard(complaint_handling=ComplaintHandling(stages=("a", "b")))
    assert ServiceStandard.model_validate_json(standard.model_dump_json()) == standard


def test_content_fields_cover_everything_but_the_code() -> None:
    assert "code" not in CONTENT_FIELDS
    assert {"requirements", "fee", "legal_basis", "status"} <= set(CONTENT_FIELDS)


@pytest.mark.parametrize(
    ("name", "slug"),
    [
        (
            "Aktivitas Pendaftaran Tenaga Kerja Daring (Job Portal)",
            "aktivitas-pendaftaran-tenaga-kerja-daring-job-portal",
        ),
        ("Izin  Usaha / PBG", "izin-usaha-pbg"),
        ("???", "service"),
    ],
)
def test_a_code_is_made_from_a_name(name: str, slug: str) -> None:
    assert slugify(name) == slug


def _draft(**overrides: Any) -> ComplaintDraft:
    data: dict[str, Any] = {
        "category": "perizinan_berusaha",
        "object": "pelaku_usaha",
        "description": "Izin belum terbit setelah 10 hari.",
    }
    data.update(overrides)
    return ComplaintDraft.model_validate(data)


def test_a_complaint_draft_accepts_the_stable_codes() -> None:
    draft = _draft(occurred_on="2026-11-20")
    assert draft.category is ComplaintCategory.PERIZINAN_BERUSAHA
    assert draft.occurred_on == date(2026, 11, 20)


@pytest.mark.parametrize(
    ("phone", "stored"),
    [
        ("0812 3456 7890", "081234567890"),
        ("+62 812-3456-7890", "+6281234567890"),
        ("(0761) 123456", "0761123456"),
    ],
)
def test_phone_numbers_are_accepted_as_people_write_them(phone: str, stored: str) -> None:
    assert _draft(reporter={"phone": phone}).reporter is not None
    assert _draft(reporter={"phone": phone}).reporter.phone == stored  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"category": "lainnya"}, "category"),
        ({"object": "camat"}, "object"),
        ({"description": ""}, "description"),
        ({"description": "   "}, "description"),
        ({"description": "x" * 4001}, "description"),
        ({"reporter": {"email": "not-an-email"}}, "email"),
        ({"reporter": {"phone": "12345"}}, "phone"),
        ({"unexpected": 1}, "unexpected"),
    ],
)
def test_a_complaint_draft_refuses_bad_input_naming_the_field(
    overrides: dict[str, Any], field: str
) -> None:
    with pytest.raises(ValidationError) as info:
        _draft(**overrides)
    assert field in str(info.value)
