"""Open311 GeoReport v2 under ``/open311/v2``: complaints from portals and apps that speak it.

Every resource comes as ``.json`` and ``.xml`` (the standard requires XML). Mapping:

- services are the five complaint categories (``service_code`` = the category code,
  ``service_name`` = its published label, group ``Pengaduan``), all with metadata;
- a service definition has the attributes ``objek`` (the complaint object, required),
  ``layanan`` (the catalogue entry the complaint is about), ``tanggal_kejadian`` (the day it
  happened), ``anonim`` and ``rahasia`` (send anonymously, keep the complaint secret);
- ``POST requests`` (form-encoded, ``api_key`` = ``api.open311_api_key``) submits a complaint:
  ``description``, ``email``, ``phone``, ``first_name`` and ``last_name`` are the reporter's;
  location fields (``lat``, ``long``, ``address_string``, ``address_id``), ``media_url``,
  ``device_id`` and ``account_id`` are accepted and ignored, a complaint having no place;
- a request's ``service_request_id`` is the receipt number; its ``status`` is ``closed`` once
  the national status maps to closed, else ``open``; ``status_notes`` give the regional stage
  and the national status; ``expected_datetime`` is the resolution deadline.

No personal data (name, e-mail, phone) is ever returned, and a secret complaint's description
is left out. Errors are the standard's list of ``{code, description}``: 400 for bad input, 403
for a wrong or missing ``api_key``, 404 for an unknown service or request; 413 and 415 for a
body too large or not form-encoded.
"""

from __future__ import annotations

import hmac
from collections.abc import Mapping
from datetime import datetime, time, timedelta
from typing import Any

from fastapi import APIRouter, Request
from pydantic import SecretStr
from starlette.exceptions import HTTPException
from starlette.responses import Response

from oss_bridge.api._body import read_form
from oss_bridge.api.errors import Format, open311_errors, open311_response
from oss_bridge.config import Settings
from oss_bridge.domain.complaint import ComplaintView
from oss_bridge.domain.vocabulary import ComplaintCategory, ComplaintObject
from oss_bridge.errors import FieldErrors, InputError, NotFound
from oss_bridge.services.complaints._time import WIB
from oss_bridge.services.complaints.receipts import parse_receipt
from oss_bridge.services.intake import MAX_PAGE, ComplaintIntake, parse_draft

PREFIX = "/open311/v2"
SPECIFICATION = "http://wiki.open311.org/GeoReport_v2"
CHANGESET = "2026-11-29T00:00:00+07:00"
GROUP = "Pengaduan"
MAX_SPAN = timedelta(days=90)
_TRUE_FALSE = [{"key": "true", "name": "Ya"}, {"key": "false", "name": "Tidak"}]

# Where each field of a complaint comes from in an Open311 request, for naming it in errors.
FORM_FIELDS: Mapping[str, str] = {
    "category": "service_code",
    "object": "attribute[objek]",
    "service_code": "attribute[layanan]",
    "occurred_on": "attribute[tanggal_kejadian]",
    "anonymous": "attribute[anonim]",
    "secret": "attribute[rahasia]",
    "description": "description",
    "reporter.name": "first_name",
    "reporter.email": "email",
    "reporter.phone": "phone",
}


def open311_router(intake: ComplaintIntake, settings: Settings) -> APIRouter:
    router = APIRouter(prefix=PREFIX, tags=["open311"])
    agency = settings.region.agency

    @router.get("/discovery.{fmt}", summary="Service discovery")
    async def discovery(fmt: str, request: Request) -> Response:
        fmt = _format(fmt)
        base = str(request.base_url).rstrip("/") + PREFIX
        document = {
            "changeset": CHANGESET,
            "contact": f"{agency}, {settings.region.name}",
            "key_service": "ask the office for an api_key (api.open311_api_key)",
            "endpoints": [
                {
                    "specification": SPECIFICATION,
                    "url": base,
                    "changeset": CHANGESET,
                    "type": "production",
                    "formats": ["text/xml", "application/json"],
                }
            ],
        }
        return open311_response("discovery", document, fmt)

    @router.get("/services.{fmt}", summary="The complaint categories")
    async def services(fmt: str) -> Response:
        fmt = _format(fmt)
        listed = [
            {
                "service_code": category.value,
                "service_name": category.label,
                "description": f"Pengaduan: {category.label}",
                "metadata": True,
                "type": "realtime",
                "keywords": "pengaduan, " + category.value.replace("_", " "),
                "group": GROUP,
            }
            for category in ComplaintCategory
        ]
        return open311_response("services", listed, fmt)

    @router.get("/services/{code}.{fmt}", summary="The attributes of a complaint category")
    async def service_definition(code: str, fmt: str) -> Response:
        fmt = _format(fmt)
        if code not in {category.value for category in ComplaintCategory}:
            return open311_errors(
                [(404, f"service_code {code!r} is not a service; {_category_hint()}")], fmt
            )
        standards = await intake.service_standards()
        definition = {
            "service_code": code,
            "attributes": [
                _list_attribute(
                    "objek",
                    1,
                    required=True,
                    description="Objek pengaduan: whom the complaint is about",
                    values=[{"key": obj.value, "name": obj.label} for obj in ComplaintObject],
                ),
                _list_attribute(
                    "layanan",
                    2,
                    required=False,
                    description="The public service (standar pelayanan) the complaint is about",
                    values=[{"key": s.code, "name": s.name} for s in standards],
                ),
                {
                    "variable": True,
                    "code": "tanggal_kejadian",
                    "datatype": "datetime",
                    "required": False,
                    "datatype_description": "the day it happened, as YYYY-MM-DD",
                    "order": 3,
                    "description": "Tanggal kejadian: when it happened",
                },
                _list_attribute(
                    "anonim",
                    4,
                    required=False,
                    description="Anonim: hide the reporter's identity from the office",
                    values=_TRUE_FALSE,
                ),
                _list_attribute(
                    "rahasia",
                    5,
                    required=False,
                    description="Rahasia: keep the complaint's text out of public listings",
                    values=_TRUE_FALSE,
                ),
            ],
        }
        return open311_response("service_definition", definition, fmt)

    @router.post("/requests.{fmt}", summary="Submit a complaint (form-encoded, api_key)")
    async def create_request(fmt: str, request: Request) -> Response:
        fmt = _format(fmt)
        form = await read_form(request)
        _check_api_key(settings.api.open311_api_key, form.get("api_key") or None)
        try:
            view = await intake.receive(parse_draft(draft_data(form)))
        except FieldErrors as exc:
            return open311_errors(_form_errors(exc, form), fmt, 400)
        answer = [
            {
                "service_request_id": view.complaint.receipt_number,
                "service_notice": service_notice(view),
                "account_id": None,
            }
        ]
        return open311_response("service_requests", answer, fmt)

    @router.get("/requests.{fmt}", summary="Complaints, by the standard's filters")
    async def list_requests(
        fmt: str,
        service_request_id: str | None = None,
        service_code: str | None = None,
        start_date: str | None = None,
        end_date: str | None = None,
        status: str | None = None,
    ) -> Response:
        fmt = _format(fmt)
        receipts = _split(service_request_id)
        if receipts:
            numbers = []
            for text in receipts:
                try:
                    numbers.append(str(parse_receipt(text)))
                except InputError:
                    continue  # no complaint can have it, so it matches none
            views = await intake.list(receipt_numbers=numbers, limit=MAX_PAGE)
        else:
            start, end = _window(start_date, end_date, now=intake.now())
            try:
                views = await intake.list(
                    categories=_split(service_code) or None,
                    statuses=_split(status) or None,
                    received_from=start,
                    received_to=end,
                    limit=MAX_PAGE,
                )
            except FieldErrors as exc:
                renamed = {"category": "service_code"}
                raise FieldErrors(
                    str(exc),
                    errors={renamed.get(key, key): texts for key, texts in exc.errors.items()},
                ) from None
        return open311_response("service_requests", [_request(view) for view in views], fmt)

    @router.get("/requests/{request_id}.{fmt}", summary="One complaint, as a list of one")
    async def get_request(request_id: str, fmt: str) -> Response:
        fmt = _format(fmt)
        try:
            view = await intake.get_by_receipt(request_id)
        except NotFound:
            return open311_errors(
                [(404, f"no service request has the id {request_id!r}; check the receipt number")],
                fmt,
            )
        return open311_response("service_requests", [_request(view)], fmt)

    def _request(view: ComplaintView) -> dict[str, Any]:
        complaint = view.complaint
        resolution = next((d for d in view.deadlines if d.name == "resolution"), None)
        notes = f"Stage {complaint.stage.value}: {complaint.stage.label}"
        if view.external_status:
            notes += f"; SP4N-LAPOR! status: {view.external_status}"
        shown: dict[str, Any] = {
            "service_request_id": complaint.receipt_number,
            "status": intake.open311_status(view),
            "status_notes": notes,
            "service_name": complaint.category.label,
            "service_code": complaint.category.value,
            "description": complaint.description,
            "agency_responsible": agency,
            "service_notice": service_notice(view),
            "requested_datetime": w3c(complaint.received_at),
            "updated_datetime": w3c(complaint.updated_at),
            "expected_datetime": w3c(resolution.due_at) if resolution else None,
            "address": None,
        }
        if complaint.secret:
            del shown["description"]
        return shown

    return router


def draft_data(form: Mapping[str, str]) -> dict[str, Any]:
    """The fields of a complaint draft from an Open311 form; absent and blank fields are left
    out, so that validation names them as missing."""

    def given(name: str) -> str | None:
        value = form.get(name, "").strip()
        return value or None

    data: dict[str, Any] = {}
    for field, name in FORM_FIELDS.items():
        if "." in field:
            continue
        value = given(name)
        if value is not None:
            data[field] = value
    if field_value := data.get("occurred_on"):
        # A datetime attribute may carry a time; the complaint keeps the day it names.
        data["occurred_on"] = field_value[:10] if field_value[10:11] in ("T", " ") else field_value
    name = " ".join(part for part in (given("first_name"), given("last_name")) if part)
    reporter = {
        key: value
        for key, value in (("name", name), ("email", given("email")), ("phone", given("phone")))
        if value
    }
    if reporter:
        data["reporter"] = reporter
    return data


def service_notice(view: ComplaintView) -> str:
    """What the reporter can expect: the receipt number and the first response's due day."""
    text = f"Received with receipt number {view.complaint.receipt_number}"
    first = next((d for d in view.deadlines if d.name == "first_response"), None)
    if first is not None and first.met_at is None:
        text += f"; the office answers by {first.due_at.astimezone(WIB):%Y-%m-%d}"
    return text


def w3c(instant: datetime) -> str:
    """``instant`` in Western Indonesia Time as the standard writes it: 2026-11-29T14:05:00+07:00."""
    return instant.astimezone(WIB).replace(microsecond=0).isoformat()


def _format(fmt: str) -> Format:
    if fmt == "json":
        return "json"
    if fmt == "xml":
        return "xml"
    raise HTTPException(404, f"format {fmt!r} is not served; end the path with .json or .xml")


def _category_hint() -> str:
    return "use one of: " + ", ".join(category.value for category in ComplaintCategory)


def _list_attribute(
    code: str, order: int, *, required: bool, description: str, values: list[dict[str, str]]
) -> dict[str, Any]:
    return {
        "variable": True,
        "code": code,
        "datatype": "singlevaluelist",
        "required": required,
        "datatype_description": None,
        "order": order,
        "description": description,
        "values": values,
    }


def _check_api_key(expected: SecretStr | None, given: str | None) -> None:
    key = expected.get_secret_value() if expected is not None else ""
    if not key:
        raise HTTPException(
            403,
            "this office does not accept Open311 requests yet: its operator must set "
            "api.open311_api_key (or OSS_BRIDGE_API__OPEN311_API_KEY) and give the key to the "
            "portal",
        )
    if given is None:
        raise HTTPException(403, "api_key is missing; send the key the office gave you")
    if not hmac.compare_digest(given.encode("utf-8"), key.encode("utf-8")):
        raise HTTPException(403, "api_key is not valid; check the key the office gave you")


def _form_errors(exc: FieldErrors, form: Mapping[str, str]) -> list[tuple[int, str]]:
    """The draft's field errors under the form's names; an unknown service_code is the
    standard's 404, every other problem a 400."""
    listed = []
    for field, texts in exc.errors.items():
        name = FORM_FIELDS.get(field, field)
        unknown_service = field == "category" and bool(form.get("service_code", "").strip())
        for text in texts:
            listed.append((404 if unknown_service else 400, f"{name}: {text}"))
    return listed


def _split(value: str | None) -> list[str]:
    return [part.strip() for part in (value or "").split(",") if part.strip()]


def _window(
    start_date: str | None, end_date: str | None, *, now: datetime
) -> tuple[datetime, datetime]:
    """The requested span of ``requested_datetime``: at most 90 days, the last 90 by default."""
    errors: dict[str, list[str]] = {}
    start = _instant(start_date, "start_date", errors)
    end = _instant(end_date, "end_date", errors)
    if start is None and end is None:
        end = now
    if start is None and end is not None:
        start = end - MAX_SPAN
    elif end is None and start is not None:
        end = start + MAX_SPAN
    if not errors and start is not None and end is not None:
        if end < start:
            errors["end_date"] = ["is before start_date; swap them"]
        elif end - start > MAX_SPAN:
            errors["end_date"] = ["the span from start_date may not exceed 90 days; ask for less"]
    if errors or start is None or end is None:
        raise FieldErrors("the dates of the request cannot be used", errors=errors)
    return start, end


def _instant(value: str | None, name: str, errors: dict[str, list[str]]) -> datetime | None:
    if value is None or not value.strip():
        return None
    text = value.strip()
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        errors[name] = [f"{text!r} is not a w3 date-time; write it like 2026-11-01T00:00:00+07:00"]
        return None
    if len(text) == 10:
        # A bare day is taken as the whole day in the office's time zone.
        parsed = datetime.combine(parsed.date(), time.max if name == "end_date" else time.min, WIB)
    elif parsed.tzinfo is None:
        errors[name] = [f"{text!r} has no time zone; add Z or an offset like +07:00"]
        return None
    return parsed
