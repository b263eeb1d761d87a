"""Waits between attempts to forward a complaint, and when a row is given up as dead."""

from __future__ import annotations

import math
from collections.abc import Callable

import pytest

from oss_bridge.config import ForwarderSettings
from oss_bridge.services.complaints.backoff import next_attempt_delay, should_die

ALMOST_ONE = math.nextafter(1.0, 0.0)


def fixed(value: float) -> Callable[[], float]:
    return lambda: value


def delay(
    attempt: int,
    *,
    draw: float = 0.5,
    retry_after: float | None = None,
    initial: float = 5.0,
    cap: float = 3600.0,
    retry_after_cap: float = 120.0,
) -> float:
    return next_attempt_delay(
        attempt,
        initial=initial,
        cap=cap,
        retry_after=retry_after,
        retry_after_cap=retry_after_cap,
        rand=fixed(draw),
    )


@pytest.mark.parametrize(
    ("attempt", "draw", "expected"),
    [
        (1, 0.5, 2.5),
        (2, 0.5, 5.0),
        (3, 0.5, 10.0),
        (4, 0.25, 10.0),
        (1, 0.0, 0.0),
        (10, 0.5, 1280.0),
        (11, 0.5, 1800.0),
        (12, 0.5, 1800.0),
        (10**6, 0.5, 1800.0),
    ],
)
def test_the_wait_is_a_random_share_of_a_doubling_step_up_to_the_cap(
    attempt: int, draw: float, expected: float
) -> None:
    assert delay(attempt, draw=draw) == pytest.approx(expected)


@pytest.mark.parametrize(("attempt", "ceiling"), [(1, 5.0), (2, 10.0), (5, 80.0), (20, 3600.0)])
def test_the_wait_stays_below_the_step_of_its_attempt(attempt: int, ceiling: float) -> None:
    assert delay(attempt, draw=ALMOST_ONE) < ceiling
    assert delay(attempt, draw=ALMOST_ONE) == pytest.approx(ceiling)


@pytest.mark.parametrize(
    ("attempt", "retry_after", "expected"),
    [
        pytest.param(1, 30.0, 30.0, id="honoured"),
        pytest.param(1, 0.0, 2.5, id="zero: plain backoff"),
        pytest.param(1, 120.0, 120.0, id="at the cap"),
        pytest.param(1, 86_400.0, 120.0, id="beyond the cap waits the cap"),
        pytest.param(10, 30.0, 1280.0, id="backoff already longer"),
        pytest.param(10, 86_400.0, 1280.0, id="capped and backoff longer"),
        pytest.param(1, -5.0, 2.5, id="negative"),
        pytest.param(1, math.nan, 2.5, id="nan"),
        pytest.param(1, math.inf, 2.5, id="infinite"),
        pytest.param(1, -math.inf, 2.5, id="minus infinite"),
        pytest.param(1, None, 2.5, id="absent"),
    ],
)
def test_a_sane_retry_after_is_a_floor_up_to_its_cap(
    attempt: int, retry_after: float | None, expected: float
) -> None:
    assert delay(attempt, retry_after=retry_after) == pytest.approx(expected)


def test_each_wait_draws_once_from_the_injected_random() -> None:
    draws = iter([0.1, 0.9])

    def rand() -> float:
        return next(draws)

    first = next_attempt_delay(
        3, initial=5, cap=3600, retry_after=None, retry_after_cap=120, rand=rand
    )
    second = next_attempt_delay(
        3, initial=5, cap=3600, retry_after=None, retry_after_cap=120, rand=rand
    )

    assert (first, second) == pytest.approx((2.0, 18.0))


def test_the_forwarder_defaults_reach_the_cap_before_the_row_dies() -> None:
    settings = ForwarderSettings()

    last = next_attempt_delay(
        settings.max_attempts - 1,
        initial=settings.backoff_initial,
        cap=settings.backoff_max,
        retry_after=None,
        retry_after_cap=settings.retry_after_cap,
        rand=fixed(ALMOST_ONE),
    )

    assert last == pytest.approx(settings.backoff_max)


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"attempt": 0}, "attempt = 0 must be 1 or more"),
        ({"initial": 0.0}, "initial = 0.0 must be a positive"),
        ({"initial": math.nan}, "initial = nan must be a positive"),
        ({"cap": 1.0}, "cap = 1.0 must be a number of seconds of at least initial"),
        ({"cap": math.inf}, "cap = inf must be"),
        ({"retry_after_cap": 0.0}, "retry_after_cap = 0.0 must be a positive"),
        ({"draw": 1.0}, r"rand\(\) returned 1.0"),
        ({"draw": -0.1}, r"rand\(\) returned -0.1"),
    ],
)
def test_bad_backoff_arguments_are_refused(changes: dict[str, float], message: str) -> None:
    arguments = {"attempt": 1, **changes}

    with pytest.raises(ValueError, match=message):
        delay(**arguments)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("attempts", "max_attempts", "dead"),
    [(0, 12, False), (1, 12, False), (11, 12, False), (12, 12, True), (13, 12, True), (1, 1, True)],
)
def test_a_row_dies_once_it_has_failed_the_configured_number_of_attempts(
    attempts: int, max_attempts: int, dead: bool
) -> None:
    assert should_die(attempts, max_attempts) is dead


def test_a_limit_of_no_attempts_is_refused() -> None:
    with pytest.raises(ValueError, match="max_attempts = 0 must be 1 or more"):
        should_die(0, 0)
