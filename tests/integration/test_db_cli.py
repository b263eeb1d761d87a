"""`oss-bridge db upgrade` and `oss-bridge db current`, as a sysadmin runs them."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from oss_bridge.cli import app
from oss_bridge.store.migrate import head_revision

UNREACHABLE_POSTGRES = "postgresql://oss:s3cret-pw@127.0.0.1:1/oss_bridge"


def oss_bridge(*args: str, database_url: str | None, cwd: Path) -> subprocess.CompletedProcess[str]:
    """Run the real console entry point in a new process, configured by the environment only."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("OSS_BRIDGE_")}
    if database_url is not None:
        env["OSS_BRIDGE_DATABASE__URL"] = database_url
    return subprocess.run(
        [sys.executable, "-c", "from oss_bridge.cli import main; main()", *args],
        env=env,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_db_upgrade_twice_creates_the_schema_then_finds_it_current(
    empty_database_url: str, tmp_path: Path
) -> None:
    head = head_revision()

    first = oss_bridge("db", "upgrade", database_url=empty_database_url, cwd=tmp_path)
    second = oss_bridge("db", "upgrade", database_url=empty_database_url, cwd=tmp_path)

    assert (first.returncode, first.stdout, first.stderr) == (
        0,
        f"database schema upgraded 0000 -> {head}\n",
        "",
    )
    assert (second.returncode, second.stdout, second.stderr) == (
        0,
        f"database schema already current ({head})\n",
        "",
    )


def test_db_upgrade_of_an_unreachable_database_exits_2_with_a_one_line_reason(
    tmp_path: Path,
) -> None:
    result = oss_bridge("db", "upgrade", database_url=UNREACHABLE_POSTGRES, cwd=tmp_path)

    assert result.returncode == 2
    assert result.stdout == ""
    (line,) = result.stderr.splitlines()
    assert line.startswith("oss-bridge: cannot reach the database ")
    assert "check database.url and that the PostgreSQL server is running" in line
    assert "s3cret-pw" not in line


def invoke(*args: str, database_url: str, monkeypatch: pytest.MonkeyPatch) -> tuple[int, str, str]:
    """Run a command in this process (faster than a subprocess) with the database from the env."""
    monkeypatch.setenv("OSS_BRIDGE_DATABASE__URL", database_url)
    result = CliRunner().invoke(app, list(args))
    return result.exit_code, result.stdout, result.stderr


def test_db_upgrade_json_reports_the_revisions_and_whether_it_changed(
    empty_database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    code, out, _ = invoke(
        "db", "upgrade", "--json", database_url=empty_database_url, monkeypatch=monkeypatch
    )

    assert code == 0
    report = json.loads(out)
    assert (report["from_revision"], report["to_revision"], report["changed"]) == (
        None,
        head_revision(),
        True,
    )


def test_db_current_on_an_empty_database_exits_1_and_names_the_command_to_run(
    empty_database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    code, out, _ = invoke("db", "current", database_url=empty_database_url, monkeypatch=monkeypatch)

    assert code == 1
    assert out == (
        f"database schema at 0000, this version needs {head_revision()}: "
        "run `oss-bridge db upgrade`\n"
    )


def test_db_current_on_a_migrated_database_exits_0(
    database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    code, out, _ = invoke("db", "current", database_url=database_url, monkeypatch=monkeypatch)

    assert (code, out) == (0, f"database schema current ({head_revision()})\n")


def test_db_current_does_not_create_a_missing_sqlite_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "var" / "oss-bridge.db"

    code, _, _ = invoke(
        "db", "current", "--json", database_url=f"sqlite:///{path}", monkeypatch=monkeypatch
    )

    assert code == 1
    assert not path.parent.exists()


def test_db_upgrade_without_configuration_creates_var_oss_bridge_db(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)

    result = CliRunner().invoke(app, ["db", "upgrade"])

    assert result.exit_code == 0
    assert (tmp_path / "var" / "oss-bridge.db").is_file()
