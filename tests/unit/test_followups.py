"""The channel's date-times, and what of its follow-ups and status history is new."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from oss_bridge.services.complaints.followups import (
    FollowUp,
    StatusLogEntry,
    dedupe_status_logs,
    followup_key,
    new_followups,
    parse_lapor_datetime,
)

WIB = timezone(timedelta(hours=7))


def utc(
    year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0
) -> datetime:
    return datetime(year, month, day, hour, minute, second, tzinfo=UTC)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("29-11-2026 14:05:00", utc(2026, 11, 29, 7, 5)),
        ("29-11-2026 03:59:59", utc(2026, 11, 28, 20, 59, 59)),
        ("01-01-2027 06:30:00", utc(2026, 12, 31, 23, 30)),
        ("  29-11-2026 14:05:00\n", utc(2026, 11, 29, 7, 5)),
        ("1-2-2026 7:05:00", utc(2026, 2, 1, 0, 5)),
        ("29-02-2028 12:00:00", utc(2028, 2, 29, 5, 0)),
    ],
)
def test_channel_times_are_read_as_western_indonesia_time(text: str, expected: datetime) -> None:
    assert parse_lapor_datetime(text) == expected


def test_channel_times_come_back_in_utc() -> None:
    assert parse_lapor_datetime("29-11-2026 14:05:00").utcoffset() == timedelta(0)


@pytest.mark.parametrize(
    "text",
    [
        "2026-11-29 14:05:00",
        "2026-11-29T14:05:00+07:00",
        "29/11/2026 14:05:00",
        "29-11-2026",
        "29-11-2026 14:05",
        "31-02-2026 10:00:00",
        "29-11-2026 24:00:00",
        "",
        "kemarin",
    ],
)
def test_a_channel_time_in_another_form_is_refused_showing_it(text: str) -> None:
    with pytest.raises(ValueError, match="is not a channel date-time") as caught:
        parse_lapor_datetime(text)

    assert repr(text) in str(caught.value)


@pytest.mark.parametrize("value", [None, 1764400000, b"29-11-2026 14:05:00"])
def test_a_channel_time_that_is_not_text_is_refused(value: object) -> None:
    with pytest.raises(ValueError, match="expected text"):
        parse_lapor_datetime(value)  # type: ignore[arg-type]


AT = utc(2026, 11, 29, 7, 5)


@pytest.mark.parametrize(
    ("a", "b", "same"),
    [
        (FollowUp("17", "Sedang ditinjau", AT), FollowUp("17", "Sudah selesai", AT), True),
        (FollowUp("17", "x", AT), FollowUp(" 17 ", "x", AT), True),
        (FollowUp("17", "x", AT), FollowUp("18", "x", AT), False),
        (FollowUp(None, "Sedang  ditinjau", AT), FollowUp(None, "Sedang ditinjau\n", AT), True),
        (FollowUp(None, "x", AT), FollowUp(None, "x", AT.astimezone(WIB)), True),
        (FollowUp(None, "x", AT), FollowUp(None, "x", AT + timedelta(seconds=1)), False),
        (FollowUp(None, "x", AT), FollowUp(None, "y", AT), False),
        (FollowUp("", "x", AT), FollowUp(None, "x", AT), True),
        (FollowUp("  ", "x", AT), FollowUp(None, "x", AT), True),
    ],
)
def test_a_followup_is_known_by_its_id_else_by_its_content_and_time(
    a: FollowUp, b: FollowUp, same: bool
) -> None:
    assert (followup_key(a) == followup_key(b)) is same


def test_an_id_and_a_content_hash_never_share_a_key() -> None:
    with_id = FollowUp("abc", "x", AT)
    without = FollowUp(None, "x", AT)

    assert followup_key(with_id).startswith("id:")
    assert followup_key(without).startswith("sha256:")


def test_a_followup_with_a_numeric_id_is_known_by_it() -> None:
    class WireFollowUp:
        def __init__(self, id: int) -> None:
            self.id = id
            self.content = "x"
            self.created_at = AT

    assert followup_key(WireFollowUp(17)) == followup_key(FollowUp("17", "y", AT))


def test_a_followup_without_id_and_without_time_zone_is_refused() -> None:
    with pytest.raises(ValueError, match="has no time zone"):
        followup_key(FollowUp(None, "x", datetime(2026, 11, 29, 14, 5)))


def test_followups_already_stored_are_not_new() -> None:
    old = FollowUp("1", "Diterima", AT)
    fresh = FollowUp("2", "Ditindaklanjuti", AT + timedelta(hours=1))

    assert new_followups({followup_key(old)}, [old, fresh]) == [fresh]


def test_a_followup_sent_twice_in_one_answer_is_new_once() -> None:
    first = FollowUp(None, "Ditindaklanjuti", AT)
    again = FollowUp(None, "Ditindaklanjuti ", AT)

    assert new_followups(set(), [first, again]) == [first]


def test_new_followups_come_oldest_first_and_ties_keep_the_channels_order() -> None:
    late = FollowUp("3", "c", AT + timedelta(hours=2))
    tie_a = FollowUp("1", "a", AT)
    tie_b = FollowUp("2", "b", AT.astimezone(WIB))

    assert new_followups((), [late, tie_a, tie_b]) == [tie_a, tie_b, late]


def test_nothing_is_new_when_the_channel_sends_nothing() -> None:
    assert new_followups({"id:1"}, []) == []


def log(status: str, hour: int) -> StatusLogEntry:
    return StatusLogEntry(status, AT + timedelta(hours=hour))


BT, T, DP, S = "Belum Terverifikasi", "Terverifikasi", "Dalam Proses", "Selesai"


@pytest.mark.parametrize(
    ("entries", "last_status", "after", "kept"),
    [
        pytest.param([log(BT, 0), log(T, 1), log(DP, 2)], None, None, [0, 1, 2], id="all new"),
        pytest.param([log(DP, 2), log(BT, 0), log(T, 1)], None, None, [1, 2, 0], id="sorted"),
        pytest.param([log(BT, 0), log(BT, 1), log(T, 2)], None, None, [0, 2], id="repeat"),
        pytest.param(
            [log(T, 1), log("terverifikasi ", 2)], None, None, [0], id="repeat in another case"
        ),
        pytest.param([log(BT, 0), log(T, 1)], T, None, [0, 1], id="last status differs"),
        pytest.param([log(T, 1), log(DP, 2)], T, None, [1], id="same as the stored status"),
        pytest.param(
            [log(BT, 0), log(T, 1), log(DP, 2)], T, AT + timedelta(hours=1), [2], id="history"
        ),
        pytest.param(
            [log(BT, 0), log(T, 1), log(T, 3)], None, AT + timedelta(hours=1), [], id="cut repeat"
        ),
        pytest.param(
            [log(BT, 0), log(T, 1), log(S, 3)], None, AT + timedelta(hours=1), [2], id="cut new"
        ),
        pytest.param([log(BT, 0)], BT, AT, [], id="nothing after the cut"),
        pytest.param([], DP, None, [], id="empty"),
        pytest.param([log(DP, 2), log(T, 2)], None, None, [0, 1], id="tie keeps order"),
        pytest.param([log(DP, 0), log(T, 1), log(DP, 2)], None, None, [0, 1, 2], id="back"),
    ],
)
def test_status_history_is_applied_in_time_order_without_repeats(
    entries: list[StatusLogEntry],
    last_status: str | None,
    after: datetime | None,
    kept: list[int],
) -> None:
    result = dedupe_status_logs(entries, last_status=last_status, after=after)

    assert result == [entries[i] for i in kept]


def test_a_status_history_entry_without_time_zone_is_refused() -> None:
    with pytest.raises(ValueError, match="has no time zone"):
        dedupe_status_logs([StatusLogEntry(T, datetime(2026, 11, 29, 14, 5))])
