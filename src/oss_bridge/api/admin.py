"""The admin API under ``/api/v1/admin``: resyncs by hand, their runs, and the bridge's status.

Every route needs ``Authorization: Bearer <api.admin_token>``; the token is compared in constant
time, and a missing or wrong one (or no token configured at all) answers 401 with
``WWW-Authenticate: Bearer``.

- ``POST /resync`` ``{"target": "catalogue"|"complaints"|"status", "dry_run": false}``: 202
  ``{"run_id", "job", "state", "dry_run", "url"}`` at once; the run goes on in the background.
- ``GET /runs/{run_id}``: the run with its ``state`` (queued, running, succeeded, failed),
  ``progress``, ``result`` and ``error``. ``GET /runs?job=&limit=``: the newest runs.
- ``GET /status``: queue depth per state, oldest pending age, dead letters, conflicts,
  quarantined entries, overdue complaints, and the last success and next run of each job.
"""

from __future__ import annotations

import hmac
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel, ConfigDict, JsonValue, SecretStr
from starlette.exceptions import HTTPException
from starlette.responses import JSONResponse, Response

from oss_bridge.api.errors import error_response
from oss_bridge.errors import ShuttingDown
from oss_bridge.services.runs import RESYNC_TARGETS, RunService, run_as_json
from oss_bridge.services.status_report import StatusReport
from oss_bridge.store._runs import MAX_RUNS_LIMIT

PREFIX = "/api/v1/admin"
ACTOR = "admin-api"


class ResyncRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    target: str
    dry_run: bool = False


def bearer_matches(header: str | None, token: SecretStr | None) -> bool:
    """Whether ``header`` is ``Bearer <token>``; compared in constant time, never true without
    a configured token."""
    if token is None or not token.get_secret_value() or header is None:
        return False
    scheme, _, given = header.partition(" ")
    if scheme.lower() != "bearer":
        return False
    return hmac.compare_digest(
        given.strip().encode("utf-8"), token.get_secret_value().encode("utf-8")
    )


def admin_router(*, runs: RunService, report: StatusReport, token: SecretStr | None) -> APIRouter:
    """The admin routes, guarded by ``token`` (``api.admin_token``)."""

    def require_admin(request: Request) -> None:
        if bearer_matches(request.headers.get("authorization"), token):
            return
        if token is None or not token.get_secret_value():
            reason = "the admin API is closed: set api.admin_token in the config and restart"
        else:
            reason = "send the admin token as 'Authorization: Bearer <api.admin_token>'"
        raise HTTPException(401, detail=reason, headers={"WWW-Authenticate": "Bearer"})

    router = APIRouter(prefix=PREFIX, tags=["admin"], dependencies=[Depends(require_admin)])

    @router.post("/resync", status_code=202, summary="Start a resync; answers with its run id")
    async def resync(body: ResyncRequest, request: Request) -> Response:
        try:
            run = await runs.start(body.target, dry_run=body.dry_run, requested_by=ACTOR)
        except ShuttingDown as exc:
            return error_response(request.url.path, 503, str(exc), headers={"Retry-After": "10"})
        url = f"{PREFIX}/runs/{run.run_id}"
        return JSONResponse(
            {
                "run_id": run.run_id,
                "job": run.job,
                "state": run.state,
                "dry_run": run.dry_run,
                "url": url,
                "targets": list(RESYNC_TARGETS),
            },
            status_code=202,
            headers={"Location": url},
        )

    @router.get("/runs/{run_id}", summary="One run: state, progress, result")
    async def show_run(run_id: str) -> dict[str, JsonValue]:
        return run_as_json(await runs.get(run_id))

    @router.get("/runs", summary="The newest runs, optionally of one job")
    async def list_runs(
        job: str | None = None,
        limit: Annotated[int, Query(ge=1, le=MAX_RUNS_LIMIT)] = 20,
    ) -> dict[str, Any]:
        found = await runs.recent(job=job, limit=limit)
        return {"runs": [run_as_json(run) for run in found]}

    @router.get("/status", summary="Queue depths, dead letters, conflicts, jobs")
    async def status() -> dict[str, JsonValue]:
        return (await report.snapshot()).as_json()

    return router


__all__ = ["admin_router", "bearer_matches"]
