"""Complaint and outbox rows for the forwarder's and puller's tests, written as intake writes them.

``add_complaints`` inserts received complaints with their outbox rows in one transaction, straight
through the schema, so these tests depend on the outbox contract only and not on how intake
validates and numbers complaints.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

import httpx
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from oss_bridge.clients import LaporClient, build_http_client
from oss_bridge.config import LaporSettings
from oss_bridge.domain import ComplaintCategory, ComplaintObject
from oss_bridge.services.forwarder import forwarding_client_settings
from oss_bridge.store import idempotency_key
from oss_bridge.store.schema import complaints, outbox
from oss_bridge_mock import FaultProfile, create_app

RECEIPT_DAY = "20240506"


def receipt(number: int) -> str:
    return f"PGD-1405-{RECEIPT_DAY}-{number:06d}"


def complaint_values(number: int, *, at: datetime, **changes: Any) -> dict[str, Any]:
    values: dict[str, Any] = {
        "receipt_number": receipt(number),
        "category": ComplaintCategory.HAMBATAN_OSS.value,
        "object": ComplaintObject.PEMERINTAH_KABUPATEN.value,
        "service_code": None,
        "description": f"Permohonan NIB nomor {number} tertahan tanpa kabar.",
        "reporter_name": "Siti Aminah",
        "reporter_email": "siti@contoh.id",
        "reporter_phone": "081234567890",
        "anonymous": False,
        "secret": False,
        "occurred_on": date(2024, 5, 2),
        "stage": "c",
        "received_at": at,
        "updated_at": at,
    }
    values.update(changes)
    return values


async def add_complaints(
    engine: AsyncEngine,
    count: int,
    *,
    at: datetime,
    first: int = 1,
    destination: str = "lapor",
    **changes: Any,
) -> list[int]:
    """Insert ``count`` complaints numbered from ``first``, each with a pending outbox row due
    at ``at``; returns their ids in order. ``changes`` override complaint columns."""
    ids: list[int] = []
    async with engine.begin() as connection:
        for number in range(first, first + count):
            complaint_id = (
                await connection.execute(
                    sa.insert(complaints)
                    .values(complaint_values(number, at=at, **changes))
                    .returning(complaints.c.id)
                )
            ).scalar_one()
            await connection.execute(
                sa.insert(outbox).values(
                    complaint_id=complaint_id,
                    destination=destination,
                    state="pending",
                    attempts=0,
                    next_attempt_at=at,
                    idempotency_key=idempotency_key(destination, receipt(number)),
                    outcome_unknown=False,
                    created_at=at,
                    updated_at=at,
                )
            )
            ids.append(complaint_id)
    return ids


async def complaint_row(engine: AsyncEngine, complaint_id: int) -> sa.Row[Any]:
    async with engine.connect() as connection:
        return (
            await connection.execute(sa.select(complaints).where(complaints.c.id == complaint_id))
        ).one()


async def set_complaint(engine: AsyncEngine, complaint_id: int, **values: Any) -> None:
    async with engine.begin() as connection:
        await connection.execute(
            sa.update(complaints).where(complaints.c.id == complaint_id).values(**values)
        )


# --- the channel, in process -------------------------------------------------------------------

MOCK = "http://mock"
READ_TIMEOUT = 30.0


@dataclass
class MockWaits:
    """The mock's sleep: records each wait; one past the read timeout is a read timeout, as on
    the network (an in-process transport has no timeouts of its own)."""

    seen: list[float] = field(default_factory=list)

    async def __call__(self, seconds: float) -> None:
        self.seen.append(seconds)
        if seconds >= READ_TIMEOUT:
            raise httpx.ReadTimeout(f"no answer within {READ_TIMEOUT:.0f}s (mock held it back)")


class Recording(httpx.AsyncBaseTransport):
    """Wraps a transport: records each request and the most requests ever in flight at once."""

    def __init__(self, inner: httpx.AsyncBaseTransport) -> None:
        self.inner = inner
        self.requests: list[httpx.Request] = []
        self.in_flight = 0
        self.most_in_flight = 0

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        self.in_flight += 1
        self.most_in_flight = max(self.most_in_flight, self.in_flight)
        try:
            # Let every other ready task start its request too, as a network would.
            for _ in range(3):
                await asyncio.sleep(0)
            return await self.inner.handle_async_request(request)
        finally:
            self.in_flight -= 1

    def sent(self, method: str, path: str) -> list[httpx.Request]:
        return [r for r in self.requests if r.method == method and r.url.path == path]


@dataclass
class Channel:
    """The mock complaint channel in process, a one-try client on it, and its control API."""

    app: Any
    http: httpx.AsyncClient
    lapor: LaporClient
    settings: LaporSettings
    control: httpx.AsyncClient
    recording: Recording

    async def faults(self, profile: dict[str, Any]) -> None:
        """Put a fault profile in force (``{}`` clears it)."""
        FaultProfile.model_validate(profile)
        answer = await self.control.post("/_mock/faults", json=profile)
        assert answer.status_code == 200, answer.text

    async def state(self) -> dict[str, Any]:
        answer = await self.control.get("/_mock/state")
        assert answer.status_code == 200, answer.text
        result: dict[str, Any] = answer.json()
        return result

    async def complaints(self) -> list[dict[str, Any]]:
        rows: list[dict[str, Any]] = (await self.state())["complaints"]
        return rows

    async def requests(self, endpoint: str) -> int:
        counts: dict[str, int] = (await self.state())["requests"]
        return counts.get(endpoint, 0)

    async def advance(self, complaint_id: str, to: str, followup: str | None = None) -> None:
        body: dict[str, Any] = {"complaint_id": complaint_id, "to": to}
        if followup is not None:
            body["followup"] = followup
        answer = await self.control.post("/_mock/advance", json=body)
        assert answer.status_code == 200, answer.text


@asynccontextmanager
async def open_channel(**settings: Any) -> AsyncIterator[Channel]:
    """The faithful mock with a one-try client on it that records what it sends."""
    app = create_app(sleep=MockWaits())
    lapor_settings = LaporSettings(base_url=f"{MOCK}/lapor", read_timeout=READ_TIMEOUT, **settings)
    one_try = forwarding_client_settings(lapor_settings)
    recording = Recording(httpx.ASGITransport(app=app))
    http = build_http_client(one_try, transport=recording)
    control = httpx.AsyncClient(base_url=MOCK, transport=httpx.ASGITransport(app=app))
    try:
        yield Channel(
            app=app,
            http=http,
            lapor=LaporClient(http, one_try),
            settings=lapor_settings,
            control=control,
            recording=recording,
        )
    finally:
        await http.aclose()
        await control.aclose()
