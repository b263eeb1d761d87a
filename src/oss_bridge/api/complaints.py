"""The intake JSON API: ``POST /api/v1/complaints`` and ``GET /api/v1/complaints/{ref}``.

POST takes one complaint as JSON (``category``, ``object``, ``description``, optional
``service_code``, ``reporter`` {``name``, ``email``, ``phone``}, ``anonymous``, ``secret``,
``occurred_on``) and answers 201 with ``id``, ``receipt_number`` and ``stage`` once the complaint
is stored. Bad input answers 422 with ``message`` and field-level ``errors``; a wrong content
type 415; a body over ``api.max_body_bytes`` 413. Nothing is stored on any error.

GET takes the id or the receipt number. This surface is public, so it never shows the
reporter's name or contact, and for a secret complaint neither its description nor the texts of
its history.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter, Request
from starlette.responses import JSONResponse

from oss_bridge.api._body import read_json
from oss_bridge.domain.complaint import ComplaintView
from oss_bridge.services.intake import ComplaintInput, ComplaintIntake, parse_draft

PREFIX = "/api/v1/complaints"


def complaints_router(intake: ComplaintIntake) -> APIRouter:
    router = APIRouter(prefix=PREFIX, tags=["complaints"])

    @router.post(
        "",
        status_code=201,
        summary="Submit a complaint; answers with its receipt number",
        openapi_extra={
            "requestBody": {
                "required": True,
                "content": {"application/json": {"schema": inline_schema(ComplaintInput)}},
            }
        },
    )
    async def submit(request: Request) -> JSONResponse:
        draft = parse_draft(await read_json(request))
        receipt = await intake.submit(draft)
        return JSONResponse(
            receipt.model_dump(mode="json"),
            status_code=201,
            headers={"Location": f"{PREFIX}/{receipt.id}"},
        )

    @router.get("/{reference}", summary="A complaint by its id or its receipt number")
    async def show(reference: str) -> dict[str, Any]:
        return public_view(await intake.find(reference))

    return router


def public_view(view: ComplaintView) -> dict[str, Any]:
    """What anyone may see of a complaint (see the module docstring)."""
    complaint = view.complaint
    secret = complaint.secret
    shown: dict[str, Any] = {
        "id": complaint.id,
        "receipt_number": complaint.receipt_number,
        "stage": complaint.stage.value,
        "stage_label": complaint.stage.label,
        "category": complaint.category.value,
        "object": complaint.object.value,
        "service_code": complaint.service_code,
        "priority": complaint.priority,
        "anonymous": complaint.anonymous,
        "secret": secret,
        "occurred_on": complaint.occurred_on.isoformat() if complaint.occurred_on else None,
        "received_at": instant(complaint.received_at),
        "updated_at": instant(complaint.updated_at),
        "forward_state": view.forward_state,
        "external_id": view.external_id,
        "tracking_id": view.tracking_id,
        "external_status": view.external_status,
        "final": view.final,
        "overdue": view.overdue,
        "history": [
            {
                "at": instant(entry.at),
                "kind": entry.kind,
                "stage": entry.stage.value if entry.stage else None,
                "external_status": entry.external_status,
                "text": None if secret else entry.text,
            }
            for entry in view.history
        ],
        "deadlines": [deadline.model_dump(mode="json") for deadline in view.deadlines],
    }
    if not secret:
        shown["description"] = complaint.description
    return shown


def instant(value: datetime) -> str:
    """An instant as this API writes every one: ISO 8601 in UTC, ``2026-11-30T02:00:00Z``."""
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")


def inline_schema(model: type[Any]) -> dict[str, Any]:
    """``model``'s JSON schema with its ``$defs`` written in place, for an OpenAPI body."""
    schema: dict[str, Any] = model.model_json_schema()
    definitions = schema.pop("$defs", {})

    def resolve(node: Any) -> Any:
        if isinstance(node, dict):
            reference = node.get("$ref")
            if isinstance(reference, str) and reference.startswith("#/$defs/"):
                return resolve(definitions[reference.removeprefix("#/$defs/")])
            return {key: resolve(value) for key, value in node.items()}
        if isinstance(node, list):
            return [resolve(value) for value in node]
        return node

    resolved: dict[str, Any] = resolve(schema)
    return resolved
