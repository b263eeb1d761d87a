"""The map from national complaint statuses to regional stages, and how it is validated."""

from __future__ import annotations

from pathlib import Path

import pytest

from oss_bridge.domain.vocabulary import Stage
from oss_bridge.errors import ConfigError
from oss_bridge.services.complaints.status_mapping import (
    KNOWN_STATUSES,
    StatusMapping,
    load_status_mapping,
    parse_status_mapping,
)

REPO = Path(__file__).resolve().parents[2]
EXAMPLE = REPO / "config" / "status-mapping.toml"
PACKAGED = REPO / "src" / "oss_bridge" / "data" / "status-mapping.toml"

# A complete, valid map written out table by table, so each test can spoil one line of it.
VALID_TABLES: dict[str, str] = {
    "Belum Terverifikasi": 'stage = "a"\nopen311 = "open"\nfinal = false',
    "Terverifikasi": 'stage = "c"\nopen311 = "open"\nfinal = false',
    "Dalam Proses": 'stage = "d"\nopen311 = "open"\nfinal = false',
    "Selesai": 'stage = "f"\nopen311 = "closed"\nfinal = true',
    "Diarsipkan": 'stage = "e"\nopen311 = "closed"\nfinal = true',
    "Ditolak": 'stage = "f"\nopen311 = "closed"\nfinal = true',
}


def mapping_text(tables: dict[str, str], prefix: str = "") -> str:
    body = "\n\n".join(f'[statuses."{name}"]\n{table}' for name, table in tables.items())
    return prefix + body + "\n"


@pytest.fixture(scope="module")
def default() -> StatusMapping:
    return load_status_mapping(None)


def test_the_packaged_default_is_identical_to_the_editable_example() -> None:
    assert PACKAGED.read_text(encoding="utf-8") == EXAMPLE.read_text(encoding="utf-8")


def test_the_packaged_default_maps_every_known_status(default: StatusMapping) -> None:
    assert [rule.status for rule in default.rules] == list(KNOWN_STATUSES)


@pytest.mark.parametrize(
    ("status", "stage", "open311", "final"),
    [
        ("Belum Terverifikasi", Stage.A, "open", False),
        ("Terverifikasi", Stage.C, "open", False),
        ("Dalam Proses", Stage.D, "open", False),
        ("Selesai", Stage.F, "closed", True),
        ("Diarsipkan", Stage.E, "closed", True),
        ("Ditolak", Stage.F, "closed", True),
    ],
)
def test_the_packaged_default_places_each_status(
    default: StatusMapping, status: str, stage: Stage, open311: str, final: bool
) -> None:
    rule = default.rule_for(status)
    assert rule is not None
    assert (rule.stage, rule.open311, rule.final) == (stage, open311, final)


def test_the_example_file_loads_by_path() -> None:
    mapping = load_status_mapping(EXAMPLE)

    assert mapping.source == repr(str(EXAMPLE))
    assert len(mapping.rules) == len(KNOWN_STATUSES)


@pytest.mark.parametrize(
    ("current", "status", "stage", "moved", "held_back"),
    [
        (Stage.A, "Belum Terverifikasi", Stage.A, False, False),
        (Stage.A, "Terverifikasi", Stage.C, True, False),
        (Stage.C, "Belum Terverifikasi", Stage.C, False, True),
        (Stage.C, "Terverifikasi", Stage.C, False, False),
        (Stage.C, "Dalam Proses", Stage.D, True, False),
        (Stage.D, "Selesai", Stage.F, True, False),
        (Stage.D, "Diarsipkan", Stage.E, True, False),
        (Stage.F, "Diarsipkan", Stage.F, False, True),
        (Stage.G, "Dalam Proses", Stage.G, False, True),
        (Stage.B, "Ditolak", Stage.F, True, False),
    ],
)
def test_a_status_moves_the_stage_forward_only(
    default: StatusMapping,
    current: Stage,
    status: str,
    stage: Stage,
    moved: bool,
    held_back: bool,
) -> None:
    decision = default.apply(current, status)

    assert (decision.stage, decision.moved, decision.held_back) == (stage, moved, held_back)
    assert decision.unmapped is False


def test_a_status_held_back_still_reports_the_stage_it_maps_to(default: StatusMapping) -> None:
    decision = default.apply(Stage.G, "Dalam Proses")

    assert decision.mapped_stage is Stage.D
    assert decision.external_status == "Dalam Proses"


def test_open311_status_and_finality_follow_the_national_status_even_when_held_back(
    default: StatusMapping,
) -> None:
    decision = default.apply(Stage.G, "Dalam Proses")

    assert (decision.open311, decision.final) == ("open", False)


@pytest.mark.parametrize(
    "spelling",
    ["dalam proses", "DALAM PROSES", "  Dalam   Proses ", "Dalam\tProses", "Dalam\nproses"],
)
def test_status_names_match_ignoring_case_and_extra_white_space(
    default: StatusMapping, spelling: str
) -> None:
    decision = default.apply(Stage.C, spelling)

    assert decision.stage is Stage.D


def test_the_raw_status_is_kept_exactly_as_the_channel_sent_it(default: StatusMapping) -> None:
    decision = default.apply(Stage.C, "  dalam PROSES")

    assert decision.external_status == "  dalam PROSES"


@pytest.mark.parametrize("status", ["Dalam Peninjauan", "Dalam-Proses", "", "Selesai!"])
def test_an_unknown_status_keeps_the_stage_and_is_flagged_unmapped(
    default: StatusMapping, status: str
) -> None:
    decision = default.apply(Stage.D, status)

    assert decision.unmapped is True
    assert (decision.stage, decision.moved, decision.mapped_stage) == (Stage.D, False, None)
    assert (decision.open311, decision.final) == ("open", False)
    assert decision.external_status == status


def test_a_status_the_code_does_not_know_yet_can_be_mapped_in_the_file() -> None:
    tables = {**VALID_TABLES, "Dalam Peninjauan": 'stage = "d"\nopen311 = "open"\nfinal = false'}
    mapping = parse_status_mapping(mapping_text(tables), source="test")

    assert mapping.apply(Stage.C, "Dalam Peninjauan").stage is Stage.D


def test_stage_codes_may_be_written_in_capitals() -> None:
    tables = {**VALID_TABLES, "Dalam Proses": 'stage = "D"\nopen311 = "open"\nfinal = false'}
    mapping = parse_status_mapping(mapping_text(tables), source="test")

    assert mapping.apply(Stage.C, "Dalam Proses").stage is Stage.D


def without(status: str) -> dict[str, str]:
    return {name: table for name, table in VALID_TABLES.items() if name != status}


def replacing(status: str, table: str) -> dict[str, str]:
    return {**VALID_TABLES, status: table}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param(
            mapping_text(without("Ditolak")),
            ["'Ditolak' is not mapped", '[statuses."Ditolak"]', "final = true or false"],
            id="a known status missing",
        ),
        pytest.param(
            mapping_text({"Selesai": VALID_TABLES["Selesai"]}),
            ["'Belum Terverifikasi' is not mapped", "nor are", "'Ditolak'"],
            id="several known statuses missing",
        ),
        pytest.param(
            mapping_text(replacing("Selesai", 'stage = "h"\nopen311 = "closed"\nfinal = true')),
            ['[statuses."Selesai"]', "stage = 'h' is not a stage"],
            id="a stage that does not exist",
        ),
        pytest.param(
            mapping_text(replacing("Selesai", 'stage = 6\nopen311 = "closed"\nfinal = true')),
            ["stage = 6 is not a stage"],
            id="a stage given as a number",
        ),
        pytest.param(
            mapping_text(replacing("Selesai", 'stage = "f"\nopen311 = "done"\nfinal = true')),
            ["open311 = 'done'", '"open" or "closed"'],
            id="an Open311 status that does not exist",
        ),
        pytest.param(
            mapping_text(replacing("Selesai", 'stage = "f"\nopen311 = "closed"\nfinal = "yes"')),
            ["final = 'yes'", "true or false"],
            id="final given as text",
        ),
        pytest.param(
            mapping_text(replacing("Selesai", 'stage = "f"\nopen311 = "open"\nfinal = true')),
            ['[statuses."Selesai"] is final but open311 = "open"'],
            id="a final status left open",
        ),
        pytest.param(
            mapping_text(
                replacing("Selesai", 'stage = "f"\nopen311 = "closed"\nfinal = true\nstge = "f"')
            ),
            ["unknown keys ['stge']"],
            id="a misspelt key in a table",
        ),
        pytest.param(
            mapping_text(replacing("Selesai", 'stage = "f"\nfinal = true')),
            ["lacks ['open311']"],
            id="a key missing from a table",
        ),
        pytest.param(
            mapping_text(VALID_TABLES, prefix="version = 2\n\n"),
            ["unknown top-level keys ['version']"],
            id="an unknown top-level key",
        ),
        pytest.param(
            mapping_text(
                {**VALID_TABLES, "selesai ": 'stage = "f"\nopen311 = "closed"\nfinal = true'}
            ),
            ["'selesai ' is mapped twice", "'Selesai'"],
            id="one status mapped twice in other spellings",
        ),
        pytest.param(
            '[statuses]\nSelesai = "f"\n',
            ['[statuses."Selesai"] must be a table', "'f'"],
            id="a status given a value instead of a table",
        ),
        pytest.param(
            mapping_text({**VALID_TABLES, "  ": VALID_TABLES["Selesai"]}),
            ["empty name"],
            id="a status with a blank name",
        ),
        pytest.param("", ['no [statuses."..."] tables'], id="an empty file"),
        pytest.param("[statuses\n", ["not valid TOML"], id="a file that is not TOML"),
    ],
)
def test_a_bad_mapping_is_refused_saying_what_to_change(text: str, expected: list[str]) -> None:
    with pytest.raises(ConfigError) as caught:
        parse_status_mapping(text, source="'my-map.toml'")

    message = str(caught.value)
    assert message.startswith("status mapping 'my-map.toml': ")
    for fragment in expected:
        assert fragment in message


def test_a_missing_mapping_file_is_refused_naming_it_and_what_to_do(tmp_path: Path) -> None:
    absent = tmp_path / "absent.toml"

    with pytest.raises(ConfigError) as caught:
        load_status_mapping(absent)

    assert repr(str(absent)) in str(caught.value)
    assert "does not exist; copy config/status-mapping.toml there" in str(caught.value)


def test_a_bad_mapping_file_is_refused_naming_the_file(tmp_path: Path) -> None:
    path = tmp_path / "status-mapping.toml"
    path.write_text(mapping_text(without("Diarsipkan")), encoding="utf-8")

    with pytest.raises(ConfigError) as caught:
        load_status_mapping(path)

    assert repr(str(path)) in str(caught.value)
    assert "'Diarsipkan' is not mapped" in str(caught.value)


def test_a_mapping_file_edited_by_the_office_is_used(tmp_path: Path) -> None:
    path = tmp_path / "status-mapping.toml"
    edited = replacing("Terverifikasi", 'stage = "b"\nopen311 = "open"\nfinal = false')
    path.write_text(mapping_text(edited), encoding="utf-8")

    mapping = load_status_mapping(path)

    assert mapping.apply(Stage.A, "Terverifikasi").stage is Stage.B
