"""``/metrics``: Prometheus text with queue depths, attempts, durations, requests per system."""

from __future__ import annotations

import httpx
from prometheus_client.parser import text_string_to_metric_families

from oss_bridge.api.metrics import BridgeMetrics
from oss_bridge.config import DatabaseSettings
from oss_bridge.daemon import Runtime
from oss_bridge.store import Store
from tests.daemon.support import ADMIN

COMPLAINT = {
    "category": "pengawasan",
    "object": "pelaku_usaha",
    "description": "Usaha beroperasi tanpa izin yang terlihat.",
}


async def scrape(client: httpx.AsyncClient) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    response = await client.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain; version=")
    found = {}
    for family in text_string_to_metric_families(response.text):
        for sample in family.samples:
            found[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return found


async def test_queue_depth_is_shown_for_every_state(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    await client.post("/api/v1/complaints", json=COMPLAINT)
    metrics = await scrape(client)
    depths = {
        labels[0][1]: value
        for (name, labels), value in metrics.items()
        if name == "oss_bridge_outbox_queue_depth"
    }
    assert depths == {"pending": 1, "in_flight": 0, "sent": 0, "dead": 0, "acknowledged": 0}
    assert metrics[("oss_bridge_outbox_oldest_pending_age_seconds", ())] >= 0
    assert metrics[("oss_bridge_database_up", ())] == 1


async def test_attempts_are_counted_by_outcome(client: httpx.AsyncClient, runtime: Runtime) -> None:
    await client.post("/api/v1/complaints", json=COMPLAINT)
    await runtime.runs.run("complaints", requested_by="test")
    await runtime.runs.run("status", requested_by="test")
    metrics = await scrape(client)
    assert metrics[("oss_bridge_attempts_total", (("kind", "forward"), ("outcome", "sent")))] == 1
    pulled = metrics[
        ("oss_bridge_attempts_total", (("kind", "status_pull"), ("outcome", "changed")))
    ]
    assert pulled == 1


async def test_requests_to_each_national_system_are_counted_by_status(
    client: httpx.AsyncClient, runtime: Runtime, mock_client: httpx.AsyncClient
) -> None:
    await mock_client.post(
        "/_mock/faults",
        json={
            "endpoints": {
                "POST /lapor/complaints/complaint": {"error_rate": 1, "error_statuses": [503]}
            }
        },
    )
    await client.post("/api/v1/complaints", json=COMPLAINT)
    await runtime.runs.run("catalogue", requested_by="test")
    await runtime.runs.run("complaints", requested_by="test")
    metrics = await scrape(client)
    assert (
        metrics[("oss_bridge_external_requests_total", (("status", "200"), ("system", "oss")))] == 1
    )
    assert (
        metrics[("oss_bridge_external_requests_total", (("status", "503"), ("system", "lapor")))]
        == 1
    )


async def test_job_durations_and_last_success_are_recorded(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    run = await runtime.runs.run("catalogue", requested_by="test")
    assert run is not None
    assert run.finished_at is not None
    metrics = await scrape(client)
    assert metrics[("oss_bridge_job_duration_seconds_count", (("job", "catalogue"),))] == 1
    assert (
        metrics[("oss_bridge_job_runs_total", (("job", "catalogue"), ("state", "succeeded")))] == 1
    )
    last = metrics[("oss_bridge_job_last_success_timestamp_seconds", (("job", "catalogue"),))]
    assert last == run.finished_at.timestamp()


async def test_a_failed_run_is_counted_and_leaves_the_last_success_alone(
    client: httpx.AsyncClient, runtime: Runtime, mock_client: httpx.AsyncClient
) -> None:
    await mock_client.post("/_mock/faults", json={"error_rate": 1, "error_statuses": [500]})
    run = await runtime.runs.run("catalogue", requested_by="test")
    assert run is not None
    assert run.state == "failed"
    metrics = await scrape(client)
    assert metrics[("oss_bridge_job_runs_total", (("job", "catalogue"), ("state", "failed")))] == 1
    assert ("oss_bridge_job_last_success_timestamp_seconds", (("job", "catalogue"),)) not in metrics


async def test_a_skipped_run_leaves_the_last_success_alone(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    store = runtime.store
    run = await store.create_run(job="catalogue", requested_by="scheduler")
    await store.update_run(run.run_id, state="running")
    skipped = await store.update_run(
        run.run_id, state="succeeded", skipped=True, result={"summary": "skipped: busy"}
    )
    runtime.metrics.run_finished(skipped, None, 0.1)

    metrics = await scrape(client)

    assert ("oss_bridge_job_last_success_timestamp_seconds", (("job", "catalogue"),)) not in metrics


async def test_the_overdue_gauge_follows_the_deadline_check(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    await runtime.runs.run("deadlines", requested_by="test")
    assert (await scrape(client))[("oss_bridge_overdue_complaints", ())] == 0


async def test_an_unreachable_database_sets_database_up_to_zero() -> None:
    metrics = BridgeMetrics()
    # Nothing listens on port 1, so the connection is refused at once.
    async with Store.open(DatabaseSettings(url="postgresql://nobody@127.0.0.1:1/none")) as store:
        await metrics.refresh(store)
    assert b"oss_bridge_database_up 0.0" in metrics.render()


def test_each_application_has_its_own_registry() -> None:
    first, second = BridgeMetrics(), BridgeMetrics()
    first.external_response("oss", "200")
    assert b'oss_bridge_external_requests_total{status="200",system="oss"} 1.0' in first.render()
    assert b"oss_bridge_external_requests_total{" not in second.render()


async def test_metrics_need_no_token(client: httpx.AsyncClient) -> None:
    assert (await client.get("/metrics")).status_code == 200
    assert (await client.get("/api/v1/admin/status")).status_code == 401
    assert (await client.get("/api/v1/admin/status", headers=ADMIN)).status_code == 200
