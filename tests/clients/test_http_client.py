"""The pooled httpx client each system gets, and what a client refuses to be built on."""

from __future__ import annotations

import httpx
import pytest

from oss_bridge.clients import LaporClient, OssClient, build_http_client
from oss_bridge.config import LaporSettings, OssSettings
from oss_bridge.errors import ConfigError
from tests.clients.support import AGENCY


def test_the_pooled_client_takes_base_url_and_every_timeout_from_config() -> None:
    settings = LaporSettings(
        base_url="http://lapor.test/api/",
        connect_timeout=1.5,
        read_timeout=2.5,
        write_timeout=3.5,
        pool_timeout=4.5,
    )

    http = build_http_client(settings, transport=httpx.MockTransport(lambda r: httpx.Response(204)))

    assert str(http.base_url) == "http://lapor.test/api/"
    assert http.timeout == httpx.Timeout(connect=1.5, read=2.5, write=3.5, pool=4.5)
    assert http.follow_redirects is False


async def test_requests_go_below_the_configured_base_path() -> None:
    seen: list[str] = []

    def record(request: httpx.Request) -> httpx.Response:
        seen.append(str(request.url))
        return httpx.Response(200, json={"results": {"data": []}})

    settings = LaporSettings(base_url="http://lapor.test/api/v1")
    async with build_http_client(settings, transport=httpx.MockTransport(record)) as http:
        await LaporClient(http, settings).categories()

    assert seen == ["http://lapor.test/api/v1/masters/categories?page_size=1000"]


def _unrooted() -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.MockTransport(lambda r: httpx.Response(204)))


def test_an_oss_client_on_an_http_client_without_base_url_is_refused() -> None:
    with pytest.raises(ConfigError, match="build_http_client"):
        OssClient(_unrooted(), OssSettings(), kd_daerah="1405", agency=AGENCY)


def test_a_lapor_client_on_an_http_client_without_base_url_is_refused() -> None:
    with pytest.raises(ConfigError, match="build_http_client"):
        LaporClient(_unrooted(), LaporSettings())
