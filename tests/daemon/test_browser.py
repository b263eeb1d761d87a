"""The staff page in real headless Chromium (Debian's), against `oss-bridge run` as a process."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Browser, Page, expect, sync_playwright

from tests.daemon.support import STAFF_TOKEN, Bridge, running_bridge

pytestmark = pytest.mark.e2e

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
WAIT_MS = 20_000


@pytest.fixture(scope="module")
def bridge(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Bridge]:
    """A daemon whose channel refuses every new complaint (503), so complaints stay queued."""
    directory = tmp_path_factory.mktemp("browser")
    faults = directory / "refuse.json"
    faults.write_text(
        json.dumps(
            {
                "endpoints": {
                    "POST /lapor/complaints/complaint": {"error_rate": 1, "error_statuses": [503]}
                }
            }
        )
    )
    with running_bridge(directory, faults=faults) as running:
        yield running


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    if not CHROMIUM.exists():
        pytest.fail(
            f"{CHROMIUM} is missing; install Debian's chromium package (apt-get install chromium)"
        )
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(locale="id-ID")
    page = context.new_page()
    yield page
    context.close()


def sign_in(page: Page, bridge: Bridge, token: str = STAFF_TOKEN) -> None:
    page.goto(f"{bridge.url}/ui/")
    page.get_by_label("Token staf").fill(token)
    page.get_by_role("button", name="Masuk").click()


def test_a_wrong_token_keeps_the_page_closed(page: Page, bridge: Bridge) -> None:
    sign_in(page, bridge, "not the token")
    expect(page.get_by_role("alert")).to_have_text("Token staf salah.")
    expect(page.get_by_role("heading", name="Ringkasan")).to_have_count(0)


def test_staff_sign_in_see_the_queue_press_resync_and_see_it_finish(
    page: Page, bridge: Bridge, tmp_path: Path
) -> None:
    receipt = httpx.post(
        f"{bridge.url}/api/v1/complaints",
        json={
            "category": "hambatan_oss",
            "object": "pemerintah_kabupaten",
            "description": "Dokumen tidak dapat diunggah ke OSS.",
        },
    ).json()["receipt_number"]

    sign_in(page, bridge)
    expect(page.get_by_role("heading", name="Ringkasan")).to_be_visible()
    waiting = page.locator("#waiting")
    expect(waiting).to_contain_text(receipt)
    expect(waiting).to_contain_text("ServerError")  # why it waits: the channel's 503
    expect(page.locator('[data-stat="pending"] .n')).to_have_text(re.compile(r"^[1-9]\d*$"))
    expect(page.locator("#chart-category")).to_be_visible()

    page.get_by_role("button", name="Sinkronkan katalog").click()
    panel = page.locator("#run-panel")
    expect(panel).to_have_attribute("data-state", "succeeded", timeout=WAIT_MS)
    expect(panel.locator(".run-state")).to_have_text("selesai")
    expect(panel.locator(".run-job")).to_have_text("Sinkronisasi katalog OSS")
    # The sync at start already mirrored the catalogue; this one finds it unchanged.
    expect(panel.locator(".run-result")).to_contain_text(re.compile(r"\d+ fetched"))
    expect(page.get_by_role("button", name="Sinkronkan katalog")).to_be_enabled()
    page.screenshot(path=str(tmp_path / "staff-page.png"), full_page=True)
    assert (tmp_path / "staff-page.png").stat().st_size > 0


def test_a_dry_run_from_the_page_changes_nothing(page: Page, bridge: Bridge) -> None:
    sign_in(page, bridge)
    page.get_by_label("Uji coba saja").check()
    page.get_by_role("button", name="Teruskan pengaduan sekarang").click()
    panel = page.locator("#run-panel")
    expect(panel).to_have_attribute("data-state", "succeeded", timeout=WAIT_MS)
    expect(panel.locator(".run-result")).to_contain_text("dry run: nothing sent")


def test_signing_out_closes_the_page(page: Page, bridge: Bridge) -> None:
    sign_in(page, bridge)
    page.get_by_role("button", name="Keluar").click()
    expect(page.get_by_role("heading", name="Masuk halaman staf")).to_be_visible()
