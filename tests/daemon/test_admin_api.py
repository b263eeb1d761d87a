"""The admin API in process: bearer token, resync runs and their results, the status numbers."""

from __future__ import annotations

import httpx
import pytest
from fastapi import FastAPI
from pydantic import SecretStr

from oss_bridge.api.admin import admin_router, bearer_matches
from oss_bridge.daemon import Runtime
from tests.daemon.support import ADMIN, ADMIN_TOKEN

COMPLAINT = {
    "category": "hambatan_oss",
    "object": "pemerintah_kabupaten",
    "description": "Unggahan dokumen di OSS selalu gagal sejak kemarin.",
}


@pytest.mark.parametrize(
    ("header", "token", "matches"),
    [
        (f"Bearer {ADMIN_TOKEN}", ADMIN_TOKEN, True),
        (f"bearer {ADMIN_TOKEN}", ADMIN_TOKEN, True),
        (f"Bearer {ADMIN_TOKEN}x", ADMIN_TOKEN, False),
        (f"Bearer {ADMIN_TOKEN[:-1]}", ADMIN_TOKEN, False),
        (f"Basic {ADMIN_TOKEN}", ADMIN_TOKEN, False),
        (ADMIN_TOKEN, ADMIN_TOKEN, False),
        ("Bearer ", ADMIN_TOKEN, False),
        (None, ADMIN_TOKEN, False),
        ("Bearer ", "", False),
        ("Bearer anything", None, False),
    ],
)
def test_only_the_configured_bearer_token_is_accepted(
    header: str | None, token: str | None, matches: bool
) -> None:
    secret = None if token is None else SecretStr(token)
    assert bearer_matches(header, secret) is matches


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("POST", "/api/v1/admin/resync"),
        ("GET", "/api/v1/admin/status"),
        ("GET", "/api/v1/admin/runs"),
        ("GET", "/api/v1/admin/runs/anything"),
    ],
)
async def test_every_admin_route_answers_401_without_the_token(
    client: httpx.AsyncClient, method: str, path: str
) -> None:
    response = await client.request(method, path, json={"target": "catalogue"})
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == "Bearer"
    assert "Authorization: Bearer" in response.json()["message"]


async def test_a_wrong_token_starts_nothing(client: httpx.AsyncClient, runtime: Runtime) -> None:
    response = await client.post(
        "/api/v1/admin/resync",
        json={"target": "catalogue"},
        headers={"Authorization": "Bearer not-the-token"},
    )
    assert response.status_code == 401
    assert await runtime.store.list_runs() == []


async def test_without_a_configured_token_the_admin_api_is_closed_to_everyone(
    runtime: Runtime,
) -> None:
    app = FastAPI()
    app.include_router(admin_router(runs=runtime.runs, report=runtime.report, token=None))
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://b") as closed:
        response = await closed.get("/api/v1/admin/status", headers={"Authorization": "Bearer "})
    assert response.status_code == 401
    assert "set api.admin_token" in response.text


async def test_a_resync_answers_202_with_a_run_id_whose_result_can_be_read(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    response = await client.post(
        "/api/v1/admin/resync", json={"target": "catalogue"}, headers=ADMIN
    )
    assert response.status_code == 202
    started = response.json()
    assert started["state"] == "queued"
    assert response.headers["location"] == f"/api/v1/admin/runs/{started['run_id']}"
    await runtime.runs.wait(started["run_id"])
    run = (await client.get(started["url"], headers=ADMIN)).json()
    assert (run["state"], run["skipped"]) == ("succeeded", False)
    assert run["requested_by"] == "admin-api"
    assert run["result"]["counts"]["created"] == 5  # the mock's live entries of region 1405
    assert run["progress"]["phase"] == "pull"
    assert run["heartbeat_at"] >= run["requested_at"]


async def test_a_dry_run_resync_reports_the_diff_and_writes_nothing(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    response = await client.post(
        "/api/v1/admin/resync", json={"target": "catalogue", "dry_run": True}, headers=ADMIN
    )
    run = await runtime.runs.wait(response.json()["run_id"])
    assert run.dry_run
    assert run.result["dry_run"] is True
    assert len(run.result["diff"]) == 5
    assert await runtime.store.list_standards() == []


async def test_a_complaints_resync_forwards_the_waiting_complaints(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    await client.post("/api/v1/complaints", json=COMPLAINT)
    response = await client.post(
        "/api/v1/admin/resync", json={"target": "complaints"}, headers=ADMIN
    )
    run = await runtime.runs.wait(response.json()["run_id"])
    assert run.state == "succeeded"
    assert (await runtime.store.outbox_counts()).count("sent") == 1


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"target": "everything"}, None),
        ({"target": "deadlines"}, None),
        ({}, "target"),
        ({"target": "catalogue", "dry_run": "perhaps"}, "dry_run"),
        ({"target": "catalogue", "force": True}, "force"),
    ],
)
async def test_a_bad_resync_request_is_refused_with_422(
    client: httpx.AsyncClient, body: dict[str, object], field: str | None
) -> None:
    response = await client.post("/api/v1/admin/resync", json=body, headers=ADMIN)
    assert response.status_code == 422
    if field is None:
        assert "choose one of catalogue, complaints, status" in response.json()["message"]
    else:
        assert field in response.json()["errors"]


async def test_an_unknown_run_id_answers_404(client: httpx.AsyncClient) -> None:
    response = await client.get("/api/v1/admin/runs/no-such-run", headers=ADMIN)
    assert response.status_code == 404
    assert "no-such-run" in response.json()["message"]


async def test_the_newest_runs_can_be_listed_by_job(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    for target in ("catalogue", "status"):
        response = await client.post("/api/v1/admin/resync", json={"target": target}, headers=ADMIN)
        await runtime.runs.wait(response.json()["run_id"])
    listed = (await client.get("/api/v1/admin/runs?job=status", headers=ADMIN)).json()
    assert [run["job"] for run in listed["runs"]] == ["status"]


async def test_status_shows_queue_depths_dead_letters_conflicts_and_jobs(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    await client.post("/api/v1/complaints", json=COMPLAINT)
    await runtime.runs.run("catalogue", requested_by="test")
    status = (await client.get("/api/v1/admin/status", headers=ADMIN)).json()
    assert status["queue"]["by_state"]["pending"] == 1
    assert status["queue"]["oldest_pending_age_seconds"] >= 0
    assert status["dead_letters"] == 0
    assert status["conflicts"] == 0
    assert status["quarantined"] == 0
    assert status["overdue_complaints"] == 0
    assert set(status["jobs"]) == {"catalogue", "complaints", "status", "deadlines", "summary"}
    assert status["jobs"]["catalogue"]["last_success_at"] is not None
    assert status["jobs"]["complaints"]["last_run"] is None
    assert status["needs_person"] is False
