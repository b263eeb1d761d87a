"""Set-up of a process before its work: the start-up heap frozen out of the collector."""

from __future__ import annotations

import gc
import sys
from collections.abc import Iterator

import pytest

import oss_bridge.cli
from oss_bridge.process import freeze_startup_heap


@pytest.fixture
def unfrozen() -> Iterator[None]:
    gc.unfreeze()
    yield
    gc.unfreeze()


def test_freezing_takes_the_objects_alive_now_out_of_the_collectors_sight(unfrozen: None) -> None:
    alive = object(), [1, 2, 3]

    freeze_startup_heap()

    assert gc.get_freeze_count() > 0
    assert not any(obj is alive for obj in gc.get_objects())


def test_garbage_made_after_freezing_is_still_collected(unfrozen: None) -> None:
    freeze_startup_heap()
    cycle: list[object] = []
    cycle.append(cycle)
    del cycle

    assert gc.collect() >= 1


def test_the_command_line_freezes_its_start_up_heap_before_running_a_command(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    calls: list[str] = []
    monkeypatch.setattr(oss_bridge.cli, "freeze_startup_heap", lambda: calls.append("frozen"))
    monkeypatch.setattr(sys, "argv", ["oss-bridge", "--version"])

    with pytest.raises(SystemExit) as exit_:
        oss_bridge.cli.main()

    assert exit_.value.code == 0
    assert calls == ["frozen"]
    assert capsys.readouterr().out.startswith("oss-bridge ")
