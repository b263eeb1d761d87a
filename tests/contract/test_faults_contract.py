"""Both clients against every fault kind of the mock: what they retry, wait, raise and settle."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from structlog.testing import capture_logs

from oss_bridge.clients import LaporClient
from oss_bridge.domain import Complaint
from oss_bridge.errors import (
    MalformedResponse,
    OutcomeUnknown,
    RateLimited,
    ServerError,
    TransportError,
)
from tests.clients.support import make_complaint
from tests.contract.conftest import MAX_ATTEMPTS, Systems

CATEGORY = "105"
CREATE = "POST /lapor/complaints/complaint"
RECEIVE = "POST /oss/v1/kl/rba/receiveStandarPelayanan"
INQUERY = "POST /oss/v1/kl/rba/inqueryStandarPelayanan"


async def _oss_read(systems: Systems) -> object:
    return await systems.oss.permit_codes()


async def _lapor_read(systems: Systems) -> object:
    return await systems.lapor.categories()


Read = Callable[[Systems], Awaitable[object]]
READS = [
    pytest.param(_oss_read, "POST /oss/v1/kl/rba/getDataReferensi", id="oss"),
    pytest.param(_lapor_read, "GET /lapor/masters/categories", id="lapor"),
]


def only(endpoint: str, **settings: Any) -> dict[str, Any]:
    """A profile with ``settings`` for one endpoint alone."""
    return {"seed": 7, "endpoints": {endpoint: settings}}


async def create(systems: Systems, complaint: Complaint) -> str:
    return (await systems.lapor.create_complaint(complaint, category_id=CATEGORY)).complaint_id


async def held(systems: Systems) -> list[dict[str, Any]]:
    complaints: list[dict[str, Any]] = (await systems.state())["complaints"]
    return complaints


# --- latency ---------------------------------------------------------------------------------


@pytest.mark.parametrize(("read", "endpoint"), READS)
@pytest.mark.parametrize(
    ("latency", "expected"),
    [(250, 0.25), ({"min": 100, "max": 100}, 0.1)],
    ids=["fixed", "range"],
)
async def test_a_slow_answer_is_waited_for_and_read(
    systems: Systems, read: Read, endpoint: str, latency: Any, expected: float
) -> None:
    await systems.faults(only(endpoint, latency_ms=latency))

    assert await read(systems)
    assert systems.mock_waits.seen == [pytest.approx(expected)]
    assert await systems.requests(endpoint) == 1


# --- rate limits -----------------------------------------------------------------------------


@pytest.mark.parametrize(("read", "endpoint"), READS)
@pytest.mark.parametrize("form", ["seconds", "http-date"])
async def test_a_rate_limit_is_waited_out_for_as_long_as_retry_after_says(
    systems: Systems, read: Read, endpoint: str, form: str
) -> None:
    limit = {"burst": {"allow": 1, "refuse": 2}, "retry_after_seconds": 5, "form": form}
    await systems.faults(only(endpoint, rate_limit=limit))

    await read(systems)
    await read(systems)

    assert systems.time.waits == [5.0, 5.0]
    assert await systems.requests(endpoint) == 1 + 3


@pytest.mark.parametrize(("read", "endpoint"), READS)
async def test_a_rate_limit_that_never_lifts_raises_rate_limited_with_the_hint(
    systems: Systems, read: Read, endpoint: str
) -> None:
    await systems.faults(only(endpoint, rate_limit={"rate": 1.0, "retry_after_seconds": 3}))

    with pytest.raises(RateLimited) as caught:
        await read(systems)

    assert caught.value.retry_after == 3.0
    assert await systems.requests(endpoint) == MAX_ATTEMPTS


# --- server errors ---------------------------------------------------------------------------


@pytest.mark.parametrize(("read", "endpoint"), READS)
@pytest.mark.parametrize("status", [500, 502, 503, 504])
async def test_a_server_error_that_persists_is_retried_to_the_limit_then_raised(
    systems: Systems, read: Read, endpoint: str, status: int
) -> None:
    await systems.faults(only(endpoint, error_rate=1.0, error_statuses=[status]))

    with pytest.raises(ServerError) as caught:
        await read(systems)

    assert caught.value.status == status
    assert await systems.requests(endpoint) == MAX_ATTEMPTS


@pytest.mark.parametrize(("read", "endpoint"), READS)
async def test_occasional_server_errors_cost_retries_but_no_call_fails(
    systems: Systems, read: Read, endpoint: str
) -> None:
    await systems.faults(only(endpoint, error_rate=0.4))

    with capture_logs() as logs:
        for _ in range(10):
            assert await read(systems)

    retries = [e for e in logs if e["decision"] == "retry"]
    assert retries
    assert await systems.requests(endpoint) == 10 + len(retries)


async def test_creates_refused_by_server_errors_are_sent_again_and_each_held_once(
    systems: Systems,
) -> None:
    await systems.faults(only(CREATE, error_rate=0.5))
    complaints = [make_complaint(number) for number in range(1, 6)]

    with capture_logs() as logs:
        for complaint in complaints:
            await create(systems, complaint)

    retries = [e for e in logs if e["decision"] == "retry"]
    assert retries
    assert await systems.requests(CREATE) == len(complaints) + len(retries)
    assert sorted(c["external_reference"] for c in await held(systems)) == [
        c.receipt_number for c in complaints
    ]


# --- an answer lost after the request was processed -----------------------------------------


@pytest.mark.parametrize("mode", ["drop", "hang"])
async def test_a_create_whose_answer_is_lost_is_unknown_then_found_by_reference(
    systems: Systems, mode: str
) -> None:
    await systems.faults(only(CREATE, timeout_after_commit={"rate": 1.0, "mode": mode}))
    complaint = make_complaint()

    with pytest.raises(OutcomeUnknown):
        await create(systems, complaint)

    found = await systems.lapor.find_by_external_reference(complaint.receipt_number)
    assert found is not None
    assert await systems.requests(CREATE) == 1
    assert [c["complaint_id"] for c in await held(systems)] == [found.complaint_id]


async def test_a_hanging_answer_is_given_up_after_the_read_timeout(systems: Systems) -> None:
    await systems.faults(only(CREATE, timeout_after_commit={"rate": 1.0, "mode": "hang"}))

    with pytest.raises(OutcomeUnknown):
        await create(systems, make_complaint())

    # The mock holds the answer back for 60 s by default, past the client's read timeout.
    assert systems.mock_waits.seen == [60.0]


async def test_resending_after_an_unknown_outcome_with_the_same_key_creates_nothing_new(
    systems: Systems,
) -> None:
    complaint = make_complaint()
    await systems.faults(only(CREATE, timeout_after_commit={"rate": 1.0, "mode": "drop"}))
    with pytest.raises(OutcomeUnknown):
        await create(systems, complaint)
    await systems.faults({})

    complaint_id = await create(systems, complaint)

    assert [c["complaint_id"] for c in await held(systems)] == [complaint_id]


@pytest.mark.parametrize(("read", "endpoint"), READS)
@pytest.mark.parametrize("mode", ["drop", "hang"])
async def test_a_read_whose_answer_is_always_lost_is_retried_then_a_transport_error(
    systems: Systems, read: Read, endpoint: str, mode: str
) -> None:
    await systems.faults(only(endpoint, timeout_after_commit={"rate": 1.0, "mode": mode}))

    with pytest.raises(TransportError):
        await read(systems)

    assert await systems.requests(endpoint) == MAX_ATTEMPTS


async def test_an_oss_write_whose_answer_is_lost_is_unknown_yet_written(systems: Systems) -> None:
    pages = [page async for page in systems.oss.standards_since(None)]
    before = pages[0].entries[0]
    await systems.faults(only(RECEIVE, timeout_after_commit={"rate": 1.0, "mode": "drop"}))

    with pytest.raises(OutcomeUnknown):
        await systems.oss.put_standard(before.standard, base_version=before.versi)

    versions = {row["id_layanan"]: row["versi"] for row in (await systems.state())["catalogue"]}
    assert versions[before.standard.code] == before.versi + 1
    assert await systems.requests(RECEIVE) == 1


# --- malformed answers -----------------------------------------------------------------------


KINDS = ["truncated", "wrong_types", "missing_fields"]


@pytest.mark.parametrize(("read", "endpoint"), READS)
@pytest.mark.parametrize("kind", KINDS)
async def test_a_read_answered_with_garbage_raises_malformed_response_with_an_excerpt(
    systems: Systems, read: Read, endpoint: str, kind: str
) -> None:
    await systems.faults(only(endpoint, malformed={"rate": 1.0, "kinds": [kind]}))

    with pytest.raises(MalformedResponse) as caught:
        await read(systems)

    assert caught.value.excerpt
    assert caught.value.excerpt in str(caught.value)
    assert await systems.requests(endpoint) == MAX_ATTEMPTS


@pytest.mark.parametrize("kind", KINDS)
async def test_an_accepted_create_answered_with_garbage_is_unknown_then_found(
    systems: Systems, kind: str
) -> None:
    await systems.faults(only(CREATE, malformed={"rate": 1.0, "kinds": [kind]}))
    complaint = make_complaint()

    with pytest.raises(OutcomeUnknown) as caught:
        await create(systems, complaint)

    assert isinstance(caught.value.__cause__, MalformedResponse)
    assert await systems.lapor.find_by_external_reference(complaint.receipt_number) is not None
    assert len(await held(systems)) == 1


@pytest.mark.parametrize("kind", KINDS)
async def test_a_page_answered_with_garbage_is_malformed(systems: Systems, kind: str) -> None:
    await systems.faults(only(INQUERY, malformed={"rate": 1.0, "kinds": [kind]}))

    with pytest.raises(MalformedResponse):
        async for _ in systems.oss.standards_since(None):
            pass


# --- legal quirks ----------------------------------------------------------------------------


async def test_oss_quirks_change_nothing_the_client_returns(systems: Systems) -> None:
    faithful_codes = await systems.oss.permit_codes()
    faithful_pages = [page async for page in systems.oss.standards_since(None)]
    await systems.faults({"seed": 1, "quirks": {"kode_as_string": 1.0, "alt_spelling": 1.0}})

    quirky_codes = await systems.oss.permit_codes()
    quirky_pages = [page async for page in systems.oss.standards_since(None)]

    assert quirky_codes == faithful_codes
    assert quirky_pages == faithful_pages


async def test_an_oss_write_with_quirky_answers_returns_the_new_versi(systems: Systems) -> None:
    pages = [page async for page in systems.oss.standards_since(None)]
    before = pages[0].entries[0]
    await systems.faults(only(RECEIVE, quirks={"kode_as_string": 1.0, "alt_spelling": 1.0}))

    versi = await systems.oss.put_standard(before.standard, base_version=before.versi)

    assert versi == before.versi + 1


# --- everything at once ------------------------------------------------------------------------


async def deliver(lapor: LaporClient, complaint: Complaint) -> str:
    """Send until the channel holds the complaint, settling unknown outcomes by look-up."""
    for _ in range(30):
        try:
            return (await lapor.create_complaint(complaint, category_id=CATEGORY)).complaint_id
        except OutcomeUnknown:
            found = await lapor.find_by_external_reference(complaint.receipt_number)
            if found is not None:
                return found.complaint_id
        except (ServerError, RateLimited):
            continue
    raise AssertionError(f"{complaint.receipt_number} was never delivered")


async def test_every_complaint_is_held_exactly_once_whatever_fails_on_the_way(
    systems: Systems,
) -> None:
    await systems.faults(
        only(
            CREATE,
            error_rate=0.25,
            rate_limit={"rate": 0.15, "retry_after_seconds": 2},
            timeout_after_commit={"rate": 0.25, "mode": "drop"},
            malformed={"rate": 0.25},
        )
    )
    complaints = [make_complaint(number) for number in range(1, 16)]

    delivered = {c.receipt_number: await deliver(systems.lapor, c) for c in complaints}

    rows = await held(systems)
    assert sorted(r["external_reference"] for r in rows) == sorted(delivered)
    assert {r["external_reference"]: r["complaint_id"] for r in rows} == delivered
    assert await systems.requests(CREATE) > len(complaints)
