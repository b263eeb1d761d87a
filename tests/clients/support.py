"""Helpers shared by the clients' respx tests and contract tests: fake time, sample complaints."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

import httpx
import respx

from oss_bridge.domain import Complaint, ComplaintCategory, ComplaintObject, Reporter

OSS_BASE = "http://oss.test/oss"
LAPOR_BASE = "http://lapor.test/lapor"
AGENCY = "Dinas Penanaman Modal dan Pelayanan Terpadu Satu Pintu Kabupaten Pelalawan"
JITTER = 0.5


def transport_for(router: respx.MockRouter) -> httpx.MockTransport:
    """The router as the client's transport: no sockets, no TLS set-up per test."""
    return httpx.MockTransport(router.async_handler)


@dataclass
class FakeTime:
    """A monotonic clock that only the waits (and ``advance``) move, and a wall clock beside it."""

    monotonic: float = 1000.0
    wall_start: datetime = datetime(2025, 1, 6, 8, 0, 0, tzinfo=UTC)
    waits: list[float] = field(default_factory=list)

    async def sleep(self, seconds: float) -> None:
        self.waits.append(float(seconds))
        self.monotonic += seconds

    def clock(self) -> float:
        return self.monotonic

    def now(self) -> datetime:
        return self.wall_start + timedelta(seconds=self.monotonic - 1000.0)

    def advance(self, seconds: float) -> None:
        self.monotonic += seconds


def make_complaint(number: int = 1, **changes: object) -> Complaint:
    """A received complaint; ``changes`` override its fields."""
    received = datetime(2025, 1, 6, 1, 0, tzinfo=UTC)
    values: dict[str, object] = {
        "id": number,
        "receipt_number": f"PGD-1405-20250106-{number:06d}",
        "category": ComplaintCategory.HAMBATAN_OSS,
        "object": ComplaintObject.PEMERINTAH_KABUPATEN,
        "description": "Permohonan NIB saya tertahan sejak dua minggu tanpa kabar.",
        "service_code": "SP-1405-000001",
        "reporter": Reporter(name="Siti Aminah", email="siti@contoh.id", phone="081234567890"),
        "anonymous": False,
        "secret": False,
        "occurred_on": date(2025, 1, 2),
        "received_at": received,
        "updated_at": received,
    }
    values.update(changes)
    return Complaint.model_validate(values)
