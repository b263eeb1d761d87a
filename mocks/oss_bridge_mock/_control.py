"""``/_mock``: the control API for tests and developers (not part of the real systems)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field
from starlette.responses import Response

from oss_bridge_mock._catalogue import CatalogueInputError
from oss_bridge_mock._complaints import TransitionError
from oss_bridge_mock._http import json_answer
from oss_bridge_mock._runtime import Runtime
from oss_bridge_mock.faults import FaultProfile


class EditRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id_layanan: str = Field(min_length=1)
    changes: dict[str, Any]


class AdvanceRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    complaint_id: str | None = Field(default=None, description="null moves every complaint")
    to: str | None = Field(default=None, description="a status name; null: the next one")
    followup: str | None = Field(default=None, description="follow-up text to add on the move")


class ClockRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    advance_seconds: float = Field(ge=0)


def control_router(rt: Runtime) -> APIRouter:
    router = APIRouter(prefix="/_mock", tags=["mock control"])

    @router.get("/state", summary="What the mock holds and how many requests it received")
    async def state() -> Response:
        return json_answer(rt.state())

    @router.get("/faults", summary="The fault profile in force")
    async def get_faults() -> dict[str, Any]:
        return rt.plan.profile.model_dump(mode="json")

    @router.post("/faults", summary="Replace the fault profile ({} clears it)")
    async def set_faults(profile: FaultProfile) -> dict[str, Any]:
        rt.set_faults(profile)
        return profile.model_dump(mode="json")

    @router.post("/edit", summary="Change (or add) a catalogue entry as OSS staff would")
    async def edit(request: EditRequest) -> Response:
        try:
            written = rt.catalogue.edit(request.id_layanan, request.changes)
        except CatalogueInputError as exc:
            return json_answer({"detail": str(exc)}, status=422)
        return json_answer(written.entry, status=201 if written.created else 200)

    @router.post("/advance", summary="Move one complaint, or all, on to a status")
    async def advance(request: AdvanceRequest) -> Response:
        try:
            moved = rt.complaints.advance(
                request.complaint_id, request.to, followup=request.followup
            )
        except KeyError:
            return json_answer(
                {"detail": f"no complaint {request.complaint_id!r}; see GET /_mock/state"},
                status=404,
            )
        except TransitionError as exc:
            return json_answer({"detail": str(exc)}, status=409)
        return json_answer(
            {
                "moved": [
                    {"complaint_id": r.complaint_id, "status_name": r.status_name} for r in moved
                ]
            }
        )

    @router.get("/clock", summary="The mock's current time")
    async def get_clock() -> dict[str, str]:
        return {"now": rt.clock.now().isoformat()}

    @router.post("/clock", summary="Move the mock's time forward")
    async def move_clock(request: ClockRequest) -> dict[str, str]:
        rt.clock.advance(request.advance_seconds)
        return {"now": rt.clock.now().isoformat()}

    @router.post("/reset", summary="Back to the seeded state, start profile and zero counters")
    async def reset() -> dict[str, str]:
        rt.reset()
        return {"detail": "reset"}

    return router
