"""The HTTP-free rules of intake: reading a draft, and building what people see of a complaint."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest

from oss_bridge.config import Settings
from oss_bridge.domain.complaint import Complaint
from oss_bridge.domain.vocabulary import ComplaintCategory, ComplaintObject, Stage
from oss_bridge.errors import FieldErrors
from oss_bridge.services.complaints.deadlines import WorkingCalendar
from oss_bridge.services.complaints.status_mapping import load_status_mapping
from oss_bridge.services.complaints.triage import TriageSettings, triage
from oss_bridge.services.intake import (
    build_view,
    forward_state,
    history,
    intake_events,
    milestones,
    open311_status,
    parse_draft,
)
from oss_bridge.store import ComplaintEvent, ComplaintRecord, Delivery

MAPPING = load_status_mapping()
CALENDAR = WorkingCalendar(years=[2026, 2027])
# Monday 30 November 2026, 09:00 in Western Indonesia Time.
RECEIVED = datetime(2026, 11, 30, 2, 0, tzinfo=UTC)
LONG = "Permohonan izin usaha kami belum diproses sejak bulan lalu tanpa kabar apa pun."
CATEGORIES = "perizinan_berusaha, kegiatan_usaha, pengawasan, penyalahgunaan_oss, hambatan_oss"
OBJECTS = "pelaku_usaha, pemerintah_kabupaten, asn_ptt, profesi_ahli"


def valid(**changes: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "category": "hambatan_oss",
        "object": "pemerintah_kabupaten",
        "description": LONG,
        "reporter": {"name": "Budi", "email": "budi@contoh.co.id", "phone": "0812 3456 7890"},
    }
    data.update(changes)
    return {key: value for key, value in data.items() if value is not ...}


# --- parse_draft ---------------------------------------------------------------------------------


def test_a_valid_draft_is_read_with_the_phone_number_compacted() -> None:
    draft = parse_draft(valid())

    assert draft.category is ComplaintCategory.HAMBATAN_OSS
    assert draft.object is ComplaintObject.PEMERINTAH_KABUPATEN
    assert draft.reporter is not None
    assert draft.reporter.phone == "081234567890"


def test_a_blank_service_code_means_none() -> None:
    assert parse_draft(valid(service_code="  ")).service_code is None


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        (
            valid(category="keluhan"),
            "category",
            f"'keluhan' is not a complaint category; use one of: {CATEGORIES}",
        ),
        (valid(category=...), "category", f"is required; use one of: {CATEGORIES}"),
        (
            valid(object="warga"),
            "object",
            f"'warga' is not a complaint object; use one of: {OBJECTS}",
        ),
        (valid(description=""), "description", "must not be empty; describe what happened"),
        (valid(description=" \n\t "), "description", "must not be blank; describe what happened"),
        (
            valid(description="x" * 4001),
            "description",
            "has 4001 characters; at most 4000 are allowed",
        ),
        (valid(description=...), "description", "is required"),
        (valid(description=12), "description", "must be text; got 12"),
        (
            valid(reporter={"email": "budi(at)contoh"}),
            "reporter.email",
            "'budi(at)contoh' is not an e-mail address like nama@contoh.go.id",
        ),
        (
            valid(reporter={"phone": "12345"}),
            "reporter.phone",
            "'12345' is not an Indonesian phone number; write it like 0812 3456 7890 or "
            "+62 812 3456 7890",
        ),
        (
            valid(reporter="Budi"),
            "reporter",
            "must be an object with name, email, phone; got 'Budi'",
        ),
        (
            valid(reporter={"nik": "1405"}),
            "reporter.nik",
            "is not a field of a complaint; the fields are: name, email, phone",
        ),
        (valid(anonymous="maybe"), "anonymous", "must be true or false; got 'maybe'"),
        (
            valid(occurred_on="kemarin"),
            "occurred_on",
            "'kemarin' is not a date; write it as YYYY-MM-DD, like 2026-11-29",
        ),
        (
            valid(lokasi="Pangkalan Kerinci"),
            "lokasi",
            "is not a field of a complaint; the fields are: category, object, description, "
            "service_code, reporter, anonymous, secret, occurred_on",
        ),
    ],
)
def test_bad_input_is_refused_field_by_field(
    data: dict[str, Any], field: str, message: str
) -> None:
    with pytest.raises(FieldErrors) as caught:
        parse_draft(data)

    assert caught.value.errors == {field: [message]}
    assert field in str(caught.value)


def test_every_bad_field_is_named_at_once() -> None:
    with pytest.raises(FieldErrors) as caught:
        parse_draft(valid(category="x", description="", reporter={"email": "x"}))

    assert list(caught.value.errors) == ["category", "description", "reporter.email"]
    assert str(caught.value) == (
        "the complaint was not accepted; correct category, description, reporter.email as the "
        "errors say and send it again"
    )


@pytest.mark.parametrize("data", [[], "keluhan", 3, None])
def test_a_body_that_is_not_an_object_is_refused(data: Any) -> None:
    with pytest.raises(FieldErrors) as caught:
        parse_draft(data)

    assert list(caught.value.errors) == ["(body)"]
    assert caught.value.errors["(body)"][0].startswith("must be an object with the fields category")


# --- the first history ---------------------------------------------------------------------------


def test_a_complete_complaint_starts_with_stages_a_b_and_c() -> None:
    result = triage(parse_draft(valid(description=LONG + " Ada pungli.")), TriageSettings())

    events = intake_events(result)

    assert [(e.kind, e.dedupe_key, e.payload.get("stage")) for e in events] == [
        ("stage", "stage:a", "a"),
        ("stage", "stage:b", "b"),
        ("stage", "stage:c", "c"),
    ]
    assert events[2].payload["priority"] == "tinggi"
    assert "pungli" in events[2].payload["text"]


def test_an_incomplete_complaint_starts_at_stage_a_with_what_is_missing() -> None:
    result = triage(parse_draft(valid(reporter=...)), TriageSettings())

    events = intake_events(result)

    assert [(e.kind, e.dedupe_key) for e in events] == [
        ("stage", "stage:a"),
        ("note", "intake:incomplete"),
    ]
    assert events[1].payload["missing"] == ["reporter"]
    assert (
        events[1].payload["text"].startswith("Incomplete, stays at stage a until completed: give")
    )


# --- views ---------------------------------------------------------------------------------------


def complaint(**changes: Any) -> Complaint:
    fields: dict[str, Any] = {
        "id": 7,
        "receipt_number": "PGD-1405-20261130-000007",
        "category": "hambatan_oss",
        "object": "pemerintah_kabupaten",
        "description": LONG,
        "stage": "c",
        "received_at": RECEIVED,
        "updated_at": RECEIVED,
    }
    fields.update(changes)
    return Complaint(**fields)


def event(
    kind: Any, payload: dict[str, Any], *, at: datetime, external: bool = True, id: int = 1
) -> ComplaintEvent:
    return ComplaintEvent(
        id=id,
        complaint_id=7,
        kind=kind,
        dedupe_key=f"{kind}:{id}",
        external_at=at if external else None,
        payload=payload,
        created_at=at if not external else at + timedelta(minutes=1),
    )


def record(
    *events: ComplaintEvent,
    state: str = "pending",
    suspended: bool = False,
    external_status: str | None = None,
    external_status_at: datetime | None = None,
    final: bool = False,
    delivery: bool = True,
) -> ComplaintRecord:
    return ComplaintRecord(
        complaint=complaint(),
        completeness=None,
        external_id="L-1" if external_status else None,
        tracking_id=None,
        external_status=external_status,
        external_status_at=external_status_at,
        final=final,
        next_pull_at=None,
        delivery=Delivery(
            destination="lapor",
            state=state,
            attempts=0,
            last_error=None,
            next_attempt_at=RECEIVED,
            sent_at=None,
            idempotency_key="lapor:PGD-1405-20261130-000007",
            suspended=suspended,
        )
        if delivery
        else None,
        events=events,
    )


def days(n: float) -> datetime:
    return RECEIVED + timedelta(days=n)


def test_events_become_the_history_in_their_kinds() -> None:
    entries = history(
        record(
            event("stage", {"stage": "a", "text": "Received"}, at=days(0), external=False, id=1),
            event(
                "note",
                {"type": "forwarded", "destination": "lapor", "external_id": "L-1"},
                at=days(0.1),
                external=False,
                id=2,
            ),
            event("status", {"external_status": "Terverifikasi"}, at=days(1), id=3),
            event(
                "stage",
                {"from": "c", "to": "d", "external_status": "Dalam Proses"},
                at=days(2),
                id=4,
            ),
            event("followup", {"content": "Sedang kami tindak lanjuti."}, at=days(3), id=5),
            event("note", {"text": "Telepon pelapor"}, at=days(4), external=False, id=6),
        )
    )

    assert [(e.kind, e.stage, e.external_status, e.text) for e in entries] == [
        ("stage", Stage.A, None, "Received"),
        ("forward", None, None, "forwarded to lapor as L-1"),
        ("status", None, "Terverifikasi", None),
        ("stage", Stage.D, "Dalam Proses", "d. menelaah dan menanggapi"),
        ("followup", None, None, "Sedang kami tindak lanjuti."),
        ("note", None, None, "Telepon pelapor"),
    ]


def test_a_national_status_and_a_follow_up_mark_the_milestones() -> None:
    found = milestones(
        record(
            event("status", {"external_status": "Belum Terverifikasi"}, at=days(0.5), id=1),
            event("status", {"external_status": "Terverifikasi"}, at=days(1), id=2),
            event("followup", {"content": "Sudah kami terima."}, at=days(2), id=3),
            event("status", {"external_status": "Dalam Proses"}, at=days(3), id=4),
            event("status", {"external_status": "Selesai"}, at=days(9), id=5),
        ),
        MAPPING,
    )

    assert (found.verified_at, found.first_response_at, found.closed_at) == (
        days(1),
        days(2),
        days(9),
    )


def test_the_current_status_counts_even_without_its_event() -> None:
    found = milestones(
        record(external_status="Ditolak", external_status_at=days(4), final=True), MAPPING
    )

    assert (found.verified_at, found.first_response_at, found.closed_at) == (
        days(4),
        days(4),
        days(4),
    )


def test_an_unmapped_status_marks_nothing() -> None:
    found = milestones(record(external_status="Dikaji Ulang", external_status_at=days(1)), MAPPING)

    assert (found.verified_at, found.first_response_at, found.closed_at) == (None, None, None)


@pytest.mark.parametrize(
    ("state", "suspended", "by_config", "shown"),
    [
        ("pending", False, False, "pending"),
        ("pending", True, False, "suspended"),
        ("in_flight", False, True, "suspended"),
        ("sent", True, True, "sent"),
        ("dead", True, False, "dead"),
        ("acknowledged", False, False, "acknowledged"),
    ],
)
def test_a_waiting_delivery_to_a_suspended_destination_shows_as_suspended(
    state: str, suspended: bool, by_config: bool, shown: str
) -> None:
    assert (
        forward_state(record(state=state, suspended=suspended), suspended_by_config=by_config)
        == shown
    )


def test_a_complaint_without_an_outbox_row_shows_as_pending() -> None:
    assert forward_state(record(delivery=False)) == "pending"


def test_a_view_flags_the_deadlines_passed_without_their_step() -> None:
    # Three working days after Monday 30 November 2026 end on Thursday 3 December.
    on_friday = datetime(2026, 12, 4, 2, 0, tzinfo=UTC)

    view = build_view(
        record(), now=on_friday, settings=Settings(), mapping=MAPPING, calendar=CALENDAR
    )

    assert [(d.name, d.overdue) for d in view.deadlines] == [
        ("verification", True),
        ("first_response", False),
        ("resolution", False),
    ]
    assert view.overdue


def test_a_closed_complaint_is_never_overdue() -> None:
    view = build_view(
        record(external_status="Selesai", external_status_at=days(20), final=True),
        now=days(200),
        settings=Settings(),
        mapping=MAPPING,
        calendar=CALENDAR,
    )

    assert not view.overdue
    assert [d.name for d in view.deadlines] == [
        "verification",
        "first_response",
        "closure",
        "resolution",
    ]


@pytest.mark.parametrize(
    ("status", "shown"),
    [
        (None, "open"),
        ("Belum Terverifikasi", "open"),
        ("Dalam Proses", "open"),
        ("Selesai", "closed"),
        ("  ditolak ", "closed"),
        ("Status Baru", "open"),
    ],
)
def test_the_open311_status_follows_the_status_map(status: str | None, shown: str) -> None:
    assert open311_status(status, MAPPING) == shown


def test_dates_in_the_past_are_accepted_as_occurred_on() -> None:
    assert parse_draft(valid(occurred_on="2026-11-20")).occurred_on == date(2026, 11, 20)
