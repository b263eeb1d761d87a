"""A public complaint (pengaduan) as the region receives it and tracks it."""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, model_validator

from oss_bridge.domain.vocabulary import ComplaintCategory, ComplaintObject, Stage

MAX_DESCRIPTION = 4000
RECEIPT_PATTERN = r"^PGD-\d{2,6}-\d{8}-\d{6,}$"
_EMAIL = re.compile(r"^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+$")
_PHONE = re.compile(r"^(\+62|62|0)\d{7,13}$")


def _check_email(value: str | None) -> str | None:
    if value is None:
        return None
    value = value.strip()
    if len(value) > 254 or not _EMAIL.match(value):
        raise ValueError(f"{value!r} is not an e-mail address like nama@contoh.go.id")
    return value


def _check_phone(value: str | None) -> str | None:
    """Accept Indonesian numbers as people write them; store digits with a leading + or 0."""
    if value is None:
        return None
    compact = re.sub(r"[\s().-]", "", value)
    if not _PHONE.match(compact):
        raise ValueError(
            f"{value!r} is not an Indonesian phone number; write it like 0812 3456 7890 "
            "or +62 812 3456 7890"
        )
    return compact


Email = Annotated[str | None, AfterValidator(_check_email)]
Phone = Annotated[str | None, AfterValidator(_check_phone)]


class Reporter(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str | None = Field(default=None, max_length=200)
    email: Email = None
    phone: Phone = None


class ComplaintDraft(BaseModel):
    """What a citizen or business submits; validated before anything is stored."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    category: ComplaintCategory
    object: ComplaintObject
    description: str = Field(min_length=1, max_length=MAX_DESCRIPTION)
    service_code: str | None = None
    reporter: Reporter | None = None
    anonymous: bool = False
    secret: bool = False
    occurred_on: date | None = None

    @model_validator(mode="after")
    def _description_not_blank(self) -> ComplaintDraft:
        if not self.description.strip():
            raise ValueError("description must not be blank; describe what happened")
        return self


class Complaint(ComplaintDraft):
    """A complaint the region has received and given a receipt for."""

    id: int
    receipt_number: str = Field(pattern=RECEIPT_PATTERN)
    stage: Stage = Stage.A
    priority: str | None = None
    received_at: datetime
    updated_at: datetime


ForwardState = Literal["pending", "in_flight", "sent", "dead", "acknowledged", "suspended"]


class Receipt(BaseModel):
    """What the caller gets back at once: the tanda terima of stage a."""

    model_config = ConfigDict(frozen=True)

    id: int
    receipt_number: str
    stage: Stage


class HistoryEntry(BaseModel):
    """One change in a complaint's life, as staff and the reporter see it."""

    model_config = ConfigDict(frozen=True)

    at: datetime
    kind: Literal["stage", "status", "followup", "forward", "note"]
    stage: Stage | None = None
    external_status: str | None = None
    text: str | None = None


class DeadlineView(BaseModel):
    model_config = ConfigDict(frozen=True)

    name: str
    due_at: datetime
    met_at: datetime | None = None
    overdue: bool = False


class ComplaintView(BaseModel):
    """A complaint with its forwarding and national state, as the API and the CLI show it."""

    model_config = ConfigDict(frozen=True)

    complaint: Complaint
    forward_state: ForwardState
    forward_attempts: int = 0
    forward_last_error: str | None = None
    external_id: str | None = None
    tracking_id: str | None = None
    external_status: str | None = None
    final: bool = False
    history: tuple[HistoryEntry, ...] = ()
    deadlines: tuple[DeadlineView, ...] = ()

    @property
    def overdue(self) -> bool:
        return any(d.overdue for d in self.deadlines)
