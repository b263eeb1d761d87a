"""``CatalogueSync`` against the mock OSS in process, on every store backend.

The mock runs in-process behind ``httpx.ASGITransport``; its clock and the clients' waits are
fake, so nothing sleeps. OSS staff edits go through the mock's control API (``/_mock/edit``), the
region's edits through the store, as the importer and the staff page make them.
"""

from __future__ import annotations

import json
import math
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from oss_bridge.clients import OssClient, build_http_client
from oss_bridge.config import CatalogueSettings, DatabaseSettings, OssSettings, Settings
from oss_bridge.data import sample_page_path
from oss_bridge.domain import ServiceStandard
from oss_bridge.errors import InputError, MalformedResponse, NotFound, RateLimited
from oss_bridge.services.catalogue_sync import (
    MARK_CURSOR,
    PAGE_CURSOR,
    CatalogueSync,
    SyncProgress,
    SyncReport,
)
from oss_bridge.store import Store
from oss_bridge_mock import create_app
from tests.factories import AGENCY, FakeClock

MOCK = "http://mock"
REGION = "1405"
INQUIRY = "POST /oss/v1/kl/rba/inqueryStandarPelayanan"
RECEIVE = "POST /oss/v1/kl/rba/receiveStandarPelayanan"
REFERENCE = "POST /oss/v1/kl/rba/getDataReferensi"
JOB_PORTAL = "SP-1405-000001"
PBG = "SP-1405-000002"
DEACTIVATED_IN_SEED = "SP-1405-000006"
OTHER_REGION = "SP-1471-000001"


class CorruptingTransport(httpx.AsyncBaseTransport):
    """The mock behind a proxy that cuts short the answers to chosen inquiry requests.

    ``corrupt(n)`` says whether the n-th inquiry (1-based) arrives truncated.
    """

    def __init__(self, app: Any, corrupt: Callable[[int], bool]) -> None:
        self.inner = httpx.ASGITransport(app=app)
        self.corrupt = corrupt
        self.inquiries = 0

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        response = await self.inner.handle_async_request(request)
        if not request.url.path.endswith("/inqueryStandarPelayanan"):
            return response
        self.inquiries += 1
        if not self.corrupt(self.inquiries):
            return response
        body = await response.aread()
        return httpx.Response(200, content=body[: len(body) // 2], request=request)


@dataclass
class Mirror:
    """A ``CatalogueSync`` on the test's store and an in-process mock, with the mock's controls."""

    sync: CatalogueSync
    store: Store
    control: httpx.AsyncClient
    mock_clock: FakeClock
    transport: CorruptingTransport
    progress: list[SyncProgress] = field(default_factory=list)

    async def run(self, **options: Any) -> SyncReport:
        return await self.sync.sync(progress=self.progress.append, **options)

    async def edit(self, id_layanan: str, **changes: Any) -> dict[str, Any]:
        """Change an entry as OSS staff would; returns the entry as OSS now holds it."""
        self.mock_clock.advance(minutes=1)
        answer = await self.control.post(
            "/_mock/edit", json={"id_layanan": id_layanan, "changes": changes}
        )
        assert answer.status_code in (200, 201), answer.text
        entry: dict[str, Any] = answer.json()
        return entry

    async def faults(self, profile: dict[str, Any]) -> None:
        answer = await self.control.post("/_mock/faults", json=profile)
        assert answer.status_code == 200, answer.text

    async def requests(self) -> dict[str, int]:
        answer = await self.control.get("/_mock/state")
        counts: dict[str, int] = answer.json()["requests"]
        return counts

    async def remote(self, id_layanan: str) -> dict[str, Any]:
        """The entry as OSS holds it, read through the OSS API itself (counted as a request)."""
        body = {
            "INQUERYSTANDARPELAYANAN": {
                "kd_daerah": REGION,
                "sejak": None,
                "cursor": None,
                "limit": 1000,
            }
        }
        answer = await self.control.post(
            "/oss/v1/kl/rba/inqueryStandarPelayanan",
            json=body,
            headers={"user_key": "demo-user-key"},
        )
        entries = answer.json()["responinqueryStandarPelayanan"]["data"]
        found: dict[str, Any] = next(e for e in entries if e["id_layanan"] == id_layanan)
        return found

    async def region_codes(self) -> set[str]:
        """The ids of the mock's active entries of the region."""
        answer = await self.control.get("/_mock/state")
        return {
            e["id_layanan"]
            for e in answer.json()["catalogue"]
            if f"-{REGION}-" in e["id_layanan"] and e["status"] == "aktif"
        }

    async def local(self, code: str) -> ServiceStandard:
        stored = await self.store.get_standard(code)
        assert stored is not None
        return stored.standard

    async def edit_locally(self, code: str, **changes: Any) -> None:
        standard = await self.local(code)
        data = {**standard.model_dump(mode="json"), **changes}
        await self.store.save_local_version(
            ServiceStandard.model_validate(data), origin="local", actor="staff"
        )


MirrorFactory = Callable[..., Any]


@pytest.fixture
async def make_mirror(
    store: Store, database_settings: DatabaseSettings
) -> AsyncIterator[MirrorFactory]:
    opened: list[httpx.AsyncClient] = []

    async def build(
        *,
        page_limit: int = 200,
        generate: int = 0,
        max_attempts: int = 3,
        corrupt: Callable[[int], bool] = lambda _: False,
        ownership: dict[str, str] | None = None,
    ) -> Mirror:
        # After every stamp of the seed catalogue, as the real OSS clock would be.
        mock_clock = FakeClock(datetime(2025, 1, 6, 1, 0, tzinfo=UTC))
        app = create_app(clock=mock_clock, generate_catalogue=generate)
        oss_settings = OssSettings(
            base_url=f"{MOCK}/oss", page_limit=page_limit, max_attempts=max_attempts
        )
        catalogue = CatalogueSettings.model_validate(
            {} if ownership is None else {"field_ownership": ownership}
        )
        settings = Settings(database=database_settings, oss=oss_settings, catalogue=catalogue)
        transport = CorruptingTransport(app, corrupt)
        http = build_http_client(oss_settings, transport=transport)
        control = httpx.AsyncClient(base_url=MOCK, transport=httpx.ASGITransport(app=app))
        opened.extend([http, control])

        async def no_wait(_: float) -> None:
            return None

        oss = OssClient(
            http,
            oss_settings,
            kd_daerah=REGION,
            agency=AGENCY,
            sleep=no_wait,
            random=lambda: 0.5,
            now=mock_clock,
        )
        return Mirror(
            sync=CatalogueSync(store, oss, settings),
            store=store,
            control=control,
            mock_clock=mock_clock,
            transport=transport,
        )

    yield build
    for client in opened:
        await client.aclose()


@pytest.fixture
async def mirror(make_mirror: MirrorFactory) -> Mirror:
    """The mock with its seed catalogue, already mirrored once."""
    built: Mirror = await make_mirror()
    await built.run()
    return built


def requests_between(before: dict[str, int], after: dict[str, int]) -> dict[str, int]:
    return {
        k: after.get(k, 0) - before.get(k, 0) for k in after if after.get(k, 0) != before.get(k, 0)
    }


# --- pull ----------------------------------------------------------------------------------------


async def test_a_first_sync_copies_every_active_entry_of_the_region(
    make_mirror: MirrorFactory,
) -> None:
    mirror: Mirror = await make_mirror()

    report = await mirror.run()

    held = {s.code for s in await mirror.store.list_standards()}
    assert held == await mirror.region_codes()
    assert report.counts.created == len(held)
    assert DEACTIVATED_IN_SEED not in held
    assert OTHER_REGION not in held


async def test_a_first_sync_stores_the_entries_as_agreed_with_oss(mirror: Mirror) -> None:
    stored = await mirror.store.get_standard(JOB_PORTAL)

    assert stored is not None
    assert (stored.dirty, stored.remote_versi, stored.origin) == (False, 3, "oss")
    assert stored.base == stored.standard
    assert stored.standard.permit_code == "I-78103"


async def test_a_remote_edit_is_pulled(mirror: Mirror) -> None:
    edited = await mirror.edit(JOB_PORTAL, nama_layanan="Pendaftaran Tenaga Kerja Daring")

    report = await mirror.run()

    stored = await mirror.store.get_standard(JOB_PORTAL)
    assert stored is not None
    assert stored.standard.name == "Pendaftaran Tenaga Kerja Daring"
    assert (stored.remote_versi, stored.dirty) == (edited["versi"], False)
    assert report.counts.updated == 1


async def test_a_pulled_change_is_audited_with_before_and_after(mirror: Mirror) -> None:
    await mirror.edit(JOB_PORTAL, produk=["NIB", "Sertifikat Standar"])

    await mirror.run()

    latest = (await mirror.store.list_audit(entity_id=JOB_PORTAL, limit=1))[0]
    assert latest.action == "update"
    assert latest.before["products"] == ["NIB dan Sertifikat Standar"]
    assert latest.after["products"] == ["NIB", "Sertifikat Standar"]


async def test_a_resync_with_nothing_changed_makes_one_request_and_writes_nothing(
    mirror: Mirror,
) -> None:
    audit_before = await mirror.store.list_audit(limit=1000)
    before = await mirror.requests()

    report = await mirror.run()

    assert requests_between(before, await mirror.requests()) == {INQUIRY: 1}
    assert report.counts.requests == 1
    assert await mirror.store.list_audit(limit=1000) == audit_before
    assert (report.counts.created, report.counts.updated, report.counts.pushed) == (0, 0, 0)


async def test_the_next_pull_asks_from_the_newest_stamp_seen_minus_the_look_back(
    mirror: Mirror,
) -> None:
    edited = await mirror.edit(PBG, nama_layanan="Persetujuan Bangunan Gedung (PBG)")

    await mirror.run()

    mark = await mirror.store.get_cursor(MARK_CURSOR)
    page = await mirror.store.get_cursor(PAGE_CURSOR)
    assert mark is not None
    assert page is not None
    assert mark.sejak == datetime.fromisoformat(edited["diperbarui"])
    assert page.cursor is None


async def test_an_entry_deactivated_by_oss_is_soft_deleted(mirror: Mirror) -> None:
    edited = await mirror.edit(PBG, status="nonaktif")

    report = await mirror.run()

    stored = await mirror.store.get_standard(PBG)
    assert stored is not None
    assert stored.deleted
    assert (stored.remote_versi, stored.dirty) == (edited["versi"], False)
    assert PBG not in {s.code for s in await mirror.store.list_standards()}
    assert report.counts.deleted == 1
    assert "delete" in [e.action for e in await mirror.store.list_audit(entity_id=PBG)]


async def test_an_entry_oss_reactivates_is_restored(mirror: Mirror) -> None:
    await mirror.edit(PBG, status="nonaktif")
    await mirror.run()
    await mirror.edit(PBG, status="aktif")

    await mirror.run()

    stored = await mirror.store.get_standard(PBG)
    assert stored is not None
    assert not stored.deleted
    assert stored.standard.status == "active"


@pytest.mark.parametrize(
    ("changes", "problem"),
    [
        pytest.param({"persyaratan": []}, "requirements", id="no-requirements"),
        pytest.param({"pengaduan": {"aturan": ["x"]}}, "aturan", id="unknown-pengaduan-key"),
    ],
)
async def test_an_invalid_remote_entry_is_quarantined_and_the_rest_of_the_sync_goes_on(
    mirror: Mirror, changes: dict[str, Any], problem: str
) -> None:
    await mirror.edit(PBG, **changes)
    await mirror.edit(JOB_PORTAL, nama_layanan="Job Portal")

    report = await mirror.run()

    quarantined = await mirror.store.list_quarantine(source="oss")
    assert [(q.entity_id, json.loads(q.raw)["versi"]) for q in quarantined] == [(PBG, 6)]
    assert problem in quarantined[0].reason
    assert (await mirror.local(JOB_PORTAL)).name == "Job Portal"
    assert [issue.code for issue in report.quarantined] == [PBG]
    assert report.needs_person


async def test_a_bad_entry_seen_again_is_not_quarantined_twice(mirror: Mirror) -> None:
    await mirror.edit(PBG, persyaratan=[])
    await mirror.run()

    report = await mirror.run()

    assert report.counts.quarantined == 1
    assert len(await mirror.store.list_quarantine(source="oss")) == 1


async def test_a_malformed_page_is_retried(make_mirror: MirrorFactory) -> None:
    mirror: Mirror = await make_mirror(page_limit=5, generate=20, corrupt=lambda n: n == 2)

    await mirror.run()

    assert {s.code for s in await mirror.store.list_standards()} == await mirror.region_codes()
    assert mirror.transport.inquiries == math.ceil(len(await all_region_ids(mirror)) / 5) + 1


async def test_a_page_that_stays_malformed_keeps_the_pages_before_it(
    make_mirror: MirrorFactory,
) -> None:
    mirror: Mirror = await make_mirror(page_limit=5, generate=20, corrupt=lambda n: n >= 3)

    with pytest.raises(MalformedResponse):
        await mirror.run()

    held = {s.code for s in await mirror.store.list_standards(include_deleted=True)}
    assert held == await active_among_first(mirror, 10)
    cursor = await mirror.store.get_cursor(PAGE_CURSOR)
    assert cursor is not None
    assert cursor.cursor is not None


async def test_an_interrupted_pull_resumes_after_the_last_page_it_applied(
    make_mirror: MirrorFactory,
) -> None:
    mirror: Mirror = await make_mirror(page_limit=5, generate=20, max_attempts=2)
    await mirror.faults(
        {"endpoints": {INQUIRY: {"rate_limit": {"burst": {"allow": 2, "refuse": 1000}}}}}
    )
    with pytest.raises(RateLimited):
        await mirror.run()
    applied = {s.code for s in await mirror.store.list_standards(include_deleted=True)}
    saved = await mirror.store.get_cursor(PAGE_CURSOR)
    await mirror.faults({})
    before = await mirror.requests()

    await mirror.run()

    pages = math.ceil(len(await all_region_ids(mirror)) / 5)
    assert requests_between(before, await mirror.requests()) == {INQUIRY: pages - 2}
    assert saved is not None
    assert saved.cursor is not None
    assert applied == await active_among_first(mirror, 10)
    assert {s.code for s in await mirror.store.list_standards()} == await mirror.region_codes()


async def all_region_ids(mirror: Mirror) -> set[str]:
    answer = await mirror.control.get("/_mock/state")
    return {e["id_layanan"] for e in answer.json()["catalogue"] if f"-{REGION}-" in e["id_layanan"]}


async def active_among_first(mirror: Mirror, count: int) -> set[str]:
    """The active entries among the first ``count`` that OSS pages out, in its own order."""
    body = {
        "INQUERYSTANDARPELAYANAN": {
            "kd_daerah": REGION,
            "sejak": None,
            "cursor": None,
            "limit": count,
        }
    }
    answer = await mirror.control.post(
        "/oss/v1/kl/rba/inqueryStandarPelayanan", json=body, headers={"user_key": "demo-user-key"}
    )
    entries = answer.json()["responinqueryStandarPelayanan"]["data"]
    return {e["id_layanan"] for e in entries if e["status"] == "aktif"}


async def test_progress_is_reported_after_every_page(make_mirror: MirrorFactory) -> None:
    mirror: Mirror = await make_mirror(page_limit=5, generate=20)

    await mirror.run()

    pulls = [p for p in mirror.progress if p.phase == "pull"]
    assert [p.pages for p in pulls] == list(range(1, len(pulls) + 1))
    assert pulls[-1].done == len(await all_region_ids(mirror))
    assert all(p.total is None for p in pulls)


# --- push ----------------------------------------------------------------------------------------


async def test_a_local_edit_is_pushed_with_its_base_version(mirror: Mirror) -> None:
    await mirror.edit_locally(JOB_PORTAL, procedure=["Daftar melalui OSS", "Unggah dokumen"])

    report = await mirror.run()

    remote = await mirror.remote(JOB_PORTAL)
    assert remote["prosedur"] == ["Daftar melalui OSS", "Unggah dokumen"]
    assert remote["versi"] == 4
    stored = await mirror.store.get_standard(JOB_PORTAL)
    assert stored is not None
    assert (stored.dirty, stored.remote_versi) == (False, 4)
    assert report.counts.pushed == 1


async def test_a_push_is_audited_with_the_fields_sent(mirror: Mirror) -> None:
    await mirror.edit_locally(JOB_PORTAL, completion_time={"value": 3, "unit": "working_day"})

    await mirror.run()

    latest = (await mirror.store.list_audit(entity_id=JOB_PORTAL, limit=1))[0]
    assert latest.action == "push"
    assert latest.before == {"completion_time": {"value": 5, "unit": "day"}}
    assert latest.after == {"completion_time": {"value": 3, "unit": "working_day"}}
    assert latest.detail == {"base_versi": 3, "versi": 4}


async def test_a_pushed_entry_does_not_come_back_as_a_change(mirror: Mirror) -> None:
    await mirror.edit_locally(JOB_PORTAL, name="Job Portal")
    await mirror.run()
    before = await mirror.requests()

    report = await mirror.run()

    assert requests_between(before, await mirror.requests()) == {INQUIRY: 1}
    assert (report.counts.updated, report.counts.pushed) == (0, 0)


async def test_a_change_of_a_field_oss_does_not_hold_is_not_sent(mirror: Mirror) -> None:
    await mirror.edit_locally(JOB_PORTAL, sk_number="SK 12/2024")
    before = await mirror.requests()

    await mirror.run()

    assert requests_between(before, await mirror.requests()) == {INQUIRY: 1}
    stored = await mirror.store.get_standard(JOB_PORTAL)
    assert stored is not None
    assert (stored.dirty, stored.standard.sk_number) == (False, "SK 12/2024")


async def test_a_local_edit_and_a_remote_edit_of_different_fields_both_survive(
    mirror: Mirror,
) -> None:
    await mirror.edit_locally(JOB_PORTAL, name="Job Portal")
    await mirror.edit(JOB_PORTAL, produk=["NIB", "Sertifikat Standar"])

    await mirror.run()

    remote = await mirror.remote(JOB_PORTAL)
    local = await mirror.local(JOB_PORTAL)
    assert (remote["nama_layanan"], remote["produk"]) == (
        "Job Portal",
        ["NIB", "Sertifikat Standar"],
    )
    assert (local.name, local.products) == ("Job Portal", ("NIB", "Sertifikat Standar"))


async def test_a_local_deletion_is_pushed_as_nonaktif(mirror: Mirror) -> None:
    await mirror.store.mark_deleted(PBG, actor="staff")

    await mirror.run()

    assert (await mirror.remote(PBG))["status"] == "nonaktif"
    stored = await mirror.store.get_standard(PBG)
    assert stored is not None
    assert stored.deleted
    assert not stored.dirty


async def test_an_imported_page_is_created_in_oss(mirror: Mirror) -> None:
    saved = await mirror.sync.import_page(sample_page_path(), code="job-portal", actor="staff")
    assert (saved.change, saved.dirty, saved.origin) == ("created", True, "import")

    report = await mirror.run()

    remote = await mirror.remote("job-portal")
    assert (remote["versi"], remote["waktu_penyelesaian"]) == (1, {"nilai": 5, "satuan": "hari"})
    assert report.counts.pushed == 1


async def test_an_import_over_a_mirrored_entry_keeps_its_permit_code(mirror: Mirror) -> None:
    saved = await mirror.sync.import_page(sample_page_path(), code=JOB_PORTAL, actor="staff")

    assert saved.standard.permit_code == "I-78103"


async def test_importing_the_same_page_twice_changes_nothing(mirror: Mirror) -> None:
    await mirror.sync.import_page(sample_page_path(), code="job-portal", actor="staff")

    again = await mirror.sync.import_page(sample_page_path(), code="job-portal", actor="staff")

    assert again.change == "unchanged"


async def test_an_unknown_permit_code_blocks_only_that_entrys_push(mirror: Mirror) -> None:
    await mirror.edit_locally(JOB_PORTAL, permit_code="I-99999")
    await mirror.edit_locally(PBG, name="PBG")
    before = await mirror.requests()

    report = await mirror.run()

    assert requests_between(before, await mirror.requests()) == {
        INQUIRY: 1,
        REFERENCE: 1,
        RECEIVE: 1,
    }
    assert [issue.code for issue in report.blocked] == [JOB_PORTAL]
    assert "'I-99999'" in report.blocked[0].reason
    assert (await mirror.remote(PBG))["nama_layanan"] == "PBG"
    stored = await mirror.store.get_standard(JOB_PORTAL)
    assert stored is not None
    assert stored.dirty


async def test_a_push_refused_by_oss_is_reported_and_the_rest_is_sent(mirror: Mirror) -> None:
    await mirror.edit_locally(JOB_PORTAL, completion_time={"value": 0, "unit": "day"})
    await mirror.edit_locally(PBG, name="PBG")

    report = await mirror.run()

    assert [issue.code for issue in report.failed] == [JOB_PORTAL]
    assert "nilai" in report.failed[0].reason
    assert (await mirror.remote(PBG))["nama_layanan"] == "PBG"
    assert report.needs_person


async def test_a_push_meeting_a_newer_oss_version_merges_it_and_sends_on_that_version(
    mirror: Mirror,
) -> None:
    await mirror.edit_locally(JOB_PORTAL, name="Job Portal")
    edited = await mirror.edit(JOB_PORTAL, produk=["NIB", "Sertifikat Standar"])

    await mirror.run(direction="push")

    remote = await mirror.remote(JOB_PORTAL)
    assert (remote["nama_layanan"], remote["produk"]) == (
        "Job Portal",
        ["NIB", "Sertifikat Standar"],
    )
    assert remote["versi"] == edited["versi"] + 1
    assert (await mirror.local(JOB_PORTAL)).products == ("NIB", "Sertifikat Standar")


async def test_a_push_meeting_a_concurrent_edit_of_the_same_field_keeps_a_conflict(
    mirror: Mirror,
) -> None:
    await mirror.edit_locally(JOB_PORTAL, name="Job Portal")
    edited = await mirror.edit(JOB_PORTAL, nama_layanan="Portal Kerja")

    report = await mirror.run(direction="push")

    assert [(c.code, c.field) for c in await mirror.sync.conflicts()] == [(JOB_PORTAL, "name")]
    assert (await mirror.remote(JOB_PORTAL))["versi"] == edited["versi"]
    assert report.open_conflicts == 1


async def test_an_entry_oss_no_longer_holds_is_sent_again_as_new(mirror: Mirror) -> None:
    await mirror.sync.import_page(sample_page_path(), code="job-portal", actor="staff")
    await mirror.run()
    reset = await mirror.control.post("/_mock/reset")
    assert reset.status_code == 200
    await mirror.edit_locally("job-portal", name="Job Portal")

    report = await mirror.run(direction="push")

    remote = await mirror.remote("job-portal")
    assert (remote["nama_layanan"], remote["versi"]) == ("Job Portal", 1)
    assert (report.counts.pushed, report.failed) == (1, ())


async def test_a_push_whose_answer_never_came_is_settled_by_the_next_pull_not_sent_twice(
    mirror: Mirror,
) -> None:
    await mirror.edit_locally(JOB_PORTAL, name="Job Portal")
    await mirror.faults(
        {"endpoints": {RECEIVE: {"timeout_after_commit": {"rate": 1.0, "mode": "drop"}}}}
    )
    lost = await mirror.run()
    await mirror.faults({})
    before = await mirror.requests()

    settled = await mirror.run()

    assert [issue.code for issue in lost.failed] == [JOB_PORTAL]
    assert "next sync" in lost.failed[0].reason
    assert RECEIVE not in requests_between(before, await mirror.requests())
    assert (await mirror.remote(JOB_PORTAL))["versi"] == 4
    stored = await mirror.store.get_standard(JOB_PORTAL)
    assert stored is not None
    assert (stored.dirty, stored.remote_versi) == (False, 4)
    assert not settled.needs_person


# --- three-way merge, ownership and conflicts ------------------------------------------------------


async def test_concurrent_edits_of_a_shared_field_give_a_conflict_with_both_values(
    mirror: Mirror,
) -> None:
    original = (await mirror.local(JOB_PORTAL)).name
    await mirror.edit_locally(JOB_PORTAL, name="Job Portal")
    await mirror.edit(JOB_PORTAL, nama_layanan="Portal Kerja")

    report = await mirror.run()

    [conflict] = await mirror.sync.conflicts()
    assert (conflict.code, conflict.field) == (JOB_PORTAL, "name")
    assert (conflict.base, conflict.local, conflict.remote) == (
        original,
        "Job Portal",
        "Portal Kerja",
    )
    assert (report.counts.conflicts, report.open_conflicts) == (1, 1)
    assert report.needs_person


async def test_an_entry_in_conflict_is_not_pushed(mirror: Mirror) -> None:
    await mirror.edit_locally(JOB_PORTAL, name="Job Portal")
    edited = await mirror.edit(JOB_PORTAL, nama_layanan="Portal Kerja")

    report = await mirror.run()

    remote = await mirror.remote(JOB_PORTAL)
    assert (remote["nama_layanan"], remote["versi"]) == ("Portal Kerja", edited["versi"])
    assert (await mirror.local(JOB_PORTAL)).name == "Job Portal"
    assert [issue.code for issue in report.blocked] == [JOB_PORTAL]
    assert "catalogue resolve" in report.blocked[0].reason


async def test_a_field_owned_by_oss_takes_the_oss_change_and_audits_the_override(
    mirror: Mirror,
) -> None:
    await mirror.edit_locally(JOB_PORTAL, requirements=["KTP"])
    await mirror.edit(JOB_PORTAL, persyaratan=["NIK terdaftar"])

    report = await mirror.run()

    assert (await mirror.local(JOB_PORTAL)).requirements == ("NIK terdaftar",)
    assert (await mirror.remote(JOB_PORTAL))["persyaratan"] == ["NIK terdaftar"]
    overrides = [
        e for e in await mirror.store.list_audit(entity_id=JOB_PORTAL) if e.action == "override"
    ]
    assert [(e.before, e.after) for e in overrides] == [(["KTP"], ["NIK terdaftar"])]
    assert report.counts.overrides == 1
    assert not report.needs_person


async def test_a_field_owned_by_the_region_keeps_the_region_change_and_sends_it(
    mirror: Mirror,
) -> None:
    await mirror.edit_locally(JOB_PORTAL, fee={"amount": 5000, "note": "Retribusi"})
    await mirror.edit(JOB_PORTAL, biaya={"nominal": 10000, "keterangan": "Tarif baru"})

    await mirror.run()

    assert (await mirror.remote(JOB_PORTAL))["biaya"] == {
        "nominal": 5000,
        "keterangan": "Retribusi",
    }
    assert (await mirror.local(JOB_PORTAL)).fee.note == "Retribusi"


async def test_field_ownership_comes_from_the_config(make_mirror: MirrorFactory) -> None:
    mirror: Mirror = await make_mirror(ownership={"name": "oss"})
    await mirror.run()
    await mirror.edit_locally(JOB_PORTAL, name="Job Portal")
    await mirror.edit(JOB_PORTAL, nama_layanan="Portal Kerja")

    report = await mirror.run()

    assert (await mirror.local(JOB_PORTAL)).name == "Portal Kerja"
    assert report.open_conflicts == 0


async def test_taking_the_local_value_makes_the_entry_pushable(mirror: Mirror) -> None:
    await mirror.edit_locally(JOB_PORTAL, name="Job Portal")
    await mirror.edit(JOB_PORTAL, nama_layanan="Portal Kerja")
    await mirror.run()
    [conflict] = await mirror.sync.conflicts()

    resolved = await mirror.sync.resolve(conflict.id, "local", actor="staff")
    report = await mirror.run()

    assert (resolved.resolution, resolved.resolved_by) == ("local", "staff")
    assert (await mirror.remote(JOB_PORTAL))["nama_layanan"] == "Job Portal"
    assert (report.counts.pushed, report.open_conflicts) == (1, 0)


async def test_taking_the_remote_value_writes_it_locally_and_sends_nothing(mirror: Mirror) -> None:
    await mirror.edit_locally(JOB_PORTAL, name="Job Portal")
    await mirror.edit(JOB_PORTAL, nama_layanan="Portal Kerja")
    await mirror.run()
    [conflict] = await mirror.sync.conflicts()

    await mirror.sync.resolve(conflict.id, "remote", actor="staff")
    before = await mirror.requests()
    report = await mirror.run()

    stored = await mirror.store.get_standard(JOB_PORTAL)
    assert stored is not None
    assert (stored.standard.name, stored.dirty, stored.origin) == (
        "Portal Kerja",
        False,
        "resolution",
    )
    assert requests_between(before, await mirror.requests()) == {INQUIRY: 1}
    assert report.open_conflicts == 0


async def test_a_resolution_is_audited(mirror: Mirror) -> None:
    await mirror.edit_locally(JOB_PORTAL, name="Job Portal")
    await mirror.edit(JOB_PORTAL, nama_layanan="Portal Kerja")
    await mirror.run()
    [conflict] = await mirror.sync.conflicts()

    await mirror.sync.resolve(conflict.id, "remote", actor="staff")

    latest = (await mirror.store.list_audit(entity_id=JOB_PORTAL, limit=1))[0]
    assert (latest.action, latest.actor) == ("resolve", "staff")
    assert (latest.before, latest.after) == ("Job Portal", "Portal Kerja")


@pytest.mark.parametrize("take", ["both", "LOCAL", ""])
async def test_a_resolution_must_take_local_or_remote(mirror: Mirror, take: str) -> None:
    with pytest.raises(InputError, match="choose 'local' or 'remote'"):
        await mirror.sync.resolve(1, take)


async def test_resolving_an_unknown_conflict_says_how_to_list_them(mirror: Mirror) -> None:
    with pytest.raises(NotFound, match="catalogue conflicts"):
        await mirror.sync.resolve(999, "local")


async def test_a_conflicted_field_is_left_alone_while_other_fields_sync(mirror: Mirror) -> None:
    await mirror.edit_locally(JOB_PORTAL, name="Job Portal")
    await mirror.edit(JOB_PORTAL, nama_layanan="Portal Kerja")
    await mirror.run()
    await mirror.edit(JOB_PORTAL, produk=["NIB", "Sertifikat Standar"])

    await mirror.run()

    local = await mirror.local(JOB_PORTAL)
    remote = await mirror.remote(JOB_PORTAL)
    assert (local.name, local.products) == ("Job Portal", ("NIB", "Sertifikat Standar"))
    assert remote["nama_layanan"] == "Portal Kerja"
    [conflict] = await mirror.sync.conflicts()
    assert (conflict.remote, conflict.remote_versi) == ("Portal Kerja", remote["versi"])


async def test_a_conflict_closes_itself_when_both_sides_come_to_agree(mirror: Mirror) -> None:
    await mirror.edit_locally(JOB_PORTAL, name="Job Portal")
    await mirror.edit(JOB_PORTAL, nama_layanan="Portal Kerja")
    await mirror.run()
    [conflict] = await mirror.sync.conflicts()
    await mirror.edit(JOB_PORTAL, nama_layanan="Job Portal")

    report = await mirror.run()

    assert report.open_conflicts == 0
    closed = await mirror.store.get_conflict(conflict.id)
    assert closed is not None
    assert closed.resolved_by == "sync"
    stored = await mirror.store.get_standard(JOB_PORTAL)
    assert stored is not None
    assert not stored.dirty


# --- dry run ---------------------------------------------------------------------------------------


async def test_a_dry_run_shows_the_field_diff_both_ways(mirror: Mirror) -> None:
    await mirror.edit_locally(JOB_PORTAL, name="Job Portal")
    await mirror.edit(JOB_PORTAL, produk=["NIB", "Sertifikat Standar"])

    report = await mirror.run(dry_run=True)

    [outcome] = report.diff
    assert [c.field for c in outcome.to_remote] == ["name"]
    assert [c.field for c in outcome.to_local] == ["products"]
    lines = "\n".join(report.lines())
    assert 'name: "Aktivitas Pendaftaran Tenaga Kerja Daring (Job Portal)" -> "Job Portal"' in lines
    assert 'products: + "NIB"' in lines


async def test_a_dry_run_writes_nothing_and_sends_nothing(mirror: Mirror) -> None:
    """It reads what a sync reads (pages, and the permit codes to check what it would send)."""
    await mirror.edit_locally(JOB_PORTAL, name="Job Portal")
    await mirror.edit(PBG, nama_layanan="PBG")
    audit = await mirror.store.list_audit(limit=1000)
    cursors = (
        await mirror.store.get_cursor(PAGE_CURSOR),
        await mirror.store.get_cursor(MARK_CURSOR),
    )
    before = await mirror.requests()

    await mirror.run(dry_run=True)

    assert requests_between(before, await mirror.requests()) == {INQUIRY: 1, REFERENCE: 1}
    assert await mirror.store.list_audit(limit=1000) == audit
    assert (
        await mirror.store.get_cursor(PAGE_CURSOR),
        await mirror.store.get_cursor(MARK_CURSOR),
    ) == cursors
    assert (await mirror.local(PBG)).name != "PBG"


async def test_a_dry_run_counts_what_a_sync_would_do(mirror: Mirror) -> None:
    await mirror.edit_locally(JOB_PORTAL, name="Job Portal")
    await mirror.edit(JOB_PORTAL, nama_layanan="Portal Kerja")
    await mirror.edit(PBG, nama_layanan="PBG")

    preview = await mirror.run(dry_run=True)
    report = await mirror.run()

    assert (preview.counts.updated, preview.counts.conflicts, preview.open_conflicts) == (
        report.counts.updated,
        report.counts.conflicts,
        report.open_conflicts,
    )


async def test_a_dry_run_of_a_first_sync_lists_every_entry_as_created(
    make_mirror: MirrorFactory,
) -> None:
    mirror: Mirror = await make_mirror()

    report = await mirror.run(dry_run=True)

    assert {o.code for o in report.diff} == await mirror.region_codes()
    assert {o.action for o in report.diff} == {"create_local"}
    assert await mirror.store.list_standards() == []


# --- export --------------------------------------------------------------------------------------


async def test_the_json_export_holds_every_live_entry(mirror: Mirror) -> None:
    exported = await mirror.sync.export("json")

    assert [e["code"] for e in exported] == sorted(await mirror.region_codes())
    assert exported[0] == (await mirror.local(exported[0]["code"])).model_dump(mode="json")


async def test_the_cpsv_export_describes_every_live_entry_as_a_public_service(
    mirror: Mirror,
) -> None:
    exported = await mirror.sync.export("cpsv-jsonld")

    services = [
        n["dct:identifier"] for n in exported["@graph"] if n["@type"] == "cpsv:PublicService"
    ]
    assert sorted(services) == sorted(await mirror.region_codes())
    assert all(
        n["@id"].startswith("https://dpmptsp.pelalawankab.go.id/katalog/")
        for n in exported["@graph"]
        if n["@type"] == "cpsv:PublicService"
    )


async def test_an_unknown_export_format_is_refused(mirror: Mirror) -> None:
    with pytest.raises(InputError, match="'xml'"):
        await mirror.sync.export("xml")


async def test_an_unknown_direction_is_refused_before_anything_is_sent(mirror: Mirror) -> None:
    before = await mirror.requests()

    with pytest.raises(InputError, match="'sideways'"):
        await mirror.run(direction="sideways")

    assert await mirror.requests() == before


async def test_a_pull_only_sync_sends_nothing(mirror: Mirror) -> None:
    await mirror.edit_locally(JOB_PORTAL, name="Job Portal")
    before = await mirror.requests()

    await mirror.run(direction="pull")

    assert requests_between(before, await mirror.requests()) == {INQUIRY: 1}
