"""A complaint with personal data goes through the whole flow; none of it reaches the logs.

Intake (JSON API and Open311), forwarding through failures (a server error, an answer lost
after the channel stored the complaint, the lookup that settles it), the status pull, the
complaint read back, the staff page and the admin status: every log line is captured and
searched for the reporter's name, NIK, phone numbers and e-mail address, in every spelling
they were given in.
"""

from __future__ import annotations

import io
import logging
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime

import httpx
import pytest
import structlog
from fastapi import FastAPI
from pydantic import SecretStr

from oss_bridge.config import Settings
from oss_bridge.daemon import Runtime, build_runtime
from oss_bridge.log import configure_logging
from tests.daemon.support import ADMIN, STAFF_TOKEN
from tests.factories import FakeClock

NAME = "Siti Nurhaliza Rahmawati"
NIK = "1405021203900001"
PHONE = "081266612345"
PHONE_WRITTEN = "0812-6661-2345"
EMAIL = "siti.rahmawati@contoh.id"
OTHER_NAME = "Bambang Sutrisno"
OTHER_EMAIL = "bambang.s@contoh.id"
OTHER_PHONE = "+62 813 7000 1122"
PERSONAL = (
    NAME,
    "Nurhaliza",
    NIK,
    PHONE,
    PHONE_WRITTEN,
    EMAIL,
    "siti.rahmawati",
    OTHER_NAME,
    "Sutrisno",
    OTHER_EMAIL,
    OTHER_PHONE,
    "7000 1122",
)
OPEN311_KEY = "portal-key-for-tests"
CREATE = "POST /lapor/complaints/complaint"


@pytest.fixture
def logs() -> Iterator[io.StringIO]:
    stream = io.StringIO()
    configure_logging(level="DEBUG", stream=stream)
    try:
        yield stream
    finally:
        logging.getLogger().handlers.clear()
        structlog.reset_defaults()


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(datetime.now(UTC))


@pytest.fixture
async def bridge(
    daemon_settings: Settings, mock: FastAPI, clock: FakeClock, logs: io.StringIO
) -> AsyncIterator[Runtime]:
    settings = daemon_settings.model_copy(
        update={
            "api": daemon_settings.api.model_copy(
                update={"open311_api_key": SecretStr(OPEN311_KEY)}
            )
        }
    )
    transport = httpx.ASGITransport(app=mock)
    runtime = build_runtime(
        settings, transports={"oss": transport, "lapor": transport}, clock=clock
    )
    try:
        yield runtime
    finally:
        await runtime.stop(grace=0)
        await runtime.aclose()


async def forward(runtime: Runtime, clock: FakeClock) -> None:
    await runtime.runs.run("complaints", requested_by="test")
    clock.advance(hours=2)  # past any backoff


async def test_personal_data_never_reaches_the_logs(
    bridge: Runtime, clock: FakeClock, mock_client: httpx.AsyncClient, logs: io.StringIO
) -> None:
    transport = httpx.ASGITransport(app=bridge.app)
    async with httpx.AsyncClient(transport=transport, base_url="http://bridge.test") as client:
        created = await client.post(
            "/api/v1/complaints",
            json={
                "category": "perizinan_berusaha",
                "object": "asn_ptt",
                "description": (
                    f"Saya {NAME}, NIK {NIK}, HP {PHONE_WRITTEN}, surel {EMAIL}: permohonan "
                    "NIB saya ditolak tanpa alasan."
                ),
                "reporter": {"name": NAME, "email": EMAIL, "phone": PHONE},
            },
        )
        assert created.status_code == 201
        refused = await client.post(
            "/api/v1/complaints",
            json={
                "category": "nope",
                "object": "asn_ptt",
                "description": f"{NAME} {NIK}",
                "reporter": {"name": NAME, "email": "not-an-address", "phone": PHONE},
            },
        )
        assert refused.status_code == 422
        by_open311 = await client.post(
            "/open311/v2/requests.json",
            data={
                "api_key": OPEN311_KEY,
                "service_code": "hambatan_oss",
                "attribute[objek]": "pemerintah_kabupaten",
                "description": f"Akun OSS {OTHER_NAME} ({OTHER_PHONE}) terkunci.",
                "first_name": "Bambang",
                "last_name": "Sutrisno",
                "email": OTHER_EMAIL,
                "phone": OTHER_PHONE,
            },
        )
        assert by_open311.status_code == 200, by_open311.text

        await mock_client.post(
            "/_mock/faults",
            json={"endpoints": {CREATE: {"error_rate": 1, "error_statuses": [500]}}},
        )
        await forward(bridge, clock)
        await mock_client.post(
            "/_mock/faults",
            json={"endpoints": {CREATE: {"timeout_after_commit": {"rate": 1, "mode": "drop"}}}},
        )
        await forward(bridge, clock)
        await mock_client.post("/_mock/faults", json={})
        await forward(bridge, clock)
        assert (await bridge.store.outbox_counts()).count("sent") == 2

        await mock_client.post("/_mock/advance", json={"complaint_id": None, "to": "Dalam Proses"})
        await bridge.runs.run("status", requested_by="test")
        await bridge.runs.run("deadlines", requested_by="test")
        await bridge.runs.run("summary", requested_by="test")

        shown = await client.get(f"/api/v1/complaints/{created.json()['id']}")
        assert shown.json()["external_status"] == "Dalam Proses"
        await client.post("/ui/masuk", data={"token": STAFF_TOKEN})
        assert (await client.get("/ui/")).status_code == 200
        assert (await client.get("/api/v1/admin/status", headers=ADMIN)).status_code == 200

    captured = logs.getvalue()
    for event in (
        "complaint_received",
        "complaint delivery failed; will retry",
        "job run finished",
    ):
        assert event in captured  # the flow was logged, so finding no personal data means something
    leaked = [value for value in PERSONAL if value in captured]
    assert leaked == []
