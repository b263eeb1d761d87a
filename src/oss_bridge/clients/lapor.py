"""The complaint channel (SP4N-LAPOR!) client: create, look up, status, follow-ups, masters.

Every call carries ``Authorization: Bearer <lapor.auth_value>`` and ``token: <lapor.token>``
(DESIGN.md 3.2). A create also carries an ``Idempotency-Key``, the same on every attempt, and our
receipt number as ``external_reference``. The real channel may ignore the key, so a create whose
answer never came is not resent: it raises ``OutcomeUnknown``, and the caller asks
``find_by_external_reference`` whether the channel holds the complaint before sending again.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from random import random as _uniform
from typing import TypeVar
from urllib.parse import quote

import httpx
import structlog
from pydantic import BaseModel, ValidationError

from oss_bridge.clients import lapor_wire as wire
from oss_bridge.clients._http import Answer, Call, Seam, summarise
from oss_bridge.clients.retry import RetryPolicy, RetryRuntime, utc_now
from oss_bridge.config import LaporSettings
from oss_bridge.domain.complaint import Complaint
from oss_bridge.errors import RequestRejected, ValidationRejected

M = TypeVar("M", bound=BaseModel)

CONFIG_KEY = "lapor.auth_value and lapor.token"
IDEMPOTENCY_HEADER = "Idempotency-Key"
MASTER_PAGE_SIZE = "1000"

log = structlog.get_logger("oss_bridge.clients")


@dataclass(frozen=True)
class CreatedComplaint:
    """The channel's ids for a complaint it accepted."""

    complaint_id: str
    tracking_id: str | None


@dataclass(frozen=True)
class FoundComplaint:
    """A complaint the channel holds under one of our receipt numbers."""

    complaint_id: str
    tracking_id: str | None
    external_reference: str
    status_name: str | None


@dataclass(frozen=True)
class StatusChange:
    """One past transition of a complaint on the channel."""

    status_code: str | None
    status_name: str
    at: datetime
    note: str | None


@dataclass(frozen=True)
class ChannelComplaint:
    """A complaint's state on the channel, with its past transitions oldest first."""

    complaint_id: str
    tracking_id: str | None
    status_code: str | None
    status_name: str
    disposition_name: str | None
    updated_at: datetime
    logs: tuple[StatusChange, ...]


@dataclass(frozen=True)
class FollowUp:
    """A reply (tindak lanjut) on a complaint."""

    id: str
    content: str
    created_at: datetime


@dataclass(frozen=True)
class MasterItem:
    """A row of a master table: a category or an institution."""

    id: str
    name: str


class LaporClient:
    """Typed async access to the complaint channel.

    ``http`` is the process's pooled client for the channel (``build_http_client(settings)``);
    the caller owns and closes it. ``sleep``, ``clock``, ``random`` and ``now`` drive the retry
    waits; tests replace them so nothing sleeps.
    """

    def __init__(
        self,
        http: httpx.AsyncClient,
        settings: LaporSettings,
        *,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        clock: Callable[[], float] = time.monotonic,
        random: Callable[[], float] = _uniform,
        now: Callable[[], datetime] = utc_now,
    ) -> None:
        self.disposition_id = settings.disposition_id
        self.policy = RetryPolicy.from_settings(settings)
        self._seam = Seam(
            http,
            system="lapor",
            policy=self.policy,
            runtime=RetryRuntime(sleep=sleep, clock=clock, random=random, now=now),
            headers={
                "Authorization": f"Bearer {settings.auth_value.get_secret_value()}",
                "token": settings.token.get_secret_value(),
            },
        )

    async def create_complaint(
        self,
        complaint: Complaint,
        *,
        category_id: str,
        idempotency_key: str | None = None,
        disposition_id: str | None = None,
    ) -> CreatedComplaint:
        """Send ``complaint`` to the channel once; return the channel's ids.

        ``category_id`` is the channel's category for it (the caller maps our categories).
        ``idempotency_key`` defaults to one derived from the receipt number, so every attempt
        and every later call for the same complaint carries the same key. ``disposition_id``
        defaults to ``lapor.disposition_id``.

        Raises ``OutcomeUnknown`` when the request left and no readable answer came: call
        ``find_by_external_reference(complaint.receipt_number)`` before sending again. A
        ``ValidationRejected`` naming ``Idempotency-Key`` means the key was used before with
        other content: the channel already holds this complaint, so look it up too.
        """
        if not category_id.strip():
            raise ValueError(f"category_id must name a channel category, not {category_id!r}")
        key = idempotency_key or f"oss-bridge-{complaint.receipt_number}"
        body = wire.complaint_to_wire(
            complaint,
            category_id=category_id,
            disposition_id=disposition_id or self.disposition_id,
        )

        def parse(answer: Answer) -> CreatedComplaint:
            created = _read(answer, wire.CreatedAnswer).results
            return CreatedComplaint(
                complaint_id=created.complaint_id, tracking_id=created.tracking_id
            )

        return await self._seam.send(
            Call(
                endpoint="POST /complaints/complaint",
                method="POST",
                path="/complaints/complaint",
                idempotent=False,
                json=body.model_dump(mode="json"),
                headers={IDEMPOTENCY_HEADER: key},
                parse=parse,
            )
        )

    async def find_by_external_reference(self, reference: str) -> FoundComplaint | None:
        """The complaint the channel holds under our receipt number ``reference``, or None.

        Should the channel hold several (a duplicate made outside this client), the first it
        lists is returned and the duplicates are logged.
        """
        if not reference.strip():
            raise ValueError(f"reference must be a receipt number, not {reference!r}")

        def parse(answer: Answer) -> FoundComplaint | None:
            rows = [
                row
                for row in _read(answer, wire.FoundAnswer).results.data
                if row.external_reference == reference
            ]
            if len(rows) > 1:
                log.warning(
                    "duplicate complaints on the channel",
                    system="lapor",
                    external_reference=reference,
                    complaint_ids=[row.complaint_id for row in rows],
                )
            if not rows:
                return None
            row = rows[0]
            return FoundComplaint(
                complaint_id=row.complaint_id,
                tracking_id=row.tracking_id,
                external_reference=row.external_reference,
                status_name=row.status_name,
            )

        return await self._seam.send(
            _get("GET /complaints", "/complaints", parse, params={"external_reference": reference})
        )

    async def complaint(self, complaint_id: str) -> ChannelComplaint:
        """The complaint's current status and its past transitions."""

        def parse(answer: Answer) -> ChannelComplaint:
            results = _read(answer, wire.DetailAnswer).results
            data = results.data
            logs = sorted(results.data_logs, key=lambda entry: entry.created_at)
            return ChannelComplaint(
                complaint_id=data.complaint_id,
                tracking_id=data.tracking_id,
                status_code=data.status_code,
                status_name=data.status_name,
                disposition_name=data.disposition_name,
                updated_at=data.updated_at,
                logs=tuple(
                    StatusChange(
                        status_code=entry.status_code,
                        status_name=entry.status_name,
                        at=entry.created_at,
                        note=entry.note,
                    )
                    for entry in logs
                ),
            )

        path = f"/complaints/{_segment(complaint_id)}/complaint"
        return await self._seam.send(_get("GET /complaints/{id}/complaint", path, parse))

    async def followups(self, complaint_id: str) -> tuple[FollowUp, ...]:
        """The replies on a complaint, oldest first."""

        def parse(answer: Answer) -> tuple[FollowUp, ...]:
            rows = sorted(
                _read(answer, wire.FollowUpAnswer).results.data, key=lambda row: row.created_at
            )
            return tuple(
                FollowUp(id=row.id, content=row.content, created_at=row.created_at) for row in rows
            )

        path = f"/complaints/{_segment(complaint_id)}/followups"
        return await self._seam.send(_get("GET /complaints/{id}/followups", path, parse))

    async def categories(self) -> tuple[MasterItem, ...]:
        """The channel's complaint categories."""
        return await self._master("GET /masters/categories", "/masters/categories")

    async def institutions(self) -> tuple[MasterItem, ...]:
        """The institutions a complaint can be disposed to (``disposition_id``)."""
        return await self._master(
            "GET /masters/institutions/external", "/masters/institutions/external"
        )

    async def _master(self, endpoint: str, path: str) -> tuple[MasterItem, ...]:
        def parse(answer: Answer) -> tuple[MasterItem, ...]:
            rows = _read(answer, wire.MasterAnswer).results.data
            return tuple(MasterItem(id=row.id, name=row.name) for row in rows)

        return await self._seam.send(
            _get(endpoint, path, parse, params={"page_size": MASTER_PAGE_SIZE})
        )


T = TypeVar("T")


def _get(
    endpoint: str,
    path: str,
    parse: Callable[[Answer], T],
    *,
    params: dict[str, str] | None = None,
) -> Call[T]:
    return Call(
        endpoint=endpoint, method="GET", path=path, idempotent=True, params=params, parse=parse
    )


def _segment(complaint_id: str) -> str:
    if not complaint_id.strip():
        raise ValueError(f"complaint_id must be the channel's id, not {complaint_id!r}")
    return quote(complaint_id, safe="")


def _read(answer: Answer, model: type[M]) -> M:
    """The answer as ``model``, or the typed error its status calls for."""
    answer.raise_for_transport_status(config_key=CONFIG_KEY)
    status = answer.status
    if 200 <= status <= 299:
        try:
            return model.model_validate(answer.json())
        except ValidationError as exc:
            raise answer.malformed(summarise(exc)) from exc
    if 400 <= status <= 499:
        details = _error_details(answer)
        if status == 422:
            raise answer.error(
                ValidationRejected,
                f"the channel refused fields of the request: {details.message or 'no message'}"
                f" {details.errors!r}; fix them and send again",
                errors=details.errors,
            )
        raise answer.error(
            RequestRejected,
            f"the channel refused the request: {details.message or answer.excerpt!r}; "
            "retrying cannot help",
        )
    raise answer.malformed(f"unexpected HTTP status {status}")


def _error_details(answer: Answer) -> wire.ErrorAnswer:
    try:
        return wire.ErrorAnswer.model_validate_json(answer.response.content)
    except ValidationError:
        return wire.ErrorAnswer()
