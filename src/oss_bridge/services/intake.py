"""Complaint intake: a receipt at once, stages b and c on the spot, and views of complaints.

``ComplaintIntake.submit`` is the first step of every complaint, whichever surface it came in by
(intake JSON API, Open311, CLI). It checks what only the store can tell (the named service
exists), runs stages b and c (``complaints.triage``), writes the complaint, its outbox row and
its first history events in one transaction (``Store.insert_complaint``), and only then wakes
the forwarder; the receipt goes back to the caller. Nothing else happens in the request.

Reading a complaint gives a ``ComplaintView``: the complaint, its delivery to the national
channel, its history and its statutory deadlines, judged at the service's clock. Those are
built by the pure functions of this module (``history``, ``milestones``, ``build_view``), so
the same rules serve the API, Open311 and the CLI.

Input from outside arrives as plain data; ``parse_draft`` turns it into a ``ComplaintDraft``
or raises ``FieldErrors`` naming each bad field and what to write instead.
"""

from __future__ import annotations

import builtins
from collections.abc import Callable, Collection, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, cast, get_args

from pydantic import ValidationError, field_validator
from pydantic_core import ErrorDetails

from oss_bridge.config import Settings
from oss_bridge.domain.complaint import (
    ComplaintDraft,
    ComplaintView,
    DeadlineView,
    ForwardState,
    HistoryEntry,
    Receipt,
)
from oss_bridge.domain.service_standard import ServiceStandard
from oss_bridge.domain.vocabulary import ComplaintCategory, ComplaintObject, Stage
from oss_bridge.errors import FieldErrors, InputError, NotFound
from oss_bridge.log import get_logger
from oss_bridge.services.complaints._time import office_date
from oss_bridge.services.complaints.deadlines import WorkingCalendar, deadlines_for
from oss_bridge.services.complaints.receipts import format_receipt, parse_receipt
from oss_bridge.services.complaints.status_mapping import (
    Open311Status,
    StatusMapping,
    load_status_mapping,
)
from oss_bridge.services.complaints.triage import TriageResult, triage
from oss_bridge.store import ComplaintFilter, ComplaintRecord, NewEvent, Store

Clock = Callable[[], datetime]

DESTINATION = "lapor"
MAX_PAGE = 1000
FORWARD_STATES: tuple[str, ...] = get_args(ForwardState)
OPEN311_STATUSES: tuple[Open311Status, ...] = ("open", "closed")
_SCAN_CHUNK = 500
_SHOWN_CODES = 10

_log = get_logger(__name__)


def _utc_now() -> datetime:
    return datetime.now(UTC)


# --- input ---------------------------------------------------------------------------------------


class ComplaintInput(ComplaintDraft):
    """A ``ComplaintDraft`` as callers send it: a blank ``service_code`` means none, and a
    blank description is reported on the ``description`` field."""

    @field_validator("service_code", mode="before")
    @classmethod
    def _blank_code_is_none(cls, value: Any) -> Any:
        if isinstance(value, str):
            return value.strip() or None
        return value

    @field_validator("description")
    @classmethod
    def _description_has_words(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("must not be blank; describe what happened")
        return value


_FIELDS = tuple(ComplaintDraft.model_fields)
_REPORTER_FIELDS = ("name", "email", "phone")


def parse_draft(data: Any) -> ComplaintDraft:
    """``data`` (decoded JSON or its equivalent) as a draft; raises ``FieldErrors`` if invalid."""
    if not isinstance(data, Mapping):
        raise FieldErrors(
            _summary(["(body)"]),
            errors={
                "(body)": [
                    f"must be an object with the fields {', '.join(_FIELDS)}; got "
                    f"{type(data).__name__}"
                ]
            },
        )
    try:
        return ComplaintInput.model_validate(dict(data))
    except ValidationError as exc:
        errors = describe_errors(exc)
        raise FieldErrors(_summary(list(errors)), errors=errors) from None


def _summary(fields: Iterable[str]) -> str:
    return (
        f"the complaint was not accepted; correct {', '.join(fields)} as the errors say and "
        "send it again"
    )


def describe_errors(exc: ValidationError) -> dict[str, list[str]]:
    """The errors of a draft's validation as ``{"reporter.email": [message]}``, in words that
    say what to write instead."""
    described: dict[str, list[str]] = {}
    for error in exc.errors(include_url=False):
        path = ".".join(str(part) for part in error["loc"]) or "(body)"
        described.setdefault(path, []).append(_message(path, error))
    return described


def _codes(members: Iterable[Any]) -> str:
    return ", ".join(member.value for member in members)


def _message(path: str, error: ErrorDetails) -> str:
    kind = error["type"]
    value = error.get("input")
    ctx = error.get("ctx") or {}
    if path == "category" and kind in ("enum", "missing"):
        head = "is required" if kind == "missing" else f"{value!r} is not a complaint category"
        return f"{head}; use one of: {_codes(ComplaintCategory)}"
    if path == "object" and kind in ("enum", "missing"):
        head = "is required" if kind == "missing" else f"{value!r} is not a complaint object"
        return f"{head}; use one of: {_codes(ComplaintObject)}"
    if kind == "missing":
        return "is required"
    if kind == "extra_forbidden":
        fields = _REPORTER_FIELDS if path.startswith("reporter.") else _FIELDS
        return f"is not a field of a complaint; the fields are: {', '.join(fields)}"
    if kind == "string_too_long":
        length = len(value) if isinstance(value, str) else "more"
        return f"has {length} characters; at most {ctx.get('max_length')} are allowed"
    if kind == "string_too_short" and path == "description":
        return "must not be empty; describe what happened"
    if kind == "string_type":
        return f"must be text; got {value!r}"
    if kind in ("bool_type", "bool_parsing"):
        return f"must be true or false; got {value!r}"
    if kind.startswith("date"):
        return f"{value!r} is not a date; write it as YYYY-MM-DD, like 2026-11-29"
    if kind in ("model_type", "model_attributes_type", "dict_type"):
        return f"must be an object with {', '.join(_REPORTER_FIELDS)}; got {value!r}"
    if kind == "value_error":
        return str(ctx.get("error", error["msg"]))
    return error["msg"]


# --- building views (pure) -------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Milestones:
    """When a complaint passed the steps its deadlines watch; ``None`` while it has not."""

    verified_at: datetime | None = None
    first_response_at: datetime | None = None
    closed_at: datetime | None = None


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) and value.strip() else None


def _stage(value: Any) -> Stage | None:
    return next((stage for stage in Stage if stage.value == value), None)


def _status_of(payload: Mapping[str, Any]) -> str | None:
    return _text(payload.get("external_status")) or _text(payload.get("status"))


def history(record: ComplaintRecord) -> tuple[HistoryEntry, ...]:
    """The events of a complaint as its history, oldest first.

    Payload keys read: ``stage`` (or ``to`` for a stage move), ``external_status`` (or
    ``status``), ``text`` (or ``content`` for a follow-up), and ``type`` of a note, where
    ``"forwarded"`` marks the delivery to the channel.
    """
    entries: list[HistoryEntry] = []
    for event in record.events:
        payload = event.payload
        text = _text(payload.get("text"))
        if event.kind == "stage":
            stage = _stage(payload.get("stage")) or _stage(payload.get("to"))
            entries.append(
                HistoryEntry(
                    at=event.at,
                    kind="stage",
                    stage=stage,
                    external_status=_status_of(payload),
                    text=text or (f"{stage.value}. {stage.label}" if stage else None),
                )
            )
        elif event.kind == "status":
            entries.append(
                HistoryEntry(
                    at=event.at,
                    kind="status",
                    stage=_stage(payload.get("stage")),
                    external_status=_status_of(payload),
                    text=text,
                )
            )
        elif event.kind == "followup":
            entries.append(
                HistoryEntry(
                    at=event.at, kind="followup", text=text or _text(payload.get("content"))
                )
            )
        elif payload.get("type") == "forwarded":
            where = payload.get("destination") or DESTINATION
            entries.append(
                HistoryEntry(
                    at=event.at,
                    kind="forward",
                    text=text or f"forwarded to {where} as {payload.get('external_id')}",
                )
            )
        else:
            entries.append(HistoryEntry(at=event.at, kind="note", text=text))
    return tuple(entries)


def milestones(record: ComplaintRecord, mapping: StatusMapping) -> Milestones:
    """When the channel verified, first answered and closed the complaint, from its history.

    Verified: the first national status that maps to stage c or later. First response: the
    first follow-up, or the first status mapping to stage d or later. Closed: the first final
    status. The current national status counts at ``external_status_at`` even if its event
    is missing, and a complaint marked final without a dated final status closed when it was
    last updated.
    """
    statuses: list[tuple[datetime, str]] = []
    followups: list[datetime] = []
    for event in record.events:
        status = _status_of(event.payload) if event.kind in ("status", "stage") else None
        if status is not None:
            statuses.append((event.at, status))
        if event.kind == "followup":
            followups.append(event.at)
    if record.external_status is not None and record.external_status_at is not None:
        statuses.append((record.external_status_at, record.external_status))
    statuses.sort(key=lambda item: item[0])

    verified = responded = closed = None
    for at, status in statuses:
        rule = mapping.rule_for(status)
        if rule is None:
            continue
        if verified is None and rule.stage.rank >= Stage.C.rank:
            verified = at
        if responded is None and rule.stage.rank >= Stage.D.rank:
            responded = at
        if closed is None and rule.final:
            closed = at
    if followups and (responded is None or min(followups) < responded):
        responded = min(followups)
    if closed is None and record.final:
        closed = record.external_status_at or record.complaint.updated_at
    return Milestones(verified_at=verified, first_response_at=responded, closed_at=closed)


def forward_state(record: ComplaintRecord, *, suspended_by_config: bool = False) -> ForwardState:
    """The delivery state shown to people: ``suspended`` while a waiting row cannot be sent."""
    delivery = record.delivery
    if delivery is None:
        return "pending"
    state = delivery.state
    if state in ("pending", "in_flight") and (delivery.suspended or suspended_by_config):
        return "suspended"
    if state not in FORWARD_STATES:
        raise ValueError(f"outbox state {state!r} is not a forward state; the database is off")
    return cast(ForwardState, state)


def build_view(
    record: ComplaintRecord,
    *,
    now: datetime,
    settings: Settings,
    mapping: StatusMapping,
    calendar: WorkingCalendar | None = None,
) -> ComplaintView:
    """The complaint as people see it at ``now``: delivery, history and deadlines."""
    steps = milestones(record, mapping)
    deadlines = deadlines_for(
        record.complaint.received_at,
        settings=settings.deadlines,
        now=now,
        verified_at=steps.verified_at,
        first_response_at=steps.first_response_at,
        closed_at=steps.closed_at,
        calendar=calendar,
    )
    delivery = record.delivery
    return ComplaintView(
        complaint=record.complaint,
        forward_state=forward_state(record, suspended_by_config=settings.forwarder.suspended),
        forward_attempts=delivery.attempts if delivery else 0,
        forward_last_error=delivery.last_error if delivery else None,
        external_id=record.external_id,
        tracking_id=record.tracking_id,
        external_status=record.external_status,
        final=record.final,
        history=history(record),
        deadlines=tuple(
            DeadlineView(
                name=deadline.name,
                due_at=deadline.due_at,
                met_at=deadline.met_at,
                overdue=deadline.overdue,
            )
            for deadline in deadlines
        ),
    )


def open311_status(external_status: str | None, mapping: StatusMapping) -> Open311Status:
    """``closed`` when the channel's status maps to closed; ``open`` before any status and for
    a status the map does not know."""
    if external_status is None:
        return "open"
    rule = mapping.rule_for(external_status)
    return "open" if rule is None else rule.open311


def intake_events(result: TriageResult) -> list[NewEvent]:
    """The first history of a complaint: received (a), and checked (b) and classified (c) if it
    was complete, else a note of what is missing."""
    priority = result.classification.priority
    reasons = result.classification.reasons
    events = [
        NewEvent(
            kind="stage",
            dedupe_key="stage:a",
            payload={"stage": "a", "text": "Received and given a receipt number"},
        )
    ]
    if result.completeness.complete:
        events.append(
            NewEvent(
                kind="stage",
                dedupe_key="stage:b",
                payload={"stage": "b", "text": "Complete: it holds what its category needs"},
            )
        )
        events.append(
            NewEvent(
                kind="stage",
                dedupe_key="stage:c",
                payload={
                    "stage": "c",
                    "priority": priority,
                    "reasons": reasons,
                    "text": f"Classified with priority {priority} ({reasons[0]})",
                },
            )
        )
    else:
        hints = result.completeness.hints
        events.append(
            NewEvent(
                kind="note",
                dedupe_key="intake:incomplete",
                payload={
                    "type": "incomplete",
                    "missing": result.completeness.missing,
                    "hints": hints,
                    "priority": priority,
                    "reasons": reasons,
                    "text": "Incomplete, stays at stage a until completed: " + "; ".join(hints),
                },
            )
        )
    return events


# --- the service ---------------------------------------------------------------------------------


class ComplaintIntake:
    """Receives complaints and shows them; see the module docstring.

    ``notify`` is called after each complaint is committed (e.g. the forwarder's wake-up), so
    the complaint is forwarded at once instead of at the next interval. An exception from it
    is logged and does not fail the intake: the complaint is stored and will be forwarded on
    the next run anyway.
    """

    def __init__(
        self,
        store: Store,
        settings: Settings,
        *,
        clock: Clock = _utc_now,
        notify: Callable[[], None] | None = None,
        status_mapping: StatusMapping | None = None,
        calendar: WorkingCalendar | None = None,
    ) -> None:
        self._store = store
        self._settings = settings
        self._clock = clock
        self._notify = notify
        self._mapping = status_mapping or load_status_mapping(settings.status_pull.mapping_file)
        self._calendar = calendar or WorkingCalendar.from_settings(settings.deadlines)

    @property
    def status_mapping(self) -> StatusMapping:
        return self._mapping

    def now(self) -> datetime:
        """The service's clock: the instant views and deadlines are judged at."""
        return self._clock()

    # --- intake --------------------------------------------------------------------------------

    async def submit(self, draft: ComplaintDraft) -> Receipt:
        """Store ``draft`` and return its receipt; the forwarder is woken after the commit.

        Raises ``FieldErrors`` (nothing stored) when ``service_code`` names no live entry of
        the catalogue.
        """
        complaint = (await self.receive(draft)).complaint
        return Receipt(
            id=complaint.id, receipt_number=complaint.receipt_number, stage=complaint.stage
        )

    async def receive(self, draft: ComplaintDraft) -> ComplaintView:
        """``submit``, answering with the whole view of the stored complaint (its deadlines
        included) as the intake transaction wrote it, without reading it again."""
        code = draft.service_code.strip() if draft.service_code else None
        if code != draft.service_code:
            draft = draft.model_copy(update={"service_code": code})
        if code is not None:
            await self._check_service_code(code)
        result = triage(draft, self._settings.triage)
        kd_daerah = self._settings.region.kd_daerah
        day = office_date(self._clock(), "now")
        record = await self._store.insert_complaint(
            draft,
            kd_daerah=kd_daerah,
            day=day,
            receipt_number=lambda sequence: format_receipt(kd_daerah, day, sequence),
            stage=result.stage,
            priority=result.classification.priority,
            completeness={
                "complete": result.completeness.complete,
                "missing": result.completeness.missing,
                "hints": result.completeness.hints,
                "priority_reasons": result.classification.reasons,
            },
            events=intake_events(result),
            destination=DESTINATION,
        )
        _log.info(
            "complaint_received",
            complaint_id=record.id,
            receipt_number=record.receipt_number,
            category=draft.category.value,
            stage=result.stage.value,
            priority=result.classification.priority,
            complete=result.completeness.complete,
        )
        self._wake()
        return self.view(record)

    def _wake(self) -> None:
        if self._notify is None:
            return
        try:
            self._notify()
        # A failed wake-up must not turn a stored complaint into an error for its sender.
        except Exception:  # noqa: BLE001 - logged; the forwarder's next run sends the complaint
            _log.exception("forwarder_wake_failed")

    async def _check_service_code(self, code: str) -> None:
        found = await self._store.get_standard(code)
        if found is not None and not found.deleted:
            return
        live = [standard.code for standard in await self._store.list_standards()]
        if found is not None:
            problem = f"the service {code!r} was withdrawn from the catalogue"
        else:
            problem = f"no service in the catalogue has the code {code!r}"
        if live:
            shown = ", ".join(live[:_SHOWN_CODES])
            more = f" and {len(live) - _SHOWN_CODES} more" if len(live) > _SHOWN_CODES else ""
            hint = f"use one of: {shown}{more}, or leave service_code out"
        else:
            hint = "the catalogue is empty, so leave service_code out"
        raise FieldErrors(
            _summary(["service_code"]), errors={"service_code": [f"{problem}; {hint}"]}
        )

    # --- reading -------------------------------------------------------------------------------

    async def get(self, complaint_id: int) -> ComplaintView:
        """The complaint with ``complaint_id``; raises ``NotFound``."""
        record = await self._store.get_complaint(complaint_id, destination=DESTINATION)
        if record is None:
            raise NotFound(
                f"no complaint has the id {complaint_id!r}; check the id or look the complaint "
                "up by its receipt number"
            )
        return self.view(record)

    async def get_by_receipt(self, receipt_number: str) -> ComplaintView:
        """The complaint with this receipt number, however the person typed it; ``NotFound``."""
        try:
            canonical = str(parse_receipt(receipt_number))
        except InputError as exc:
            raise NotFound(f"no complaint can have that number: {exc}") from None
        record = await self._store.get_complaint_by_receipt(canonical, destination=DESTINATION)
        if record is None:
            raise NotFound(
                f"no complaint has the receipt number {canonical!r}; check it against the receipt"
            )
        return self.view(record)

    async def find(self, reference: str) -> ComplaintView:
        """The complaint named by its id (digits) or its receipt number; raises ``NotFound``."""
        text = reference.strip()
        # isdigit() also admits '²', which int() refuses; an id is a 64-bit integer, so longer
        # digit strings name no complaint (and would overflow the database's integer).
        if text.isdecimal() and len(text) < 19:
            return await self.get(int(text))
        return await self.get_by_receipt(text)

    async def list(
        self,
        *,
        stages: Collection[str] | None = None,
        forward_state: str | None = None,
        categories: Collection[str] | None = None,
        service_code: str | None = None,
        statuses: Collection[str] | None = None,
        received_from: datetime | None = None,
        received_to: datetime | None = None,
        receipt_numbers: Collection[str] | None = None,
        overdue: bool = False,
        limit: int = 100,
        offset: int = 0,
        newest_first: bool = True,
    ) -> builtins.list[ComplaintView]:
        """Complaints by time of receipt, newest first unless ``newest_first`` is false.

        ``statuses`` are Open311 statuses (``open``, ``closed``); ``forward_state`` one of the
        ``ForwardState`` values; ``overdue`` keeps only complaints with a deadline passed and
        its step not taken. Raises ``FieldErrors`` naming each bad argument.
        """
        errors: dict[str, list[str]] = {}
        where = await self._filter(
            errors,
            stages=stages,
            forward_state=forward_state,
            categories=categories,
            service_code=service_code,
            statuses=statuses,
            received_from=received_from,
            received_to=received_to,
            receipt_numbers=receipt_numbers,
        )
        if not 1 <= limit <= MAX_PAGE:
            errors["limit"] = [f"{limit!r} is out of range; ask for 1 to {MAX_PAGE} complaints"]
        if offset < 0:
            errors["offset"] = [f"{offset!r} must not be negative"]
        if errors:
            raise FieldErrors(
                f"cannot list complaints; correct {', '.join(errors)} as the errors say",
                errors=errors,
            )
        if where is None:
            return []
        if not overdue:
            records = await self._store.list_complaints(
                where,
                limit=limit,
                offset=offset,
                newest_first=newest_first,
                destination=DESTINATION,
            )
            now = self._clock()
            return [self.view(record, now=now) for record in records]
        return await self._overdue(where, limit=limit, offset=offset, newest_first=newest_first)

    async def _overdue(
        self, where: ComplaintFilter, *, limit: int, offset: int, newest_first: bool
    ) -> builtins.list[ComplaintView]:
        now = self._clock()
        rules = self._settings.deadlines
        # A deadline lies at least this many days after receipt, so younger complaints cannot be
        # overdue; what remains is judged one by one, since working days do not fit in SQL.
        soonest = min(
            rules.verification_working_days,
            rules.first_response_working_days,
            rules.resolution_days,
        )
        latest = now - timedelta(days=soonest)
        if where.received_to is not None:
            latest = min(latest, where.received_to)
        narrowed = ComplaintFilter(
            **{**_filter_fields(where), "final": False, "received_to": latest},
        )
        found: builtins.list[ComplaintView] = []
        scanned = 0
        while len(found) < offset + limit:
            records = await self._store.list_complaints(
                narrowed,
                limit=_SCAN_CHUNK,
                offset=scanned,
                newest_first=newest_first,
                destination=DESTINATION,
            )
            scanned += len(records)
            found.extend(view for record in records if (view := self.view(record, now=now)).overdue)
            if len(records) < _SCAN_CHUNK:
                break
        return found[offset : offset + limit]

    async def _filter(
        self,
        errors: dict[str, builtins.list[str]],
        *,
        stages: Collection[str] | None,
        forward_state: str | None,
        categories: Collection[str] | None,
        service_code: str | None,
        statuses: Collection[str] | None,
        received_from: datetime | None,
        received_to: datetime | None,
        receipt_numbers: Collection[str] | None,
    ) -> ComplaintFilter | None:
        """The store filter for these arguments, ``None`` if they can match nothing; bad
        arguments are added to ``errors``."""
        fields: dict[str, Any] = {"service_code": service_code}
        matches_nothing = False
        if stages is not None:
            bad = [stage for stage in stages if _stage(stage) is None]
            if bad:
                errors["stage"] = [f"{bad[0]!r} is not a stage; use one of: {_codes(Stage)}"]
            fields["stages"] = [stage for stage in stages if _stage(stage) is not None]
        if categories is not None:
            known = {category.value for category in ComplaintCategory}
            bad = [category for category in categories if category not in known]
            if bad:
                errors["category"] = [
                    f"{bad[0]!r} is not a complaint category; use one of: "
                    f"{_codes(ComplaintCategory)}"
                ]
            fields["categories"] = list(categories)
        if forward_state is not None:
            if forward_state not in FORWARD_STATES:
                errors["forward_state"] = [
                    f"{forward_state!r} is not a forward state; use one of: "
                    f"{', '.join(FORWARD_STATES)}"
                ]
            else:
                suspended = self._settings.forwarder.suspended
                if forward_state == "suspended":
                    fields["forward_states"] = ["pending", "in_flight"]
                    fields["destination_suspended"] = None if suspended else True
                elif forward_state in ("pending", "in_flight"):
                    matches_nothing = suspended
                    fields["forward_states"] = [forward_state]
                    fields["destination_suspended"] = False
                else:
                    fields["forward_states"] = [forward_state]
        for name, value in (("received_from", received_from), ("received_to", received_to)):
            if value is not None and (value.tzinfo is None or value.utcoffset() is None):
                errors[name] = [f"{value.isoformat()!r} has no time zone; add one, like +07:00"]
            fields[name] = value
        if receipt_numbers is not None:
            fields["receipt_numbers"] = list(receipt_numbers)
        if statuses is not None:
            bad = [status for status in statuses if status not in OPEN311_STATUSES]
            if bad:
                errors["status"] = [f"{bad[0]!r} is not a status; use open or closed"]
            wanted = set(statuses) & set(OPEN311_STATUSES)
            if wanted != set(OPEN311_STATUSES):
                closed = [
                    status
                    for status in await self._store.external_statuses()
                    if open311_status(status, self._mapping) == "closed"
                ]
                if not wanted:
                    matches_nothing = True
                elif "closed" in wanted:
                    fields["external_status_in"] = closed
                else:
                    fields["external_status_not_in"] = closed
        if errors or matches_nothing:
            return None
        return ComplaintFilter(**fields)

    async def service_standards(self) -> builtins.list[ServiceStandard]:
        """The live entries of the catalogue, by code: what a complaint may name as service."""
        return [stored.standard for stored in await self._store.list_standards()]

    # --- views ---------------------------------------------------------------------------------

    def view(self, record: ComplaintRecord, *, now: datetime | None = None) -> ComplaintView:
        """``record`` as people see it at ``now`` (default: the service's clock)."""
        return build_view(
            record,
            now=now or self._clock(),
            settings=self._settings,
            mapping=self._mapping,
            calendar=self._calendar,
        )

    def open311_status(self, view: ComplaintView) -> Open311Status:
        """``open`` or ``closed`` as Open311 portals see the complaint (see ``open311_status``)."""
        return open311_status(view.external_status, self._mapping)


def _filter_fields(where: ComplaintFilter) -> dict[str, Any]:
    return {name: getattr(where, name) for name in ComplaintFilter.__dataclass_fields__}
