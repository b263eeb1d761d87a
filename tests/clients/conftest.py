"""Fixtures for the clients' respx tests: settings, fake time, routers and the clients on them."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import pytest
import respx

from oss_bridge.clients import LaporClient, OssClient, build_http_client
from oss_bridge.config import LaporSettings, OssSettings
from tests.clients.support import AGENCY, JITTER, LAPOR_BASE, OSS_BASE, FakeTime, transport_for


@pytest.fixture
def fake_time() -> FakeTime:
    return FakeTime()


@pytest.fixture
def lapor_settings() -> LaporSettings:
    return LaporSettings(
        base_url=LAPOR_BASE,
        max_attempts=4,
        backoff_initial=1.0,
        backoff_max=8.0,
        total_deadline=300.0,
        retry_after_cap=120.0,
        disposition_id="1405",
    )


@pytest.fixture
def oss_settings() -> OssSettings:
    return OssSettings(
        base_url=OSS_BASE,
        max_attempts=4,
        backoff_initial=1.0,
        backoff_max=8.0,
        total_deadline=300.0,
        retry_after_cap=120.0,
        page_limit=2,
    )


@pytest.fixture
def lapor_api() -> Iterator[respx.MockRouter]:
    with respx.mock(base_url=LAPOR_BASE, assert_all_called=False) as router:
        yield router


@pytest.fixture
def oss_api() -> Iterator[respx.MockRouter]:
    with respx.mock(base_url=OSS_BASE, assert_all_called=False) as router:
        yield router


@pytest.fixture
async def lapor(
    lapor_settings: LaporSettings, fake_time: FakeTime, lapor_api: respx.MockRouter
) -> AsyncIterator[LaporClient]:
    async with build_http_client(lapor_settings, transport=transport_for(lapor_api)) as http:
        yield LaporClient(
            http,
            lapor_settings,
            sleep=fake_time.sleep,
            clock=fake_time.clock,
            random=lambda: JITTER,
            now=fake_time.now,
        )


@pytest.fixture
async def oss(
    oss_settings: OssSettings, fake_time: FakeTime, oss_api: respx.MockRouter
) -> AsyncIterator[OssClient]:
    async with build_http_client(oss_settings, transport=transport_for(oss_api)) as http:
        yield OssClient(
            http,
            oss_settings,
            kd_daerah="1405",
            agency=AGENCY,
            sleep=fake_time.sleep,
            clock=fake_time.clock,
            random=lambda: JITTER,
            now=fake_time.now,
        )
