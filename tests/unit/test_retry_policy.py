"""The declared retry policy of the national-system clients, as pure decisions."""

from __future__ import annotations

import math
from datetime import UTC, datetime
from typing import Any

import pytest

from oss_bridge.clients.retry import RetryPolicy, Wait, parse_retry_after
from oss_bridge.config import LaporSettings, OssSettings
from oss_bridge.errors import (
    AuthenticationFailed,
    BridgeError,
    ConfigError,
    MalformedResponse,
    OutcomeUnknown,
    RateLimited,
    RequestRejected,
    ServerError,
    TransportError,
    ValidationRejected,
    VersionConflict,
)

NOW = datetime(2025, 1, 6, 8, 0, 0, tzinfo=UTC)
WHERE: dict[str, Any] = {"system": "lapor", "endpoint": "GET /masters/categories"}


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        pytest.param(None, None, id="absent"),
        pytest.param("7", 7.0, id="seconds"),
        pytest.param(" 7 ", 7.0, id="seconds-padded"),
        pytest.param("0", 0.0, id="zero"),
        pytest.param("1.5", 1.5, id="fractional-seconds"),
        pytest.param("100000", 100000.0, id="large-seconds-left-to-the-policy"),
        pytest.param("Mon, 06 Jan 2025 08:00:30 GMT", 30.0, id="http-date"),
        pytest.param("Monday, 06-Jan-25 08:01:00 GMT", 60.0, id="rfc850-date"),
        pytest.param("Mon Jan  6 08:02:00 2025", 120.0, id="asctime-date"),
        pytest.param("Mon, 06 Jan 2025 07:59:00 GMT", None, id="date-in-the-past"),
        pytest.param("-5", None, id="negative"),
        pytest.param("inf", None, id="inf"),
        pytest.param("-inf", None, id="minus-inf"),
        pytest.param("Infinity", None, id="infinity"),
        pytest.param("nan", None, id="nan"),
        pytest.param("NaN", None, id="nan-capitalised"),
        pytest.param("1e9", None, id="exponent-not-delta-seconds"),
        pytest.param("soon", None, id="words"),
        pytest.param("", None, id="empty"),
        pytest.param("Mon, 99 Foo 2025 08:00:30 GMT", None, id="broken-date"),
    ],
)
def test_retry_after_is_read_as_seconds_or_as_an_http_date(
    header: str | None, expected: float | None
) -> None:
    assert parse_retry_after(header, now=NOW) == expected


def test_a_far_future_retry_after_date_is_returned_for_the_policy_to_refuse() -> None:
    seconds = parse_retry_after("Fri, 31 Dec 9999 23:59:59 GMT", now=NOW)

    assert seconds is not None
    assert RetryPolicy().retry_after_wait(seconds) is None


@pytest.mark.parametrize(
    ("hint", "expected"),
    [
        pytest.param(None, None, id="no-hint"),
        pytest.param(0.0, 0.0, id="zero"),
        pytest.param(7.0, 7.0, id="within-cap"),
        pytest.param(120.0, 120.0, id="at-cap"),
        pytest.param(600.0, 120.0, id="above-cap-is-capped"),
        pytest.param(86_400.0, 120.0, id="a-day-is-capped"),
        pytest.param(86_401.0, None, id="beyond-horizon-is-absurd"),
        pytest.param(-1.0, None, id="negative-is-absurd"),
        pytest.param(math.inf, None, id="inf-is-absurd"),
        pytest.param(math.nan, None, id="nan-is-absurd"),
    ],
)
def test_a_retry_after_hint_is_honoured_up_to_the_cap_and_absurd_ones_are_refused(
    hint: float | None, expected: float | None
) -> None:
    assert RetryPolicy(retry_after_cap=120.0).retry_after_wait(hint) == expected


@pytest.mark.parametrize(
    ("attempt", "draw", "expected"),
    [
        (1, 0.999, 0.999),
        (2, 0.999, 1.998),
        (3, 0.5, 2.0),
        (4, 1.0, 8.0),
        (5, 1.0, 10.0),
        (50, 1.0, 10.0),
        (3, 0.0, 0.0),
    ],
)
def test_backoff_is_exponential_with_full_jitter_and_a_cap(
    attempt: int, draw: float, expected: float
) -> None:
    policy = RetryPolicy(backoff_initial=1.0, backoff_max=10.0)

    assert policy.backoff(attempt, draw) == pytest.approx(expected)


@pytest.mark.parametrize(
    ("retry_after", "expected"),
    [
        pytest.param(30.0, Wait(30.0, "retry_after"), id="sane-hint"),
        pytest.param(None, Wait(2.0, "backoff"), id="no-hint"),
        pytest.param(math.inf, Wait(2.0, "backoff"), id="absurd-hint"),
    ],
)
def test_a_rate_limit_waits_for_its_hint_or_falls_back_to_backoff(
    retry_after: float | None, expected: Wait
) -> None:
    policy = RetryPolicy(backoff_initial=1.0, backoff_max=10.0)
    error = RateLimited("slow down", retry_after=retry_after, status=429, **WHERE)

    assert policy.wait(error, attempt=3, draw=0.5) == expected


def test_a_server_error_waits_for_backoff_whatever_its_headers_said() -> None:
    policy = RetryPolicy(backoff_initial=1.0, backoff_max=10.0)
    error = ServerError("failed", status=500, **WHERE)

    assert policy.wait(error, attempt=1, draw=0.5) == Wait(0.5, "backoff")


@pytest.mark.parametrize(
    ("error", "retried"),
    [
        (TransportError("refused", **WHERE), True),
        (RateLimited("429", status=429, **WHERE), True),
        (ServerError("500", status=500, **WHERE), True),
        (MalformedResponse("garbage", **WHERE), True),
        (OutcomeUnknown("no answer", **WHERE), False),
        (AuthenticationFailed("401", config_key="lapor.token", **WHERE), False),
        (RequestRejected("404", status=404, **WHERE), False),
        (ValidationRejected("422", status=422, **WHERE), False),
        (VersionConflict("409", status=409, **WHERE), False),
        (ConfigError("bad"), False),
        (BridgeError("other"), False),
        (ValueError("a bug"), False),
    ],
    ids=lambda value: type(value).__name__ if isinstance(value, BaseException) else str(value),
)
def test_what_is_retried_is_decided_by_the_error_class(error: Exception, retried: bool) -> None:
    assert RetryPolicy().should_retry(error) is retried


@pytest.mark.parametrize("settings_cls", [OssSettings, LaporSettings])
def test_the_policy_is_built_from_the_clients_settings(
    settings_cls: type[OssSettings] | type[LaporSettings],
) -> None:
    settings = settings_cls(
        max_attempts=7,
        total_deadline=42.0,
        backoff_initial=0.25,
        backoff_max=9.0,
        retry_after_cap=30.0,
    )

    policy = RetryPolicy.from_settings(settings)

    assert (
        policy.max_attempts,
        policy.total_deadline,
        policy.backoff_initial,
        policy.backoff_max,
        policy.retry_after_cap,
    ) == (7, 42.0, 0.25, 9.0, 30.0)


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("max_attempts", 0),
        ("total_deadline", 0.0),
        ("backoff_initial", -1.0),
        ("backoff_max", math.inf),
        ("retry_after_cap", math.nan),
        ("retry_after_horizon", 0.0),
    ],
)
def test_a_policy_with_a_nonsensical_value_is_refused_naming_it(field: str, value: float) -> None:
    with pytest.raises(ValueError, match=field):
        RetryPolicy(**{field: value})  # type: ignore[arg-type]
