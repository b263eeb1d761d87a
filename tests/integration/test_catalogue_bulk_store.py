"""The store's bulk write of a page of sync decisions (``save_synced``), on every backend.

It writes what the per-entry saves write (the current row, a history row per change of content,
an audit entry with the content before and after), in a handful of statements per page.
"""

from __future__ import annotations

from oss_bridge.domain import ServiceStandard
from oss_bridge.domain.canonical import canonical_content
from oss_bridge.store import Store, SyncWrite, content_hash
from tests.factories import FakeClock, make_standard

CODES = [f"sp-{number}" for number in range(1, 6)]


def page(**overrides: object) -> list[ServiceStandard]:
    return [make_standard(code=code, **overrides) for code in CODES]


async def save(store: Store, writes: list[SyncWrite]) -> list[str]:
    async with store.transaction() as tx:
        return list(await tx.save_synced(writes, actor="sync"))


async def test_a_page_saved_in_bulk_reads_back_clean_as_saved(
    store: Store, clock: FakeClock
) -> None:
    standards = page()

    changes = await save(store, [SyncWrite(s, 4, None) for s in standards])

    assert changes == ["created"] * len(CODES)
    for standard in standards:
        stored = await store.get_standard(standard.code)
        assert stored is not None
        assert (stored.standard, stored.base, stored.dirty) == (standard, standard, False)
        assert (stored.content_hash, stored.base_hash) == (content_hash(standard),) * 2
        assert (stored.local_version, stored.remote_versi, stored.synced_at) == (1, 4, clock.now)


async def test_each_entry_created_in_bulk_has_its_first_version_and_a_create_audit(
    store: Store,
) -> None:
    standards = page()

    await save(store, [SyncWrite(s, 4, None) for s in standards])

    for standard in standards:
        (version,) = await store.list_versions(standard.code)
        assert (version.local_version, version.standard, version.origin, version.actor) == (
            1,
            standard,
            "oss",
            "sync",
        )
        (audit,) = await store.list_audit(entity_id=standard.code)
        assert (audit.action, audit.actor, audit.before) == ("create", "sync", None)
        assert audit.after == canonical_content(standard)
        assert audit.detail == {"origin": "oss", "local_version": 1}


async def test_an_entry_saved_with_another_base_keeps_that_base_and_is_dirty(
    store: Store,
) -> None:
    oss_holds = make_standard(code="sp-1")
    ours = make_standard(code="sp-1", products=["NIB", "Sertifikat Standar"])

    await save(store, [SyncWrite(ours, 4, None, base=oss_holds)])

    stored = await store.get_standard("sp-1")
    assert stored is not None
    assert (stored.standard, stored.base, stored.dirty) == (ours, oss_holds, True)
    assert stored.base_hash == content_hash(oss_holds)


async def test_a_local_edit_after_a_bulk_save_keeps_the_agreed_base(store: Store) -> None:
    await save(store, [SyncWrite(make_standard(code="sp-1"), 4, None)])

    edited = await store.save_local_version(
        make_standard(code="sp-1", products=["Izin"]), origin="local", actor="staff"
    )

    assert (edited.base, edited.dirty) == (make_standard(code="sp-1"), True)
    reread = await store.get_standard("sp-1")
    assert reread is not None
    assert reread.base == make_standard(code="sp-1")


async def test_a_bulk_update_is_versioned_and_audited_with_before_and_after(
    store: Store,
) -> None:
    before, after = make_standard(code="sp-1"), make_standard(code="sp-1", products=["Izin"])
    await save(store, [SyncWrite(before, 4, None)])

    changes = await save(store, [SyncWrite(after, 5, 1)])

    assert changes == ["updated"]
    assert [v.standard for v in await store.list_versions("sp-1")] == [before, after]
    update, _ = await store.list_audit(entity_id="sp-1")
    assert (update.action, update.before, update.after) == (
        "update",
        canonical_content(before),
        canonical_content(after),
    )
    stored = await store.get_standard("sp-1")
    assert stored is not None
    assert (stored.standard, stored.base, stored.dirty, stored.local_version) == (
        after,
        after,
        False,
        2,
    )


async def test_an_entry_oss_holds_unchanged_only_gets_its_bookkeeping_updated(
    store: Store,
) -> None:
    standard = make_standard(code="sp-1")
    await save(store, [SyncWrite(standard, 4, None)])

    changes = await save(store, [SyncWrite(standard, 6, 1)])

    assert changes == ["unchanged"]
    stored = await store.get_standard("sp-1")
    assert stored is not None
    assert (stored.remote_versi, stored.local_version, stored.base) == (6, 1, standard)
    assert len(await store.list_versions("sp-1")) == 1


async def test_an_entry_created_inactive_is_audited_as_created_then_deleted(
    store: Store,
) -> None:
    standard = make_standard(code="sp-1", status="inactive")

    await save(store, [SyncWrite(standard, 4, None)])

    stored = await store.get_standard("sp-1")
    assert stored is not None
    assert stored.deleted
    newest_first = await store.list_audit(entity_id="sp-1")
    assert [entry.action for entry in reversed(newest_first)] == ["create", "delete"]
