"""The catalogue and sync commands' own behaviour, without a database or a network.

Options are checked before anything runs (exit 2 naming the option), and the sync's progress
is drawn as a rich bar on a terminal and as plain lines otherwise.
"""

from __future__ import annotations

import io

import pytest
from typer.testing import CliRunner

from oss_bridge.cli import app
from oss_bridge.cli.sync_cmd import progress_display
from oss_bridge.services.catalogue_sync import SyncProgress

PROGRESS = [
    SyncProgress("pull", done=200, total=None, pages=1),
    SyncProgress("pull", done=350, total=None, pages=2),
    SyncProgress("push", done=1, total=2, pages=2),
    SyncProgress("push", done=2, total=2, pages=2),
]


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def invoke(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(app, list(args))
    return result.exit_code, result.stderr


@pytest.mark.parametrize(
    ("args", "option"),
    [
        pytest.param(
            ("sync", "catalogue", "--direction", "sideways"), "--direction", id="direction"
        ),
        pytest.param(("sync", "catalogue", "--direction", ""), "--direction", id="empty-direction"),
        pytest.param(("catalogue", "resolve", "1", "--take", "both"), "--take", id="take"),
        pytest.param(("catalogue", "resolve", "1"), "--take", id="take-missing"),
        pytest.param(("catalogue", "resolve", "one", "--take", "local"), "ID", id="id"),
        pytest.param(("catalogue", "export", "--format", "xml"), "--format", id="format"),
    ],
)
def test_a_bad_option_exits_2_naming_it_before_anything_runs(
    args: tuple[str, ...], option: str
) -> None:
    code, err = invoke(*args)

    assert code == 2
    assert option in err


def test_progress_off_a_terminal_is_one_plain_line_per_update() -> None:
    stream = io.StringIO()

    with progress_display(stream) as progress:
        for update in PROGRESS:
            progress(update)

    assert stream.getvalue().splitlines() == [
        "pull: page 1, 200 entries fetched",
        "pull: page 2, 350 entries fetched",
        "push: 1/2 entries",
        "push: 2/2 entries",
    ]


def test_progress_for_scripts_writes_nothing_off_a_terminal() -> None:
    stream = io.StringIO()

    with progress_display(stream, quiet=True) as progress:
        for update in PROGRESS:
            progress(update)

    assert stream.getvalue() == ""


@pytest.mark.parametrize("quiet", [False, True])
def test_progress_on_a_terminal_is_a_bar_per_phase(quiet: bool) -> None:
    stream = Terminal()

    with progress_display(stream, quiet=quiet) as progress:
        for update in PROGRESS:
            progress(update)

    drawn = stream.getvalue()
    assert "pull (page 2)" in drawn
    assert "350" in drawn
    assert "2/2" in drawn
    assert "push: 1/2 entries" not in drawn
