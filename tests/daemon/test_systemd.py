"""The systemd unit in config/ and the daemon's readiness notification."""

from __future__ import annotations

import os
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

from oss_bridge.daemon._systemd import notify

UNIT = Path(__file__).resolve().parents[2] / "config" / "oss-bridge.service"


def directives() -> dict[str, list[str]]:
    """``Key`` -> every value it is given in the unit (systemd allows repeats)."""
    found: dict[str, list[str]] = {}
    for line in UNIT.read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if not line or line.startswith(("#", ";", "[")):
            continue
        key, _, value = line.partition("=")
        found.setdefault(key.strip(), []).append(value.strip())
    return found


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("Type", "notify"),
        ("Restart", "on-failure"),
        ("EnvironmentFile", "-/etc/oss-bridge/env"),
        ("DynamicUser", "yes"),
        ("StateDirectory", "oss-bridge"),
        ("ReadWritePaths", "/var/lib/oss-bridge"),
        ("ProtectSystem", "strict"),
        ("ProtectHome", "yes"),
        ("PrivateTmp", "yes"),
        ("NoNewPrivileges", "yes"),
        ("CapabilityBoundingSet", ""),
        ("RestrictAddressFamilies", "AF_INET AF_INET6 AF_UNIX"),
        ("SystemCallFilter", "@system-service"),
        ("KillSignal", "SIGTERM"),
        ("WantedBy", "multi-user.target"),
    ],
)
def test_the_unit_sets(key: str, value: str) -> None:
    assert value in directives().get(key, [])


def test_the_unit_migrates_the_schema_before_it_runs_the_daemon() -> None:
    found = directives()
    assert [cmd.split()[-2:] for cmd in found["ExecStartPre"]] == [["db", "upgrade"]]
    assert [cmd.split()[-1] for cmd in found["ExecStart"]] == ["run"]


def test_the_unit_waits_longer_for_a_stop_than_the_default_grace() -> None:
    (timeout,) = directives()["TimeoutStopSec"]
    assert int(timeout) > 10


@pytest.fixture
def systemd_socket(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[socket.socket]:
    path = tmp_path / "notify"
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
        sock.bind(str(path))
        monkeypatch.setenv("NOTIFY_SOCKET", str(path))
        yield sock


def test_readiness_is_sent_to_the_socket_systemd_names(systemd_socket: socket.socket) -> None:
    assert notify("READY=1")
    assert systemd_socket.recv(64) == b"READY=1"


def test_an_abstract_socket_name_is_understood(monkeypatch: pytest.MonkeyPatch) -> None:
    name = f"oss-bridge-test-{os.getpid()}"
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
        sock.bind("\0" + name)
        monkeypatch.setenv("NOTIFY_SOCKET", "@" + name)
        assert notify("STOPPING=1")
        assert sock.recv(64) == b"STOPPING=1"


def test_without_systemd_nothing_is_sent(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("NOTIFY_SOCKET", raising=False)
    assert not notify("READY=1")


def test_a_socket_that_is_gone_is_no_reason_to_fail(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("NOTIFY_SOCKET", str(tmp_path / "absent"))
    assert not notify("READY=1")
