"""Complaint channel (SP4N-LAPOR!) wire format (DESIGN.md 3.2) and its mapping to our complaints.

Every field name of the channel lives in this module. Answers wrap their data in ``results``.
The models are strict except where the real channel is known to be inconsistent:

- time stamps come as ``d-m-Y H:i:s`` (follow-ups), ``Y-m-d H:i:s`` (complaints, logs) or
  ISO-8601; without an offset they are Asia/Jakarta time (WIB, UTC+7);
- ids come as numbers in some tables (categories, complaints) and as text in others
  (institutions); all are read as text.

Unknown keys in answers are ignored, so the channel adding a field breaks nothing.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, StrictBool, StrictStr

from oss_bridge.domain.complaint import Complaint

# Western Indonesia has kept UTC+7 without daylight saving since 1964: a fixed offset is exact
# and needs no time-zone database on the host.
WIB = timezone(timedelta(hours=7), "WIB")

TITLE_MAX = 150
_FORMATS = ("%d-%m-%Y %H:%M:%S", "%Y-%m-%d %H:%M:%S")


def _timestamp(value: Any) -> Any:
    if not isinstance(value, str):
        raise ValueError(f"expected a date-time text, not {value!r}")
    text = value.strip()
    for fmt in _FORMATS:
        try:
            return datetime.strptime(text, fmt).replace(tzinfo=WIB)
        except ValueError:
            continue
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise ValueError(f"{value!r} is neither d-m-Y H:i:s, Y-m-d H:i:s nor ISO-8601") from None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=WIB)


def _id_text(value: Any) -> Any:
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return value


Timestamp = Annotated[datetime, BeforeValidator(_timestamp)]
IdText = Annotated[StrictStr, BeforeValidator(_id_text)]


class _Wire(BaseModel):
    model_config = ConfigDict(strict=True, extra="ignore", frozen=True)


class _Out(BaseModel):
    model_config = ConfigDict(strict=True, extra="forbid", frozen=True)


# --- answers -------------------------------------------------------------------------------


class Created(_Wire):
    complaint_id: IdText
    tracking_id: IdText | None = None


class CreatedAnswer(_Wire):
    results: Created


class StatusLog(_Wire):
    status_code: IdText | None = None
    status_name: StrictStr
    created_at: Timestamp
    note: StrictStr | None = None


class Detail(_Wire):
    complaint_id: IdText
    tracking_id: IdText | None = None
    status_code: IdText | None = None
    status_name: StrictStr
    disposition_name: StrictStr | None = None
    updated_at: Timestamp


class DetailResults(_Wire):
    data: Detail
    data_logs: list[StatusLog] = []


class DetailAnswer(_Wire):
    results: DetailResults


class FollowUp(_Wire):
    id: IdText
    content: StrictStr
    created_at: Timestamp


class FollowUpResults(_Wire):
    data: list[FollowUp]


class FollowUpAnswer(_Wire):
    results: FollowUpResults


class Found(_Wire):
    complaint_id: IdText
    tracking_id: IdText | None = None
    external_reference: StrictStr
    status_name: StrictStr | None = None


class FoundResults(_Wire):
    data: list[Found]


class FoundAnswer(_Wire):
    results: FoundResults


class MasterRow(_Wire):
    id: IdText
    name: StrictStr


class MasterResults(_Wire):
    data: list[MasterRow]


class MasterAnswer(_Wire):
    results: MasterResults


class ErrorAnswer(BaseModel):
    """A 4xx body; read leniently because it only feeds a message."""

    model_config = ConfigDict(extra="ignore")

    message: str | None = None
    errors: dict[str, list[str]] = {}


# --- requests ------------------------------------------------------------------------------


class CreateBody(_Out):
    title: str
    content: str
    category_id: str
    disposition_id: str
    is_anonymous: StrictBool
    is_secret: StrictBool
    date_of_incident: str | None
    external_reference: str


def complaint_to_wire(
    complaint: Complaint, *, category_id: str, disposition_id: str, title_max: int = TITLE_MAX
) -> CreateBody:
    """The channel's complaint for ours; our receipt number is its ``external_reference``.

    The title names the receipt number and category, so staff on either side find it. The
    content is the description followed by the object, the related service and, unless the
    complaint is anonymous, the reporter's name. E-mail and phone stay with the region: a
    complaint that is not secret is public on the channel.
    """
    title = f"{complaint.receipt_number} - {complaint.category.label}"
    if len(title) > title_max:
        title = title[: title_max - 3].rstrip() + "..."
    lines = [complaint.description.strip(), "", f"Objek pengaduan: {complaint.object.label}"]
    if complaint.service_code:
        lines.append(f"Layanan: {complaint.service_code}")
    if not complaint.anonymous and complaint.reporter and complaint.reporter.name:
        lines.append(f"Pelapor: {complaint.reporter.name}")
    lines.append(f"Nomor tanda terima: {complaint.receipt_number}")
    return CreateBody(
        title=title,
        content="\n".join(lines),
        category_id=category_id,
        disposition_id=disposition_id,
        is_anonymous=complaint.anonymous,
        is_secret=complaint.secret,
        date_of_incident=complaint.occurred_on.isoformat() if complaint.occurred_on else None,
        external_reference=complaint.receipt_number,
    )
