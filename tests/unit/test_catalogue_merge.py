"""The catalogue merge rules, one table row per rule, plus hashes, resolution and dry-run diffs."""

from __future__ import annotations

import hashlib
import json
from typing import Any

import pytest

from oss_bridge.config import CatalogueSettings
from oss_bridge.domain.service_standard import CONTENT_FIELDS, ServiceStandard
from oss_bridge.errors import ConfigError, InputError
from oss_bridge.services.catalogue_merge import (
    LOCAL_ONLY_FIELDS,
    REMOTE_FIELDS,
    ChangeReason,
    FieldChange,
    FieldConflict,
    MergeOutcome,
    apply_changes,
    canonical_form,
    change_as_json,
    check_ownership,
    content_hash,
    diff_lines,
    fields_hash,
    merge,
    outcome_as_json,
    outcome_lines,
    remote_view,
    resolve,
)
from tests.strategies import FIELD_VALUES

OWNERSHIP = CatalogueSettings().field_ownership

BASE = ServiceStandard.model_validate(
    {
        "code": "job-portal",
        "name": "Aktivitas Pendaftaran Tenaga Kerja Daring (Job Portal)",
        "agency": "Dinas Penanaman Modal dan Pelayanan Terpadu Satu Pintu Kabupaten Pelalawan",
        "requirements": ["Persyaratan sesuai Lampiran II PP 5/2021"],
        "procedure": ["Daftar akun OSS", "Ajukan permohonan", "Terima NIB"],
        "completion_time": {"value": 5, "unit": "day"},
        "fee": {"amount": 0, "note": "Tidak dipungut biaya"},
        "products": ["NIB dan Sertifikat Standar"],
        "complaint_handling": {"stages": ["menerima dan memberikan tanda terima"]},
        "sk_number": "SK 12/2023",
    }
)


def _with(standard: ServiceStandard, **changes: Any) -> ServiceStandard:
    return ServiceStandard.model_validate({**standard.model_dump(), **changes})


def _fields(changes: tuple[FieldChange, ...]) -> list[str]:
    return [c.field for c in changes]


NEW_NAME_L = {"name": "Job Portal (lokal)"}
NEW_NAME_R = {"name": "Job Portal (OSS)"}
NEW_REQ_L = {"requirements": ["KTP"]}
NEW_REQ_R = {"requirements": ["NPWP"]}
NEW_FEE_L = {"fee": {"amount": 10000}}
NEW_FEE_R = {"fee": {"amount": 20000}}
NEW_PROC_R = {"procedure": ["Ajukan daring"]}
INACTIVE = {"status": "inactive"}


@pytest.mark.parametrize(
    ("local_edit", "remote_edit", "action", "to_local", "to_remote", "overrides", "conflicts"),
    [
        pytest.param({}, {}, "none", [], [], [], [], id="nothing changed"),
        pytest.param(NEW_NAME_L, NEW_NAME_L, "none", [], [], [], [], id="same change both sides"),
        pytest.param(NEW_NAME_L, {}, "push", [], ["name"], [], [], id="only local changed"),
        pytest.param({}, NEW_NAME_R, "pull", ["name"], [], [], [], id="only remote changed"),
        pytest.param(
            {}, NEW_PROC_R, "pull", ["procedure"], [], [], [], id="one side wins the other's field"
        ),
        pytest.param(
            NEW_REQ_L, NEW_REQ_R, "pull", ["requirements"], [], ["requirements"], [], id="oss owns"
        ),
        pytest.param(NEW_FEE_L, NEW_FEE_R, "push", [], ["fee"], ["fee"], [], id="region owns"),
        pytest.param(NEW_NAME_L, NEW_NAME_R, "conflict", [], [], [], ["name"], id="shared field"),
        pytest.param(NEW_NAME_L, NEW_FEE_R, "both", ["fee"], ["name"], [], [], id="disjoint edits"),
        pytest.param(
            NEW_NAME_L,
            {**NEW_NAME_R, **NEW_FEE_R},
            "conflict",
            ["fee"],
            [],
            [],
            ["name"],
            id="conflict beside a settled pull",
        ),
        pytest.param({}, INACTIVE, "delete_local", ["status"], [], [], [], id="oss deactivated"),
        pytest.param(
            NEW_NAME_L,
            INACTIVE,
            "delete_local",
            ["status"],
            ["name"],
            [],
            [],
            id="oss deactivated, local edit kept",
        ),
        pytest.param(INACTIVE, {}, "push", [], ["status"], [], [], id="region deactivated"),
        pytest.param(INACTIVE, INACTIVE, "none", [], [], [], [], id="both deactivated"),
    ],
)
def test_each_rule_of_the_three_way_merge(
    local_edit: dict[str, Any],
    remote_edit: dict[str, Any],
    action: str,
    to_local: list[str],
    to_remote: list[str],
    overrides: list[str],
    conflicts: list[str],
) -> None:
    outcome = merge(
        BASE, _with(BASE, **local_edit), _with(BASE, **remote_edit), ownership=OWNERSHIP
    )

    assert outcome.action == action
    assert _fields(outcome.to_local) == to_local
    assert _fields(outcome.to_remote) == to_remote
    assert _fields(outcome.overrides) == overrides
    assert [c.field for c in outcome.conflicts] == conflicts


@pytest.mark.parametrize(
    ("field", "owner", "winner", "reason"),
    [
        ("requirements", "oss", "remote", "owner_oss"),
        ("fee", "region", "local", "owner_region"),
    ],
)
def test_the_owner_of_a_field_wins_and_the_override_records_both_values(
    field: str, owner: str, winner: str, reason: ChangeReason
) -> None:
    local = _with(BASE, **{**NEW_REQ_L, **NEW_FEE_L})
    remote = _with(BASE, **{**NEW_REQ_R, **NEW_FEE_R})

    outcome = merge(BASE, local, remote, ownership={field: owner})

    (override,) = outcome.overrides
    won, lost = (remote, local) if winner == "remote" else (local, remote)
    assert override == FieldChange(
        field, canonical_form(lost)[field], canonical_form(won)[field], reason
    )
    assert canonical_form(outcome.merged)[field] == canonical_form(won)[field]


def test_a_conflict_keeps_base_local_and_remote_values_and_merged_keeps_local() -> None:
    outcome = merge(BASE, _with(BASE, **NEW_NAME_L), _with(BASE, **NEW_NAME_R), ownership={})

    assert outcome.conflicts == (
        FieldConflict("name", BASE.name, NEW_NAME_L["name"], NEW_NAME_R["name"]),
    )
    assert outcome.merged.name == NEW_NAME_L["name"]


@pytest.mark.parametrize(
    ("remote_edit", "ownership", "action", "to_local", "to_remote", "conflicts"),
    [
        pytest.param({}, OWNERSHIP, "none", [], [], [], id="equal copies"),
        pytest.param(NEW_REQ_R, OWNERSHIP, "pull", ["requirements"], [], [], id="oss owns"),
        pytest.param(NEW_FEE_R, OWNERSHIP, "push", [], ["fee"], [], id="region owns"),
        pytest.param(NEW_NAME_R, OWNERSHIP, "conflict", [], [], ["name"], id="shared"),
        pytest.param(NEW_NAME_R, {"name": "oss"}, "pull", ["name"], [], [], id="owned by config"),
    ],
)
def test_at_the_first_meeting_differing_fields_go_to_their_owner_or_conflict(
    remote_edit: dict[str, Any],
    ownership: dict[str, str],
    action: str,
    to_local: list[str],
    to_remote: list[str],
    conflicts: list[str],
) -> None:
    outcome = merge(None, BASE, _with(BASE, **remote_edit), ownership=ownership)

    assert outcome.action == action
    assert _fields(outcome.to_local) == to_local
    assert _fields(outcome.to_remote) == to_remote
    assert _fields(outcome.overrides) == to_local + to_remote
    assert [c.field for c in outcome.conflicts] == conflicts


def test_a_first_meeting_conflict_has_no_base_value() -> None:
    outcome = merge(None, BASE, _with(BASE, **NEW_NAME_R), ownership={})

    assert outcome.conflicts[0].base is None


@pytest.mark.parametrize(
    ("local", "remote", "action", "to_local", "to_remote"),
    [
        pytest.param(None, BASE, "create_local", list(REMOTE_FIELDS), [], id="only in oss"),
        pytest.param(BASE, None, "create_remote", [], list(REMOTE_FIELDS), id="only local"),
        pytest.param(None, _with(BASE, **INACTIVE), "none", [], [], id="inactive, only in oss"),
        pytest.param(_with(BASE, **INACTIVE), None, "none", [], [], id="inactive, only local"),
    ],
)
def test_an_entry_held_by_one_side_only_is_created_on_the_other_unless_inactive(
    local: ServiceStandard | None,
    remote: ServiceStandard | None,
    action: str,
    to_local: list[str],
    to_remote: list[str],
) -> None:
    outcome = merge(None, local, remote, ownership=OWNERSHIP)

    assert outcome.action == action
    assert _fields(outcome.to_local) == to_local
    assert _fields(outcome.to_remote) == to_remote
    assert all(c.before is None and c.reason == "created" for c in outcome.to_local)


def test_an_entry_created_from_oss_takes_no_local_only_field_from_it() -> None:
    outcome = merge(None, None, BASE, ownership=OWNERSHIP)

    assert outcome.merged.sk_number is None
    assert outcome.merged == remote_view(BASE)


def test_local_only_fields_never_conflict_and_never_travel() -> None:
    local = _with(BASE, sk_number="SK 99/2024", legal_basis=["Perbup 1/2024"])
    remote = _with(BASE, sk_number="something OSS cannot hold", staff_count=3)

    outcome = merge(BASE, local, remote, ownership={})

    assert outcome.action == "none"
    assert outcome.merged == local


def test_remote_fields_are_the_wire_entry_fields_and_the_rest_is_local_only() -> None:
    assert set(REMOTE_FIELDS) | set(LOCAL_ONLY_FIELDS) == set(CONTENT_FIELDS)
    assert set(REMOTE_FIELDS) & set(LOCAL_ONLY_FIELDS) == set()
    assert "sk_number" in LOCAL_ONLY_FIELDS


def test_every_content_field_has_a_hypothesis_strategy() -> None:
    assert set(FIELD_VALUES) == set(CONTENT_FIELDS)


@pytest.mark.parametrize(
    ("base", "local", "remote", "message"),
    [
        (None, None, None, "needs a local or a remote entry"),
        (BASE, None, None, "needs a local or a remote entry"),
        (None, BASE, _with(BASE, code="other"), "must be one entry"),
    ],
)
def test_merge_refuses_copies_that_are_not_one_entry(
    base: ServiceStandard | None,
    local: ServiceStandard | None,
    remote: ServiceStandard | None,
    message: str,
) -> None:
    with pytest.raises(ValueError, match=message):
        merge(base, local, remote, ownership={})


@pytest.mark.parametrize(
    ("ownership", "message"),
    [
        ({"fees": "region"}, "names 'fees', which is not a service-standard field"),
        ({"fee": "kabupaten"}, "catalogue.field_ownership.fee = 'kabupaten'; write one of"),
    ],
)
def test_a_bad_ownership_map_is_refused_naming_the_bad_entry(
    ownership: dict[str, str], message: str
) -> None:
    with pytest.raises(ConfigError, match=message):
        check_ownership(ownership)


def test_the_default_ownership_is_accepted() -> None:
    assert check_ownership(OWNERSHIP) == OWNERSHIP


# --- hashes ------------------------------------------------------------------------------------


def test_the_content_hash_is_sha256_of_the_sorted_compact_canonical_json() -> None:
    text = json.dumps(
        canonical_form(BASE), sort_keys=True, separators=(",", ":"), ensure_ascii=False
    )

    assert content_hash(BASE) == hashlib.sha256(text.encode("utf-8")).hexdigest()


@pytest.mark.parametrize(
    ("amount", "other"),
    [("0", "0.00"), ("5000", "5000.00"), ("5E+3", "5000"), ("12.5", "12.50")],
)
def test_equal_fees_written_differently_hash_the_same(amount: str, other: str) -> None:
    first = _with(BASE, fee={"amount": amount})
    second = _with(BASE, fee={"amount": other})

    assert content_hash(first) == content_hash(second)


def test_whitespace_the_model_folds_does_not_change_the_hash() -> None:
    spaced = _with(BASE, name="  Aktivitas Pendaftaran   Tenaga Kerja Daring (Job Portal) ")

    assert content_hash(spaced) == content_hash(BASE)


def test_a_changed_local_only_field_changes_the_content_hash_but_not_the_remote_one() -> None:
    changed = _with(BASE, sk_number="SK 13/2023")

    assert content_hash(changed) != content_hash(BASE)
    assert fields_hash(changed, REMOTE_FIELDS) == fields_hash(BASE, REMOTE_FIELDS)


def test_fields_hash_refuses_an_unknown_field() -> None:
    with pytest.raises(ValueError, match="'fees' is not a service-standard field"):
        fields_hash(BASE, ["fees"])


# --- resolving conflicts -----------------------------------------------------------------------


def _conflicted() -> MergeOutcome:
    local = _with(BASE, **NEW_NAME_L, status="inactive")
    remote = _with(BASE, **NEW_NAME_R, **NEW_FEE_R)
    return merge(BASE, local, remote, ownership=OWNERSHIP)


def test_keeping_the_local_value_pushes_it_and_records_the_decision() -> None:
    outcome = resolve(_conflicted(), "name", "local")
    decision = FieldChange("name", NEW_NAME_R["name"], NEW_NAME_L["name"], "resolved_local")

    assert outcome.conflicts == ()
    assert outcome.action == "both"
    assert outcome.to_remote == (decision, _conflicted().to_remote[0])
    assert outcome.overrides == (decision,)
    assert outcome.merged.name == NEW_NAME_L["name"]


def test_taking_the_remote_value_pulls_it_and_records_the_decision() -> None:
    outcome = resolve(_conflicted(), "name", "remote")
    decision = FieldChange("name", NEW_NAME_L["name"], NEW_NAME_R["name"], "resolved_remote")

    assert outcome.conflicts == ()
    assert _fields(outcome.to_local) == ["name", "fee"]
    assert outcome.to_local[0] == decision
    assert outcome.overrides == (decision,)
    assert outcome.merged.name == NEW_NAME_R["name"]


def test_an_outcome_with_conflicts_left_still_reads_conflict() -> None:
    local = _with(BASE, **NEW_NAME_L, permit_code="A")
    remote = _with(BASE, **NEW_NAME_R, permit_code="B")
    outcome = merge(BASE, local, remote, ownership={})

    assert resolve(outcome, "name", "local").action == "conflict"


@pytest.mark.parametrize(
    ("field", "take", "message"),
    [
        ("fee", "local", "no open conflict on 'fee' \\(open: name\\)"),
        ("name", "both", "take = 'both'; choose 'local' or 'remote'"),
    ],
)
def test_resolve_refuses_what_it_cannot_settle(field: str, take: str, message: str) -> None:
    with pytest.raises(InputError, match=message):
        resolve(_conflicted(), field, take)


def test_applying_changes_writes_their_after_values() -> None:
    change = FieldChange("completion_time", None, {"value": 7, "unit": "working_day"}, "created")

    assert apply_changes(BASE, [change]).completion_time.value == 7


def test_applying_a_change_to_an_unknown_field_is_refused() -> None:
    with pytest.raises(ValueError, match="'code' is not a service-standard content field"):
        apply_changes(BASE, [FieldChange("code", "a", "b", "local_changed")])


# --- dry-run diffs -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("field", "before", "after", "lines"),
    [
        pytest.param("name", "A", "B", ['name: "A" -> "B"'], id="text"),
        pytest.param("permit_code", None, "I-1", ['permit_code: null -> "I-1"'], id="null"),
        pytest.param(
            "requirements",
            ["KTP", "NPWP"],
            ["KTP", "NIB"],
            ['requirements: - "NPWP"', 'requirements: + "NIB"'],
            id="list items",
        ),
        pytest.param(
            "procedure",
            ["a", "b"],
            ["b", "a"],
            ['procedure: reordered ["a","b"] -> ["b","a"]'],
            id="order only",
        ),
        pytest.param(
            "products",
            ["x", "x"],
            ["x"],
            ['products: - "x"'],
            id="duplicate removed",
        ),
        pytest.param(
            "fee",
            {"amount": "0.00", "currency": "IDR", "note": None},
            {"amount": "5000.00", "currency": "IDR", "note": "per izin"},
            ['fee.amount: "0.00" -> "5000.00"', 'fee.note: null -> "per izin"'],
            id="nested object",
        ),
        pytest.param(
            "complaint_handling",
            {"stages": ["a"], "contact": {"phone": None}},
            {"stages": ["a", "b"], "contact": {"phone": "0811"}},
            [
                'complaint_handling.stages: + "b"',
                'complaint_handling.contact.phone: null -> "0811"',
            ],
            id="list inside object",
        ),
        pytest.param("products", None, ["NIB"], ['products: + "NIB"'], id="created list"),
        pytest.param(
            "name",
            "Izin Usaha é",
            "Izin Usaha e",
            ['name: "Izin Usaha é" -> "Izin Usaha e"'],
            id="non-ascii kept",
        ),
    ],
)
def test_the_diff_shows_each_changed_leaf_exactly(
    field: str, before: Any, after: Any, lines: list[str]
) -> None:
    assert diff_lines([FieldChange(field, before, after, "local_changed")]) == lines


def test_the_json_diff_lists_added_and_removed_items_beside_the_whole_values() -> None:
    change = FieldChange("requirements", ["KTP", "NPWP"], ["KTP", "NIB"], "remote_changed")

    assert change_as_json(change) == {
        "field": "requirements",
        "reason": "remote_changed",
        "before": ["KTP", "NPWP"],
        "after": ["KTP", "NIB"],
        "details": [
            {
                "path": "requirements",
                "added": ["NIB"],
                "removed": ["NPWP"],
                "reordered": False,
                "before": ["KTP", "NPWP"],
                "after": ["KTP", "NIB"],
            }
        ],
    }


def test_the_dry_run_text_shows_both_directions_overrides_and_conflicts() -> None:
    local = _with(BASE, **NEW_NAME_L, **NEW_REQ_L, completion_time={"value": 3})
    remote = _with(BASE, **NEW_NAME_R, **NEW_REQ_R)

    lines = outcome_lines(merge(BASE, local, remote, ownership=OWNERSHIP))

    assert lines == [
        "job-portal: conflict",
        "  local <- OSS:",
        '    requirements: - "KTP"',
        '    requirements: + "NPWP"',
        "  OSS <- local:",
        "    completion_time.value: 5 -> 3",
        "  overrides (audited):",
        "    requirements: OSS owns this field; the local change is replaced",
        "  conflicts (not pushed until settled with "
        "`oss-bridge catalogue resolve ID --take local|remote`):",
        f'    name: base "{BASE.name}", local "Job Portal (lokal)", OSS "Job Portal (OSS)"',
    ]


def test_the_json_outcome_survives_a_json_round_trip() -> None:
    local = _with(BASE, **NEW_NAME_L, **NEW_FEE_L)
    outcome = merge(BASE, local, _with(BASE, **NEW_NAME_R), ownership=OWNERSHIP)

    data: Any = json.loads(json.dumps(outcome_as_json(outcome)))

    assert data == outcome_as_json(outcome)
    assert data["action"] == "conflict"
    assert data["conflicts"] == [
        {
            "field": "name",
            "base": BASE.name,
            "local": "Job Portal (lokal)",
            "remote": "Job Portal (OSS)",
        }
    ]
    assert [c["field"] for c in data["to_remote"]] == ["fee"]
