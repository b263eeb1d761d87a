"""Properties of the catalogue merge that must hold for every entry, checked with hypothesis.

Each example starts from a common ancestor (the base) and edits it independently on each side, the
way the region and OSS staff edit the same entry between two syncs. The remote side only ever
holds what OSS can hold (``remote_view``).
"""

from __future__ import annotations

from collections.abc import Mapping

from hypothesis import given, settings
from hypothesis import strategies as st

from oss_bridge.domain.service_standard import CONTENT_FIELDS, ServiceStandard
from oss_bridge.services.catalogue_merge import (
    LOCAL_ONLY_FIELDS,
    REMOTE_FIELDS,
    MergeOutcome,
    apply_changes,
    canonical_form,
    content_hash,
    fields_hash,
    merge,
    remote_view,
    resolve,
)
from tests.strategies import FIELD_VALUES, edited, ownerships, service_standards

PROPERTY = settings(max_examples=200, deadline=None)


@st.composite
def three_copies(
    draw: st.DrawFn,
) -> tuple[ServiceStandard, ServiceStandard, ServiceStandard]:
    """(base, local, remote): one ancestor edited independently on each side."""
    base = draw(service_standards())
    local = draw(edited(base))
    remote = remote_view(draw(edited(base, fields=REMOTE_FIELDS)))
    return remote_view(base) if draw(st.booleans()) else base, local, remote


def _owner(ownership: Mapping[str, str], field: str) -> str:
    return ownership.get(field, "shared")


def _changed(a: ServiceStandard, b: ServiceStandard, field: str) -> bool:
    return bool(canonical_form(a)[field] != canonical_form(b)[field])


def _sync(
    base: ServiceStandard | None,
    local: ServiceStandard | None,
    remote: ServiceStandard | None,
    outcome: MergeOutcome,
) -> tuple[ServiceStandard | None, ServiceStandard | None, ServiceStandard | None]:
    """What a sync does with a conflict-free outcome: apply each side's changes, then agree."""
    assert not outcome.conflicts
    if local is None or remote is None:
        if outcome.action == "none":
            return base, local, remote
        return outcome.merged, outcome.merged, remote_view(outcome.merged)
    new_local = apply_changes(local, outcome.to_local)
    new_remote = remote_view(apply_changes(remote, outcome.to_remote))
    return outcome.merged, new_local, new_remote


@PROPERTY
@given(copies=three_copies(), ownership=ownerships, first_meeting=st.booleans(), data=st.data())
def test_syncing_twice_changes_nothing_the_second_time(
    copies: tuple[ServiceStandard, ServiceStandard, ServiceStandard],
    ownership: dict[str, str],
    first_meeting: bool,
    data: st.DataObject,
) -> None:
    base, local, remote = copies
    outcome = merge(None if first_meeting else base, local, remote, ownership=ownership)
    # A person settles every conflict first; until then the entry is not synced.
    for conflict in outcome.conflicts:
        take = data.draw(st.sampled_from(["local", "remote"]))
        outcome = resolve(outcome, conflict.field, take)

    new_base, new_local, new_remote = _sync(base, local, remote, outcome)
    again = merge(new_base, new_local, new_remote, ownership=ownership)

    assert again.action == "none"
    assert (again.to_local, again.to_remote, again.overrides, again.conflicts) == ((), (), (), ())
    assert new_local is not None
    assert content_hash(again.merged) == content_hash(new_local)


@PROPERTY
@given(
    base=service_standards(),
    ownership=ownerships,
    one_side=st.sampled_from(["local", "remote", "created_locally", "created_remotely"]),
    data=st.data(),
)
def test_syncing_one_new_entry_twice_changes_nothing_the_second_time(
    base: ServiceStandard, ownership: dict[str, str], one_side: str, data: st.DataObject
) -> None:
    local = base if one_side in ("local", "created_locally") else None
    remote = remote_view(base) if one_side in ("remote", "created_remotely") else None
    outcome = merge(None, local, remote, ownership=ownership)

    new_base, new_local, new_remote = _sync(None, local, remote, outcome)
    again = merge(new_base, new_local, new_remote, ownership=ownership)

    assert again.action == "none"
    assert not again.changed


@PROPERTY
@given(
    base=service_standards(),
    ownership=ownerships,
    edited_side=st.sampled_from(["local", "remote"]),
    data=st.data(),
)
def test_with_no_concurrent_edits_pull_then_push_leaves_both_sides_equal(
    base: ServiceStandard, ownership: dict[str, str], edited_side: str, data: st.DataObject
) -> None:
    local, remote = base, remote_view(base)
    if edited_side == "local":
        local = data.draw(edited(base))
    else:
        remote = remote_view(data.draw(edited(base, fields=REMOTE_FIELDS)))

    outcome = merge(base, local, remote, ownership=ownership)
    pulled = apply_changes(local, outcome.to_local)
    pushed = remote_view(apply_changes(remote, outcome.to_remote))

    assert outcome.conflicts == ()
    assert outcome.overrides == ()
    assert fields_hash(pulled, REMOTE_FIELDS) == fields_hash(pushed, REMOTE_FIELDS)
    assert fields_hash(pulled, LOCAL_ONLY_FIELDS) == fields_hash(local, LOCAL_ONLY_FIELDS)


@PROPERTY
@given(copies=three_copies(), ownership=ownerships)
def test_a_field_changed_on_one_side_only_always_survives(
    copies: tuple[ServiceStandard, ServiceStandard, ServiceStandard], ownership: dict[str, str]
) -> None:
    base, local, remote = copies
    outcome = merge(base, local, remote, ownership=ownership)
    merged = canonical_form(outcome.merged)
    to_local = {c.field: c.after for c in outcome.to_local}
    to_remote = {c.field: c.after for c in outcome.to_remote}

    for field in REMOTE_FIELDS:
        local_changed = _changed(local, base, field)
        remote_changed = _changed(remote, base, field)
        if local_changed and not remote_changed:
            assert merged[field] == canonical_form(local)[field]
            assert to_remote[field] == canonical_form(local)[field]
        elif remote_changed and not local_changed:
            assert merged[field] == canonical_form(remote)[field]
            assert to_local[field] == canonical_form(remote)[field]
    for field in LOCAL_ONLY_FIELDS:
        assert merged[field] == canonical_form(local)[field]
        assert field not in to_local
        assert field not in to_remote


@PROPERTY
@given(copies=three_copies(), ownership=ownerships, first_meeting=st.booleans())
def test_no_conflict_is_ever_resolved_silently(
    copies: tuple[ServiceStandard, ServiceStandard, ServiceStandard],
    ownership: dict[str, str],
    first_meeting: bool,
) -> None:
    base, local, remote = copies
    outcome = merge(None if first_meeting else base, local, remote, ownership=ownership)
    conflicted = {c.field for c in outcome.conflicts}
    touched = {c.field for c in (*outcome.to_local, *outcome.to_remote, *outcome.overrides)}

    for field in REMOTE_FIELDS:
        both_changed = first_meeting or (
            _changed(local, base, field) and _changed(remote, base, field)
        )
        differ = _changed(local, remote, field)
        if both_changed and differ and _owner(ownership, field) == "shared":
            assert field in conflicted
            assert field not in touched
            assert canonical_form(outcome.merged)[field] == canonical_form(local)[field]
        else:
            assert field not in conflicted
    assert (outcome.action == "conflict") == bool(conflicted)


@PROPERTY
@given(copies=three_copies(), ownership=ownerships, first_meeting=st.booleans())
def test_each_override_is_a_field_both_sides_changed_and_its_owner_won(
    copies: tuple[ServiceStandard, ServiceStandard, ServiceStandard],
    ownership: dict[str, str],
    first_meeting: bool,
) -> None:
    base, local, remote = copies
    outcome = merge(None if first_meeting else base, local, remote, ownership=ownership)

    for change in outcome.overrides:
        owner = _owner(ownership, change.field)
        winner = remote if owner == "oss" else local
        assert owner in ("oss", "region")
        assert change.reason == f"owner_{owner}"
        assert change.after == canonical_form(winner)[change.field]
        assert canonical_form(outcome.merged)[change.field] == change.after
        assert first_meeting or _changed(local, base, change.field)
        assert first_meeting or _changed(remote, base, change.field)


@PROPERTY
@given(copies=three_copies(), ownership=ownerships)
def test_an_unsettled_conflict_stays_open_however_often_the_entry_is_synced(
    copies: tuple[ServiceStandard, ServiceStandard, ServiceStandard], ownership: dict[str, str]
) -> None:
    base, local, remote = copies
    outcome = merge(base, local, remote, ownership=ownership)
    stored_locally = apply_changes(local, outcome.to_local)

    again = merge(base, stored_locally, remote, ownership=ownership)

    assert {c.field for c in again.conflicts} == {c.field for c in outcome.conflicts}


@PROPERTY
@given(copies=three_copies(), ownership=ownerships, first_meeting=st.booleans())
def test_the_changes_for_each_side_are_exactly_what_turns_it_into_the_merged_entry(
    copies: tuple[ServiceStandard, ServiceStandard, ServiceStandard],
    ownership: dict[str, str],
    first_meeting: bool,
) -> None:
    base, local, remote = copies
    outcome = merge(None if first_meeting else base, local, remote, ownership=ownership)
    conflicted = [c.field for c in outcome.conflicts]
    pulled = apply_changes(local, outcome.to_local)
    pushed = remote_view(apply_changes(remote, outcome.to_remote))
    settled = [f for f in REMOTE_FIELDS if f not in conflicted]

    assert content_hash(pulled) == content_hash(outcome.merged)
    assert fields_hash(pushed, settled) == fields_hash(outcome.merged, settled)
    for change in (*outcome.to_local, *outcome.to_remote):
        assert change.before != change.after


@PROPERTY
@given(standard=service_standards(), data=st.data())
def test_the_content_hash_changes_exactly_when_the_canonical_form_changes(
    standard: ServiceStandard, data: st.DataObject
) -> None:
    field = data.draw(st.sampled_from(CONTENT_FIELDS))
    other = ServiceStandard.model_validate(
        {**standard.model_dump(), field: data.draw(FIELD_VALUES[field])}
    )
    same_content = canonical_form(other) == canonical_form(standard)

    assert (content_hash(other) == content_hash(standard)) == same_content
    assert content_hash(ServiceStandard.model_validate_json(standard.model_dump_json())) == (
        content_hash(standard)
    )
