"""What the mock's tests share: credentials, a movable clock, a sleep that does not wait."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from oss_bridge_mock import create_app

OSS_KEY = {"user_key": "demo-user-key"}
LAPOR_AUTH = {"Authorization": "Bearer demo-auth-value", "token": "demo-token"}
RBA = "/oss/v1/kl/rba"
WRAPPERS = {
    "getDataReferensi": "GETDATAREFERENSI",
    "inqueryStandarPelayanan": "INQUERYSTANDARPELAYANAN",
    "receiveStandarPelayanan": "STANDARPELAYANAN",
}
# Marks a field to leave out of a complaint body.
ABSENT: Any = object()
# 09:00 in Jakarta on a Monday.
START = datetime(2025, 1, 6, 2, 0, tzinfo=UTC)


class FakeClock:
    """A clock that moves only when told."""

    def __init__(self, start: datetime = START) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


class RecordingSleep:
    """An injected sleep that records how long it was asked to wait and returns at once."""

    def __init__(self) -> None:
        self.calls: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.calls.append(seconds)


@asynccontextmanager
async def mock_client(**options: Any) -> AsyncIterator[httpx.AsyncClient]:
    """An in-process client of a fresh mock; ``options`` go to ``create_app``."""
    options.setdefault("clock", FakeClock())
    options.setdefault("sleep", RecordingSleep())
    app = create_app(**options)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://mock") as client:
        yield client


async def oss_call(
    client: httpx.AsyncClient,
    method: str,
    payload: Any,
    *,
    headers: dict[str, str] | None = None,
) -> httpx.Response:
    """POST one PIA call with its payload wrapped as DESIGN.md 3.1 says."""
    return await client.post(
        f"{RBA}/{method}",
        json={WRAPPERS.get(method, method.upper()): payload},
        headers=OSS_KEY if headers is None else headers,
    )


def pia(response: httpx.Response, method: str) -> dict[str, Any]:
    """The payload inside ``respon{method}``."""
    payload: dict[str, Any] = response.json()[f"respon{method}"]
    return payload


def complaint_body(**changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "title": "Izin belum terbit",
        "content": "Permohonan izin saya belum diproses sejak dua minggu.",
        "category_id": 101,
        "disposition_id": "1405",
        "is_anonymous": False,
        "is_secret": False,
        "date_of_incident": "2025-01-02",
        "external_reference": "PGD-1405-20250106-000001",
    }
    body.update(changes)
    return {k: v for k, v in body.items() if v is not ABSENT}


async def create_complaint(
    client: httpx.AsyncClient, *, key: str | None = None, **changes: Any
) -> httpx.Response:
    headers = dict(LAPOR_AUTH)
    if key is not None:
        headers["Idempotency-Key"] = key
    return await client.post(
        "/lapor/complaints/complaint", json=complaint_body(**changes), headers=headers
    )


async def mock_state(client: httpx.AsyncClient) -> dict[str, Any]:
    response = await client.get("/_mock/state")
    assert response.status_code == 200
    state: dict[str, Any] = response.json()
    return state
