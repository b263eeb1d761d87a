"""The complaints the national channel holds: validation, idempotency, status lifecycle.

Lifecycle: ``Belum Terverifikasi`` -> ``Terverifikasi`` -> ``Dalam Proses`` -> ``Selesai``;
from any status that is not final a complaint may also go to ``Ditolak`` or ``Diarsipkan``.
``Selesai``, ``Ditolak`` and ``Diarsipkan`` are final. A complaint only moves forward.
It moves when the control API says so, or, with ``auto_advance_seconds``, one step along the
main path each time that many seconds of mock time pass (applied lazily whenever it is read,
with each transition stamped at the moment it was due).
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from oss_bridge_mock._time import WIB, dmy_wib, laravel_wib

BELUM_TERVERIFIKASI = "Belum Terverifikasi"
TERVERIFIKASI = "Terverifikasi"
DALAM_PROSES = "Dalam Proses"
SELESAI = "Selesai"
DITOLAK = "Ditolak"
DIARSIPKAN = "Diarsipkan"

MAIN_PATH = (BELUM_TERVERIFIKASI, TERVERIFIKASI, DALAM_PROSES, SELESAI)
SIDE_EXITS = (DITOLAK, DIARSIPKAN)
STATUS_CODES = {name: code for code, name in enumerate((*MAIN_PATH, *SIDE_EXITS), start=1)}
FINAL = frozenset({SELESAI, DITOLAK, DIARSIPKAN})

MAX_TITLE = 150
MAX_CONTENT = 10_000
MAX_REFERENCE = 100
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


class TransitionError(ValueError):
    """A complaint cannot move to the status asked for."""


@dataclass
class StatusLog:
    status_name: str
    at: datetime
    note: str | None = None


@dataclass
class Followup:
    id: int
    content: str
    at: datetime


@dataclass
class ComplaintRecord:
    complaint_id: str
    tracking_id: str
    title: str
    content: str
    category_id: int
    disposition_id: str
    is_anonymous: bool
    is_secret: bool
    date_of_incident: str | None
    external_reference: str | None
    created_at: datetime
    status_name: str = BELUM_TERVERIFIKASI
    logs: list[StatusLog] = field(default_factory=list)
    followups: list[Followup] = field(default_factory=list)

    @property
    def changed_at(self) -> datetime:
        return self.logs[-1].at if self.logs else self.created_at


@dataclass(frozen=True)
class Remembered:
    """A create answer kept under its ``Idempotency-Key``."""

    fingerprint: str
    body: bytes


def validate_complaint(
    body: object,
    *,
    categories: Mapping[int, str],
    institutions: Mapping[str, str],
    today: date,
) -> tuple[dict[str, Any], dict[str, list[str]]]:
    """The cleaned fields of a create request, and the errors per field (empty when valid)."""
    errors: dict[str, list[str]] = {}
    clean: dict[str, Any] = {}
    if not isinstance(body, dict):
        return clean, {"body": ["The request body must be a JSON object."]}

    def fail(name: str, message: str) -> None:
        errors.setdefault(name, []).append(message)

    for name, limit in (("title", MAX_TITLE), ("content", MAX_CONTENT)):
        value = body.get(name)
        if value is None or (isinstance(value, str) and not value.strip()):
            fail(name, f"The {name} field is required.")
        elif not isinstance(value, str):
            fail(name, f"The {name} must be a string.")
        elif len(value) > limit:
            fail(name, f"The {name} may not be greater than {limit} characters.")
        else:
            clean[name] = value

    category = body.get("category_id")
    if category is None:
        fail("category_id", "The category_id field is required.")
    elif isinstance(category, bool) or not (
        isinstance(category, int) or (isinstance(category, str) and category.isdigit())
    ):
        fail("category_id", "The category_id must be an integer.")
    elif int(category) not in categories:
        fail("category_id", "The selected category_id is invalid.")
    else:
        clean["category_id"] = int(category)

    disposition = body.get("disposition_id")
    if disposition is None or disposition == "":
        fail("disposition_id", "The disposition_id field is required.")
    elif not _is_id(disposition) or str(disposition) not in institutions:
        fail("disposition_id", "The selected disposition_id is invalid.")
    else:
        clean["disposition_id"] = str(disposition)

    for name in ("is_anonymous", "is_secret"):
        flag = _as_bool(body.get(name))
        if flag is None:
            fail(name, f"The {name} field must be true or false.")
        else:
            clean[name] = flag

    incident = body.get("date_of_incident")
    clean["date_of_incident"] = None
    if incident is not None:
        parsed = _parse_date(incident)
        if parsed is None:
            fail("date_of_incident", "The date_of_incident does not match the format Y-m-d.")
        elif parsed > today:
            fail(
                "date_of_incident", "The date_of_incident must be a date before or equal to today."
            )
        else:
            clean["date_of_incident"] = parsed.isoformat()

    reference = body.get("external_reference")
    clean["external_reference"] = None
    if reference is not None:
        if not isinstance(reference, str):
            fail("external_reference", "The external_reference must be a string.")
        elif len(reference) > MAX_REFERENCE:
            fail(
                "external_reference",
                f"The external_reference may not be greater than {MAX_REFERENCE} characters.",
            )
        else:
            clean["external_reference"] = reference
    return clean, errors


def _is_id(value: object) -> bool:
    return isinstance(value, str | int) and not isinstance(value, bool)


def _as_bool(value: object) -> bool | None:
    """Booleans as Laravel's ``boolean`` rule accepts them; absent or null means false."""
    if value is None or isinstance(value, bool):
        return bool(value)
    if type(value) is int and value in (0, 1):
        return value == 1
    if value in ("0", "1", "true", "false"):
        return value in ("1", "true")
    return None


def _parse_date(value: object) -> date | None:
    if not isinstance(value, str) or not _DATE.match(value):
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        return None


def can_move(current: str, target: str) -> bool:
    if current in FINAL or target == current or target not in STATUS_CODES:
        return False
    if target in SIDE_EXITS:
        return True
    return MAIN_PATH.index(target) > MAIN_PATH.index(current)


_FOLLOWUP_TEXT = {
    DALAM_PROSES: "Laporan Anda sedang ditindaklanjuti oleh {disposition}.",
    SELESAI: "Laporan Anda telah selesai ditindaklanjuti oleh {disposition}.",
    DITOLAK: "Laporan Anda tidak dapat diproses karena tidak memenuhi ketentuan.",
    DIARSIPKAN: "Laporan Anda diarsipkan karena tidak ada tanggapan lebih lanjut.",
}


class ComplaintBook:
    """Every complaint the channel holds, the create calls it saw, and its idempotency memory."""

    def __init__(
        self,
        *,
        categories: Mapping[int, str],
        institutions: Mapping[str, str],
        now: Callable[[], datetime],
        auto_advance_seconds: float | None = None,
    ) -> None:
        if auto_advance_seconds is not None and auto_advance_seconds <= 0:
            raise ValueError(
                f"auto_advance_seconds must be above zero; got {auto_advance_seconds!r}"
            )
        self.categories = dict(categories)
        self.institutions = dict(institutions)
        self._now = now
        self._step = (
            timedelta(seconds=auto_advance_seconds) if auto_advance_seconds is not None else None
        )
        self._complaints: dict[str, ComplaintRecord] = {}
        self._by_reference: dict[str, list[str]] = {}
        self._create_calls: Counter[str] = Counter()
        self._remembered: dict[str, Remembered] = {}
        self._followup_ids = 0

    def __len__(self) -> int:
        return len(self._complaints)

    @property
    def idempotency_keys(self) -> int:
        return len(self._remembered)

    def today(self) -> date:
        return self._now().astimezone(WIB).date()

    def validate(self, body: object) -> tuple[dict[str, Any], dict[str, list[str]]]:
        return validate_complaint(
            body, categories=self.categories, institutions=self.institutions, today=self.today()
        )

    def note_create_call(self, external_reference: str | None) -> None:
        """Count one create request that carried ``external_reference``."""
        if external_reference is not None:
            self._create_calls[external_reference] += 1

    def recall(self, key: str) -> Remembered | None:
        return self._remembered.get(key)

    def remember(self, key: str, fingerprint: str, body: bytes) -> None:
        self._remembered[key] = Remembered(fingerprint, body)

    def create(self, clean: Mapping[str, Any]) -> ComplaintRecord:
        """Store a validated complaint (see ``validate``) as ``Belum Terverifikasi``."""
        number = len(self._complaints) + 1
        now = self._now()
        record = ComplaintRecord(
            complaint_id=str(100_000 + number),
            tracking_id=f"{(number * 7919) % 10_000_000:07d}",
            title=clean["title"],
            content=clean["content"],
            category_id=clean["category_id"],
            disposition_id=clean["disposition_id"],
            is_anonymous=clean["is_anonymous"],
            is_secret=clean["is_secret"],
            date_of_incident=clean["date_of_incident"],
            external_reference=clean["external_reference"],
            created_at=now,
            logs=[StatusLog(BELUM_TERVERIFIKASI, now, "Laporan diterima")],
        )
        self._complaints[record.complaint_id] = record
        if record.external_reference is not None:
            self._by_reference.setdefault(record.external_reference, []).append(record.complaint_id)
        return record

    def get(self, complaint_id: str) -> ComplaintRecord | None:
        record = self._complaints.get(complaint_id)
        if record is not None:
            self._settle(record)
        return record

    def find(self, external_reference: str | None) -> list[ComplaintRecord]:
        """Complaints carrying ``external_reference`` (all of them for None), oldest first."""
        if external_reference is None:
            records = list(self._complaints.values())
        else:
            ids = self._by_reference.get(external_reference, [])
            records = [self._complaints[i] for i in ids]
        for record in records:
            self._settle(record)
        return records

    def advance(
        self, complaint_id: str | None, to: str | None, *, followup: str | None = None
    ) -> list[ComplaintRecord]:
        """Move one complaint (or every one that can move, for None) to ``to``.

        ``to`` None means the next status on the main path. Returns the complaints that moved.
        For one complaint, raises KeyError if unknown and TransitionError if it cannot move.
        """
        if to is not None and to not in STATUS_CODES:
            raise TransitionError(
                f"{to!r} is not a status of the channel; use one of "
                + ", ".join(map(repr, STATUS_CODES))
            )
        if complaint_id is not None:
            record = self.get(complaint_id)
            if record is None:
                raise KeyError(complaint_id)
            target = to or _next_on_main_path(record.status_name)
            if target is None or not can_move(record.status_name, target):
                raise TransitionError(
                    f"complaint {complaint_id!r} is {record.status_name!r} and cannot move to "
                    f"{target!r}; it only moves forward, and never out of a final status"
                )
            self._move(record, target, self._now(), followup)
            return [record]
        moved = []
        for record in self.find(None):
            target = to or _next_on_main_path(record.status_name)
            if target is not None and can_move(record.status_name, target):
                self._move(record, target, self._now(), followup)
                moved.append(record)
        return moved

    def state(self) -> list[dict[str, Any]]:
        """Each complaint with its ``create_calls``: the create requests that reached the channel
        carrying its ``external_reference`` (1 for a complaint without one)."""
        return [
            {
                "complaint_id": r.complaint_id,
                "external_reference": r.external_reference,
                "create_calls": (
                    self._create_calls[r.external_reference]
                    if r.external_reference is not None
                    else 1
                ),
                "status_name": r.status_name,
            }
            for r in self.find(None)
        ]

    def _settle(self, record: ComplaintRecord) -> None:
        if self._step is None:
            return
        now = self._now()
        while True:
            target = _next_on_main_path(record.status_name)
            due = record.changed_at + self._step
            if target is None or due > now:
                return
            self._move(record, target, due, None)

    def _move(
        self, record: ComplaintRecord, target: str, at: datetime, followup: str | None
    ) -> None:
        record.status_name = target
        record.logs.append(StatusLog(target, at))
        text = followup
        if text is None and target in _FOLLOWUP_TEXT:
            disposition = self.institutions.get(record.disposition_id, record.disposition_id)
            text = _FOLLOWUP_TEXT[target].format(disposition=disposition)
        if text is not None:
            self._followup_ids += 1
            record.followups.append(Followup(self._followup_ids, text, at))

    def view(self, record: ComplaintRecord) -> dict[str, Any]:
        """The complaint as ``results.data`` shows it."""
        return {
            "complaint_id": record.complaint_id,
            "tracking_id": record.tracking_id,
            "title": record.title,
            "content": record.content,
            "category_id": record.category_id,
            "category_name": self.categories.get(record.category_id),
            "disposition_id": record.disposition_id,
            "disposition_name": self.institutions.get(record.disposition_id),
            "is_anonymous": record.is_anonymous,
            "is_secret": record.is_secret,
            "date_of_incident": record.date_of_incident,
            "external_reference": record.external_reference,
            "status_code": STATUS_CODES[record.status_name],
            "status_name": record.status_name,
            "created_at": laravel_wib(record.created_at),
            "updated_at": laravel_wib(record.changed_at),
        }


def log_view(log: StatusLog) -> dict[str, Any]:
    return {
        "status_code": STATUS_CODES[log.status_name],
        "status_name": log.status_name,
        "note": log.note,
        "created_at": laravel_wib(log.at),
    }


def followup_view(item: Followup) -> dict[str, Any]:
    return {"id": item.id, "content": item.content, "created_at": dmy_wib(item.at)}


def _next_on_main_path(status: str) -> str | None:
    if status not in MAIN_PATH or status == MAIN_PATH[-1]:
        return None
    return MAIN_PATH[MAIN_PATH.index(status) + 1]
