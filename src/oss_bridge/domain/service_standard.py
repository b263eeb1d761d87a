"""A service standard (standar pelayanan) as the region publishes it.

The fourteen components follow Permenpan RB 15/2014: six of service delivery, all required, and
eight of management, all optional because most published pages leave them out. Field names are
the ones of the service-standard JSON promised in INTERFACES.md; the OSS wire names live only in
``oss_bridge.clients``.
"""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, PlainSerializer
from pydantic_core import PydanticKnownError

CODE_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$"


def _fold(text: str) -> str:
    """Fold runs of white space into one space; keep the published wording otherwise.

    Text that is only white space is refused as too short, the error ``min_length=1`` gives. The
    check is made here because a length constraint after a function is one more function call
    per text, which doubles the cost of reading a catalogue page.
    """
    folded = " ".join(text.split())
    if not folded:
        raise PydanticKnownError("string_too_short", {"min_length": 1})
    return folded


Text = Annotated[str, AfterValidator(_fold), Field(json_schema_extra={"minLength": 1})]
TextList = tuple[Text, ...]


def _json_number(value: Decimal) -> int | float:
    """Rupiah amounts are numbers in JSON (INTERFACES.md): whole ones as integers."""
    return int(value) if value == value.to_integral_value() else float(value)


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class CompletionTime(_Model):
    """Waktu penyelesaian."""

    value: int = Field(ge=0)
    unit: Literal["day", "working_day"] = "day"


class Fee(_Model):
    """Biaya / tarif."""

    amount: Annotated[Decimal, PlainSerializer(_json_number, when_used="json")] = Field(
        ge=0, max_digits=18, decimal_places=2
    )
    currency: Literal["IDR"] = "IDR"
    note: str | None = None


class Contact(_Model):
    address: str | None = None
    phone: str | None = None
    website: str | None = None


class ComplaintHandling(_Model):
    """Penanganan pengaduan, saran dan masukan."""

    rules: TextList = ()
    stages: TextList = ()
    categories: TextList = ()
    objects: TextList = ()
    procedure: TextList = ()
    contact: Contact = Field(default_factory=Contact)


class ServiceStandard(_Model):
    """One entry of the regional catalogue."""

    code: str = Field(pattern=CODE_PATTERN, description="stable id, also OSS's id_layanan")
    name: Text
    agency: Text
    sk_number: str | None = Field(default=None, description="the decree that adopted it")
    permit_code: str | None = Field(
        default=None, description="OSS kd_izin, if the service issues one"
    )
    # Service delivery (required).
    requirements: TextList = Field(min_length=1)
    procedure: TextList = Field(min_length=1)
    completion_time: CompletionTime
    fee: Fee
    products: TextList = Field(min_length=1)
    complaint_handling: ComplaintHandling
    # Management (optional).
    legal_basis: TextList = ()
    facilities: TextList = ()
    staff_competence: TextList = ()
    internal_supervision: TextList = ()
    staff_count: int | None = Field(default=None, ge=0)
    service_guarantee: str | None = None
    security_guarantee: str | None = None
    performance_evaluation: TextList = ()
    status: Literal["active", "inactive"] = "active"


# Field names of a service standard that sync compares and owns, in a stable order.
CONTENT_FIELDS: tuple[str, ...] = tuple(
    name for name in ServiceStandard.model_fields if name not in ("code",)
)


def slugify(text: str) -> str:
    """A code made from a service name: lower case ASCII words joined by dashes, at most 64 chars."""
    words = re.findall(r"[a-z0-9]+", text.casefold())
    slug = "-".join(words)[:64].strip("-")
    return slug or "service"
