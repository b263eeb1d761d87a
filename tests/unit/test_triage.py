"""Stages b and c at intake: is a complaint complete, and how urgent is it."""

from __future__ import annotations

import tomllib
from datetime import date
from typing import Any

import pytest
from pydantic import ValidationError

from oss_bridge.domain.complaint import ComplaintDraft, Reporter
from oss_bridge.domain.vocabulary import ComplaintCategory, ComplaintObject, Stage
from oss_bridge.services.complaints.triage import (
    CompletenessRule,
    TriageSettings,
    check_completeness,
    classify,
    triage,
)

DEFAULTS = TriageSettings()
LONG = "Permohonan izin usaha kami belum diproses sejak bulan lalu tanpa kabar apa pun. " * 2
SHORT = "Izin saya belum terbit."  # 23 characters
CONTACT = Reporter(name="Budi", email="budi@contoh.co.id")


def draft(**changes: Any) -> ComplaintDraft:
    fields: dict[str, Any] = {
        "category": ComplaintCategory.HAMBATAN_OSS,
        "object": ComplaintObject.PEMERINTAH_KABUPATEN,
        "description": LONG,
        "reporter": CONTACT,
        "occurred_on": date(2026, 11, 20),
        **changes,
    }
    return ComplaintDraft(**fields)


P, K, W, M, H = (
    ComplaintCategory.PERIZINAN_BERUSAHA,
    ComplaintCategory.KEGIATAN_USAHA,
    ComplaintCategory.PENGAWASAN,
    ComplaintCategory.PENYALAHGUNAAN_OSS,
    ComplaintCategory.HAMBATAN_OSS,
)


@pytest.mark.parametrize(
    ("changes", "missing"),
    [
        pytest.param({}, [], id="everything given"),
        pytest.param({"category": P, "service_code": "izin-usaha"}, [], id="permit with code"),
        pytest.param({"category": P}, [], id="permit described at length"),
        pytest.param({"category": P, "description": SHORT}, ["service_code"], id="permit vague"),
        pytest.param(
            {"category": P, "description": SHORT, "service_code": "  "},
            ["service_code"],
            id="permit with a blank code",
        ),
        pytest.param(
            {"category": P, "description": "Lambat.", "service_code": "izin-usaha"},
            ["description"],
            id="permit too short even with code",
        ),
        pytest.param(
            {"category": P, "description": "Lambat."},
            ["description", "service_code"],
            id="permit too short without code",
        ),
        pytest.param({"category": K, "occurred_on": None}, ["occurred_on"], id="activity undated"),
        pytest.param(
            {"category": W, "occurred_on": None}, ["occurred_on"], id="inspection undated"
        ),
        pytest.param({"category": H, "occurred_on": None}, [], id="oss obstacle undated"),
        pytest.param({"category": M, "description": SHORT}, ["description"], id="misuse short"),
        pytest.param({"category": H, "description": SHORT}, [], id="oss obstacle short"),
        pytest.param({"reporter": None}, ["reporter"], id="no reporter"),
        pytest.param({"reporter": Reporter(name="Budi")}, ["reporter"], id="a name only"),
        pytest.param({"reporter": Reporter(phone="0812 3456 7890")}, [], id="a phone only"),
        pytest.param({"reporter": None, "anonymous": True}, [], id="anonymous"),
        pytest.param(
            {"category": K, "reporter": None, "occurred_on": None, "description": "Bising."},
            ["description", "reporter", "occurred_on"],
            id="several at once",
        ),
    ],
)
def test_a_complaint_is_complete_when_it_holds_what_its_category_needs(
    changes: dict[str, Any], missing: list[str]
) -> None:
    completeness = check_completeness(draft(**changes), DEFAULTS)

    assert completeness.missing == missing
    assert completeness.complete is (not missing)
    assert len(completeness.hints) == len(missing)


def test_the_description_length_counts_folded_white_space() -> None:
    padded = "Izin   saya\n\n\n  belum   terbit" + " " * 40

    completeness = check_completeness(draft(category=M, description=padded), DEFAULTS)

    assert completeness.missing == ["description"]
    assert "has 22 characters" in completeness.hints[0]


@pytest.mark.parametrize(
    ("changes", "hint"),
    [
        (
            {"category": M, "description": SHORT},
            "has 23 characters; describe what happened in at least 30",
        ),
        ({"category": P, "description": SHORT}, "or describe it in at least 100 characters"),
        ({"reporter": None}, "an e-mail address or a phone number"),
        ({"category": K, "occurred_on": None}, "the date on which it happened (occurred_on)"),
    ],
)
def test_each_missing_item_comes_with_a_hint_saying_what_to_add(
    changes: dict[str, Any], hint: str
) -> None:
    completeness = check_completeness(draft(**changes), DEFAULTS)

    assert hint in completeness.hints[0]


def test_a_category_can_be_made_to_require_a_service_code() -> None:
    rules = TriageSettings.model_validate(
        {"completeness": {"hambatan_oss": {"require_service_code": True}}}
    )

    completeness = check_completeness(draft(category=H), rules)

    assert completeness.missing == ["service_code"]


def test_a_category_named_in_config_keeps_the_defaults_of_the_keys_it_leaves_out() -> None:
    text = """
    [completeness.kegiatan_usaha]
    require_occurred_on = false
    """
    rules = TriageSettings.model_validate(tomllib.loads(text))

    assert rules.completeness[K] == CompletenessRule(min_description_chars=30)
    assert rules.completeness[P] == DEFAULTS.completeness[P]
    assert check_completeness(draft(category=K, occurred_on=None), rules).complete


def test_categories_left_out_of_config_keep_their_default_rules() -> None:
    rules = TriageSettings.model_validate({"completeness": {}})

    assert rules.completeness == DEFAULTS.completeness
    assert set(rules.completeness) == set(ComplaintCategory)


@pytest.mark.parametrize(
    ("category", "description", "priority", "decided_by"),
    [
        pytest.param(
            P,
            "Petugas loket meminta uang pelicin agar izin cepat terbit.",
            "tinggi",
            "'integritas'",
            id="uang pelicin",
        ),
        pytest.param(
            P,
            "Ada PUNGLI di loket perizinan setiap hari Senin pagi.",
            "tinggi",
            "'integritas'",
            id="capitals",
        ),
        pytest.param(
            P,
            "Saya dimintai uang oleh oknum agar berkas diproses.",
            "tinggi",
            "'integritas'",
            id="wildcard word in a phrase",
        ),
        pytest.param(
            H,
            "Pengawas itu disuap supaya usaha kami lolos verifikasi.",
            "tinggi",
            "'integritas'",
            id="wildcard inside a word",
        ),
        pytest.param(
            H,
            "Pejabat itu menyuap pengawas supaya lolos verifikasi.",
            "tinggi",
            "'integritas'",
            id="a prefix that swallows the first letter",
        ),
        pytest.param(
            P,
            "Dokumen   uang\n pelicin disebut dalam percakapan.",
            "tinggi",
            "'integritas'",
            id="phrase over line breaks",
        ),
        pytest.param(
            P,
            "Calon investor kesulitan mendaftar izin lokasi di kecamatan.",
            "sedang",
            "default",
            id="calo is not calon",
        ),
        pytest.param(
            K,
            "Limbah pabrik sawit dibuang ke sungai Kampar sejak minggu lalu.",
            "tinggi",
            "'keselamatan'",
            id="waste from a business",
        ),
        pytest.param(
            K,
            "Air sungai tercemar oleh kegiatan tambang pasir di desa kami.",
            "tinggi",
            "'keselamatan'",
            id="polluted",
        ),
        pytest.param(
            P,
            "Izin pengelolaan limbah kami belum terbit setelah tiga bulan.",
            "sedang",
            "default",
            id="waste in a permit complaint",
        ),
        pytest.param(
            P,
            "Saya ingin bertanya tentang syarat izin usaha mikro di kantor.",
            "rendah",
            "'pertanyaan_atau_saran'",
            id="a question",
        ),
        pytest.param(
            M,
            "Saya ingin bertanya kenapa akun OSS saya dipakai orang lain.",
            "tinggi",
            "category",
            id="a question about misuse",
        ),
        pytest.param(
            P,
            "Ingin bertanya: kenapa ada pungli di loket pendaftaran izin?",
            "tinggi",
            "'integritas'",
            id="a question about extortion",
        ),
        pytest.param(
            M,
            "Akun OSS perusahaan kami dipakai untuk mendaftarkan usaha lain.",
            "tinggi",
            "category",
            id="misuse of oss",
        ),
        pytest.param(
            H,
            "Aplikasi OSS tidak bisa dibuka sejak kemarin sore hingga kini.",
            "sedang",
            "default",
            id="oss obstacle",
        ),
    ],
)
def test_keyword_rules_then_the_category_then_the_default_set_the_priority(
    category: ComplaintCategory, description: str, priority: str, decided_by: str
) -> None:
    classification = classify(draft(category=category, description=description), DEFAULTS)

    assert classification.priority == priority
    assert decided_by in classification.reasons[0]


def test_a_later_matching_rule_is_listed_but_does_not_decide() -> None:
    description = "Sebagai masukan: petugas meminta uang pelicin di loket perizinan."

    classification = classify(draft(category=P, description=description), DEFAULTS)

    assert classification.priority == "tinggi"
    assert len(classification.reasons) == 2
    assert classification.reasons[1].startswith("also rule 'pertanyaan_atau_saran'")


def test_rules_from_config_can_be_limited_to_objects_of_a_complaint() -> None:
    text = """
    default_priority = "rendah"
    [[rules]]
    name = "aparatur"
    priority = "tinggi"
    keywords = ["kasar", "*bentak*"]
    objects = ["asn_ptt"]
    """
    rules = TriageSettings.model_validate(tomllib.loads(text))
    rude = "Petugas membentak pemohon di ruang pelayanan tanpa alasan jelas."

    about_staff = classify(draft(object=ComplaintObject.ASN_PTT, description=rude), rules)
    about_business = classify(draft(object=ComplaintObject.PELAKU_USAHA, description=rude), rules)

    assert (about_staff.priority, about_business.priority) == ("tinggi", "rendah")


@pytest.mark.parametrize(
    ("rule", "message"),
    [
        ({"name": "x", "priority": "tinggi", "keywords": ["su*ap"]}, "with \\* only at the start"),
        ({"name": "x", "priority": "tinggi", "keywords": ["*"]}, "with \\* only at the start"),
        ({"name": "x", "priority": "tinggi", "keywords": ["  "]}, "one or more words"),
        ({"name": "x", "priority": "tinggi", "keywords": []}, "at least 1 item"),
        ({"name": "x", "priority": "segera", "keywords": ["a"]}, "'tinggi', 'sedang' or 'rendah'"),
        ({"name": "x", "priority": "tinggi", "keywords": ["a"], "kata": ["b"]}, "Extra inputs"),
        (
            {"name": "x", "priority": "tinggi", "keywords": ["a"], "categories": ["izin"]},
            "perizinan_berusaha",
        ),
    ],
)
def test_a_bad_keyword_rule_is_refused(rule: dict[str, Any], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        TriageSettings.model_validate({"rules": [rule]})


def test_an_unknown_category_in_the_completeness_rules_is_refused() -> None:
    with pytest.raises(ValidationError, match="perizinan_berusaha"):
        TriageSettings.model_validate({"completeness": {"izin": {"min_description_chars": 5}}})


def test_an_unknown_key_in_a_completeness_rule_is_refused() -> None:
    with pytest.raises(ValidationError, match="Extra inputs"):
        TriageSettings.model_validate({"completeness": {"pengawasan": {"min_chars": 5}}})


@pytest.mark.parametrize(
    ("changes", "stage"),
    [
        pytest.param({}, Stage.C, id="complete: checked and classified"),
        pytest.param({"reporter": None}, Stage.A, id="incomplete: still received"),
    ],
)
def test_intake_leaves_a_complete_complaint_at_stage_c_and_an_incomplete_one_at_a(
    changes: dict[str, Any], stage: Stage
) -> None:
    assert triage(draft(**changes), DEFAULTS).stage is stage


def test_an_incomplete_complaint_is_classified_all_the_same() -> None:
    result = triage(draft(category=P, reporter=None, description=LONG + " Ada pungli."), DEFAULTS)

    assert result.completeness.missing == ["reporter"]
    assert result.classification.priority == "tinggi"
