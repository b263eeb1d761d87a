"""Both clients against the mock national systems, in process (``httpx.ASGITransport``).

The mock and the clients share one fake time: the clients' waits move it, the mock reads it as
its clock, and the mock's own waits (latency, a held-back answer) are recorded instead of slept.
A held-back answer longer than the clients' read timeout raises ``httpx.ReadTimeout`` where the
network would, since an in-process transport has no timeouts of its own.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest

from oss_bridge.clients import LaporClient, OssClient, build_http_client
from oss_bridge.config import LaporSettings, OssSettings
from oss_bridge_mock import FaultProfile, create_app
from tests.clients.support import AGENCY, JITTER, FakeTime

MOCK = "http://mock"
READ_TIMEOUT = 30.0
MAX_ATTEMPTS = 5


@dataclass
class MockWaits:
    """The mock's sleep: records each wait; one past the read timeout is a read timeout."""

    seen: list[float] = field(default_factory=list)

    async def __call__(self, seconds: float) -> None:
        self.seen.append(seconds)
        if seconds >= READ_TIMEOUT:
            raise httpx.ReadTimeout(f"no answer within {READ_TIMEOUT:.0f}s (mock held it back)")


@dataclass
class Systems:
    """The mock and a client for each of its systems, plus its control API."""

    oss: OssClient
    lapor: LaporClient
    control: httpx.AsyncClient
    time: FakeTime
    mock_waits: MockWaits

    async def faults(self, profile: dict[str, Any]) -> None:
        """Put a fault profile in force through the control API (``{}`` clears it)."""
        FaultProfile.model_validate(profile)  # a typo in a test fails here, not as a 422
        answer = await self.control.post("/_mock/faults", json=profile)
        assert answer.status_code == 200, answer.text

    async def state(self) -> dict[str, Any]:
        answer = await self.control.get("/_mock/state")
        assert answer.status_code == 200, answer.text
        result: dict[str, Any] = answer.json()
        return result

    async def requests(self, endpoint: str) -> int:
        """How many requests the mock counted for ``endpoint`` (e.g. ``GET /lapor/complaints``)."""
        counts: dict[str, int] = (await self.state())["requests"]
        return counts.get(endpoint, 0)

    async def edit(self, id_layanan: str, changes: dict[str, Any]) -> dict[str, Any]:
        answer = await self.control.post(
            "/_mock/edit", json={"id_layanan": id_layanan, "changes": changes}
        )
        assert answer.status_code in (200, 201), answer.text
        result: dict[str, Any] = answer.json()
        return result

    async def advance(self, complaint_id: str, to: str) -> None:
        answer = await self.control.post(
            "/_mock/advance", json={"complaint_id": complaint_id, "to": to}
        )
        assert answer.status_code == 200, answer.text


def _settings(cls: Any, base_url: str, **changes: Any) -> Any:
    return cls(
        base_url=base_url,
        max_attempts=MAX_ATTEMPTS,
        backoff_initial=1.0,
        backoff_max=8.0,
        read_timeout=READ_TIMEOUT,
        **changes,
    )


SystemsFactory = Callable[..., Any]


@pytest.fixture
async def make_systems() -> AsyncIterator[SystemsFactory]:
    """Build a mock (``create_app`` keyword arguments) and clients on it; closes them after."""
    opened: list[httpx.AsyncClient] = []

    async def build(
        *,
        page_limit: int = 200,
        user_key: str = "demo-user-key",
        auth_value: str = "demo-auth-value",
        **app_options: Any,
    ) -> Systems:
        time = FakeTime()
        waits = MockWaits()
        app = create_app(clock=time.now, sleep=waits, **app_options)
        oss_settings: OssSettings = _settings(
            OssSettings, f"{MOCK}/oss", page_limit=page_limit, user_key=user_key
        )
        lapor_settings: LaporSettings = _settings(
            LaporSettings, f"{MOCK}/lapor", auth_value=auth_value
        )
        oss_http = build_http_client(oss_settings, transport=httpx.ASGITransport(app=app))
        lapor_http = build_http_client(lapor_settings, transport=httpx.ASGITransport(app=app))
        control = httpx.AsyncClient(base_url=MOCK, transport=httpx.ASGITransport(app=app))
        opened.extend([oss_http, lapor_http, control])
        hooks: dict[str, Any] = {
            "sleep": time.sleep,
            "clock": time.clock,
            "random": lambda: JITTER,
            "now": time.now,
        }
        return Systems(
            oss=OssClient(oss_http, oss_settings, kd_daerah="1405", agency=AGENCY, **hooks),
            lapor=LaporClient(lapor_http, lapor_settings, **hooks),
            control=control,
            time=time,
            mock_waits=waits,
        )

    yield build
    for client in opened:
        await client.aclose()


@pytest.fixture
async def systems(make_systems: SystemsFactory) -> Systems:
    """The faithful mock with its seed data."""
    built: Systems = await make_systems()
    return built
