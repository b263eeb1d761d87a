"""The HTTP application on the real store (every backend), driven in-process through httpx."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from fastapi import FastAPI
from pydantic import SecretStr

from oss_bridge.api import create_app
from oss_bridge.config import ApiSettings, Settings
from oss_bridge.services.intake import ComplaintIntake
from oss_bridge.store import Store
from tests.api.support import API_KEY, MONDAY, Wakes
from tests.factories import FakeClock


@pytest.fixture
def wakes() -> Wakes:
    return Wakes()


@pytest.fixture
def api_settings(settings: Settings) -> Settings:
    """The test database's settings with an Open311 key."""
    return settings.model_copy(update={"api": ApiSettings(open311_api_key=SecretStr(API_KEY))})


@pytest.fixture
def intake(store: Store, api_settings: Settings, clock: FakeClock, wakes: Wakes) -> ComplaintIntake:
    clock.now = MONDAY
    return ComplaintIntake(store, api_settings, clock=clock, notify=wakes)


@pytest.fixture
def app(store: Store, api_settings: Settings, intake: ComplaintIntake) -> FastAPI:
    return create_app(store=store, settings=api_settings, intake=intake)


@pytest.fixture
async def client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://bridge.test") as client:
        yield client
