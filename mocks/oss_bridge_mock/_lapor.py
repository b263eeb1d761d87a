"""The complaint channel under ``/lapor``: SP4N-LAPOR! REST as DESIGN.md 3.2 describes it.

Beyond the real channel, the mock honours an ``Idempotency-Key`` header on creates: the same key
with the same body gets the first answer again (marked ``Idempotent-Replayed: true``) and
creates nothing; the same key with another body is refused with 422.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from oss_bridge_mock._complaints import followup_view, log_view
from oss_bridge_mock._endpoints import (
    LAPOR_CATEGORIES,
    LAPOR_CREATE,
    LAPOR_DETAIL,
    LAPOR_FIND,
    LAPOR_FOLLOWUPS,
    LAPOR_INSTITUTIONS,
    OTHER,
)
from oss_bridge_mock._http import JSON, Handler, dumps, json_answer, read_json
from oss_bridge_mock._runtime import Runtime

INVALID = "The given data was invalid."
MAX_PAGE_SIZE = 1000


def unauthenticated_answer() -> Response:
    return json_answer({"message": "Unauthenticated."}, status=401)


def validation_answer(errors: dict[str, list[str]]) -> Response:
    return json_answer({"message": INVALID, "errors": errors}, status=422)


def _fingerprint(body: Any) -> str:
    canonical = json.dumps(body, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


def _paging(request: Request, default_size: int) -> tuple[int, int, dict[str, list[str]]]:
    """``page`` and ``page_size`` from the query, and the errors in them."""
    values = {"page": 1, "page_size": default_size}
    errors: dict[str, list[str]] = {}
    for name, upper in (("page", None), ("page_size", MAX_PAGE_SIZE)):
        text = request.query_params.get(name)
        if text is None:
            continue
        if not text.isdigit() or int(text) < 1:
            errors[name] = [f"The {name} must be an integer of at least 1."]
        elif upper is not None and int(text) > upper:
            errors[name] = [f"The {name} may not be greater than {upper}."]
        else:
            values[name] = int(text)
    return values["page"], values["page_size"], errors


def _paged(rows: list[Any], page: int, page_size: int) -> dict[str, Any]:
    start = (page - 1) * page_size
    return {
        "results": {
            "data": rows[start : start + page_size],
            "page": page,
            "page_size": page_size,
            "total": len(rows),
        }
    }


def _master_page(request: Request, rows: list[dict[str, Any]]) -> Response:
    page, page_size, errors = _paging(request, 10)
    if errors:
        return validation_answer(errors)
    return json_answer(_paged(rows, page, page_size))


def _complaint_id(request: Request) -> str:
    # /lapor/complaints/{id}/complaint or .../followups
    return request.url.path.split("/")[3]


def _not_found(complaint_id: str) -> Response:
    return json_answer({"message": f"Complaint {complaint_id!r} not found."}, status=404)


def lapor_handlers(rt: Runtime) -> dict[str, Handler]:
    """The handler of each complaint-channel endpoint name."""

    def authenticated(request: Request) -> bool:
        headers = request.headers
        scheme, _, value = headers.get("authorization", "").partition(" ")
        return (
            scheme.lower() == "bearer"
            and value.strip() == rt.credentials.auth_value
            and headers.get("token") == rt.credentials.token
        )

    async def create(request: Request) -> Response:
        body, parsed = read_json(await request.body())
        if not parsed:
            return validation_answer({"body": ["The request body must be a JSON object."]})
        book = rt.complaints
        reference = body.get("external_reference") if isinstance(body, dict) else None
        book.note_create_call(reference if isinstance(reference, str) else None)
        key = request.headers.get("idempotency-key")
        fingerprint = _fingerprint(body)
        if key is not None:
            earlier = book.recall(key)
            if earlier is not None:
                if earlier.fingerprint != fingerprint:
                    return validation_answer(
                        {
                            "Idempotency-Key": [
                                f"The key {key!r} was already used with another request body; "
                                "use a new key for a new complaint."
                            ]
                        }
                    )
                return Response(
                    earlier.body,
                    status_code=201,
                    media_type=JSON,
                    headers={"Idempotent-Replayed": "true"},
                )
        clean, errors = book.validate(body)
        if errors:
            return validation_answer(errors)
        record = book.create(clean)
        answer = dumps(
            {"results": {"complaint_id": record.complaint_id, "tracking_id": record.tracking_id}}
        )
        if key is not None:
            book.remember(key, fingerprint, answer)
        return Response(answer, status_code=201, media_type=JSON)

    async def find(request: Request) -> Response:
        page, page_size, errors = _paging(request, 50)
        if errors:
            return validation_answer(errors)
        book = rt.complaints
        records = book.find(request.query_params.get("external_reference"))
        return json_answer(_paged([book.view(r) for r in records], page, page_size))

    async def detail(request: Request) -> Response:
        complaint_id = _complaint_id(request)
        book = rt.complaints
        record = book.get(complaint_id)
        if record is None:
            return _not_found(complaint_id)
        return json_answer(
            {
                "results": {
                    "data": book.view(record),
                    "data_logs": [log_view(log) for log in record.logs],
                }
            }
        )

    async def followups(request: Request) -> Response:
        complaint_id = _complaint_id(request)
        record = rt.complaints.get(complaint_id)
        if record is None:
            return _not_found(complaint_id)
        return json_answer({"results": {"data": [followup_view(f) for f in record.followups]}})

    async def categories(request: Request) -> Response:
        return _master_page(request, rt.categories)

    async def institutions(request: Request) -> Response:
        return _master_page(request, rt.institutions)

    async def not_found(request: Request) -> Response:
        return json_answer({"message": "Not Found."}, status=404)

    def guarded(handler: Handler) -> Handler:
        async def handle(request: Request) -> Response:
            if not authenticated(request):
                return unauthenticated_answer()
            return await handler(request)

        return handle

    return {
        LAPOR_CREATE: guarded(create),
        LAPOR_FIND: guarded(find),
        LAPOR_DETAIL: guarded(detail),
        LAPOR_FOLLOWUPS: guarded(followups),
        LAPOR_CATEGORIES: guarded(categories),
        LAPOR_INSTITUTIONS: guarded(institutions),
        OTHER: not_found,
    }
