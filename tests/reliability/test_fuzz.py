"""The intake, Open311 and admin APIs fuzzed from their OpenAPI description: no 5xx, no stored garbage.

Schemathesis generates requests from the daemon's own OpenAPI document, valid ones (positive
mode) and ones that break it on purpose (negative mode), for every operation of each surface.
Each goes to a wired daemon (``build_runtime``) in process on a SQLite file, with the national
systems mocked in process. For each request: the answer is not a server error; a refused
request stored no complaint and no outbox row; an accepted submission stored exactly one
complaint with its outbox row, which then reads back through the API. At the end every stored
complaint still loads as the domain model.

The daemon runs on an event loop of its own, in a thread (``anyio``'s blocking portal), because
Hypothesis drives these tests synchronously. The OpenAPI document says less than the Open311
routes accept (their form body and their ``.json``/``.xml`` suffix are read by hand), so
``described`` adds that to the document before generating, as the GeoReport v2 standard and
``oss_bridge.api.open311.FORM_FIELDS`` define it.
"""

from __future__ import annotations

import copy
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import schemathesis
from anyio.from_thread import BlockingPortal, start_blocking_portal
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import SecretStr
from schemathesis import GenerationMode

from oss_bridge.api.open311 import FORM_FIELDS
from oss_bridge.config import ApiSettings, DatabaseSettings, Settings
from oss_bridge.daemon import Runtime, build_runtime
from oss_bridge.domain import ComplaintCategory, ComplaintObject
from oss_bridge.store import upgrade
from oss_bridge_mock import create_app
from tests.daemon.support import ADMIN_TOKEN

pytestmark = pytest.mark.reliability

OPEN311_KEY = "open311-key-for-fuzzing"
BASE = "http://bridge.test"
EXAMPLES = 400
"""Requests per surface; each surface takes a few seconds."""
FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
CREATES = {"POST /api/v1/complaints", "POST /open311/v2/requests.{fmt}"}
SURFACES = {
    "intake": ("/api/v1/complaints", "/healthz", "/readyz", "/metrics"),
    "open311": ("/open311/",),
    "admin": ("/api/v1/admin/",),
}


def described(document: dict[str, Any]) -> dict[str, Any]:
    """``document`` with what the Open311 routes accept: the format suffix and the form body."""
    document = copy.deepcopy(document)
    for path, operations in document["paths"].items():
        for operation in operations.values():
            for parameter in operation.get("parameters", []):
                if path.startswith("/open311/") and parameter["name"] == "fmt":
                    parameter["schema"] = {"type": "string", "enum": ["json", "xml"]}
    form_properties: dict[str, Any] = {name: {"type": "string"} for name in FORM_FIELDS.values()}
    form_properties |= {
        "api_key": {"type": "string", "enum": [OPEN311_KEY]},
        "service_code": {"type": "string", "enum": [c.value for c in ComplaintCategory]},
        "attribute[objek]": {"type": "string", "enum": [o.value for o in ComplaintObject]},
        "attribute[anonim]": {"type": "string", "enum": ["true", "false"]},
        "attribute[rahasia]": {"type": "string", "enum": ["true", "false"]},
        "attribute[tanggal_kejadian]": {"type": "string", "format": "date"},
        "last_name": {"type": "string"},
        "address_string": {"type": "string"},
        "lat": {"type": "string"},
        "long": {"type": "string"},
    }
    document["paths"]["/open311/v2/requests.{fmt}"]["post"]["requestBody"] = {
        "required": True,
        "content": {
            "application/x-www-form-urlencoded": {
                "schema": {
                    "type": "object",
                    "properties": form_properties,
                    "required": ["api_key", "service_code", "description", "attribute[objek]"],
                }
            }
        },
    }
    return document


@dataclass
class Bridge:
    """A daemon in process, on an event loop of its own, and the rows it stored."""

    portal: BlockingPortal
    runtime: Runtime
    http: httpx.AsyncClient
    database: Path
    schema: Any

    def send(self, kwargs: dict[str, Any]) -> httpx.Response:
        """Send a request described as Schemathesis serialises it for ``requests``."""
        body: dict[str, Any] = {}
        if "json" in kwargs:
            body["json"] = kwargs["json"]
        data = kwargs.get("data")
        if isinstance(data, dict):
            body["data"] = data
        elif data is not None:
            body["content"] = data
        headers = dict(kwargs.get("headers") or {})
        headers["Authorization"] = f"Bearer {ADMIN_TOKEN}"
        request = self.http.build_request(
            kwargs["method"],
            kwargs["url"],
            params=kwargs.get("params") or None,
            headers=headers,
            cookies=kwargs.get("cookies") or None,
            **body,
        )
        return self.portal.call(self.http.send, request)

    def rows(self) -> tuple[int, int]:
        """How many complaints and outbox rows are stored."""
        with sqlite3.connect(self.database) as db:
            complaints = db.execute("SELECT count(*) FROM complaints").fetchone()[0]
            outbox = db.execute("SELECT count(*) FROM outbox").fetchone()[0]
        return int(complaints), int(outbox)

    def operations(self, surface: str) -> list[Any]:
        prefixes = SURFACES[surface]
        found = [result.ok() for result in self.schema.get_all_operations()]
        return [op for op in found if op.path.startswith(prefixes)]


@pytest.fixture(scope="module")
def bridge(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Bridge]:
    database = tmp_path_factory.mktemp("fuzz") / "bridge.db"
    settings_ = Settings(
        database=DatabaseSettings(url=f"sqlite:///{database}"),
        api=ApiSettings(admin_token=SecretStr(ADMIN_TOKEN), open311_api_key=SecretStr(OPEN311_KEY)),
    )
    with start_blocking_portal() as portal:
        portal.call(upgrade, settings_)
        national = httpx.ASGITransport(app=create_app())
        runtime = build_runtime(settings_, transports={"oss": national, "lapor": national})
        http = httpx.AsyncClient(transport=httpx.ASGITransport(app=runtime.app), base_url=BASE)
        schema = schemathesis.openapi.from_dict(described(runtime.app.openapi()))
        try:
            yield Bridge(portal, runtime, http, database, schema)
            # Nothing stored is garbage: every complaint loads as the domain model.
            stored = portal.call(lambda: runtime.store.list_complaints(limit=10_000))
            assert all(record.delivery is not None for record in stored)
        finally:
            portal.call(http.aclose)
            portal.call(lambda: runtime.stop(grace=0))
            portal.call(runtime.aclose)


def check(bridge: Bridge, operation: Any, case: Any) -> None:
    before = bridge.rows()
    response = bridge.send(case.as_transport_kwargs(base_url=BASE))
    after = bridge.rows()
    label = f"{operation.label}: {response.status_code} {response.text[:300]}"
    assert response.status_code < 500, label
    created = after[0] - before[0]
    if operation.label in CREATES and response.is_success:
        assert (created, after[1] - before[1]) == (1, 1), label
        receipt = _receipt(response)
        assert bridge.send(
            {"method": "GET", "url": f"{BASE}/api/v1/complaints/{receipt}"}
        ).is_success
    else:
        assert after == before, label


def _receipt(response: httpx.Response) -> str:
    if response.headers.get("content-type", "").startswith("application/json"):
        document = response.json()
        if isinstance(document, list):
            return str(document[0]["service_request_id"])
        return str(document["receipt_number"])
    text = response.text
    start = text.index("<service_request_id>") + len("<service_request_id>")
    return text[start : text.index("</service_request_id>", start)]


def fuzzed(bridge: Bridge, surface: str, data: st.DataObject) -> None:
    operation = data.draw(st.sampled_from(bridge.operations(surface)), label="operation")
    mode = data.draw(st.sampled_from([GenerationMode.POSITIVE, GenerationMode.NEGATIVE]))
    case = data.draw(operation.as_strategy(generation_mode=mode), label="case")
    check(bridge, operation, case)


@FUZZ
@given(data=st.data())
def test_the_intake_api_never_fails_with_a_server_error_and_stores_only_what_it_accepts(
    bridge: Bridge, data: st.DataObject
) -> None:
    fuzzed(bridge, "intake", data)


@FUZZ
@given(data=st.data())
def test_the_open311_api_never_fails_with_a_server_error_and_stores_only_what_it_accepts(
    bridge: Bridge, data: st.DataObject
) -> None:
    fuzzed(bridge, "open311", data)


@FUZZ
@given(data=st.data())
def test_the_admin_api_never_fails_with_a_server_error_and_stores_no_complaint(
    bridge: Bridge, data: st.DataObject
) -> None:
    fuzzed(bridge, "admin", data)


@pytest.mark.parametrize(
    "reference",
    [
        pytest.param("²", id="superscript-two-is-a-digit-but-no-number"),
        pytest.param("9" * 30, id="beyond-a-64-bit-id"),
        pytest.param("PGD-1405-20240506-000001", id="unknown-receipt-number"),
    ],
)
def test_a_reference_naming_no_complaint_is_not_found(bridge: Bridge, reference: str) -> None:
    answer = bridge.send({"method": "GET", "url": f"{BASE}/api/v1/complaints/{reference}"})
    assert answer.status_code == 404, answer.text
