"""Fault profiles: every fault kind, per-endpoint settings, determinism, loading and live change."""

from __future__ import annotations

import asyncio
import json
from datetime import timedelta
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from oss_bridge_mock import (
    ENDPOINTS,
    Burst,
    ConnectionDropped,
    FaultProfile,
    FaultProfileError,
    FaultSettings,
    LatencyRange,
    Malformed,
    RateLimit,
    TimeoutAfterCommit,
    load_profile,
)
from oss_bridge_mock.faults import bundled_profiles, corrupt
from tests.mock._support import (
    LAPOR_AUTH,
    START,
    RecordingSleep,
    create_complaint,
    mock_client,
    mock_state,
    oss_call,
    pia,
)

CREATE = "POST /lapor/complaints/complaint"
CATEGORIES = "GET /lapor/masters/categories"
REFERENSI = "POST /oss/v1/kl/rba/getDataReferensi"
RECEIVE = "POST /oss/v1/kl/rba/receiveStandarPelayanan"


async def categories(client: httpx.AsyncClient) -> httpx.Response:
    return await client.get("/lapor/masters/categories", headers=LAPOR_AUTH)


async def referensi(client: httpx.AsyncClient) -> httpx.Response:
    return await oss_call(client, "getDataReferensi", {"kode": "8"})


async def statuses(client: httpx.AsyncClient, count: int) -> list[int]:
    return [(await categories(client)).status_code for _ in range(count)]


async def test_an_empty_profile_changes_nothing() -> None:
    sleeps = RecordingSleep()
    async with mock_client(faults=FaultProfile(), sleep=sleeps) as client:
        codes = await statuses(client, 50)
    assert set(codes) == {200}
    assert sleeps.calls == []


@pytest.mark.parametrize("status", [500, 502, 503, 504])
async def test_an_injected_error_has_the_status_asked_for_and_stores_nothing(status: int) -> None:
    faults = FaultProfile(error_rate=1.0, error_statuses=(status,))
    async with mock_client(faults=faults) as client:
        response = await create_complaint(client)
        state = await mock_state(client)
    assert response.status_code == status
    assert state["complaints"] == []
    assert state["requests"] == {CREATE: 1}


@pytest.mark.parametrize(
    ("status", "kind"),
    [(500, "pia"), (504, "pia"), (502, "gateway"), (503, "gateway")],
)
async def test_oss_errors_come_in_the_pia_envelope_and_gateway_errors_as_html(
    status: int, kind: str
) -> None:
    faults = FaultProfile(error_rate=1.0, error_statuses=(status,))
    async with mock_client(faults=faults) as client:
        response = await referensi(client)
    assert response.status_code == status
    if kind == "pia":
        assert pia(response, "getDataReferensi")["kode"] == status
    else:
        assert response.headers["content-type"].startswith("text/html")
        assert str(status) in response.text


async def test_error_statuses_are_drawn_from_the_list_given() -> None:
    faults = FaultProfile(error_rate=1.0, error_statuses=(502, 503))
    async with mock_client(faults=faults) as client:
        codes = await statuses(client, 60)
    assert set(codes) == {502, 503}


async def test_the_error_rate_is_honoured_over_many_requests() -> None:
    async with mock_client(faults=FaultProfile(error_rate=0.25)) as client:
        codes = await statuses(client, 800)
    failed = sum(code != 200 for code in codes)
    assert 150 <= failed <= 250


async def test_a_fixed_latency_waits_through_the_injected_sleep() -> None:
    sleeps = RecordingSleep()
    async with mock_client(faults=FaultProfile(latency_ms=250), sleep=sleeps) as client:
        await categories(client)
        await referensi(client)
    assert sleeps.calls == [0.25, 0.25]


async def test_a_latency_range_waits_within_it() -> None:
    sleeps = RecordingSleep()
    faults = FaultProfile(latency_ms=LatencyRange(min=100, max=300))
    async with mock_client(faults=faults, sleep=sleeps) as client:
        await statuses(client, 40)
    assert len(sleeps.calls) == 40
    assert all(0.1 <= s <= 0.3 for s in sleeps.calls)
    assert len(set(sleeps.calls)) > 1


async def test_a_latency_range_must_be_ordered() -> None:
    with pytest.raises(ValueError, match="swap"):
        LatencyRange(min=300, max=100)


async def test_a_rate_limit_answers_429_with_retry_after_in_seconds() -> None:
    faults = FaultProfile(rate_limit=RateLimit(rate=1.0, retry_after_seconds=7))
    async with mock_client(faults=faults) as client:
        response = await create_complaint(client)
        state = await mock_state(client)
    assert response.status_code == 429
    assert response.headers["Retry-After"] == "7"
    assert response.json() == {"message": "Too Many Attempts."}
    assert state["complaints"] == []


async def test_a_rate_limit_can_give_retry_after_as_an_http_date() -> None:
    faults = FaultProfile(rate_limit=RateLimit(rate=1.0, retry_after_seconds=90, form="http-date"))
    async with mock_client(faults=faults) as client:
        response = await referensi(client)
    assert response.status_code == 429
    assert pia(response, "getDataReferensi")["kode"] == 429
    retry_at = parsedate_to_datetime(response.headers["Retry-After"])
    assert retry_at == START + timedelta(seconds=90)
    assert response.headers["Retry-After"].endswith(" GMT")


async def test_a_burst_pattern_lets_some_through_then_refuses_some() -> None:
    faults = FaultProfile(rate_limit=RateLimit(burst=Burst(allow=2, refuse=1)))
    async with mock_client(faults=faults) as client:
        codes = await statuses(client, 7)
    assert codes == [200, 200, 429, 200, 200, 429, 200]


async def test_a_global_burst_counts_requests_to_every_endpoint() -> None:
    faults = FaultProfile(rate_limit=RateLimit(burst=Burst(allow=1, refuse=1)))
    async with mock_client(faults=faults) as client:
        codes = [
            (await categories(client)).status_code,
            (await referensi(client)).status_code,
            (await categories(client)).status_code,
            (await referensi(client)).status_code,
        ]
    assert codes == [200, 429, 200, 429]


async def test_hang_after_commit_stores_the_complaint_then_waits_before_answering() -> None:
    sleeps = RecordingSleep()
    faults = FaultProfile(timeout_after_commit=TimeoutAfterCommit(rate=1.0, hang_seconds=45))
    async with mock_client(faults=faults, sleep=sleeps) as client:
        response = await create_complaint(client)
        state = await mock_state(client)
    assert sleeps.calls == [45]
    assert response.status_code == 201
    assert len(state["complaints"]) == 1


async def test_a_hanging_answer_is_held_back_while_the_complaint_is_already_stored() -> None:
    hanging = asyncio.Event()
    release = asyncio.Event()

    async def held(seconds: float) -> None:
        hanging.set()
        await release.wait()

    faults = FaultProfile(
        endpoints={CREATE: FaultSettings(timeout_after_commit=TimeoutAfterCommit(rate=1.0))}
    )
    async with mock_client(faults=faults, sleep=held) as client:
        send = asyncio.create_task(create_complaint(client, external_reference="PGD-9"))
        await hanging.wait()
        during = await mock_state(client)
        lookup = await client.get(
            "/lapor/complaints", params={"external_reference": "PGD-9"}, headers=LAPOR_AUTH
        )
        assert not send.done()
        release.set()
        response = await send
    assert [c["external_reference"] for c in during["complaints"]] == ["PGD-9"]
    assert len(lookup.json()["results"]["data"]) == 1
    assert response.status_code == 201


async def test_a_drop_after_commit_stores_the_complaint_and_fails_the_client_like_a_lost_connection() -> (
    None
):
    faults = FaultProfile(timeout_after_commit=TimeoutAfterCommit(rate=1.0, mode="drop"))
    async with mock_client(faults=faults) as client:
        with pytest.raises(httpx.RemoteProtocolError) as caught:
            await create_complaint(client, external_reference="PGD-7")
        await client.post("/_mock/faults", json={})
        lookup = await client.get(
            "/lapor/complaints", params={"external_reference": "PGD-7"}, headers=LAPOR_AUTH
        )
        state = await mock_state(client)
    assert isinstance(caught.value, ConnectionDropped)
    assert isinstance(caught.value, httpx.TransportError)
    assert len(lookup.json()["results"]["data"]) == 1
    assert state["complaints"][0]["create_calls"] == 1


async def test_a_drop_after_commit_on_oss_keeps_the_written_version() -> None:
    late = TimeoutAfterCommit(rate=1.0, mode="drop")
    faults = FaultProfile(endpoints={RECEIVE: FaultSettings(timeout_after_commit=late)})
    async with mock_client(faults=faults) as client:
        page = await oss_call(client, "inqueryStandarPelayanan", {"kd_daerah": "1405", "limit": 1})
        current = pia(page, "inqueryStandarPelayanan")["data"][0]
        body = {k: v for k, v in current.items() if k not in ("versi", "diperbarui")}
        with pytest.raises(ConnectionDropped):
            await oss_call(
                client, "receiveStandarPelayanan", {**body, "versi_dasar": current["versi"]}
            )
        state = await mock_state(client)
    written = {"id_layanan": current["id_layanan"], "versi": current["versi"] + 1}
    assert {**written, "status": current["status"]} in state["catalogue"]


async def test_malformed_truncated_answers_are_not_json() -> None:
    faults = FaultProfile(malformed=Malformed(rate=1.0, kinds=("truncated",)))
    async with mock_client(faults=faults) as client:
        response = await create_complaint(client)
        state = await mock_state(client)
    assert response.status_code == 201
    assert int(response.headers["content-length"]) == len(response.content)
    with pytest.raises(json.JSONDecodeError):
        json.loads(response.content)
    assert len(state["complaints"]) == 1


@pytest.mark.parametrize(
    ("call", "payload_of"),
    [
        (referensi, lambda doc: doc["respongetDataReferensi"]),
        (categories, lambda doc: doc["results"]),
        (create_complaint, lambda doc: doc["results"]),
    ],
    ids=["oss", "lapor-list", "lapor-create"],
)
async def test_malformed_wrong_types_give_the_payload_fields_other_json_types(
    call: Any, payload_of: Any
) -> None:
    async with mock_client() as client:
        good = payload_of((await call(client)).json())
    faults = FaultProfile(malformed=Malformed(rate=1.0, kinds=("wrong_types",)))
    async with mock_client(faults=faults) as client:
        bad = payload_of((await call(client)).json())
    assert set(bad) == set(good)
    for key, value in bad.items():
        if key in ("kode", "keterangan"):
            assert value == good[key]
        else:
            assert type(value) is not type(good[key]), key


@pytest.mark.parametrize(
    ("call", "payload_of", "kept"),
    [
        (referensi, lambda doc: doc["respongetDataReferensi"], {"kode", "keterangan"}),
        (categories, lambda doc: doc["results"], set()),
        (create_complaint, lambda doc: doc["results"], set()),
    ],
    ids=["oss", "lapor-list", "lapor-create"],
)
async def test_malformed_missing_fields_leave_only_the_status_of_the_call(
    call: Any, payload_of: Any, kept: set[str]
) -> None:
    faults = FaultProfile(malformed=Malformed(rate=1.0, kinds=("missing_fields",)))
    async with mock_client(faults=faults) as client:
        response = await call(client)
    assert response.status_code in (200, 201)
    assert set(payload_of(response.json())) == kept


async def test_malformed_answers_touch_only_successful_answers() -> None:
    faults = FaultProfile(malformed=Malformed(rate=1.0))
    async with mock_client(faults=faults) as client:
        response = await client.get("/lapor/masters/categories")
    assert response.status_code == 401
    assert response.json() == {"message": "Unauthenticated."}


def test_a_body_without_payload_fields_is_truncated_instead() -> None:
    body = b'{"respongetDataReferensi":{"kode":200,"keterangan":"Sukses"}}'
    assert corrupt(body, "missing_fields", 0.5) == body[: int(len(body) * 0.5)]


async def test_each_malformed_kind_is_drawn_from_those_listed() -> None:
    faults = FaultProfile(malformed=Malformed(rate=1.0, kinds=("truncated", "missing_fields")))
    async with mock_client(faults=faults) as client:
        bodies = [(await categories(client)).content for _ in range(30)]
    parsed = []
    for body in bodies:
        try:
            parsed.append(json.loads(body))
        except json.JSONDecodeError:
            parsed.append(None)
    assert None in parsed
    assert {"results": {}} in parsed


async def test_endpoint_settings_override_the_global_ones() -> None:
    faults = FaultProfile(
        error_rate=1.0, error_statuses=(503,), endpoints={CATEGORIES: FaultSettings(error_rate=0)}
    )
    async with mock_client(faults=faults) as client:
        spared = await categories(client)
        failed = await referensi(client)
    assert spared.status_code == 200
    assert failed.status_code == 503


async def test_endpoint_settings_keep_the_global_fields_they_do_not_set() -> None:
    sleeps = RecordingSleep()
    faults = FaultProfile(
        latency_ms=100, endpoints={CATEGORIES: FaultSettings(error_rate=1.0, error_statuses=(500,))}
    )
    async with mock_client(faults=faults, sleep=sleeps) as client:
        response = await categories(client)
    assert response.status_code == 500
    assert sleeps.calls == [0.1]


async def mixed_traffic(client: httpx.AsyncClient) -> list[int]:
    codes = []
    for _ in range(40):
        codes.append((await categories(client)).status_code)
        codes.append((await referensi(client)).status_code)
        codes.append((await create_complaint(client)).status_code)
    return codes


MIXED = FaultProfile(
    error_rate=0.2,
    rate_limit=RateLimit(rate=0.1),
    malformed=Malformed(rate=0.2, kinds=("truncated",)),
)


async def test_the_same_seed_gives_the_same_faults() -> None:
    runs = []
    for _ in range(2):
        async with mock_client(faults=MIXED.model_copy(update={"seed": 42})) as client:
            runs.append(await mixed_traffic(client))
    assert runs[0] == runs[1]
    assert len(set(runs[0])) >= 3


async def test_a_different_seed_gives_different_faults() -> None:
    runs = []
    for seed in (1, 2):
        async with mock_client(faults=MIXED.model_copy(update={"seed": seed})) as client:
            runs.append(await mixed_traffic(client))
    assert runs[0] != runs[1]


async def test_the_app_seed_is_used_when_the_profile_has_none() -> None:
    runs = []
    for seed in (7, 7, 8):
        async with mock_client(faults=MIXED, seed=seed) as client:
            runs.append(await mixed_traffic(client))
    assert runs[0] == runs[1] != runs[2]


async def test_faults_on_one_endpoint_do_not_depend_on_traffic_to_another() -> None:
    faults = FaultProfile(seed=3, error_rate=0.5)
    async with mock_client(faults=faults) as client:
        alone = await statuses(client, 30)
    async with mock_client(faults=faults) as client:
        interleaved = []
        for _ in range(30):
            await referensi(client)
            interleaved.append((await categories(client)).status_code)
    assert alone == interleaved


async def test_faults_can_be_changed_live_and_cleared_with_an_empty_profile() -> None:
    async with mock_client() as client:
        before = await categories(client)
        changed = await client.post(
            "/_mock/faults", json={"error_rate": 1, "error_statuses": [502]}
        )
        during = await categories(client)
        shown = await client.get("/_mock/faults")
        await client.post("/_mock/faults", json={})
        after = await categories(client)
    assert [before.status_code, during.status_code, after.status_code] == [200, 502, 200]
    assert changed.status_code == 200
    assert shown.json()["error_statuses"] == [502]


@pytest.mark.parametrize(
    "profile",
    [
        {"error_rate": 1.5},
        {"error_statuses": [418]},
        {"error_statuses": []},
        {"endpoints": {"GET /nowhere": {"error_rate": 1}}},
        {"malformed": {"rate": 1, "kinds": ["garbled"]}},
        {"rate_limit": {"form": "minutes"}},
        {"latency_ms": -5},
        {"eror_rate": 0.5},
    ],
    ids=[
        "rate-above-one",
        "unknown-status",
        "no-statuses",
        "unknown-endpoint",
        "unknown-kind",
        "unknown-form",
        "negative-latency",
        "misspelt-key",
    ],
)
async def test_an_invalid_profile_is_refused_with_422_and_the_old_one_stays(
    profile: dict[str, Any],
) -> None:
    async with mock_client(faults=FaultProfile(error_rate=1.0, error_statuses=(503,))) as client:
        response = await client.post("/_mock/faults", json=profile)
        still = await categories(client)
    assert response.status_code == 422
    assert still.status_code == 503


def test_an_unknown_endpoint_name_is_reported_with_the_known_ones() -> None:
    with pytest.raises(ValueError, match=r"unknown endpoint 'GET /nowhere'.*GET /lapor/complaints"):
        FaultProfile.model_validate({"endpoints": {"GET /nowhere": {}}})


def test_every_endpoint_name_can_carry_settings() -> None:
    profile = FaultProfile(endpoints={name: FaultSettings(error_rate=0.5) for name in ENDPOINTS})
    assert all(profile.settings_for(name).error_rate == 0.5 for name in ENDPOINTS)


JSON_PROFILE = """{
  "seed": 5,
  "latency_ms": {"min": 1, "max": 2},
  "rate_limit": {"burst": {"allow": 3, "refuse": 1}, "form": "http-date"},
  "endpoints": {"POST /lapor/complaints/complaint": {"timeout_after_commit": {"rate": 0.5, "mode": "drop"}}}
}"""
TOML_PROFILE = """
seed = 5
latency_ms = { min = 1, max = 2 }

[rate_limit]
burst = { allow = 3, refuse = 1 }
form = "http-date"

[endpoints."POST /lapor/complaints/complaint"]
timeout_after_commit = { rate = 0.5, mode = "drop" }
"""


@pytest.mark.parametrize(
    ("name", "text"),
    [
        ("faults.json", JSON_PROFILE),
        ("faults.toml", TOML_PROFILE),
        ("faults.conf", JSON_PROFILE),
        ("faults.profile", TOML_PROFILE),
    ],
)
def test_a_profile_loads_from_json_or_toml(tmp_path: Path, name: str, text: str) -> None:
    path = tmp_path / name
    path.write_text(text)
    profile = load_profile(path)
    assert profile.seed == 5
    assert profile.latency_ms == LatencyRange(min=1, max=2)
    assert profile.rate_limit == RateLimit(burst=Burst(allow=3, refuse=1), form="http-date")
    create = profile.settings_for(CREATE)
    assert create.timeout_after_commit == TimeoutAfterCommit(rate=0.5, mode="drop")
    assert create.latency_ms == LatencyRange(min=1, max=2)


@pytest.mark.parametrize(
    ("name", "text", "reason"),
    [
        ("faults.json", "{not json", "JSON"),
        ("faults.toml", "seed = = 1", "TOML"),
        ("faults.conf", "neither {", "neither valid JSON nor TOML"),
        ("faults.json", '{"error_rate": 2}', "error_rate"),
    ],
)
def test_a_bad_profile_file_is_reported_with_its_path_and_reason(
    tmp_path: Path, name: str, text: str, reason: str
) -> None:
    path = tmp_path / name
    path.write_text(text)
    with pytest.raises(FaultProfileError, match=reason) as caught:
        load_profile(path)
    assert repr(str(path)) in str(caught.value)


def test_a_missing_profile_file_is_reported_with_the_bundled_names(tmp_path: Path) -> None:
    with pytest.raises(FaultProfileError, match=r"cannot be read.*flaky, outage"):
        load_profile(tmp_path / "absent.json")


@pytest.mark.parametrize("name", sorted(bundled_profiles()))
def test_every_bundled_profile_loads_by_name_and_changes_answers(name: str) -> None:
    profile = load_profile(Path(name))
    assert any(not profile.settings_for(endpoint).inert for endpoint in ENDPOINTS)


def test_a_bundled_profile_loads_by_file_name_too() -> None:
    assert load_profile(Path("outage.toml")) == load_profile(Path("outage"))


def test_a_file_of_the_same_name_wins_over_a_bundled_profile(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    Path("outage.json").write_text('{"seed": 99}')
    assert load_profile(Path("outage.json")) == FaultProfile(seed=99)


async def test_reset_restores_the_start_profile_and_its_random_streams() -> None:
    faults = FaultProfile(seed=9, error_rate=0.5)
    async with mock_client(faults=faults) as client:
        first = await statuses(client, 20)
        await client.post("/_mock/faults", json={})
        await client.post("/_mock/reset")
        again = await statuses(client, 20)
    assert first == again
    assert 200 in first
    assert len(set(first)) > 1
