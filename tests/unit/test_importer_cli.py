"""`oss-bridge catalogue parse FILE`: the page as service-standard JSON, or exit 2 with a reason."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from oss_bridge.cli import app
from oss_bridge.data import sample_page_path
from oss_bridge.importer import parse_page_file

PAGES = Path(__file__).resolve().parents[1] / "data" / "pages"


def invoke(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(app, ["catalogue", "parse", *args])
    return result.exit_code, result.stdout, result.stderr


def page_without_fee(tmp_path: Path) -> Path:
    text = sample_page_path().read_text(encoding="utf-8")
    start = text.index("Biaya / Tarif\n")
    path = tmp_path / "no-fee.txt"
    path.write_text(text[:start] + text[text.index("Produk Pelayanan\n") :], encoding="utf-8")
    return path


def test_parse_prints_the_service_standard_json_and_exits_0() -> None:
    code, out, err = invoke(str(sample_page_path()))
    assert (code, err) == (0, "")
    assert json.loads(out) == parse_page_file(sample_page_path()).model_dump(mode="json")


def test_parse_prints_the_interface_field_names() -> None:
    _, out, _ = invoke(str(PAGES / "standar-pelayanan-pbg.txt"))
    printed = json.loads(out)
    assert {"code", "name", "agency", "sk_number", "requirements", "procedure"} <= printed.keys()
    assert printed["completion_time"] == {"value": 14, "unit": "working_day"}
    assert set(printed["complaint_handling"]["contact"]) == {"address", "phone", "website"}


def test_parse_reads_an_html_page() -> None:
    code, out, _ = invoke(str(PAGES / "standar-pelayanan-job-portal.html"))
    assert code == 0
    assert json.loads(out)["products"] == ["NIB", "Sertifikat Standar"]


def test_parse_uses_the_code_given() -> None:
    _, out, _ = invoke(str(sample_page_path()), "--code", "job-portal")
    assert json.loads(out)["code"] == "job-portal"


def test_parse_accepts_a_config_file_like_every_command(tmp_path: Path) -> None:
    config = tmp_path / "oss-bridge.toml"
    config.write_text("[region]\nkd_daerah = '1405'\n", encoding="utf-8")
    code, _, _ = invoke(str(sample_page_path()), "--config", str(config))
    assert code == 0


def test_parse_of_a_page_without_fee_exits_2_with_one_line_on_stderr(tmp_path: Path) -> None:
    code, out, err = invoke(str(page_without_fee(tmp_path)))
    assert (code, out) == (2, "")
    assert len(err.strip().splitlines()) == 1
    assert err.startswith("oss-bridge: ")
    assert "'Biaya / Tarif'" in err


def test_parse_of_a_missing_file_exits_2_with_one_line_on_stderr(tmp_path: Path) -> None:
    code, out, err = invoke(str(tmp_path / "absent.txt"))
    assert (code, out) == (2, "")
    assert len(err.strip().splitlines()) == 1
    assert "cannot read the page file" in err


def test_parse_with_an_unusable_code_exits_2_naming_the_code() -> None:
    code, _, err = invoke(str(sample_page_path()), "--code", "job portal")
    assert code == 2
    assert "'job portal'" in err
