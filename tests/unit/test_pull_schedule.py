"""When a complaint's national status is pulled next."""

from __future__ import annotations

import tomllib
from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from oss_bridge.config import PullTier, StatusPullSettings
from oss_bridge.services.complaints.schedule import next_pull_at, pull_interval, spread_for

NOW = datetime(2026, 11, 29, 7, 5, tzinfo=UTC)
DEFAULT = StatusPullSettings()
TIERS = DEFAULT.tiers


def pull_after(
    *,
    received_ago: timedelta,
    changed_ago: timedelta | None = None,
    unchanged: int = 0,
    growth: float = 1.0,
    jitter: float = 0.0,
    spread: float = 0.0,
    final: bool = False,
    tiers: list[PullTier] = TIERS,
) -> timedelta | None:
    at = next_pull_at(
        now=NOW,
        received_at=NOW - received_ago,
        last_change_at=None if changed_ago is None else NOW - changed_ago,
        final=final,
        consecutive_unchanged=unchanged,
        tiers=tiers,
        growth=growth,
        jitter=jitter,
        spread=spread,
    )
    return None if at is None else at - NOW


def test_the_default_tiers_pull_young_complaints_every_five_minutes_then_less_often() -> None:
    assert [(t.quiet_below_hours, t.every_minutes) for t in TIERS] == [
        (24, 5),
        (24 * 7, 30),
        (24 * 30, 240),
        (None, 24 * 60),
    ]


@pytest.mark.parametrize(
    ("received_ago", "every"),
    [
        pytest.param(timedelta(0), timedelta(minutes=5), id="just received"),
        pytest.param(timedelta(hours=23, minutes=59), timedelta(minutes=5), id="almost a day"),
        pytest.param(timedelta(days=1), timedelta(minutes=30), id="a day"),
        pytest.param(timedelta(days=6, hours=23), timedelta(minutes=30), id="almost a week"),
        pytest.param(timedelta(days=7), timedelta(hours=4), id="a week"),
        pytest.param(timedelta(days=29), timedelta(hours=4), id="almost a month"),
        pytest.param(timedelta(days=30), timedelta(days=1), id="a month"),
        pytest.param(timedelta(days=400), timedelta(days=1), id="over a year"),
        pytest.param(timedelta(minutes=-3), timedelta(minutes=5), id="received in the future"),
    ],
)
def test_a_quiet_complaint_is_pulled_less_often_the_older_it_gets(
    received_ago: timedelta, every: timedelta
) -> None:
    assert pull_after(received_ago=received_ago) == every


@pytest.mark.parametrize(
    ("changed_ago", "every"),
    [
        pytest.param(timedelta(hours=2), timedelta(minutes=5), id="changed today"),
        pytest.param(timedelta(days=3), timedelta(minutes=30), id="changed this week"),
        pytest.param(timedelta(days=10), timedelta(hours=4), id="changed this month"),
        pytest.param(timedelta(days=60), timedelta(days=1), id="changed at receipt"),
        pytest.param(timedelta(days=90), timedelta(days=1), id="change before receipt"),
    ],
)
def test_a_change_makes_an_old_complaint_active_again(
    changed_ago: timedelta, every: timedelta
) -> None:
    assert pull_after(received_ago=timedelta(days=60), changed_ago=changed_ago) == every


@pytest.mark.parametrize("received_ago", [timedelta(0), timedelta(days=400)])
def test_a_complaint_with_a_final_status_is_never_pulled_again(received_ago: timedelta) -> None:
    assert pull_after(received_ago=received_ago, changed_ago=timedelta(0), final=True) is None


@pytest.mark.parametrize(
    ("quiet_for", "unchanged", "growth", "every_minutes"),
    [
        pytest.param(timedelta(0), 0, 2.0, 5, id="no stretch before an unchanged pull"),
        pytest.param(timedelta(0), 1, 2.0, 10, id="doubled once"),
        pytest.param(timedelta(0), 2, 2.0, 20, id="doubled twice"),
        pytest.param(timedelta(0), 3, 2.0, 30, id="stops at the next tier"),
        pytest.param(timedelta(0), 10**9, 2.0, 30, id="endless quiet stays at the next tier"),
        pytest.param(timedelta(0), 10, 1.0, 5, id="growth 1 turns stretching off"),
        pytest.param(timedelta(days=2), 1, 1.5, 45, id="second tier stretches"),
        pytest.param(timedelta(days=2), 20, 1.5, 240, id="second tier stops at the third"),
        pytest.param(timedelta(days=90), 50, 4.0, 1440, id="last tier never stretches"),
    ],
)
def test_each_unchanged_pull_stretches_the_interval_up_to_the_next_tier(
    quiet_for: timedelta, unchanged: int, growth: float, every_minutes: float
) -> None:
    interval = pull_interval(
        quiet_for=quiet_for, consecutive_unchanged=unchanged, tiers=TIERS, growth=growth
    )

    assert interval == pytest.approx(
        timedelta(minutes=every_minutes), abs=timedelta(milliseconds=1)
    )


def test_a_tier_never_stretches_below_its_own_interval() -> None:
    odd = [PullTier(quiet_below_hours=1, every_minutes=60), PullTier(every_minutes=10)]

    interval = pull_interval(quiet_for=timedelta(0), consecutive_unchanged=5, tiers=odd, growth=2.0)

    assert interval == timedelta(minutes=60)


@pytest.mark.parametrize(
    ("jitter", "spread", "every"),
    [
        pytest.param(0.0, 0.9, timedelta(minutes=5), id="no jitter"),
        pytest.param(0.1, 0.0, timedelta(minutes=5), id="spread zero"),
        pytest.param(0.1, 0.5, timedelta(minutes=4, seconds=45), id="half the jitter"),
        pytest.param(0.2, 0.5, timedelta(minutes=4, seconds=30), id="more jitter"),
    ],
)
def test_jitter_brings_a_pull_forward_by_a_share_of_its_interval(
    jitter: float, spread: float, every: timedelta
) -> None:
    assert pull_after(received_ago=timedelta(0), jitter=jitter, spread=spread) == every


@given(
    spread=st.floats(min_value=0.0, max_value=1.0, exclude_max=True),
    jitter=st.floats(min_value=0.0, max_value=0.5),
    received_days=st.integers(min_value=0, max_value=400),
    unchanged=st.integers(min_value=0, max_value=1000),
)
def test_a_complaint_is_pulled_within_the_jitter_before_its_tier_promises(
    spread: float, jitter: float, received_days: int, unchanged: int
) -> None:
    received_ago = timedelta(days=received_days)
    plain = pull_interval(
        quiet_for=received_ago,
        consecutive_unchanged=unchanged,
        tiers=TIERS,
        growth=DEFAULT.unchanged_growth,
    )

    after = pull_after(
        received_ago=received_ago,
        unchanged=unchanged,
        growth=DEFAULT.unchanged_growth,
        jitter=jitter,
        spread=spread,
    )

    assert after is not None
    assert plain / 2 <= after <= plain


def test_the_spread_of_a_complaint_is_stable_and_below_one() -> None:
    spreads = [spread_for(key) for key in ("PGD-1405-20261129-000123", 42, "42")]

    assert spreads == [spread_for(key) for key in ("PGD-1405-20261129-000123", 42, "42")]
    assert all(0.0 <= spread < 1.0 for spread in spreads)


def test_complaints_received_together_do_not_pull_in_the_same_second() -> None:
    pulls = [
        pull_after(
            received_ago=timedelta(0),
            jitter=DEFAULT.jitter,
            spread=spread_for(f"PGD-1405-20261129-{seq:06d}"),
        )
        for seq in range(1, 1001)
    ]
    seconds = Counter(int(pull.total_seconds()) for pull in pulls if pull is not None)
    window = timedelta(minutes=5) * DEFAULT.jitter

    # 1000 pulls over a 30-second window: about 33 a second if evenly spread.
    assert len(seconds) >= window.total_seconds() - 1
    assert max(seconds.values()) <= 60


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"jitter": 0.6}, "jitter = 0.6 must be from 0 to 0.5"),
        ({"jitter": -0.1}, "jitter = -0.1 must be from 0 to 0.5"),
        ({"spread": 1.0}, "spread = 1.0 must be in"),
        ({"growth": 0.5}, "growth = 0.5 must be at least 1.0"),
        ({"unchanged": -1}, "consecutive_unchanged = -1 must be 0 or more"),
        ({"tiers": []}, "tiers is empty"),
    ],
)
def test_bad_schedule_arguments_are_refused(changes: dict[str, object], message: str) -> None:
    arguments: dict[str, object] = {"received_ago": timedelta(0), **changes}

    with pytest.raises(ValueError, match=message):
        pull_after(**arguments)  # type: ignore[arg-type]


def test_a_time_without_zone_is_refused() -> None:
    with pytest.raises(ValueError, match="has no time zone"):
        next_pull_at(
            now=NOW,
            received_at=datetime(2026, 11, 29, 7, 5),
            last_change_at=None,
            final=False,
            consecutive_unchanged=0,
            tiers=TIERS,
            growth=1.0,
            jitter=0.0,
            spread=0.0,
        )


def test_tiers_can_be_configured_in_toml() -> None:
    text = """
    unchanged_growth = 1.0
    jitter = 0.0
    [[tiers]]
    quiet_below_hours = 2
    every_minutes = 1
    [[tiers]]
    every_minutes = 60
    """
    configured = StatusPullSettings.model_validate(tomllib.loads(text))

    assert pull_after(received_ago=timedelta(hours=1), tiers=configured.tiers) == timedelta(
        minutes=1
    )
    assert pull_after(received_ago=timedelta(hours=3), tiers=configured.tiers) == timedelta(hours=1)


@pytest.mark.parametrize(
    ("tiers", "message"),
    [
        pytest.param(
            [{"quiet_below_hours": 24, "every_minutes": 5}], "the last must have none", id="open"
        ),
        pytest.param(
            [{"every_minutes": 5}, {"every_minutes": 60}],
            "every tier but the last needs quiet_below_hours",
            id="two open tiers",
        ),
        pytest.param(
            [
                {"quiet_below_hours": 48, "every_minutes": 5},
                {"quiet_below_hours": 24, "every_minutes": 30},
                {"every_minutes": 60},
            ],
            "must grow from tier to tier",
            id="unsorted",
        ),
        pytest.param(
            [{"quiet_below_hours": 24, "every_minutes": 0}, {"every_minutes": 60}],
            "greater than 0",
            id="zero interval",
        ),
        pytest.param([], "at least 1 item", id="no tiers"),
    ],
)
def test_bad_tiers_are_refused(tiers: list[dict[str, float]], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        StatusPullSettings.model_validate({"tiers": tiers})
