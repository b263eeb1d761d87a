"""The store's contract, run against every backend (see tests/conftest.py)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal

import pytest

from oss_bridge.domain.canonical import canonical_content
from oss_bridge.errors import ConcurrentChange, InputError, NotFound
from oss_bridge.store import Store, content_hash
from tests.factories import FakeClock, make_standard

CODE = make_standard().code


async def _versions(store: Store, code: str = CODE) -> list[int]:
    return [version.local_version for version in await store.list_versions(code)]


# --- content hash --------------------------------------------------------------------------


def test_equal_standards_with_differently_written_fees_have_one_hash() -> None:
    a = make_standard(fee={"amount": Decimal("5000"), "note": None})
    b = make_standard(fee={"amount": Decimal("5000.00"), "note": None})

    assert a == b
    assert content_hash(a) == content_hash(b)
    assert canonical_content(a)["fee"]["amount"] == "5000"


def test_a_changed_field_changes_the_hash() -> None:
    assert content_hash(make_standard()) != content_hash(make_standard(products=["NIB"]))


# --- saving and reading --------------------------------------------------------------------


async def test_a_saved_standard_comes_back_equal(store: Store) -> None:
    standard = make_standard()

    await store.save_local_version(standard, origin="import", actor="staff")
    stored = await store.get_standard(standard.code)

    assert stored is not None
    assert stored.standard == standard
    assert stored.content_hash == content_hash(standard)


async def test_an_unknown_code_is_none(store: Store) -> None:
    assert await store.get_standard("no-such-code") is None


async def test_the_first_save_creates_version_1(store: Store, clock: FakeClock) -> None:
    saved = await store.save_local_version(make_standard(), origin="import", actor="staff")

    assert (saved.change, saved.changed, saved.local_version, saved.origin) == (
        "created",
        True,
        1,
        "import",
    )
    assert saved.created_at == saved.updated_at == clock.now


async def test_saving_changed_content_creates_the_next_version(
    store: Store, clock: FakeClock
) -> None:
    created = await store.save_local_version(make_standard(), origin="import", actor="staff")
    clock.advance(minutes=5)

    saved = await store.save_local_version(
        make_standard(products=["NIB"]), origin="local", actor="staff"
    )

    assert (saved.change, saved.local_version, saved.origin) == ("updated", 2, "local")
    assert (saved.created_at, saved.updated_at) == (created.created_at, clock.now)


async def test_saving_unchanged_content_writes_nothing_and_says_so(
    store: Store, clock: FakeClock
) -> None:
    first = await store.save_local_version(make_standard(), origin="import", actor="staff")
    clock.advance(minutes=5)

    again = await store.save_local_version(make_standard(), origin="local", actor="other")

    assert (again.change, again.changed) == ("unchanged", False)
    assert again.local_version == 1
    assert again.updated_at == first.updated_at
    assert await _versions(store) == [1]
    assert len(await store.list_audit("service_standard", CODE)) == 1


async def test_each_save_writes_one_version_row_and_one_audit_entry_with_before_and_after(
    store: Store,
) -> None:
    first, second = make_standard(), make_standard(products=["NIB", "Sertifikat Standar"])

    await store.save_local_version(first, origin="import", actor="importer")
    await store.save_local_version(second, origin="local", actor="staff")

    assert await _versions(store) == [1, 2]
    update, create = await store.list_audit("service_standard", CODE)
    assert (create.action, create.actor, create.before, create.after) == (
        "create",
        "importer",
        None,
        canonical_content(first),
    )
    assert (update.action, update.actor, update.before, update.after) == (
        "update",
        "staff",
        canonical_content(first),
        canonical_content(second),
    )
    assert update.detail == {"origin": "local", "local_version": 2}


async def test_the_history_keeps_every_version_with_its_origin_and_actor(store: Store) -> None:
    await store.save_local_version(make_standard(), origin="import", actor="importer")
    await store.save_local_version(make_standard(products=["NIB"]), origin="local", actor="staff")

    history = await store.list_versions(CODE)

    assert [(v.local_version, v.origin, v.actor, v.standard.products) for v in history] == [
        (1, "import", "importer", ("NIB dan Sertifikat Standar",)),
        (2, "local", "staff", ("NIB",)),
    ]


async def test_a_save_expecting_another_version_is_refused_and_writes_nothing(
    store: Store,
) -> None:
    await store.save_local_version(make_standard(), origin="import", actor="staff")
    await store.save_local_version(make_standard(products=["NIB"]), origin="local", actor="staff")

    with pytest.raises(ConcurrentChange, match=r"at local version 2, not 1"):
        await store.save_local_version(
            make_standard(products=["X"]), origin="local", actor="staff", expected_local_version=1
        )
    assert await _versions(store) == [1, 2]


async def test_concurrent_saves_of_one_entry_get_consecutive_versions(store: Store) -> None:
    await store.save_local_version(make_standard(), origin="import", actor="staff")

    await asyncio.gather(
        *(
            store.save_local_version(
                make_standard(products=[f"Produk {n}"]), origin="local", actor="staff"
            )
            for n in range(5)
        )
    )

    assert await _versions(store) == [1, 2, 3, 4, 5, 6]


async def test_concurrent_first_saves_of_one_code_create_it_once(store: Store) -> None:
    results = await asyncio.gather(
        *(
            store.save_local_version(
                make_standard(products=[f"Produk {n}"]), origin="import", actor="staff"
            )
            for n in range(3)
        )
    )

    assert sorted(saved.change for saved in results) == ["created", "updated", "updated"]
    assert await _versions(store) == [1, 2, 3]


@pytest.mark.parametrize("origin", ["remote", "", "OSS"])
async def test_an_unknown_origin_is_refused(store: Store, origin: str) -> None:
    with pytest.raises(ValueError, match=repr(origin)):
        await store.save_local_version(make_standard(), origin=origin, actor="staff")  # type: ignore[arg-type]


# --- sync bookkeeping ----------------------------------------------------------------------


async def test_a_new_local_standard_is_dirty(store: Store) -> None:
    saved = await store.save_local_version(make_standard(), origin="import", actor="staff")

    assert (saved.dirty, saved.base, saved.remote_versi, saved.synced_at) == (
        True,
        None,
        None,
        None,
    )


async def test_applying_synced_content_makes_it_the_clean_agreed_base(
    store: Store, clock: FakeClock
) -> None:
    standard = make_standard()

    saved = await store.apply_synced(standard, remote_versi=7, actor="sync")

    assert (saved.change, saved.origin, saved.dirty, saved.remote_versi) == (
        "created",
        "oss",
        False,
        7,
    )
    assert (saved.base, saved.base_hash, saved.synced_at) == (
        standard,
        content_hash(standard),
        clock.now,
    )


async def test_a_local_change_after_a_sync_is_dirty(store: Store) -> None:
    await store.apply_synced(make_standard(), remote_versi=7, actor="sync")

    saved = await store.save_local_version(
        make_standard(products=["NIB"]), origin="local", actor="staff"
    )

    assert saved.dirty
    assert saved.base == make_standard()


async def test_changing_back_to_the_agreed_content_is_clean(store: Store) -> None:
    await store.apply_synced(make_standard(), remote_versi=7, actor="sync")
    await store.save_local_version(make_standard(products=["NIB"]), origin="local", actor="staff")

    saved = await store.save_local_version(make_standard(), origin="local", actor="staff")

    assert (saved.change, saved.dirty, saved.local_version) == ("updated", False, 3)


async def test_a_push_accepted_by_oss_only_updates_the_sync_bookkeeping(
    store: Store, clock: FakeClock
) -> None:
    await store.save_local_version(make_standard(), origin="import", actor="staff")
    clock.advance(minutes=1)

    saved = await store.apply_synced(make_standard(), remote_versi=1, actor="sync")

    assert (saved.change, saved.origin, saved.local_version) == ("unchanged", "import", 1)
    assert (saved.dirty, saved.remote_versi, saved.synced_at) == (False, 1, clock.now)
    assert await _versions(store) == [1]
    assert [entry.action for entry in await store.list_audit("service_standard", CODE)] == [
        "create"
    ]


async def test_applying_what_is_already_agreed_writes_nothing(
    store: Store, clock: FakeClock
) -> None:
    first = await store.apply_synced(make_standard(), remote_versi=3, actor="sync")
    clock.advance(minutes=15)

    again = await store.apply_synced(make_standard(), remote_versi=3, actor="sync")

    assert (again.change, again.updated_at, again.synced_at) == (
        "unchanged",
        first.updated_at,
        first.synced_at,
    )


async def test_apply_synced_expecting_another_version_is_refused(store: Store) -> None:
    await store.save_local_version(make_standard(), origin="import", actor="staff")

    with pytest.raises(ConcurrentChange):
        await store.apply_synced(
            make_standard(), remote_versi=1, actor="sync", expected_local_version=0
        )
    stored = await store.get_standard(CODE)
    assert stored is not None
    assert stored.remote_versi is None


async def test_list_dirty_lists_only_entries_oss_does_not_have(store: Store) -> None:
    await store.apply_synced(make_standard(code="synced"), remote_versi=1, actor="sync")
    await store.save_local_version(make_standard(code="local-b"), origin="local", actor="staff")
    await store.save_local_version(make_standard(code="local-a"), origin="import", actor="staff")

    assert [entry.code for entry in await store.list_dirty()] == ["local-a", "local-b"]


# --- soft deletion -------------------------------------------------------------------------


async def test_soft_delete_hides_the_entry_from_the_list_but_keeps_its_row(
    store: Store, clock: FakeClock
) -> None:
    await store.save_local_version(make_standard(), origin="import", actor="staff")
    await store.save_local_version(make_standard(code="other"), origin="import", actor="staff")

    await store.mark_deleted(CODE, actor="staff")

    assert [entry.code for entry in await store.list_standards()] == ["other"]
    assert [entry.code for entry in await store.list_standards(include_deleted=True)] == [
        CODE,
        "other",
    ]
    kept = await store.get_standard(CODE)
    assert kept is not None
    assert (kept.deleted, kept.deleted_at, kept.standard) == (True, clock.now, make_standard())


async def test_a_local_deletion_is_dirty_and_audited_with_the_content_before(
    store: Store,
) -> None:
    await store.apply_synced(make_standard(), remote_versi=3, actor="sync")

    deleted = await store.mark_deleted(CODE, actor="staff")

    assert deleted.dirty
    entry = (await store.list_audit("service_standard", CODE))[0]
    assert (entry.action, entry.actor, entry.before, entry.after) == (
        "delete",
        "staff",
        canonical_content(make_standard()),
        None,
    )


async def test_a_deletion_reported_by_oss_is_not_dirty(store: Store) -> None:
    await store.apply_synced(make_standard(), remote_versi=3, actor="sync")

    deleted = await store.mark_deleted(CODE, actor="sync", remote_versi=4)

    assert (deleted.deleted, deleted.dirty, deleted.remote_versi) == (True, False, 4)


async def test_deleting_a_deleted_entry_changes_nothing(store: Store, clock: FakeClock) -> None:
    await store.save_local_version(make_standard(), origin="import", actor="staff")
    first = await store.mark_deleted(CODE, actor="staff")
    clock.advance(minutes=1)

    again = await store.mark_deleted(CODE, actor="staff")

    assert again == first
    assert len(await store.list_audit("service_standard", CODE)) == 2


async def test_deleting_an_unknown_code_raises_not_found(store: Store) -> None:
    with pytest.raises(NotFound, match=r"'no-such-code'"):
        await store.mark_deleted("no-such-code", actor="staff")


async def test_saving_a_deleted_entry_restores_it_as_a_new_version(store: Store) -> None:
    await store.save_local_version(make_standard(), origin="import", actor="staff")
    await store.mark_deleted(CODE, actor="staff")

    restored = await store.save_local_version(make_standard(), origin="import", actor="staff")

    assert (restored.change, restored.deleted, restored.local_version) == ("updated", False, 2)
    assert [entry.code for entry in await store.list_standards()] == [CODE]


# --- cursors -------------------------------------------------------------------------------


async def test_a_cursor_never_saved_is_none(store: Store) -> None:
    assert await store.get_cursor("catalogue") is None


async def test_a_saved_cursor_comes_back_and_a_later_save_replaces_it(
    store: Store, clock: FakeClock
) -> None:
    sejak = datetime(2024, 5, 1, tzinfo=UTC)
    await store.save_cursor("catalogue", sejak, "page-2")
    clock.advance(minutes=1)

    await store.save_cursor("catalogue", sejak + timedelta(days=1), None)
    cursor = await store.get_cursor("catalogue")

    assert cursor is not None
    assert (cursor.name, cursor.sejak, cursor.cursor, cursor.updated_at) == (
        "catalogue",
        sejak + timedelta(days=1),
        None,
        clock.now,
    )


async def test_a_cursor_time_without_a_zone_is_refused(store: Store) -> None:
    with pytest.raises(ValueError, match=r"sejak .* has no time zone"):
        await store.save_cursor("catalogue", datetime(2024, 5, 1), None)


# --- conflicts -----------------------------------------------------------------------------


async def _conflict_on_fee(store: Store, remote_amount: str = "5000") -> int:
    await store.save_local_version(make_standard(), origin="import", actor="staff")
    conflict = await store.add_conflict(
        code=CODE,
        field="fee",
        base={"amount": "0"},
        local={"amount": "1000"},
        remote={"amount": remote_amount},
        remote_versi=4,
        actor="sync",
    )
    return conflict.id


async def test_an_added_conflict_is_listed_as_open_and_audited(store: Store) -> None:
    conflict_id = await _conflict_on_fee(store)

    (conflict,) = await store.list_conflicts()

    assert (conflict.id, conflict.code, conflict.field, conflict.is_open) == (
        conflict_id,
        CODE,
        "fee",
        True,
    )
    assert (conflict.base, conflict.local, conflict.remote, conflict.remote_versi) == (
        {"amount": "0"},
        {"amount": "1000"},
        {"amount": "5000"},
        4,
    )
    entry = (await store.list_audit("service_standard", CODE))[0]
    assert (entry.action, entry.before, entry.after) == (
        "conflict",
        {"amount": "1000"},
        {"amount": "5000"},
    )


async def test_a_later_sync_refreshes_the_open_conflict_of_a_field(store: Store) -> None:
    first_id = await _conflict_on_fee(store)

    refreshed = await store.add_conflict(
        code=CODE,
        field="fee",
        base={"amount": "0"},
        local={"amount": "1000"},
        remote={"amount": "7500"},
        remote_versi=5,
        actor="sync",
    )

    assert refreshed.id == first_id
    assert [(c.remote, c.remote_versi) for c in await store.list_conflicts()] == [
        ({"amount": "7500"}, 5)
    ]


async def test_adding_the_same_conflict_again_writes_nothing(store: Store) -> None:
    await _conflict_on_fee(store)
    audited = len(await store.list_audit())

    await store.add_conflict(
        code=CODE,
        field="fee",
        base={"amount": "0"},
        local={"amount": "1000"},
        remote={"amount": "5000"},
        remote_versi=4,
        actor="sync",
    )

    assert len(await store.list_conflicts()) == 1
    assert len(await store.list_audit()) == audited


async def test_a_conflict_on_an_unknown_code_raises_not_found(store: Store) -> None:
    with pytest.raises(NotFound, match=r"'no-such-code'"):
        await store.add_conflict(
            code="no-such-code",
            field="fee",
            base=None,
            local=None,
            remote=None,
            remote_versi=None,
            actor="sync",
        )


async def test_a_resolved_conflict_leaves_the_open_list_and_keeps_who_resolved_it(
    store: Store, clock: FakeClock
) -> None:
    conflict_id = await _conflict_on_fee(store)
    clock.advance(hours=1)

    resolved = await store.resolve_conflict(conflict_id, resolution="remote", resolved_by="siti")

    assert (resolved.resolution, resolved.resolved_by, resolved.resolved_at) == (
        "remote",
        "siti",
        clock.now,
    )
    assert await store.list_conflicts() == []
    assert await store.list_conflicts(open_only=False) == [resolved]
    entry = (await store.list_audit("service_standard", CODE))[0]
    assert (entry.action, entry.actor, entry.after) == ("resolve", "siti", {"amount": "5000"})


async def test_a_field_with_a_resolved_conflict_can_get_a_new_one(store: Store) -> None:
    first_id = await _conflict_on_fee(store)
    await store.resolve_conflict(first_id, resolution="local", resolved_by="siti")

    second = await store.add_conflict(
        code=CODE,
        field="fee",
        base={"amount": "1000"},
        local={"amount": "1000"},
        remote={"amount": "9000"},
        remote_versi=6,
        actor="sync",
    )

    assert second.id != first_id
    assert [c.id for c in await store.list_conflicts()] == [second.id]


async def test_resolving_a_resolved_conflict_is_refused(store: Store) -> None:
    conflict_id = await _conflict_on_fee(store)
    await store.resolve_conflict(conflict_id, resolution="local", resolved_by="siti")

    with pytest.raises(InputError, match=r"already resolved by 'siti'"):
        await store.resolve_conflict(conflict_id, resolution="remote", resolved_by="budi")


async def test_resolving_an_unknown_conflict_raises_not_found(store: Store) -> None:
    with pytest.raises(NotFound, match=r"oss-bridge catalogue conflicts"):
        await store.resolve_conflict(404, resolution="local", resolved_by="siti")


@pytest.mark.parametrize("resolution", ["both", "", "LOCAL"])
async def test_a_resolution_other_than_local_or_remote_is_refused(
    store: Store, resolution: str
) -> None:
    conflict_id = await _conflict_on_fee(store)

    with pytest.raises(InputError, match=repr(resolution)):
        await store.resolve_conflict(conflict_id, resolution=resolution, resolved_by="siti")  # type: ignore[arg-type]
    assert len(await store.list_conflicts()) == 1


# --- quarantine ----------------------------------------------------------------------------


async def test_quarantined_data_is_kept_verbatim_with_its_reason(
    store: Store, clock: FakeClock
) -> None:
    raw = '{"id_layanan": "x", "versi": "tiga"}'

    entry = await store.quarantine(source="oss", raw=raw, reason="versi is not an integer")

    assert await store.list_quarantine() == [entry]
    assert (entry.source, entry.raw, entry.reason, entry.entity_id, entry.created_at) == (
        "oss",
        raw,
        "versi is not an integer",
        None,
        clock.now,
    )


async def test_nul_characters_in_quarantined_data_are_kept_escaped(store: Store) -> None:
    entry = await store.quarantine(source="lapor", raw="a\x00b", reason="binary", entity_id="9")

    assert entry.raw == "a\\u0000b"


async def test_a_released_quarantine_entry_leaves_the_list_and_is_audited(store: Store) -> None:
    entry = await store.quarantine(source="lapor", raw="<html>", reason="not JSON", entity_id="42")

    released = await store.release_quarantine(entry.id, actor="siti")

    assert released.released_at is not None
    assert await store.list_quarantine() == []
    assert await store.list_quarantine(include_released=True) == [released]
    assert [e.action for e in await store.list_audit("quarantine", str(entry.id))] == ["release"]


async def test_quarantine_can_be_listed_per_source(store: Store) -> None:
    await store.quarantine(source="oss", raw="a", reason="r")
    lapor = await store.quarantine(source="lapor", raw="b", reason="r")

    assert await store.list_quarantine(source="lapor") == [lapor]


# --- audit ---------------------------------------------------------------------------------


async def test_audit_entries_come_newest_first_and_filter_by_entity(store: Store) -> None:
    for n in range(3):
        await store.audit(
            actor="staff", action="note", entity_type="complaint", entity_id=str(n % 2)
        )
    await store.audit(actor="staff", action="note", entity_type="destination", entity_id="0")

    entries = await store.list_audit("complaint", "0")

    assert [(e.entity_type, e.entity_id) for e in entries] == [("complaint", "0")] * 2
    assert entries[0].id > entries[1].id


async def test_list_audit_returns_at_most_the_limit(store: Store) -> None:
    for _ in range(5):
        await store.audit(actor="staff", action="note", entity_type="complaint", entity_id="1")

    assert len(await store.list_audit(limit=3)) == 3


async def test_an_audit_entry_keeps_its_documents(store: Store, clock: FakeClock) -> None:
    entry = await store.audit(
        actor="staff",
        action="override",
        entity_type="complaint",
        entity_id="7",
        before={"stage": "b"},
        after={"stage": "d"},
        detail={"reason": "telepon"},
    )

    assert await store.list_audit() == [entry]
    assert (entry.at, entry.before, entry.after, entry.detail) == (
        clock.now,
        {"stage": "b"},
        {"stage": "d"},
        {"reason": "telepon"},
    )


# --- job runs ------------------------------------------------------------------------------


async def test_a_new_run_is_queued(store: Store, clock: FakeClock) -> None:
    run = await store.create_run(job="catalogue", requested_by="admin", dry_run=True)

    assert await store.get_run(run.run_id) == run
    assert (run.state, run.dry_run, run.requested_at, run.started_at, run.finished) == (
        "queued",
        True,
        clock.now,
        None,
        False,
    )


async def test_a_run_that_starts_gets_its_start_time_and_progress(
    store: Store, clock: FakeClock
) -> None:
    run = await store.create_run(job="catalogue", requested_by="scheduler", run_id="r-1")
    clock.advance(seconds=2)

    running = await store.update_run("r-1", state="running", progress={"pages": 1})

    assert (running.run_id, running.state, running.started_at, running.progress) == (
        run.run_id,
        "running",
        clock.now,
        {"pages": 1},
    )


@pytest.mark.parametrize(
    ("state", "result", "error"),
    [("succeeded", {"pulled": 3}, None), ("failed", None, "OSS answered 500 five times")],
)
async def test_a_finished_run_keeps_its_result_or_error(
    store: Store, clock: FakeClock, state: str, result: object, error: str | None
) -> None:
    run = await store.create_run(job="catalogue", requested_by="scheduler")
    await store.update_run(run.run_id, state="running")
    clock.advance(seconds=30)

    finished = await store.update_run(run.run_id, state=state, result=result, error=error)  # type: ignore[arg-type]

    assert (finished.finished, finished.finished_at, finished.result, finished.error) == (
        True,
        clock.now,
        result,
        error,
    )
    assert finished.started_at == clock.now - timedelta(seconds=30)


async def test_an_unknown_run_is_none_and_cannot_be_updated(store: Store) -> None:
    assert await store.get_run("nope") is None
    with pytest.raises(NotFound, match=r"'nope'"):
        await store.update_run("nope", state="running")


async def _finished_run(
    store: Store,
    clock: FakeClock,
    *,
    job: str = "catalogue",
    state: str = "succeeded",
    dry_run: bool = False,
    skipped: bool = False,
    result: object = None,
) -> str:
    run = await store.create_run(job=job, requested_by="scheduler", dry_run=dry_run)
    await store.update_run(run.run_id, state="running")
    clock.advance(minutes=1)
    await store.update_run(
        run.run_id,
        state=state,  # type: ignore[arg-type]
        result=result,
        skipped=skipped,
    )
    return run.run_id


@pytest.mark.parametrize(
    ("later", "why"),
    [
        ({"state": "failed"}, "a failed run"),
        ({"dry_run": True}, "a dry run, which wrote nothing"),
        ({"skipped": True, "result": {"summary": "skipped: busy"}}, "a run left to another"),
        ({"job": "status"}, "a run of another job"),
    ],
)
async def test_the_last_success_of_a_job_is_its_newest_run_that_did_the_work(
    store: Store, clock: FakeClock, later: dict[str, object], why: str
) -> None:
    worked = await _finished_run(store, clock, result={"created": 2})
    await _finished_run(store, clock, **later)  # type: ignore[arg-type]

    success = await store.last_success("catalogue")

    assert success is not None, why
    assert success.run_id == worked, why


async def test_the_last_success_is_found_behind_many_skipped_runs(
    store: Store, clock: FakeClock
) -> None:
    worked = await _finished_run(store, clock)
    for _ in range(45):
        await _finished_run(store, clock, skipped=True)

    success = await store.last_success("catalogue")

    assert success is not None
    assert success.run_id == worked


async def test_a_job_that_never_did_its_work_has_no_last_success(
    store: Store, clock: FakeClock
) -> None:
    await _finished_run(store, clock, skipped=True)
    await _finished_run(store, clock, state="failed")
    await store.create_run(job="catalogue", requested_by="scheduler")

    assert await store.last_success("catalogue") is None


async def test_only_unfinished_runs_silent_long_enough_and_not_kept_are_failed_as_stale(
    store: Store, clock: FakeClock
) -> None:
    finished = await _finished_run(store, clock)
    queued = await store.create_run(job="catalogue", requested_by="scheduler")
    kept = await store.create_run(job="status", requested_by="scheduler")
    clock.advance(minutes=5)
    beating = await store.create_run(job="deadlines", requested_by="scheduler")
    clock.advance(minutes=1)

    failed = await store.fail_stale_runs(
        silent_for=timedelta(minutes=2), error="gone", keep=[kept.run_id]
    )

    assert [(run.run_id, run.state, run.error, run.finished_at) for run in failed] == [
        (queued.run_id, "failed", "gone", clock.now)
    ]
    states = {run.run_id: run.state for run in await store.list_runs(limit=10)}
    assert states == {
        finished: "succeeded",
        queued.run_id: "failed",
        kept.run_id: "queued",
        beating.run_id: "queued",
    }


async def test_pruning_deletes_runs_finished_long_ago_but_never_unfinished_or_kept_ones(
    store: Store, clock: FakeClock
) -> None:
    old = await _finished_run(store, clock, state="failed")
    kept = await _finished_run(store, clock)
    unfinished = await store.create_run(job="catalogue", requested_by="scheduler")
    clock.advance(days=10)
    recent = await _finished_run(store, clock)

    pruned = await store.prune_runs(older_than=timedelta(days=7), keep=[kept])

    assert pruned == 1
    assert await store.get_run(old) is None
    remaining = {run.run_id for run in await store.list_runs(limit=10)}
    assert remaining == {kept, unfinished.run_id, recent}


async def test_runs_are_listed_newest_first_per_job(store: Store, clock: FakeClock) -> None:
    first = await store.create_run(job="catalogue", requested_by="scheduler")
    clock.advance(minutes=1)
    await store.create_run(job="status", requested_by="scheduler")
    clock.advance(minutes=1)
    third = await store.create_run(job="catalogue", requested_by="admin")

    assert [run.run_id for run in await store.list_runs(job="catalogue")] == [
        third.run_id,
        first.run_id,
    ]


# --- destinations --------------------------------------------------------------------------


async def test_a_destination_never_switched_is_not_suspended(store: Store) -> None:
    assert await store.is_suspended("lapor") is False


async def test_a_suspended_destination_can_be_resumed_and_both_are_audited(store: Store) -> None:
    await store.set_suspended("lapor", True, actor="admin")
    assert await store.is_suspended("lapor") is True

    await store.set_suspended("lapor", False, actor="admin")

    assert await store.is_suspended("lapor") is False
    assert [e.action for e in await store.list_audit("destination", "lapor")] == [
        "resume",
        "suspend",
    ]


async def test_suspending_a_suspended_destination_changes_nothing(store: Store) -> None:
    await store.set_suspended("lapor", True, actor="admin")

    await store.set_suspended("lapor", True, actor="admin")

    assert len(await store.list_audit("destination", "lapor")) == 1


# --- transactions --------------------------------------------------------------------------


async def test_writes_in_one_transaction_are_committed_together(store: Store) -> None:
    async with store.transaction() as tx:
        await tx.save_local_version(make_standard(), origin="import", actor="sync")
        await tx.save_cursor("catalogue", None, "next")
        assert (await tx.get_standard(CODE)) is not None

    assert await store.get_standard(CODE) is not None
    assert await store.get_cursor("catalogue") is not None


async def test_an_error_inside_a_transaction_rolls_back_every_write(store: Store) -> None:
    async def writes_then_fails() -> None:
        async with store.transaction() as tx:
            await tx.save_local_version(make_standard(), origin="import", actor="sync")
            await tx.save_cursor("catalogue", None, "next")
            await tx.mark_deleted("no-such-code", actor="sync")

    with pytest.raises(NotFound):
        await writes_then_fails()

    assert await store.get_standard(CODE) is None
    assert await store.get_cursor("catalogue") is None
    assert await store.list_audit() == []


# --- instants ------------------------------------------------------------------------------


async def test_instants_come_back_as_aware_utc(store: Store) -> None:
    saved = await store.save_local_version(make_standard(), origin="import", actor="staff")
    stored = await store.get_standard(saved.code)

    assert stored is not None
    assert stored.created_at.tzinfo is UTC
    assert stored.created_at == saved.created_at


async def test_an_instant_given_in_another_zone_comes_back_as_the_same_instant_in_utc(
    store: Store,
) -> None:
    jakarta = timezone(timedelta(hours=7), "WIB")
    sejak = datetime(2024, 5, 6, 9, 30, 15, 123456, tzinfo=jakarta)

    await store.save_cursor("catalogue", sejak, None)
    cursor = await store.get_cursor("catalogue")

    assert cursor is not None
    assert cursor.sejak is not None
    assert cursor.sejak == sejak
    assert cursor.sejak.tzinfo is UTC
    assert cursor.sejak.hour == 2
