"""The staff page in process: signing in, the session cookie, starting runs, what it shows.

The page in a real browser is tested in ``test_browser.py``.
"""

from __future__ import annotations

from datetime import date

import httpx
import pytest
from pydantic import SecretStr

from oss_bridge.api.ui import SESSION_COOKIE, session_valid, session_value, stacked_bars
from oss_bridge.daemon import Runtime
from tests.daemon.support import STAFF_TOKEN

COMPLAINT = {
    "category": "perizinan_berusaha",
    "object": "asn_ptt",
    "description": "Permohonan izin kami tidak ditanggapi sejak dua minggu.",
    "reporter": {"name": "Dewi Lestari", "email": "dewi.lestari@contoh.id"},
}
TOKEN = SecretStr(STAFF_TOKEN)
NOW = 1_800_000_000.0


async def sign_in(client: httpx.AsyncClient, token: str = STAFF_TOKEN) -> httpx.Response:
    return await client.post("/ui/masuk", data={"token": token})


@pytest.mark.parametrize(
    ("value", "now", "valid"),
    [
        (session_value(TOKEN, now=NOW), NOW + 60, True),
        (session_value(TOKEN, now=NOW), NOW + 13 * 3600, False),
        (session_value(SecretStr("another token"), now=NOW), NOW, False),
        (session_value(TOKEN, now=NOW).replace(".", ".0", 1), NOW, False),
        (f"{int(NOW) + 3600}.forged", NOW, False),
        ("", NOW, False),
        (None, NOW, False),
        ("\u00b2\u00b2.sig", NOW, False),
        ("9" * 40 + ".sig", NOW, False),
    ],
)
def test_a_session_is_valid_only_signed_with_the_token_and_unexpired(
    value: str | None, now: float, valid: bool
) -> None:
    assert session_valid(value, TOKEN, now=now) is valid


def test_the_session_cookie_never_holds_the_token() -> None:
    assert STAFF_TOKEN not in session_value(TOKEN, now=NOW)


async def test_the_page_asks_to_sign_in_first(client: httpx.AsyncClient) -> None:
    response = await client.get("/ui/")
    assert response.status_code == 200
    assert "Masuk halaman staf" in response.text
    assert 'lang="id"' in response.text
    assert "Ringkasan" not in response.text


async def test_the_bare_path_leads_to_the_page(client: httpx.AsyncClient) -> None:
    response = await client.get("/ui")
    assert response.status_code == 308
    assert response.headers["location"] == "/ui/"


async def test_a_wrong_token_is_refused(client: httpx.AsyncClient) -> None:
    response = await sign_in(client, "wrong")
    assert response.status_code == 401
    assert "Token staf salah" in response.text
    assert SESSION_COOKIE not in response.headers.get("set-cookie", "")


async def test_signing_in_sets_a_strict_http_only_cookie(client: httpx.AsyncClient) -> None:
    response = await sign_in(client)
    assert response.status_code == 303
    cookie = response.headers["set-cookie"]
    assert cookie.startswith(f"{SESSION_COOKIE}=")
    assert "HttpOnly" in cookie
    assert "SameSite=strict" in cookie
    assert "Path=/ui" in cookie
    assert STAFF_TOKEN not in cookie


async def test_signed_in_staff_see_the_queue_without_personal_data(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    receipt = (await client.post("/api/v1/complaints", json=COMPLAINT)).json()["receipt_number"]
    await sign_in(client)
    page = (await client.get("/ui/")).text
    assert "Menunggu dikirim" in page
    assert receipt in page
    assert 'data-stat="pending"><div class="n">1</div>' in page
    assert "Dewi" not in page
    assert "dewi.lestari" not in page
    assert '<svg id="chart-category"' in page


async def test_signing_out_ends_the_session(client: httpx.AsyncClient) -> None:
    await sign_in(client)
    response = await client.post("/ui/keluar")
    assert response.status_code == 303
    assert "Masuk halaman staf" in (await client.get("/ui/")).text


async def test_a_button_press_starts_a_run_and_answers_with_it(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    await sign_in(client)
    response = await client.post(
        "/ui/proses", data={"target": "catalogue"}, headers={"Accept": "application/json"}
    )
    assert response.status_code == 202
    run = await runtime.runs.wait(response.json()["run_id"])
    assert run.requested_by == "staff-ui"
    shown = (await client.get(f"/ui/proses/{run.run_id}/json")).json()
    assert shown["state"] == "succeeded"


async def test_without_script_a_button_press_leads_to_the_run_page(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    await sign_in(client)
    response = await client.post("/ui/proses", data={"target": "status", "dry_run": "1"})
    assert response.status_code == 303
    run_id = response.headers["location"].rsplit("/", 1)[1]
    await runtime.runs.wait(run_id)
    page = (await client.get(response.headers["location"])).text
    assert "selesai" in page
    assert "uji coba" in page
    assert 'http-equiv="refresh"' not in page


async def test_buttons_need_a_session(client: httpx.AsyncClient, runtime: Runtime) -> None:
    response = await client.post(
        "/ui/proses", data={"target": "catalogue"}, headers={"Accept": "application/json"}
    )
    assert response.status_code == 401
    assert await runtime.store.list_runs() == []


async def test_a_button_press_from_another_site_is_refused(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    await sign_in(client)
    response = await client.post(
        "/ui/proses",
        data={"target": "catalogue"},
        headers={"Origin": "https://evil.example", "Accept": "application/json"},
    )
    assert response.status_code == 403
    assert await runtime.store.list_runs() == []


async def test_an_unknown_target_is_refused(client: httpx.AsyncClient) -> None:
    await sign_in(client)
    response = await client.post(
        "/ui/proses", data={"target": "summary"}, headers={"Accept": "application/json"}
    )
    assert response.status_code == 422
    assert "choose one of" in response.json()["message"]


def test_the_chart_stacks_each_days_counts_with_a_legend() -> None:
    days = (date(2026, 11, 29), date(2026, 11, 30))
    svg = stacked_bars(
        "Per kategori",
        days,
        [("Pengawasan", "#111111", (2, 0)), ("Hambatan OSS", "#222222", (1, 3))],
        chart_id="c",
    )
    assert svg.count("<rect ") == 3
    assert 'data-day="2026-11-29" data-count="2"' in svg
    assert "<title>Hambatan OSS, 30-11-2026: 3</title>" in svg
    assert "Pengawasan (2)</li>" in svg
    assert "Hambatan OSS (4)</li>" in svg
