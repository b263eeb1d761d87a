"""The catalogue commands end to end: the CLI on a SQLite file, the mock served on loopback.

`oss-bridge sync catalogue`, `catalogue import|export|conflicts|resolve`: what they print, and
the exit codes of INTERFACES.md (0 done; 1 a person is needed; 2 could not run).
"""

from __future__ import annotations

import asyncio
import json
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from typer.testing import CliRunner

from oss_bridge.cli import app
from oss_bridge.config import load_settings
from oss_bridge.data import sample_page_path
from oss_bridge.domain import ServiceStandard
from oss_bridge.store import Store
from oss_bridge.store._locks import CATALOGUE_SYNC_LOCK
from oss_bridge_mock import create_app

JOB_PORTAL = "SP-1405-000001"


@pytest.fixture(scope="module")
def mock_base() -> Iterator[str]:
    """The mock national systems under uvicorn on a free loopback port, for this module."""
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.bind(("127.0.0.1", 0))
    listener.listen(64)
    server = uvicorn.Server(uvicorn.Config(create_app(), log_level="warning", access_log=False))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [listener]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            pytest.fail("the mock did not start serving within 10 s")
        time.sleep(0.01)
    try:
        yield f"http://127.0.0.1:{listener.getsockname()[1]}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        listener.close()


@pytest.fixture
def mock(mock_base: str) -> Iterator[httpx.Client]:
    """A control client of the mock, reset to its seed state for this test."""
    with httpx.Client(base_url=mock_base) as control:
        control.post("/_mock/reset").raise_for_status()
        yield control


@pytest.fixture
def config(tmp_path: Path, mock_base: str) -> Path:
    """A config file: a new SQLite file for this test, OSS on the mock, one attempt per call."""
    path = tmp_path / "oss-bridge.toml"
    path.write_text(
        f'[database]\nurl = "sqlite:///{tmp_path / "bridge.db"}"\n'
        f'[oss]\nbase_url = "{mock_base}/oss"\nmax_attempts = 1\n',
        encoding="utf-8",
    )
    return path


@pytest.fixture
def upgraded(config: Path) -> Path:
    assert invoke("db", "upgrade", config=config)[0] == 0
    return config


def invoke(*args: str, config: Path | None = None) -> tuple[int, str, str]:
    options = ["--config", str(config)] if config is not None else []
    result = CliRunner().invoke(app, [*args, *options])
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result.exit_code, result.stdout, result.stderr


def edit_locally(config: Path, code: str, **changes: Any) -> None:
    async def edit() -> None:
        async with Store.open(load_settings(config).database) as store:
            stored = await store.get_standard(code)
            assert stored is not None
            data = {**stored.standard.model_dump(mode="json"), **changes}
            await store.save_local_version(
                ServiceStandard.model_validate(data), origin="local", actor="staff"
            )

    asyncio.run(edit())


def make_conflict(config: Path, mock: httpx.Client) -> None:
    assert invoke("sync", "catalogue", config=config)[0] == 0
    edit_locally(config, JOB_PORTAL, name="Job Portal")
    answer = mock.post(
        "/_mock/edit", json={"id_layanan": JOB_PORTAL, "changes": {"nama_layanan": "Portal Kerja"}}
    )
    answer.raise_for_status()


# --- sync catalogue ------------------------------------------------------------------------------


def test_sync_prints_what_it_did_and_exits_0(upgraded: Path, mock: httpx.Client) -> None:
    code, out, _ = invoke("sync", "catalogue", config=upgraded)

    assert code == 0
    assert "pull: 6 fetched, 5 created, 0 updated, 0 deleted, 1 unchanged" in out
    assert "push: 0 sent to OSS" in out


def test_sync_json_is_the_report_alone_on_stdout(upgraded: Path, mock: httpx.Client) -> None:
    code, out, _ = invoke("sync", "catalogue", "--json", config=upgraded)

    report = json.loads(out)
    assert code == 0
    assert (report["counts"]["created"], report["needs_person"]) == (5, False)


def test_sync_prints_plain_progress_lines_on_stderr_when_not_on_a_terminal(
    upgraded: Path, mock: httpx.Client
) -> None:
    _, _, err = invoke("sync", "catalogue", config=upgraded)

    assert "pull: page 1, 6 entries fetched" in err.splitlines()


def test_a_dry_run_prints_the_diff_and_stores_nothing(upgraded: Path, mock: httpx.Client) -> None:
    code, out, _ = invoke("sync", "catalogue", "--dry-run", config=upgraded)

    assert code == 0
    assert out.startswith("dry run: nothing was written")
    assert f"{JOB_PORTAL}: create_local" in out
    assert json.loads(invoke("catalogue", "export", config=upgraded)[1]) == []


def test_sync_pushes_only_with_direction_push(upgraded: Path, mock: httpx.Client) -> None:
    assert invoke("sync", "catalogue", "--direction", "pull", config=upgraded)[0] == 0
    edit_locally(upgraded, JOB_PORTAL, name="Job Portal")

    _, pulled, _ = invoke("sync", "catalogue", "--direction", "pull", config=upgraded)
    _, pushed, _ = invoke("sync", "catalogue", "--direction", "push", config=upgraded)

    assert "push:" not in pulled
    assert "push: 1 sent to OSS" in pushed


def test_sync_exits_1_while_conflicts_remain(upgraded: Path, mock: httpx.Client) -> None:
    make_conflict(upgraded, mock)

    code, out, _ = invoke("sync", "catalogue", config=upgraded)

    assert code == 1
    assert "1 conflicts wait for a person" in out
    assert "oss-bridge catalogue resolve ID --take local|remote" in out


def test_sync_on_a_database_without_schema_exits_2_saying_what_to_run(
    config: Path, mock: httpx.Client
) -> None:
    code, out, err = invoke("sync", "catalogue", config=config)

    assert (code, out) == (2, "")
    assert err.startswith("oss-bridge: ")
    assert "oss-bridge db upgrade" in err


def test_sync_with_oss_unreachable_exits_2_with_one_line(tmp_path: Path) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed_port = probe.getsockname()[1]
    config = tmp_path / "unreachable.toml"
    config.write_text(
        f'[database]\nurl = "sqlite:///{tmp_path / "bridge.db"}"\n'
        f'[oss]\nbase_url = "http://127.0.0.1:{closed_port}/oss"\nmax_attempts = 1\n',
        encoding="utf-8",
    )
    invoke("db", "upgrade", config=config)

    code, out, err = invoke("sync", "catalogue", config=config)

    assert (code, out) == (2, "")
    last = err.strip().splitlines()[-1]
    assert last.startswith("oss-bridge: oss inqueryStandarPelayanan")
    assert "did not reach" in last


# --- catalogue conflicts / resolve ---------------------------------------------------------------


def test_conflicts_lists_each_with_its_values_and_exits_1(
    upgraded: Path, mock: httpx.Client
) -> None:
    make_conflict(upgraded, mock)
    invoke("sync", "catalogue", config=upgraded)

    code, out, _ = invoke("catalogue", "conflicts", config=upgraded)

    assert code == 1
    assert f"#1 {JOB_PORTAL} name" in out
    assert '  local: "Job Portal"' in out
    assert '  OSS:   "Portal Kerja"' in out
    assert '  base:  "Aktivitas Pendaftaran Tenaga Kerja Daring (Job Portal)"' in out


def test_conflicts_json_lists_the_three_values(upgraded: Path, mock: httpx.Client) -> None:
    make_conflict(upgraded, mock)
    invoke("sync", "catalogue", config=upgraded)

    _, out, _ = invoke("catalogue", "conflicts", "--json", config=upgraded)

    [conflict] = json.loads(out)
    assert (conflict["code"], conflict["local"], conflict["remote"]) == (
        JOB_PORTAL,
        "Job Portal",
        "Portal Kerja",
    )


def test_no_conflicts_exits_0(upgraded: Path) -> None:
    assert invoke("catalogue", "conflicts", config=upgraded)[:2] == (0, "no open conflicts\n")


def test_resolve_settles_a_conflict_and_the_next_sync_exits_0(
    upgraded: Path, mock: httpx.Client
) -> None:
    make_conflict(upgraded, mock)
    invoke("sync", "catalogue", config=upgraded)

    code, out, _ = invoke("catalogue", "resolve", "1", "--take", "local", config=upgraded)
    after, _, _ = invoke("sync", "catalogue", config=upgraded)

    assert code == 0
    assert "conflict #1 on SP-1405-000001 name settled: the region's value kept" in out
    assert after == 0
    remote = mock.get("/_mock/state").json()["catalogue"]
    assert next(e["versi"] for e in remote if e["id_layanan"] == JOB_PORTAL) == 5


def test_resolve_of_an_unknown_conflict_exits_2(upgraded: Path) -> None:
    code, _, err = invoke("catalogue", "resolve", "42", "--take", "remote", config=upgraded)

    assert code == 2
    assert "no conflict with id 42" in err


# --- catalogue import / export -------------------------------------------------------------------


def test_import_stores_the_page_to_be_pushed(upgraded: Path) -> None:
    code, out, _ = invoke(
        "catalogue", "import", str(sample_page_path()), "--code", "job-portal", config=upgraded
    )

    assert code == 0
    assert out == "job-portal: created (local version 1); the next sync sends it to OSS\n"


def test_import_json_says_whether_it_is_to_be_pushed(upgraded: Path) -> None:
    args = ("catalogue", "import", str(sample_page_path()), "--json")
    invoke(*args, config=upgraded)

    _, out, _ = invoke(*args, config=upgraded)

    assert json.loads(out)["change"] == "unchanged"


def test_import_of_an_unreadable_page_exits_2(upgraded: Path, tmp_path: Path) -> None:
    page = tmp_path / "empty.txt"
    page.write_text("nothing here\n", encoding="utf-8")

    code, _, err = invoke("catalogue", "import", str(page), config=upgraded)

    assert code == 2
    assert err.startswith("oss-bridge: ")


def test_import_of_a_page_without_its_fee_section_exits_2_and_stores_nothing(
    upgraded: Path, tmp_path: Path
) -> None:
    invoke("catalogue", "import", str(sample_page_path()), "--code", "job-portal", config=upgraded)
    before = invoke("catalogue", "export", "--format", "json", config=upgraded)[1]
    text = sample_page_path().read_text(encoding="utf-8")
    page = tmp_path / "no-fee.txt"
    cut = text[: text.index("Biaya / Tarif\n")] + text[text.index("Produk Pelayanan\n") :]
    page.write_text(cut.replace("Tenaga Kerja", "Tenaga Kerja Baru"), encoding="utf-8")

    code, out, err = invoke(
        "catalogue", "import", str(page), "--code", "job-portal", config=upgraded
    )

    assert (code, out) == (2, "")
    assert len(err.strip().splitlines()) == 1
    assert "'Biaya / Tarif'" in err
    assert invoke("catalogue", "export", "--format", "json", config=upgraded)[1] == before


def test_an_imported_page_reaches_oss_at_the_next_sync(upgraded: Path, mock: httpx.Client) -> None:
    invoke("catalogue", "import", str(sample_page_path()), "--code", "job-portal", config=upgraded)

    _, out, _ = invoke("sync", "catalogue", config=upgraded)

    assert "push: 1 sent to OSS" in out
    held = {e["id_layanan"] for e in mock.get("/_mock/state").json()["catalogue"]}
    assert "job-portal" in held


@pytest.mark.parametrize(
    ("fmt", "check"),
    [
        ("json", lambda data: [entry["code"] for entry in data] == ["job-portal"]),
        (
            "cpsv-jsonld",
            lambda data: (
                [n["dct:identifier"] for n in data["@graph"] if n["@type"] == "cpsv:PublicService"]
                == ["job-portal"]
            ),
        ),
    ],
)
def test_export_prints_the_catalogue_in_the_format_asked(
    upgraded: Path, fmt: str, check: Any
) -> None:
    invoke("catalogue", "import", str(sample_page_path()), "--code", "job-portal", config=upgraded)

    code, out, _ = invoke("catalogue", "export", "--format", fmt, config=upgraded)

    assert code == 0
    assert check(json.loads(out))


def test_sync_exits_2_while_another_instance_holds_the_catalogue_lock(upgraded: Path) -> None:
    async def sync_while_locked() -> tuple[int, str, str]:
        store = Store.open(load_settings(upgraded).database)
        async with store, store.exclusive(CATALOGUE_SYNC_LOCK) as held:
            assert held
            return await asyncio.to_thread(invoke, "sync", "catalogue", config=upgraded)

    code, out, err = asyncio.run(sync_while_locked())

    assert (code, out) == (2, "")
    assert "another instance is syncing the catalogue" in err
