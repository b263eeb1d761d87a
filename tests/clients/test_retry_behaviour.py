"""How the clients retry, wait and give up, against scripted answers (respx).

The complaint channel's category list stands for any read and its create for any call with an
effect; what differs for OSS is tested in test_oss_client.py.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
import respx
from structlog.testing import capture_logs

from oss_bridge.clients import LaporClient, build_http_client
from oss_bridge.config import LaporSettings
from oss_bridge.errors import (
    AuthenticationFailed,
    ExternalSystemError,
    MalformedResponse,
    OutcomeUnknown,
    RateLimited,
    RequestRejected,
    ServerError,
    TransportError,
    ValidationRejected,
)
from tests.clients.support import JITTER, FakeTime, make_complaint, transport_for

MAX_ATTEMPTS = 4
CATEGORIES = {"results": {"data": [{"id": 101, "name": "Perizinan"}]}}
CREATED = {"results": {"complaint_id": "9001", "tracking_id": "LAPOR-9001"}}
# Full-jitter backoff with backoff_initial=1, backoff_max=8 and a draw of JITTER.
BACKOFF = [JITTER * 1, JITTER * 2, JITTER * 4]


def _categories(api: respx.MockRouter) -> respx.Route:
    return api.get("/masters/categories")


def _create(api: respx.MockRouter) -> respx.Route:
    return api.post("/complaints/complaint")


@pytest.mark.parametrize(
    ("status", "error", "attempts"),
    [
        pytest.param(400, RequestRejected, 1, id="400-rejected-at-once"),
        pytest.param(401, AuthenticationFailed, 1, id="401-credentials"),
        pytest.param(403, RequestRejected, 1, id="403-rejected-at-once"),
        pytest.param(404, RequestRejected, 1, id="404-rejected-at-once"),
        pytest.param(409, RequestRejected, 1, id="409-rejected-at-once"),
        pytest.param(422, ValidationRejected, 1, id="422-validation"),
        pytest.param(429, RateLimited, MAX_ATTEMPTS, id="429-retried"),
        pytest.param(500, ServerError, MAX_ATTEMPTS, id="500-retried"),
        pytest.param(502, ServerError, MAX_ATTEMPTS, id="502-retried"),
        pytest.param(503, ServerError, MAX_ATTEMPTS, id="503-without-retry-after-retried"),
        pytest.param(504, ServerError, MAX_ATTEMPTS, id="504-retried"),
        pytest.param(507, ServerError, MAX_ATTEMPTS, id="other-5xx-retried"),
        pytest.param(302, MalformedResponse, MAX_ATTEMPTS, id="redirect-unexpected"),
    ],
)
async def test_every_status_class_raises_its_error_after_the_attempts_it_deserves(
    lapor: LaporClient,
    lapor_api: respx.MockRouter,
    status: int,
    error: type[ExternalSystemError],
    attempts: int,
) -> None:
    route = _categories(lapor_api).respond(status, json={"message": "no"})

    with pytest.raises(error) as caught:
        await lapor.categories()

    assert type(caught.value) is error
    assert route.call_count == attempts
    assert caught.value.status == status


async def test_a_success_is_returned_after_one_attempt(
    lapor: LaporClient, lapor_api: respx.MockRouter, fake_time: FakeTime
) -> None:
    route = _categories(lapor_api).respond(200, json=CATEGORIES)

    items = await lapor.categories()

    assert [(item.id, item.name) for item in items] == [("101", "Perizinan")]
    assert route.call_count == 1
    assert fake_time.waits == []


@pytest.mark.parametrize("failures", [0, 1, 2, 3])
async def test_a_read_that_fails_n_times_then_succeeds_takes_n_plus_one_attempts(
    lapor: LaporClient, lapor_api: respx.MockRouter, fake_time: FakeTime, failures: int
) -> None:
    route = _categories(lapor_api).mock(
        side_effect=[httpx.Response(503)] * failures + [httpx.Response(200, json=CATEGORIES)]
    )

    await lapor.categories()

    assert route.call_count == failures + 1
    assert fake_time.waits == BACKOFF[:failures]


async def test_a_read_that_fails_more_often_than_allowed_raises_its_last_error(
    lapor: LaporClient, lapor_api: respx.MockRouter, fake_time: FakeTime
) -> None:
    route = _categories(lapor_api).mock(
        side_effect=[httpx.Response(500)] * (MAX_ATTEMPTS - 1)
        + [httpx.Response(502), httpx.Response(200, json=CATEGORIES)]
    )

    with pytest.raises(ServerError) as caught:
        await lapor.categories()

    assert caught.value.status == 502
    assert route.call_count == MAX_ATTEMPTS
    assert fake_time.waits == BACKOFF


@pytest.mark.parametrize("status", [429, 503])
@pytest.mark.parametrize(
    ("retry_after", "date", "wait"),
    [
        pytest.param("7", None, 7.0, id="seconds"),
        pytest.param("0", None, 0.0, id="zero-seconds"),
        pytest.param("2.5", None, 2.5, id="fractional-seconds"),
        pytest.param("600", None, 120.0, id="seconds-above-cap"),
        pytest.param("86401", None, JITTER, id="seconds-beyond-horizon"),
        pytest.param("-3", None, JITTER, id="negative"),
        pytest.param("inf", None, JITTER, id="inf"),
        pytest.param("nan", None, JITTER, id="nan"),
        pytest.param("later", None, JITTER, id="garbage"),
        pytest.param(
            "Mon, 06 Jan 2025 10:00:30 GMT",
            "Mon, 06 Jan 2025 10:00:00 GMT",
            30.0,
            id="http-date-against-the-answers-date",
        ),
        pytest.param("Mon, 06 Jan 2025 08:00:45 GMT", None, 45.0, id="http-date-against-our-clock"),
        pytest.param(
            "Mon, 06 Jan 2025 12:00:00 GMT",
            "Mon, 06 Jan 2025 10:00:00 GMT",
            120.0,
            id="http-date-above-cap",
        ),
        pytest.param("Mon, 06 Jan 2025 07:00:00 GMT", None, JITTER, id="http-date-in-the-past"),
        pytest.param("Fri, 31 Dec 9999 23:59:59 GMT", None, JITTER, id="http-date-far-future"),
        pytest.param("Mon, 32 Foo 2025 25:61:00 GMT", None, JITTER, id="broken-http-date"),
    ],
)
async def test_retry_after_is_honoured_up_to_the_cap_and_absurd_values_fall_back_to_backoff(
    lapor: LaporClient,
    lapor_api: respx.MockRouter,
    fake_time: FakeTime,
    status: int,
    retry_after: str,
    date: str | None,
    wait: float,
) -> None:
    headers = {"Retry-After": retry_after}
    if date is not None:
        headers["Date"] = date
    _categories(lapor_api).mock(
        side_effect=[httpx.Response(status, headers=headers), httpx.Response(200, json=CATEGORIES)]
    )

    await lapor.categories()

    assert fake_time.waits == [pytest.approx(wait)]


async def test_a_rate_limit_that_outlasts_the_attempts_carries_the_servers_hint(
    lapor: LaporClient, lapor_api: respx.MockRouter
) -> None:
    _categories(lapor_api).respond(429, headers={"Retry-After": "17"})

    with pytest.raises(RateLimited) as caught:
        await lapor.categories()

    assert caught.value.retry_after == 17.0


@pytest.fixture
async def hurried(
    lapor_settings: LaporSettings, fake_time: FakeTime, lapor_api: respx.MockRouter
) -> AsyncIterator[LaporClient]:
    """A client whose calls have 10 s, retries included."""
    settings = lapor_settings.model_copy(update={"total_deadline": 10.0})
    async with build_http_client(settings, transport=transport_for(lapor_api)) as http:
        yield LaporClient(
            http, settings, sleep=fake_time.sleep, clock=fake_time.clock, random=lambda: JITTER
        )


async def test_a_call_stops_before_a_wait_that_would_pass_its_deadline(
    hurried: LaporClient, lapor_api: respx.MockRouter, fake_time: FakeTime
) -> None:
    route = _categories(lapor_api).respond(429, headers={"Retry-After": "4"})

    with pytest.raises(RateLimited):
        await hurried.categories()

    # Waits of 4 s end at 4 and 8 s; a third would end at 12 s, past the 10 s deadline.
    assert fake_time.waits == [4.0, 4.0]
    assert route.call_count == 3


async def test_time_spent_waiting_for_answers_counts_against_the_deadline(
    hurried: LaporClient, lapor_api: respx.MockRouter, fake_time: FakeTime
) -> None:
    def slow_failure(request: httpx.Request) -> httpx.Response:
        fake_time.advance(9.6)
        return httpx.Response(500)

    route = _categories(lapor_api).mock(side_effect=slow_failure)

    with pytest.raises(ServerError):
        await hurried.categories()

    # 9.6 s spent, and the first backoff (0.5 s) would end past 10 s.
    assert route.call_count == 1
    assert fake_time.waits == []


async def test_no_attempt_is_allowed_to_outlive_the_calls_deadline(
    hurried: LaporClient, lapor_api: respx.MockRouter, fake_time: FakeTime
) -> None:
    route = _categories(lapor_api).mock(
        side_effect=[
            httpx.Response(429, headers={"Retry-After": "4"}),
            httpx.Response(200, json=CATEGORIES),
        ]
    )

    await hurried.categories()

    # read/write timeouts are 30 s and connect/pool 5 s in config; the call has 10 s in all.
    timeouts = [call.request.extensions["timeout"] for call in route.calls]
    assert timeouts == [
        {"connect": 5.0, "read": 10.0, "write": 10.0, "pool": 5.0},
        {"connect": 5.0, "read": 6.0, "write": 6.0, "pool": 5.0},
    ]


@pytest.mark.parametrize(
    "failure",
    [httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout],
    ids=lambda exc: exc.__name__,
)
async def test_a_create_that_failed_before_sending_is_sent_again(
    lapor: LaporClient, lapor_api: respx.MockRouter, failure: type[Exception]
) -> None:
    route = _create(lapor_api).mock(side_effect=[failure, httpx.Response(201, json=CREATED)])

    created = await lapor.create_complaint(make_complaint(), category_id="105")

    assert created.complaint_id == "9001"
    assert route.call_count == 2


@pytest.mark.parametrize(
    "failure",
    [
        httpx.ReadTimeout,
        httpx.WriteTimeout,
        httpx.ReadError,
        httpx.WriteError,
        httpx.RemoteProtocolError,
    ],
    ids=lambda exc: exc.__name__,
)
async def test_a_create_whose_answer_never_came_is_not_resent_and_its_outcome_is_unknown(
    lapor: LaporClient, lapor_api: respx.MockRouter, failure: type[Exception]
) -> None:
    route = _create(lapor_api).mock(side_effect=[failure, httpx.Response(201, json=CREATED)])

    with pytest.raises(OutcomeUnknown) as caught:
        await lapor.create_complaint(make_complaint(), category_id="105")

    assert route.call_count == 1
    assert isinstance(caught.value.__cause__, failure)
    assert "look the record up" in str(caught.value)


@pytest.mark.parametrize(
    "failure",
    [
        httpx.ConnectError,
        httpx.ConnectTimeout,
        httpx.PoolTimeout,
        httpx.ReadTimeout,
        httpx.ReadError,
        httpx.RemoteProtocolError,
    ],
    ids=lambda exc: exc.__name__,
)
async def test_a_read_that_failed_before_or_after_sending_is_sent_again(
    lapor: LaporClient, lapor_api: respx.MockRouter, failure: type[Exception]
) -> None:
    route = _categories(lapor_api).mock(side_effect=[failure, httpx.Response(200, json=CATEGORIES)])

    await lapor.categories()

    assert route.call_count == 2


async def test_a_read_that_never_gets_an_answer_raises_a_transport_error(
    lapor: LaporClient, lapor_api: respx.MockRouter
) -> None:
    route = _categories(lapor_api).mock(side_effect=httpx.ReadTimeout)

    with pytest.raises(TransportError):
        await lapor.categories()

    assert route.call_count == MAX_ATTEMPTS


async def test_every_attempt_of_one_create_carries_the_same_idempotency_key(
    lapor: LaporClient, lapor_api: respx.MockRouter
) -> None:
    route = _create(lapor_api).mock(
        side_effect=[httpx.Response(500), httpx.Response(429), httpx.Response(201, json=CREATED)]
    )

    await lapor.create_complaint(make_complaint(), category_id="105")

    keys = {call.request.headers["Idempotency-Key"] for call in route.calls}
    assert route.call_count == 3
    assert len(keys) == 1


async def test_every_attempt_carries_its_own_request_id(
    lapor: LaporClient, lapor_api: respx.MockRouter
) -> None:
    route = _create(lapor_api).mock(
        side_effect=[httpx.Response(500), httpx.Response(201, json=CREATED)]
    )

    await lapor.create_complaint(make_complaint(), category_id="105")

    ids = [call.request.headers["X-Request-ID"] for call in route.calls]
    assert len(set(ids)) == 2


MALFORMED_BODIES: list[Any] = [
    pytest.param(b"<html>Bad gateway</html>", id="html"),
    pytest.param(b'{"results": {"data": [{"id": 1, "na', id="truncated-json"),
    pytest.param(b"", id="empty"),
    pytest.param(b'{"data": []}', id="no-results"),
    pytest.param(b'{"results": {"data": {"id": 1}}}', id="object-for-list"),
    pytest.param(b'{"results": {"data": [{"id": 1}]}}', id="missing-field"),
    pytest.param(b'{"results": {"data": [{"id": 1, "name": 5}]}}', id="wrong-type"),
    pytest.param(b'{"results": {"data": [{"id": true, "name": "x"}]}}', id="bool-id"),
    pytest.param(b"[]", id="list"),
    pytest.param(b"\xff\xfe\x00garbage", id="not-utf8"),
]


@pytest.mark.parametrize("body", MALFORMED_BODIES)
async def test_a_malformed_answer_to_a_read_raises_malformed_response_with_an_excerpt(
    lapor: LaporClient, lapor_api: respx.MockRouter, body: bytes
) -> None:
    route = _categories(lapor_api).respond(
        200, content=body, headers={"Content-Type": "application/json"}
    )

    with pytest.raises(MalformedResponse) as caught:
        await lapor.categories()

    assert caught.value.excerpt == body.decode("utf-8", errors="replace")
    assert route.call_count == MAX_ATTEMPTS


async def test_an_answer_whose_encoding_is_broken_is_malformed_for_a_read(
    lapor: LaporClient, lapor_api: respx.MockRouter
) -> None:
    route = _categories(lapor_api).mock(side_effect=httpx.DecodingError)

    with pytest.raises(MalformedResponse):
        await lapor.categories()

    assert route.call_count == MAX_ATTEMPTS


async def test_an_answer_whose_encoding_is_broken_is_an_unknown_outcome_for_a_create(
    lapor: LaporClient, lapor_api: respx.MockRouter
) -> None:
    route = _create(lapor_api).mock(side_effect=httpx.DecodingError)

    with pytest.raises(OutcomeUnknown) as caught:
        await lapor.create_complaint(make_complaint(), category_id="105")

    assert isinstance(caught.value.__cause__, MalformedResponse)
    assert route.call_count == 1


async def test_a_long_malformed_answer_keeps_only_an_excerpt(
    lapor: LaporClient, lapor_api: respx.MockRouter
) -> None:
    _categories(lapor_api).respond(200, content=b"x" * 10_000)

    with pytest.raises(MalformedResponse) as caught:
        await lapor.categories()

    assert caught.value.excerpt == "x" * 300 + "..."


@pytest.mark.parametrize("body", MALFORMED_BODIES)
async def test_an_accepted_create_with_a_malformed_answer_is_not_resent_and_its_outcome_is_unknown(
    lapor: LaporClient, lapor_api: respx.MockRouter, body: bytes
) -> None:
    route = _create(lapor_api).respond(201, content=body)

    with pytest.raises(OutcomeUnknown) as caught:
        await lapor.create_complaint(make_complaint(), category_id="105")

    assert route.call_count == 1
    assert isinstance(caught.value.__cause__, MalformedResponse)
    assert caught.value.__cause__.excerpt == body.decode("utf-8", errors="replace")


async def test_a_refused_create_with_an_unreadable_body_is_still_a_refusal(
    lapor: LaporClient, lapor_api: respx.MockRouter
) -> None:
    _create(lapor_api).respond(400, content=b"<html>Bad request</html>")

    with pytest.raises(RequestRejected, match="Bad request"):
        await lapor.create_complaint(make_complaint(), category_id="105")


async def test_a_refused_credential_names_the_config_keys_to_check(
    lapor: LaporClient, lapor_api: respx.MockRouter
) -> None:
    _categories(lapor_api).respond(401, json={"message": "Unauthenticated."})

    with pytest.raises(AuthenticationFailed) as caught:
        await lapor.categories()

    assert caught.value.config_key == "lapor.auth_value and lapor.token"
    assert "lapor.auth_value and lapor.token" in str(caught.value)


async def test_an_error_carries_system_endpoint_status_and_the_servers_request_id(
    lapor: LaporClient, lapor_api: respx.MockRouter
) -> None:
    _categories(lapor_api).respond(404, headers={"X-Request-ID": "srv-42"})

    with pytest.raises(RequestRejected) as caught:
        await lapor.categories()

    error = caught.value
    assert (error.system, error.endpoint, error.status, error.request_id) == (
        "lapor",
        "GET /masters/categories",
        404,
        "srv-42",
    )
    assert str(error).startswith("lapor GET /masters/categories (HTTP 404) [request srv-42]: ")


async def test_an_error_without_a_server_request_id_carries_the_one_we_sent(
    lapor: LaporClient, lapor_api: respx.MockRouter
) -> None:
    route = _categories(lapor_api).respond(403)

    with pytest.raises(RequestRejected) as caught:
        await lapor.categories()

    assert caught.value.request_id == route.calls.last.request.headers["X-Request-ID"]


async def test_each_retry_decision_is_logged_with_its_attempt_number_and_wait(
    lapor: LaporClient, lapor_api: respx.MockRouter
) -> None:
    _categories(lapor_api).mock(
        side_effect=[
            httpx.Response(503, headers={"Retry-After": "3"}),
            httpx.Response(500),
            httpx.Response(200, json=CATEGORIES),
        ]
    )

    with capture_logs() as logs:
        await lapor.categories()

    decisions = [
        (e["attempt"], e["decision"], e["wait"], e["wait_basis"], e["status"]) for e in logs
    ]
    assert decisions == [
        (1, "retry", 3.0, "retry_after", 503),
        (2, "retry", JITTER * 2, "backoff", 500),
    ]
    assert {(e["system"], e["endpoint"]) for e in logs} == {("lapor", "GET /masters/categories")}


async def test_giving_up_is_logged_with_the_last_attempt(
    lapor: LaporClient, lapor_api: respx.MockRouter
) -> None:
    _categories(lapor_api).respond(500)

    with capture_logs() as logs, pytest.raises(ServerError):
        await lapor.categories()

    assert [(e["attempt"], e["decision"]) for e in logs] == [
        (1, "retry"),
        (2, "retry"),
        (3, "retry"),
        (4, "give_up"),
    ]


async def test_a_refusal_is_logged_as_raised_without_retry(
    lapor: LaporClient, lapor_api: respx.MockRouter
) -> None:
    _create(lapor_api).respond(422, json={"message": "invalid", "errors": {"title": ["x"]}})

    with capture_logs() as logs, pytest.raises(ValidationRejected):
        await lapor.create_complaint(make_complaint(), category_id="105")

    assert [(e["attempt"], e["decision"], e["error"]) for e in logs] == [
        (1, "raise", "ValidationRejected")
    ]


async def test_an_unknown_outcome_is_logged_as_raised_without_retry(
    lapor: LaporClient, lapor_api: respx.MockRouter
) -> None:
    _create(lapor_api).mock(side_effect=httpx.ReadTimeout)

    with capture_logs() as logs, pytest.raises(OutcomeUnknown):
        await lapor.create_complaint(make_complaint(), category_id="105")

    assert [(e["decision"], e["error"]) for e in logs] == [("raise", "OutcomeUnknown")]
