"""The command line's promise: exit 2 with a one-line reason on stderr when it cannot run."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path


def run_cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "oss_bridge", *args],
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
        check=False,
    )


def test_a_bad_config_exits_2_with_one_line_on_stderr(tmp_path: Path) -> None:
    path = tmp_path / "c.toml"
    path.write_text("[api]\nport = -1\n")
    result = run_cli("config", "check", "--config", str(path))
    assert result.returncode == 2
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1
    assert lines[0].startswith("oss-bridge: invalid configuration")
    assert "api.port" in lines[0]


def test_an_unknown_command_exits_2() -> None:
    assert run_cli("no-such-command").returncode == 2


def test_version_prints_the_package_version() -> None:
    result = run_cli("--version")
    assert result.returncode == 0
    assert result.stdout.startswith("oss-bridge ")
