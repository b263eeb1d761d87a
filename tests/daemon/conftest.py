"""An in-process daemon (``build_runtime``) on the test database, talking to the mock in process."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from fastapi import FastAPI

from oss_bridge.config import Settings
from oss_bridge.daemon import Runtime, build_runtime
from oss_bridge_mock import create_app
from tests.daemon.support import with_tokens


@pytest.fixture
def mock() -> FastAPI:
    """The national systems, faithful (no faults), in process."""
    return create_app()


@pytest.fixture
def daemon_settings(settings: Settings) -> Settings:
    """The test database's settings with tokens; clients try each call once, so that a test
    that breaks the mock never waits for a retry's backoff."""
    tokens = with_tokens(settings)
    return tokens.model_copy(
        update={
            "oss": tokens.oss.model_copy(update={"max_attempts": 1}),
            "lapor": tokens.lapor.model_copy(update={"max_attempts": 1}),
        }
    )


@pytest.fixture
async def runtime(daemon_settings: Settings, mock: FastAPI) -> AsyncIterator[Runtime]:
    """A wired daemon whose schedule is not started: tests run its jobs themselves."""
    transport = httpx.ASGITransport(app=mock)
    runtime = build_runtime(daemon_settings, transports={"oss": transport, "lapor": transport})
    try:
        yield runtime
    finally:
        await runtime.stop(grace=0)
        await runtime.aclose()


@pytest.fixture
async def client(runtime: Runtime) -> AsyncIterator[httpx.AsyncClient]:
    """HTTP to the daemon's application, in process."""
    transport = httpx.ASGITransport(app=runtime.app)
    async with httpx.AsyncClient(transport=transport, base_url="http://bridge.test") as client:
        yield client


@pytest.fixture
async def mock_client(mock: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    """HTTP to the mock's control API, in process."""
    transport = httpx.ASGITransport(app=mock)
    async with httpx.AsyncClient(transport=transport, base_url="http://mock.test") as client:
        yield client
