"""Working days of the office and the statutory deadlines of a complaint."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta, timezone

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from oss_bridge.config import DeadlineSettings
from oss_bridge.services.complaints.deadlines import (
    Deadline,
    WorkingCalendar,
    deadlines_for,
    end_of_office_day,
    is_overdue,
)

WIB = timezone(timedelta(hours=7))
PUBLIC = WorkingCalendar(years=[2025, 2026, 2027])
WITH_JOINT_LEAVE = WorkingCalendar(years=[2026, 2027], categories=("public", "government"))
DEFAULTS = DeadlineSettings()


def wib(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=WIB)


def end_of(day: date) -> datetime:
    return datetime.combine(day, time.max, WIB).astimezone(UTC)


# What the holidays package says about Indonesia in 2026 and 2027; the tables below rely on these.
@pytest.mark.parametrize(
    "day",
    [
        date(2026, 1, 1),  # Tahun Baru Masehi
        date(2026, 3, 19),  # Hari Suci Nyepi
        date(2026, 3, 21),  # Idul Fitri 1447 H
        date(2026, 3, 22),  # Idul Fitri, second day
        date(2026, 5, 27),  # Idul Adha
        date(2026, 8, 17),  # Hari Kemerdekaan
        date(2026, 12, 25),  # Hari Raya Natal
        date(2027, 1, 1),
        date(2027, 1, 5),  # Isra Mi'raj 1448 H
    ],
)
def test_the_calendar_knows_the_indonesian_public_holidays(day: date) -> None:
    assert PUBLIC.holiday_name(day) is not None
    assert not PUBLIC.is_working_day(day)


@pytest.mark.parametrize(
    ("day", "working"),
    [
        (date(2026, 11, 27), True),  # Friday
        (date(2026, 11, 28), False),  # Saturday
        (date(2026, 11, 29), False),  # Sunday
        (date(2026, 11, 30), True),  # Monday
        (date(2026, 8, 17), False),  # Independence Day, a Monday
        (date(2026, 8, 18), True),
        (date(2026, 3, 20), True),  # joint leave before Idul Fitri: not a public holiday
        (date(2026, 12, 24), True),  # joint leave before Christmas: not a public holiday
    ],
)
def test_working_days_are_weekdays_that_are_not_public_holidays(day: date, working: bool) -> None:
    assert PUBLIC.is_working_day(day) is working


@pytest.mark.parametrize(
    "day", [date(2026, 3, 20), date(2026, 3, 23), date(2026, 3, 24), date(2026, 12, 24)]
)
def test_joint_leave_days_are_days_off_when_configured(day: date) -> None:
    assert not WITH_JOINT_LEAVE.is_working_day(day)


def test_extra_holidays_from_config_are_days_off() -> None:
    calendar = WorkingCalendar(extra_holidays=[date(2026, 10, 14)])

    assert not calendar.is_working_day(date(2026, 10, 14))
    assert calendar.holiday_name(date(2026, 10, 14)) == "extra holiday from config"


def test_weekends_are_not_holidays_but_are_not_working_days() -> None:
    assert PUBLIC.holiday_name(date(2026, 11, 28)) is None
    assert not PUBLIC.is_working_day(date(2026, 11, 28))


@pytest.mark.parametrize(
    ("calendar", "start", "n", "expected"),
    [
        pytest.param(PUBLIC, date(2026, 11, 23), 3, date(2026, 11, 26), id="monday plain week"),
        pytest.param(PUBLIC, date(2026, 11, 27), 3, date(2026, 12, 2), id="friday"),
        pytest.param(PUBLIC, date(2026, 11, 28), 3, date(2026, 12, 2), id="saturday"),
        pytest.param(PUBLIC, date(2026, 11, 29), 1, date(2026, 11, 30), id="sunday"),
        pytest.param(PUBLIC, date(2026, 11, 27), 0, date(2026, 11, 27), id="zero"),
        pytest.param(PUBLIC, date(2026, 8, 14), 3, date(2026, 8, 20), id="over 17 august"),
        pytest.param(PUBLIC, date(2026, 3, 18), 3, date(2026, 3, 24), id="day before nyepi"),
        pytest.param(PUBLIC, date(2026, 3, 20), 3, date(2026, 3, 25), id="day before idul fitri"),
        pytest.param(
            WITH_JOINT_LEAVE, date(2026, 3, 20), 3, date(2026, 3, 27), id="idul fitri joint leave"
        ),
        pytest.param(PUBLIC, date(2026, 12, 24), 5, date(2027, 1, 4), id="over christmas and 1/1"),
        pytest.param(PUBLIC, date(2026, 12, 24), 10, date(2027, 1, 12), id="10 over new year"),
        pytest.param(
            WITH_JOINT_LEAVE, date(2026, 12, 23), 1, date(2026, 12, 28), id="christmas leave"
        ),
    ],
)
def test_adding_working_days_skips_weekends_and_holidays(
    calendar: WorkingCalendar, start: date, n: int, expected: date
) -> None:
    assert calendar.add_working_days(start, n) == expected


@pytest.mark.parametrize(
    ("start", "expected"),
    [
        pytest.param(wib(2026, 11, 27, 19, 30), date(2026, 12, 2), id="friday evening WIB"),
        pytest.param(wib(2026, 11, 27, 0, 5), date(2026, 12, 2), id="friday just after midnight"),
        pytest.param(
            datetime(2026, 11, 26, 20, 0, tzinfo=UTC), date(2026, 12, 2), id="thursday UTC=friday"
        ),
        pytest.param(
            datetime(2026, 11, 26, 16, 59, tzinfo=UTC), date(2026, 12, 1), id="thursday 23:59 WIB"
        ),
    ],
)
def test_an_instant_counts_from_its_day_in_western_indonesia_time(
    start: datetime, expected: date
) -> None:
    assert PUBLIC.add_working_days(start, 3) == expected


def test_adding_negative_working_days_is_refused() -> None:
    with pytest.raises(ValueError, match="must not be negative"):
        PUBLIC.add_working_days(date(2026, 11, 27), -1)


def test_a_calendar_without_working_days_is_refused_rather_than_looping() -> None:
    start = date(2026, 1, 1)
    closed = WorkingCalendar(extra_holidays=[start + timedelta(days=i) for i in range(1, 200)])

    with pytest.raises(ValueError, match="no working day"):
        closed.add_working_days(start, 1)


def test_a_time_without_zone_is_refused() -> None:
    with pytest.raises(ValueError, match="has no time zone"):
        PUBLIC.add_working_days(datetime(2026, 11, 27, 19, 30), 3)


@pytest.mark.parametrize(
    ("a", "b", "expected"),
    [
        (date(2026, 11, 27), date(2026, 11, 27), 0),
        (date(2026, 11, 27), date(2026, 11, 29), 0),
        (date(2026, 11, 27), date(2026, 11, 30), 1),
        (date(2026, 11, 23), date(2026, 11, 27), 4),
        (date(2026, 11, 30), date(2026, 11, 27), -1),
        (date(2026, 8, 14), date(2026, 8, 21), 4),
        (date(2026, 12, 24), date(2027, 1, 4), 5),
        (date(2026, 1, 1), date(2026, 12, 31), 248),
    ],
)
def test_working_days_between_count_the_days_after_the_first_up_to_the_last(
    a: date, b: date, expected: int
) -> None:
    assert PUBLIC.working_days_between(a, b) == expected


@settings(max_examples=150, deadline=None)
@given(
    start=st.dates(min_value=date(2025, 1, 1), max_value=date(2027, 12, 31)),
    n=st.integers(min_value=0, max_value=40),
)
def test_counting_back_the_working_days_added_gives_the_same_number(start: date, n: int) -> None:
    due = PUBLIC.add_working_days(start, n)

    assert PUBLIC.working_days_between(start, due) == n
    assert PUBLIC.is_working_day(due) or n == 0


def test_a_deadline_falls_due_at_the_last_instant_of_its_day_in_wib() -> None:
    assert end_of_office_day(date(2026, 12, 2)) == datetime(
        2026, 12, 2, 16, 59, 59, 999999, tzinfo=UTC
    )


RECEIVED_FRIDAY_EVENING = wib(2026, 11, 27, 19, 30)


def by_name(deadlines: list[Deadline]) -> dict[str, Deadline]:
    return {deadline.name: deadline for deadline in deadlines}


def test_a_new_complaint_has_verification_first_response_and_resolution_deadlines() -> None:
    deadlines = deadlines_for(
        RECEIVED_FRIDAY_EVENING,
        settings=DEFAULTS,
        now=RECEIVED_FRIDAY_EVENING,
        calendar=PUBLIC,
    )

    assert [(d.name, d.due_at) for d in deadlines] == [
        ("verification", end_of(date(2026, 12, 2))),
        ("first_response", end_of(date(2026, 12, 4))),
        ("resolution", end_of(date(2027, 1, 26))),
    ]
    assert all(d.state == "running" for d in deadlines)


def test_the_closure_clock_runs_from_the_first_response() -> None:
    deadlines = deadlines_for(
        RECEIVED_FRIDAY_EVENING,
        settings=DEFAULTS,
        now=wib(2026, 12, 24, 12),
        verified_at=wib(2026, 11, 30, 9),
        first_response_at=wib(2026, 12, 11, 10),
        calendar=PUBLIC,
    )

    closure = by_name(deadlines)["closure"]
    assert closure.due_at == end_of(date(2026, 12, 28))
    assert closure.state == "running"


@pytest.mark.parametrize(
    ("received", "expected_due"),
    [
        pytest.param(wib(2026, 3, 20, 16), date(2026, 3, 25), id="day before idul fitri"),
        pytest.param(wib(2026, 3, 18, 9), date(2026, 3, 24), id="day before nyepi"),
        pytest.param(wib(2026, 11, 27, 19, 30), date(2026, 12, 2), id="friday evening"),
        # 1 January and Isra Mi'raj on Tuesday 5 January 2027 are both holidays.
        pytest.param(wib(2026, 12, 31, 15), date(2027, 1, 7), id="new year's eve"),
        pytest.param(wib(2026, 12, 24, 10), date(2026, 12, 30), id="christmas eve"),
        pytest.param(wib(2026, 8, 16, 10), date(2026, 8, 20), id="sunday before 17 august"),
    ],
)
def test_verification_is_due_three_working_days_after_receipt(
    received: datetime, expected_due: date
) -> None:
    deadlines = deadlines_for(received, settings=DEFAULTS, now=received, calendar=PUBLIC)

    assert by_name(deadlines)["verification"].due_at == end_of(expected_due)


@pytest.mark.parametrize(
    ("received", "expected_due"),
    [
        pytest.param(wib(2026, 11, 29, 10), date(2027, 1, 28), id="over new year"),
        pytest.param(wib(2026, 11, 29, 0, 30), date(2027, 1, 28), id="early morning WIB"),
        pytest.param(wib(2026, 2, 1, 23), date(2026, 4, 2), id="february"),
    ],
)
def test_resolution_is_due_sixty_calendar_days_after_the_day_of_receipt(
    received: datetime, expected_due: date
) -> None:
    deadlines = deadlines_for(received, settings=DEFAULTS, now=received, calendar=PUBLIC)

    assert by_name(deadlines)["resolution"].due_at == end_of(expected_due)


VERIFICATION_DUE = end_of(date(2026, 12, 2))


@pytest.mark.parametrize(
    ("now", "verified_at", "overdue", "state"),
    [
        pytest.param(VERIFICATION_DUE, None, False, "running", id="at the last instant"),
        pytest.param(
            VERIFICATION_DUE + timedelta(microseconds=1), None, True, "overdue", id="just after"
        ),
        pytest.param(
            VERIFICATION_DUE + timedelta(days=3),
            VERIFICATION_DUE,
            False,
            "met",
            id="met at the last instant",
        ),
        pytest.param(
            VERIFICATION_DUE + timedelta(days=3),
            wib(2026, 11, 30, 8),
            False,
            "met",
            id="met early",
        ),
        pytest.param(
            VERIFICATION_DUE + timedelta(days=3),
            VERIFICATION_DUE + timedelta(seconds=1),
            False,
            "met_late",
            id="met late",
        ),
    ],
)
def test_a_deadline_is_overdue_only_while_its_step_is_outstanding_after_it(
    now: datetime, verified_at: datetime | None, overdue: bool, state: str
) -> None:
    deadlines = deadlines_for(
        RECEIVED_FRIDAY_EVENING,
        settings=DEFAULTS,
        now=now,
        verified_at=verified_at,
        calendar=PUBLIC,
    )

    verification = by_name(deadlines)["verification"]
    assert (verification.overdue, verification.state) == (overdue, state)
    assert verification.met_at == verified_at


def test_a_complaint_with_an_overdue_step_is_overdue() -> None:
    deadlines = deadlines_for(
        RECEIVED_FRIDAY_EVENING,
        settings=DEFAULTS,
        now=wib(2026, 12, 5, 9),
        verified_at=wib(2026, 11, 30, 9),
        calendar=PUBLIC,
    )

    assert [d.name for d in deadlines if d.overdue] == ["first_response"]
    assert is_overdue(deadlines)


def test_a_complaint_with_every_step_on_time_is_not_overdue() -> None:
    deadlines = deadlines_for(
        RECEIVED_FRIDAY_EVENING,
        settings=DEFAULTS,
        now=wib(2026, 12, 5, 9),
        verified_at=wib(2026, 11, 30, 9),
        first_response_at=wib(2026, 12, 3, 9),
        calendar=PUBLIC,
    )

    assert not is_overdue(deadlines)


def test_closing_a_complaint_stops_every_clock() -> None:
    closed_at = wib(2026, 11, 30, 9)
    deadlines = deadlines_for(
        RECEIVED_FRIDAY_EVENING,
        settings=DEFAULTS,
        now=wib(2027, 6, 1),
        closed_at=closed_at,
        calendar=PUBLIC,
    )

    assert all(d.met_at == closed_at for d in deadlines)
    assert not is_overdue(deadlines)


def test_a_complaint_left_open_past_its_resolution_day_is_overdue() -> None:
    deadlines = deadlines_for(
        RECEIVED_FRIDAY_EVENING,
        settings=DEFAULTS,
        now=wib(2027, 1, 27, 0, 1),
        verified_at=wib(2026, 11, 30, 9),
        first_response_at=wib(2026, 12, 1, 9),
        calendar=PUBLIC,
    )

    assert {d.name for d in deadlines if d.overdue} == {"closure", "resolution"}


def test_configured_working_days_replace_the_defaults() -> None:
    custom = DeadlineSettings(verification_working_days=1, resolution_days=14)

    deadlines = deadlines_for(
        RECEIVED_FRIDAY_EVENING, settings=custom, now=RECEIVED_FRIDAY_EVENING, calendar=PUBLIC
    )

    assert by_name(deadlines)["verification"].due_at == end_of(date(2026, 11, 30))
    assert by_name(deadlines)["resolution"].due_at == end_of(date(2026, 12, 11))


@pytest.mark.parametrize(
    ("configured", "expected_due"),
    [
        pytest.param({}, date(2026, 3, 25), id="public holidays only"),
        pytest.param(
            {"holiday_categories": ["public", "government"]}, date(2026, 3, 27), id="joint leave"
        ),
        pytest.param(
            {"extra_holidays": [date(2026, 3, 25)]}, date(2026, 3, 26), id="an extra holiday"
        ),
    ],
)
def test_without_a_calendar_the_settings_describe_the_days_off(
    configured: dict[str, object], expected_due: date
) -> None:
    received = wib(2026, 3, 20, 16)
    configured_settings = DeadlineSettings.model_validate(configured)

    deadlines = deadlines_for(received, settings=configured_settings, now=received)

    assert by_name(deadlines)["verification"].due_at == end_of(expected_due)


def test_deadlines_come_back_in_utc() -> None:
    deadlines = deadlines_for(
        RECEIVED_FRIDAY_EVENING, settings=DEFAULTS, now=RECEIVED_FRIDAY_EVENING, calendar=PUBLIC
    )

    assert all(d.due_at.utcoffset() == timedelta(0) for d in deadlines)


@pytest.mark.parametrize("naive", ["received_at", "now", "verified_at", "first_response_at"])
def test_deadlines_refuse_times_without_zone(naive: str) -> None:
    times: dict[str, datetime] = {
        "received_at": RECEIVED_FRIDAY_EVENING,
        "now": RECEIVED_FRIDAY_EVENING,
        "verified_at": RECEIVED_FRIDAY_EVENING,
        "first_response_at": RECEIVED_FRIDAY_EVENING,
    }
    times[naive] = datetime(2026, 11, 27, 19, 30)

    with pytest.raises(ValueError, match=f"{naive} .* has no time zone"):
        deadlines_for(
            times["received_at"],
            settings=DEFAULTS,
            now=times["now"],
            verified_at=times["verified_at"],
            first_response_at=times["first_response_at"],
            calendar=PUBLIC,
        )
