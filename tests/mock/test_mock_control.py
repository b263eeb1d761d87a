"""The control API and bookkeeping (INTERFACES.md), the documentation, and the seed data."""

from __future__ import annotations

from importlib import resources

import pytest

from oss_bridge_mock import FaultProfile, create_app
from oss_bridge_mock._data import synthetic_entries
from tests.mock._support import (
    LAPOR_AUTH,
    create_complaint,
    mock_client,
    mock_state,
    oss_call,
)

INQUERY = "POST /oss/v1/kl/rba/inqueryStandarPelayanan"


async def test_the_state_has_the_shape_interfaces_promises() -> None:
    async with mock_client() as client:
        await create_complaint(client)
        state = await mock_state(client)
    assert {"complaints", "catalogue", "requests"} <= set(state)
    assert set(state["complaints"][0]) == {
        "complaint_id",
        "external_reference",
        "create_calls",
        "status_name",
    }
    assert set(state["catalogue"][0]) == {"id_layanan", "versi", "status"}
    assert state["requests"] == {"POST /lapor/complaints/complaint": 1}


async def test_the_state_counts_requests_per_endpoint() -> None:
    async with mock_client() as client:
        for _ in range(2):
            await oss_call(client, "inqueryStandarPelayanan", {"kd_daerah": "1405"})
        await oss_call(client, "getDataReferensi", {"kode": "8"})
        await client.get("/lapor/complaints/123/complaint", headers=LAPOR_AUTH)
        await client.get("/lapor/complaints/456/complaint", headers=LAPOR_AUTH)
        await client.get("/lapor/masters/categories")
        state = await mock_state(client)
    assert state["requests"] == {
        "GET /lapor/complaints/{id}/complaint": 2,
        "GET /lapor/masters/categories": 1,
        "POST /oss/v1/kl/rba/getDataReferensi": 1,
        INQUERY: 2,
    }


async def test_a_resync_with_nothing_changed_can_be_proven_to_cost_two_requests() -> None:
    async with mock_client() as client:
        baseline = (await mock_state(client))["requests"]
        await oss_call(client, "getDataReferensi", {"kode": "8"})
        await oss_call(
            client,
            "inqueryStandarPelayanan",
            {"kd_daerah": "1405", "sejak": "2030-01-01T00:00:00Z"},
        )
        state = await mock_state(client)
    assert baseline == {}
    assert sum(state["requests"].values()) == 2


async def test_create_calls_count_every_create_that_carried_the_reference() -> None:
    async with mock_client() as client:
        await create_complaint(client, key="k", external_reference="PGD-1")
        await create_complaint(client, key="k", external_reference="PGD-1")
        await create_complaint(client, key="k2", external_reference="PGD-1", title=None)
        await create_complaint(client, external_reference="PGD-2")
        state = await mock_state(client)
    by_reference = {c["external_reference"]: c["create_calls"] for c in state["complaints"]}
    assert by_reference == {"PGD-1": 3, "PGD-2": 1}


async def test_requests_refused_by_a_fault_are_counted_but_never_reach_the_channel() -> None:
    faults = FaultProfile(error_rate=1.0)
    async with mock_client(faults=faults) as client:
        await create_complaint(client, external_reference="PGD-1")
        await client.post("/_mock/faults", json={})
        await create_complaint(client, external_reference="PGD-1")
        state = await mock_state(client)
    assert state["requests"] == {"POST /lapor/complaints/complaint": 2}
    assert state["complaints"][0]["create_calls"] == 1


async def test_control_and_documentation_requests_are_not_counted() -> None:
    async with mock_client() as client:
        await client.get("/_mock/state")
        await client.get("/_mock/faults")
        await client.get("/openapi.json")
        await client.get("/")
        state = await mock_state(client)
    assert state["requests"] == {}


async def test_reset_restores_the_seed_data_and_zeroes_the_counters() -> None:
    async with mock_client() as client:
        fresh = await mock_state(client)
        await create_complaint(client)
        await client.post(
            "/_mock/edit", json={"id_layanan": "SP-1405-000001", "changes": {"status": "nonaktif"}}
        )
        await client.post("/_mock/clock", json={"advance_seconds": 60})
        response = await client.post("/_mock/reset")
        after = await mock_state(client)
        replayed = await create_complaint(client, key="k")
        replayed_again = await create_complaint(client, key="k")
    assert response.status_code == 200
    assert after == fresh
    assert replayed.json() == replayed_again.json()


async def test_the_clock_reports_the_mock_time() -> None:
    async with mock_client() as client:
        response = await client.get("/_mock/clock")
    assert response.json() == {"now": "2025-01-06T02:00:00+00:00"}


async def test_the_openapi_document_describes_both_systems_and_the_control_api() -> None:
    async with mock_client() as client:
        schema = (await client.get("/openapi.json")).json()
        docs = await client.get("/docs")
    paths = set(schema["paths"])
    assert {
        "/oss/v1/kl/rba/getDataReferensi",
        "/oss/v1/kl/rba/inqueryStandarPelayanan",
        "/oss/v1/kl/rba/receiveStandarPelayanan",
        "/lapor/complaints/complaint",
        "/lapor/complaints",
        "/lapor/complaints/{complaint_id}/complaint",
        "/lapor/complaints/{complaint_id}/followups",
        "/lapor/masters/categories",
        "/lapor/masters/institutions/external",
        "/_mock/state",
        "/_mock/faults",
        "/_mock/edit",
        "/_mock/advance",
        "/_mock/reset",
    } <= paths
    assert {"user_key", "lapor_bearer", "lapor_token"} <= set(
        schema["components"]["securitySchemes"]
    )
    assert docs.status_code == 200
    assert "swagger" in docs.text.lower()


@pytest.mark.parametrize(
    "name", ["catalogue.json", "referensi.json", "categories.json", "institutions.json"]
)
def test_the_seed_data_ships_inside_the_package(name: str) -> None:
    assert (resources.files("oss_bridge_mock") / "data" / name).is_file()


def test_a_generated_catalogue_is_the_same_for_the_same_seed() -> None:
    codes = ["A", "B"]
    first = synthetic_entries(50, seed=1, permit_codes=codes)
    assert first == synthetic_entries(50, seed=1, permit_codes=codes)
    assert first != synthetic_entries(50, seed=2, permit_codes=codes)
    assert len({e["id_layanan"] for e in first}) == 50


def test_a_negative_catalogue_size_is_refused() -> None:
    with pytest.raises(ValueError, match="generate_catalogue"):
        create_app(generate_catalogue=-1)


async def test_the_index_names_where_each_system_lives() -> None:
    async with mock_client() as client:
        index = (await client.get("/")).json()
    assert index == {
        "oss": "/oss/v1/kl/rba",
        "lapor": "/lapor",
        "control": "/_mock",
        "docs": "/docs",
    }
