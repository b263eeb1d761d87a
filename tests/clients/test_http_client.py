"""The pooled httpx client each system gets, and what a client refuses to be built on."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import httpx
import pytest

from oss_bridge.clients import LaporClient, OssClient, build_http_client
from oss_bridge.clients._http import Answer
from oss_bridge.config import LaporSettings, OssSettings
from oss_bridge.errors import ConfigError, MalformedResponse
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


def _answer(body: bytes) -> Answer:
    return Answer(
        system="oss",
        endpoint="inqueryStandarPelayanan",
        response=httpx.Response(200, content=body),
        request_id="r-1",
        now=lambda: datetime(2026, 11, 29, tzinfo=UTC),
    )


@pytest.mark.parametrize(
    "body",
    [
        pytest.param(b'{"a": [1, 2.5, "x"], "b": null, "c": true}', id="plain"),
        pytest.param('{"nama": "Pelayanan \\u00e9 Perizinan é"}'.encode(), id="unicode"),
        pytest.param(b'{"n": 123456789012345678901234567890}', id="integer beyond 64 bits"),
        pytest.param(b'{"f": 0.1, "g": 1e300, "h": -0.0}', id="floats"),
        pytest.param(b'{"s": "\\ud800"}', id="lone surrogate escape"),
        pytest.param(b'{"k": 1, "k": 2}', id="repeated key"),
        pytest.param(b"[NaN, Infinity]", id="non-finite numbers"),
    ],
)
def test_an_answer_reads_its_body_as_the_standard_json_module_does(body: bytes) -> None:
    read = _answer(body).json()

    assert repr(read) == repr(json.loads(body))


@pytest.mark.parametrize("body", [b"", b"<html>busy</html>", b'{"a": 1', b"\xff\xfe{}"])
def test_an_answer_whose_body_is_not_json_is_malformed(body: bytes) -> None:
    with pytest.raises(MalformedResponse, match="not JSON"):
        _answer(body).json()
