"""One daemon per SQLite file: the instance lock."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from oss_bridge.config import DatabaseSettings
from oss_bridge.daemon import InstanceLock, lock_path
from oss_bridge.errors import InstanceLocked


def sqlite(path: Path) -> DatabaseSettings:
    return DatabaseSettings(url=f"sqlite:///{path}")


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("sqlite:///var/demo/oss-bridge.db", Path("var/demo/oss-bridge.db.lock")),
        ("sqlite:////srv/bridge.sqlite", Path("/srv/bridge.sqlite.lock")),
        ("sqlite:///:memory:", None),
        ("postgresql://bridge@db.example/bridge", None),
    ],
)
def test_the_lock_file_sits_beside_the_sqlite_file(url: str, expected: Path | None) -> None:
    assert lock_path(DatabaseSettings(url=url)) == expected


def test_a_second_lock_on_the_same_file_is_refused_with_the_holder(tmp_path: Path) -> None:
    settings = sqlite(tmp_path / "bridge.db")
    with InstanceLock(settings), pytest.raises(InstanceLocked) as refused:
        InstanceLock(settings).acquire()
    message = str(refused.value)
    assert f"process {os.getpid()}" in message
    assert "stop it first" in message
    assert "PostgreSQL" in message


def test_a_released_lock_can_be_taken_again(tmp_path: Path) -> None:
    settings = sqlite(tmp_path / "bridge.db")
    with InstanceLock(settings) as first:
        assert first.held
    assert not first.held
    with InstanceLock(settings) as second:
        assert second.held


def test_the_lock_of_a_process_that_died_is_free(tmp_path: Path) -> None:
    lock = tmp_path / "bridge.db.lock"
    holder = (
        f"import fcntl, os; fd = os.open({str(lock)!r}, os.O_RDWR | os.O_CREAT); "
        "fcntl.flock(fd, fcntl.LOCK_EX); os._exit(0)"
    )
    subprocess.run([sys.executable, "-c", holder], check=True, timeout=30)
    with InstanceLock(sqlite(tmp_path / "bridge.db")) as taken:
        assert taken.held


def test_other_files_have_their_own_lock(tmp_path: Path) -> None:
    with (
        InstanceLock(sqlite(tmp_path / "one.db")),
        InstanceLock(sqlite(tmp_path / "two.db")) as two,
    ):
        assert two.held


def test_postgresql_takes_no_lock() -> None:
    settings = DatabaseSettings(url="postgresql://bridge@db.example/bridge")
    with InstanceLock(settings) as first, InstanceLock(settings) as second:
        assert not first.held
        assert not second.held
