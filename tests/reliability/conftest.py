"""Fixtures of the reliability suite, and which of its tests exist on this run.

Tests for several instances need PostgreSQL (SQLite serves one daemon): they carry the
``postgres`` mark and pin ``backend`` to PostgreSQL. Without ``OSS_BRIDGE_TEST_POSTGRES_URL``
they are left out of the run (deselected, as the PostgreSQL variants of the store tests are
never generated), and with it they must pass. The test that stops the PostgreSQL server exists
only when that server runs on this machine (the URL names a loopback address).
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from tests.conftest import POSTGRES_ENV, postgres_requested
from tests.daemon.support import mock_process
from tests.reliability.support import Launcher, Mock, is_loopback

HERE = Path(__file__).resolve().parent
STOPS_POSTGRES = "stops_postgres"
"""A test that asks for this fixture stops and starts the PostgreSQL server."""


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    left_out = [item for item in items if item.path.is_relative_to(HERE) and _left_out(item)]
    if left_out:
        config.hook.pytest_deselected(items=left_out)
        items[:] = [item for item in items if item not in left_out]


def _left_out(item: pytest.Item) -> bool:
    if item.get_closest_marker("postgres") is None:
        return False
    if not postgres_requested():
        return True
    fixtures = getattr(item, "fixturenames", ())
    return STOPS_POSTGRES in fixtures and not is_loopback(os.environ[POSTGRES_ENV])


@pytest.fixture(scope="module")
def mock(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Mock]:
    """The mock national systems as a process, shared by a module's tests (reset by each)."""
    with mock_process(tmp_path_factory.mktemp("mock")) as (process, url):
        yield Mock(url, process)


@pytest.fixture
async def fresh_mock(mock: Mock) -> AsyncIterator[Mock]:
    """The module's mock, reset, without faults; its faults are cleared again afterwards."""
    await mock.reset()
    yield mock
    await mock.faults({})


@pytest.fixture(scope="session")
def launcher() -> Launcher:
    return Launcher()


@pytest.fixture
def stops_postgres(backend: str) -> bool:
    """Marks a test that stops the PostgreSQL server (on its PostgreSQL runs)."""
    return backend == "postgresql"
