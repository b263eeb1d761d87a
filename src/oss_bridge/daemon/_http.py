"""The daemon's HTTP clients for the national systems, counting every request by status.

A ``CountingTransport`` sits under each pooled client and tells the metrics how each request
ended: its HTTP status, or ``"error"`` when no answer came. It wraps the real transport (built
with the pool size from the config) or, in tests and the demo, any transport given instead.
"""

from __future__ import annotations

from collections.abc import Callable

import httpx

from oss_bridge.clients import build_http_client
from oss_bridge.config import HttpSettings

Record = Callable[[str, str], None]
"""``record(system, status)``: one request to ``system`` ended with ``status``."""


class CountingTransport(httpx.AsyncBaseTransport):
    def __init__(self, inner: httpx.AsyncBaseTransport, *, system: str, record: Record) -> None:
        self._inner = inner
        self._system = system
        self._record = record

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        try:
            response = await self._inner.handle_async_request(request)
        except BaseException:
            self._record(self._system, "error")
            raise
        self._record(self._system, str(response.status_code))
        return response

    async def aclose(self) -> None:
        await self._inner.aclose()


def counted_http_client(
    settings: HttpSettings,
    *,
    system: str,
    record: Record,
    transport: httpx.AsyncBaseTransport | None = None,
) -> httpx.AsyncClient:
    """``build_http_client(settings)`` with its requests counted under ``system``."""
    if transport is None:
        # The pool limits build_http_client would give its own default transport.
        transport = httpx.AsyncHTTPTransport(
            limits=httpx.Limits(
                max_connections=settings.max_connections,
                max_keepalive_connections=settings.max_connections,
            )
        )
    counted = CountingTransport(transport, system=system, record=record)
    return build_http_client(settings, transport=counted)
