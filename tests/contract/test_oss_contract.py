"""The OSS client against the mock OSS, operation by operation (DESIGN.md 3.1)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from oss_bridge.clients import RemoteEntry
from oss_bridge.domain import ServiceStandard
from oss_bridge.errors import AuthenticationFailed, RequestRejected, VersionConflict
from tests.contract.conftest import Systems, SystemsFactory
from tests.factories import make_standard


async def pull_all(systems: Systems, *, cursor: str | None = None) -> list[RemoteEntry]:
    entries: list[RemoteEntry] = []
    async for page in systems.oss.standards_since(None, cursor=cursor):
        entries.extend(page.entries)
    return entries


async def remote(systems: Systems, code: str) -> RemoteEntry:
    (entry,) = [e for e in await pull_all(systems) if e.standard.code == code]
    return entry


async def test_the_permit_codes_are_reference_table_8(systems: Systems) -> None:
    codes = await systems.oss.permit_codes()

    assert codes
    assert len({item.code for item in codes}) == len(codes)
    assert all(item.description for item in codes)


async def test_every_permit_code_named_by_the_catalogue_is_in_table_8(systems: Systems) -> None:
    codes = {item.code for item in await systems.oss.permit_codes()}

    named = {e.standard.permit_code for e in await pull_all(systems)} - {None}

    assert named
    assert named <= codes


async def test_an_unknown_reference_table_is_refused(systems: Systems) -> None:
    with pytest.raises(RequestRejected) as caught:
        await systems.oss.reference_table("99")

    assert caught.value.status == 400


async def test_paging_through_a_large_catalogue_sees_every_entry_of_the_region_once(
    make_systems: SystemsFactory,
) -> None:
    systems: Systems = await make_systems(generate_catalogue=45, page_limit=7)
    pages = [page async for page in systems.oss.standards_since(None)]

    codes = [entry.standard.code for page in pages for entry in page.entries]
    held = {row["id_layanan"] for row in (await systems.state())["catalogue"]}
    assert len(codes) == len(set(codes))
    assert set(codes) == {code for code in held if code.startswith(("GEN-1405", "SP-1405"))}
    assert len(pages) == -(-len(codes) // 7)
    assert [page.cursor is None for page in pages] == [False] * (len(pages) - 1) + [True]


async def test_paging_resumes_from_a_saved_cursor_without_repeating_or_skipping(
    make_systems: SystemsFactory,
) -> None:
    systems: Systems = await make_systems(generate_catalogue=20, page_limit=5)
    pages = systems.oss.standards_since(None)
    first = await anext(pages)
    await pages.aclose()

    rest = await pull_all(systems, cursor=first.cursor)

    everything = [e.standard.code for e in await pull_all(systems)]
    assert [e.standard.code for e in first.entries] + [e.standard.code for e in rest] == everything


async def test_only_entries_changed_since_an_instant_are_returned(systems: Systems) -> None:
    before = await pull_all(systems)
    since = systems.time.now()
    systems.time.advance(60)
    await systems.edit(before[0].standard.code, {"nama_layanan": "Layanan yang diubah"})

    changed = [e async for page in systems.oss.standards_since(since) for e in page.entries]

    assert [(e.standard.code, e.standard.name, e.versi) for e in changed] == [
        (before[0].standard.code, "Layanan yang diubah", before[0].versi + 1)
    ]
    assert changed[0].diperbarui >= since + timedelta(seconds=60)


async def test_an_entry_deactivated_by_oss_comes_back_inactive(systems: Systems) -> None:
    code = (await pull_all(systems))[0].standard.code
    await systems.edit(code, {"status": "nonaktif"})

    entry = await remote(systems, code)

    assert (entry.status, entry.standard.status) == ("inactive", "inactive")


async def test_the_seed_entry_maps_to_the_published_facts(systems: Systems) -> None:
    entries = await pull_all(systems)

    job_portal = next(e.standard for e in entries if "Job Portal" in e.standard.name)
    assert job_portal.agency == make_standard().agency
    assert job_portal.completion_time.value == 5
    assert job_portal.fee.amount == 0
    assert job_portal.products == ("NIB dan Sertifikat Standar",)
    assert job_portal.complaint_handling.stages[0] == "menerima dan memberikan tanda terima"
    assert job_portal.complaint_handling.rules
    assert job_portal.complaint_handling.contact.phone == "08117699877"


@pytest.fixture
def new_standard() -> ServiceStandard:
    return make_standard(code="SP-1405-BARU-01", sk_number="SK-7/2024", legal_basis=("PP 5/2021",))


async def test_a_new_entry_is_created_at_versi_1_and_then_listed_as_sent(
    systems: Systems, new_standard: ServiceStandard
) -> None:
    versi = await systems.oss.put_standard(new_standard, base_version=None)

    entry = await remote(systems, new_standard.code)
    assert versi == 1
    assert entry.versi == 1
    # Fields OSS does not hold come back empty; everything else exactly as sent.
    assert entry.standard == new_standard.model_copy(update={"sk_number": None, "legal_basis": ()})


async def test_an_entry_pulled_and_sent_back_on_its_versi_gets_the_next_one_unchanged(
    systems: Systems,
) -> None:
    before = (await pull_all(systems))[0]

    versi = await systems.oss.put_standard(before.standard, base_version=before.versi)

    after = await remote(systems, before.standard.code)
    assert versi == after.versi == before.versi + 1
    assert after.standard == before.standard


async def test_an_update_on_a_stale_versi_conflicts_with_oss_current_entry_and_writes_nothing(
    systems: Systems,
) -> None:
    before = (await pull_all(systems))[0]
    changed = before.standard.model_copy(update={"name": "Perubahan lokal"})

    with pytest.raises(VersionConflict) as caught:
        await systems.oss.put_standard(changed, base_version=before.versi - 1)

    assert caught.value.current == before
    assert await remote(systems, before.standard.code) == before


async def test_creating_an_entry_oss_already_holds_conflicts(systems: Systems) -> None:
    before = (await pull_all(systems))[0]

    with pytest.raises(VersionConflict) as caught:
        await systems.oss.put_standard(before.standard, base_version=None)

    assert caught.value.current == before


async def test_updating_an_entry_oss_does_not_hold_conflicts_with_no_current_entry(
    systems: Systems, new_standard: ServiceStandard
) -> None:
    with pytest.raises(VersionConflict) as caught:
        await systems.oss.put_standard(new_standard, base_version=4)

    assert caught.value.current is None
    assert new_standard.code not in {e.standard.code for e in await pull_all(systems)}


async def test_a_permit_code_missing_from_table_8_is_refused(
    systems: Systems, new_standard: ServiceStandard
) -> None:
    unknown = new_standard.model_copy(update={"permit_code": "I-00000"})

    with pytest.raises(RequestRejected, match="I-00000") as caught:
        await systems.oss.put_standard(unknown, base_version=None)

    assert caught.value.status == 400


async def test_a_wrong_user_key_names_the_config_key_to_check(
    make_systems: SystemsFactory,
) -> None:
    systems: Systems = await make_systems(user_key="not-the-key")

    with pytest.raises(AuthenticationFailed, match=r"check oss\.user_key") as caught:
        await systems.oss.permit_codes()

    assert caught.value.status == 401


async def test_an_entry_of_another_agency_keeps_its_agency_through_oss(
    systems: Systems, new_standard: ServiceStandard
) -> None:
    other = new_standard.model_copy(update={"agency": "Dinas Kesehatan Kabupaten Pelalawan"})

    await systems.oss.put_standard(other, base_version=None)

    assert (await remote(systems, other.code)).standard.agency == other.agency


async def test_an_entry_oss_holds_that_is_no_valid_standard_spoils_only_itself_when_tolerant(
    systems: Systems,
) -> None:
    entries = await pull_all(systems)
    broken = entries[0].standard.code
    await systems.edit(broken, {"persyaratan": []})

    pages = [page async for page in systems.oss.standards_since(None, tolerant=True)]

    assert [r.id_layanan for page in pages for r in page.rejected] == [broken]
    read = {e.standard.code for page in pages for e in page.entries}
    assert read == {e.standard.code for e in entries} - {broken}
