"""``decide_pull``: what one pull of a complaint's national status means, without I/O."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from oss_bridge.clients import ChannelComplaint, FollowUp, StatusChange
from oss_bridge.config import PullTier, StatusPullSettings
from oss_bridge.domain import Stage
from oss_bridge.services.complaints.followups import followup_key
from oss_bridge.services.complaints.status_mapping import load_status_mapping
from oss_bridge.services.status_pull import decide_pull
from oss_bridge.store._pulls import PullClaim

NOW = datetime(2026, 11, 30, 3, 0, tzinfo=UTC)
RECEIVED = NOW - timedelta(hours=2)
MAPPING = load_status_mapping()
SETTINGS = StatusPullSettings(
    jitter=0.0,
    unchanged_growth=2.0,
    tiers=[PullTier(quiet_below_hours=24, every_minutes=5), PullTier(every_minutes=60)],
)


def claim(**changes: Any) -> PullClaim:
    values: dict[str, Any] = {
        "complaint_id": 7,
        "external_id": "100007",
        "stage": Stage.C,
        "external_status": None,
        "external_status_at": None,
        "received_at": RECEIVED,
        "unchanged_pulls": 0,
        "followup_keys": frozenset(),
    }
    values.update(changes)
    return PullClaim(**values)


def remote(status: str, at: datetime, *logs: tuple[str, datetime]) -> ChannelComplaint:
    return ChannelComplaint(
        complaint_id="100007",
        tracking_id="0055433",
        status_code=None,
        status_name=status,
        disposition_name="DPMPTSP Kabupaten Pelalawan",
        updated_at=at,
        logs=tuple(StatusChange(None, name, when, None) for name, when in logs),
    )


def decide(c: PullClaim, r: ChannelComplaint, followups: tuple[FollowUp, ...] = ()) -> Any:
    return decide_pull(c, r, followups, mapping=MAPPING, settings=SETTINGS, now=NOW)


RECEIVED_ON_CHANNEL = RECEIVED + timedelta(minutes=1)
VERIFIED = RECEIVED + timedelta(minutes=30)


def test_a_first_pull_records_every_past_transition_and_maps_the_current_status() -> None:
    decision = decide(
        claim(),
        remote(
            "Terverifikasi",
            VERIFIED,
            ("Belum Terverifikasi", RECEIVED_ON_CHANNEL),
            ("Terverifikasi", VERIFIED),
        ),
    )

    update = decision.update
    assert [event.payload["status"] for event in update.events] == [
        "Belum Terverifikasi",
        "Terverifikasi",
    ]
    assert (update.external_status, update.external_status_at, update.stage, update.final) == (
        "Terverifikasi",
        VERIFIED,
        Stage.C,
        False,
    )
    assert (update.changed, update.next_pull_at) == (True, NOW + timedelta(minutes=5))


def test_transitions_already_applied_are_not_recorded_again() -> None:
    decision = decide(
        claim(external_status="Terverifikasi", external_status_at=VERIFIED),
        remote(
            "Terverifikasi",
            VERIFIED,
            ("Belum Terverifikasi", RECEIVED_ON_CHANNEL),
            ("Terverifikasi", VERIFIED),
        ),
    )

    assert decision.update.events == ()
    assert decision.update.changed is False


def test_each_quiet_pull_stretches_the_interval() -> None:
    decision = decide(
        claim(external_status="Terverifikasi", external_status_at=VERIFIED, unchanged_pulls=1),
        remote("Terverifikasi", VERIFIED, ("Terverifikasi", VERIFIED)),
    )

    assert decision.update.next_pull_at == NOW + timedelta(minutes=20)


def test_a_current_status_missing_from_the_transitions_is_recorded_at_its_update_time() -> None:
    decision = decide(claim(), remote("Dalam Proses", VERIFIED))

    [event] = decision.update.events
    assert (event.kind, event.payload["status"], event.external_at) == (
        "status",
        "Dalam Proses",
        VERIFIED,
    )


def test_an_answer_older_than_the_status_held_changes_no_status_but_keeps_its_replies() -> None:
    reply = FollowUp(id="9", content="Sedang ditangani.", created_at=VERIFIED)
    decision = decide(
        claim(external_status="Dalam Proses", external_status_at=VERIFIED + timedelta(hours=1)),
        remote("Terverifikasi", VERIFIED, ("Terverifikasi", VERIFIED)),
        (reply,),
    )

    update = decision.update
    assert (update.external_status, update.stage) == (None, None)
    assert [event.kind for event in update.events] == ["followup"]


def test_replies_already_stored_are_not_stored_again() -> None:
    old = FollowUp(id="1", content="Diterima.", created_at=RECEIVED_ON_CHANNEL)
    new = FollowUp(id="2", content="Sedang ditangani.", created_at=VERIFIED)
    decision = decide(
        claim(
            external_status="Terverifikasi",
            external_status_at=VERIFIED,
            followup_keys=frozenset({followup_key(old)}),
        ),
        remote("Terverifikasi", VERIFIED, ("Terverifikasi", VERIFIED)),
        (old, new),
    )

    assert [(e.dedupe_key, e.payload["content"]) for e in decision.update.events] == [
        ("id:2", "Sedang ditangani.")
    ]


@pytest.mark.parametrize(
    ("status", "stage", "final"),
    [("Selesai", Stage.F, True), ("Ditolak", Stage.F, True), ("Diarsipkan", Stage.E, True)],
)
def test_a_final_status_is_never_pulled_again(status: str, stage: Stage, final: bool) -> None:
    decision = decide(claim(), remote(status, VERIFIED, (status, VERIFIED)))

    assert (decision.update.stage, decision.update.final, decision.update.next_pull_at) == (
        stage,
        final,
        None,
    )


def test_a_status_the_mapping_does_not_know_keeps_the_stage_and_is_named() -> None:
    decision = decide(claim(), remote("Dibekukan", VERIFIED, ("Dibekukan", VERIFIED)))

    assert decision.unmapped == "Dibekukan"
    assert (decision.update.stage, decision.update.final) == (None, False)
    assert decision.update.external_status == "Dibekukan"
