"""The pure decision core of the two-way catalogue mirror: canonical hashes and a three-way merge.

No I/O here. The sync service loads base, local and remote, calls ``merge`` and acts on the
``MergeOutcome``; the dry run renders the same outcome with ``outcome_lines``.

Three copies of one entry meet:

- ``base``: the version both sides last agreed on (``None`` before the first sync),
- ``local``: the region's catalogue entry,
- ``remote``: OSS's entry, already translated into a ``ServiceStandard`` by the OSS client.

Only the fields in ``REMOTE_FIELDS`` live in OSS. Every other content field (``sk_number`` and the
management components) is local-only: it is never compared, never conflicts and never comes from
OSS, whatever the remote model happens to carry there.

Rules for each remote field ``f``, values compared by their canonical JSON:

==========================================  =============================================
situation                                   outcome
==========================================  =============================================
local == remote                             settled; nothing to do (also when both sides
                                            made the same change)
only local changed since base               push local's value (``to_remote``)
only remote changed since base              pull remote's value (``to_local``)
both changed, differently, ``f`` owned      the owner's value wins on both sides and the
  by "oss" or "region"                      override is recorded in ``overrides``
both changed, differently, ``f`` shared     a ``FieldConflict``: neither side is touched,
                                            ``merged`` keeps the local value
no base and local != remote                 as "both changed": the owner wins, or a conflict
==========================================  =============================================

A change on one side only always wins, whoever owns the field: ownership decides only between two
concurrent changes.

Whole entries:

- ``local is None`` (the region does not hold it): ``create_local`` from the remote entry;
- ``remote is None`` (OSS does not hold it): ``create_remote`` from the local entry;
- an entry held by one side only and ``inactive`` there is not copied (action ``none``): there is
  nothing to mirror, and the national system is not cluttered with withdrawn services.

Deletion is soft and travels as the ``status`` field. When OSS deactivates an entry (``nonaktif``
on the wire, ``inactive`` here) and the region did not touch the status, the status change is
pulled like any other field and the action reads ``delete_local``; other fields keep their
per-field rules, so a local edit made meanwhile is still pushed and nothing is lost. Once both
sides agree on ``inactive`` the entry stays settled.

With conflicts, the action is ``conflict`` and the entry must not be pushed until a person settles
every conflict with ``resolve``. ``merged`` then holds the settled values and the local value of
each conflicted field, so storing it locally applies exactly ``to_local`` and hides nothing.

Callers act on ``to_local`` and ``to_remote``; ``action`` is a one-word summary for people, logs
and metrics.
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Literal, cast, get_args

from pydantic import JsonValue

from oss_bridge.config import FieldOwner
from oss_bridge.domain.service_standard import CONTENT_FIELDS, ServiceStandard
from oss_bridge.errors import ConfigError, InputError

__all__ = [
    "LOCAL_ONLY_FIELDS",
    "REMOTE_FIELDS",
    "Action",
    "ChangeReason",
    "FieldChange",
    "FieldConflict",
    "MergeOutcome",
    "apply_changes",
    "canonical_form",
    "change_as_json",
    "check_ownership",
    "content_hash",
    "diff_lines",
    "fields_hash",
    "merge",
    "outcome_as_json",
    "outcome_lines",
    "remote_view",
    "resolve",
]

# The fields an OSS entry carries (id_layanan is the code), in CONTENT_FIELDS order.
REMOTE_FIELDS: tuple[str, ...] = (
    "name",
    "agency",
    "permit_code",
    "requirements",
    "procedure",
    "completion_time",
    "fee",
    "products",
    "complaint_handling",
    "status",
)
LOCAL_ONLY_FIELDS: tuple[str, ...] = tuple(f for f in CONTENT_FIELDS if f not in REMOTE_FIELDS)

Action = Literal[
    "none", "pull", "push", "both", "conflict", "create_local", "create_remote", "delete_local"
]
ChangeReason = Literal[
    "created",  # the entry is new on the receiving side
    "local_changed",  # only the region changed the field since base
    "remote_changed",  # only OSS changed the field since base
    "owner_oss",  # both changed it (or first meeting); OSS owns the field, its value wins
    "owner_region",  # both changed it (or first meeting); the region owns it, its value wins
    "resolved_local",  # a person settled a conflict by keeping the local value
    "resolved_remote",  # a person settled a conflict by taking the remote value
]
Side = Literal["local", "remote"]

_OWNERS: frozenset[str] = frozenset(get_args(FieldOwner))
_CENT = Decimal("0.01")


@dataclass(frozen=True, slots=True)
class FieldChange:
    """One field to overwrite on one side: ``before`` is that side's value, ``after`` the new one.

    Values are in canonical JSON form (see ``canonical_form``); ``before`` is ``None`` when the
    receiving side has no entry yet.
    """

    field: str
    before: JsonValue
    after: JsonValue
    reason: ChangeReason


@dataclass(frozen=True, slots=True)
class FieldConflict:
    """Both sides changed a shared field differently; a person must choose.

    ``base`` is ``None`` when the entry had no base (first meeting) or its base value was null.
    """

    field: str
    base: JsonValue
    local: JsonValue
    remote: JsonValue


@dataclass(frozen=True, slots=True)
class MergeOutcome:
    """What one sync should do with one entry (see the module docstring for the rules).

    ``merged`` is the standard both sides should hold; with conflicts it holds the settled values
    and the local value of each conflicted field. ``overrides`` repeats the changes of
    ``to_local``/``to_remote`` where one side's change replaced the other's (owner wins, or a
    person resolved a conflict), for the audit trail.
    """

    code: str
    action: Action
    merged: ServiceStandard
    to_local: tuple[FieldChange, ...] = ()
    to_remote: tuple[FieldChange, ...] = ()
    overrides: tuple[FieldChange, ...] = ()
    conflicts: tuple[FieldConflict, ...] = ()

    @property
    def changed(self) -> bool:
        """True when either side has something to apply or a person has something to settle."""
        return bool(self.to_local or self.to_remote or self.conflicts)


# --- canonical form and hashes ---------------------------------------------------------------


def canonical_form(standard: ServiceStandard) -> dict[str, Any]:
    """The standard as plain JSON data in which equal content always has one spelling.

    This is ``model_dump(mode="json")`` with the fee amount written with exactly two decimals
    (``0`` and ``0.00`` are the same fee); text is already folded by the model.
    """
    data = standard.model_dump(mode="json")
    # abs() also turns a negative zero into zero.
    data["fee"]["amount"] = str(abs(standard.fee.amount).quantize(_CENT))
    return data


def _dumps(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def _sha256(value: Any) -> str:
    return hashlib.sha256(_dumps(value).encode("utf-8")).hexdigest()


def content_hash(standard: ServiceStandard) -> str:
    """SHA-256 (hex) of the canonical JSON of the whole standard, code included."""
    return _sha256(canonical_form(standard))


def fields_hash(standard: ServiceStandard, fields: Iterable[str]) -> str:
    """SHA-256 (hex) of the canonical JSON of the named fields only.

    ``fields_hash(s, REMOTE_FIELDS)`` tells whether what OSS holds differs from ``s`` without a
    field-by-field comparison. Raises ``ValueError`` for a name that is not a field.
    """
    data = canonical_form(standard)
    subset: dict[str, Any] = {}
    for name in fields:
        if name not in data:
            raise ValueError(f"{name!r} is not a service-standard field")
        subset[name] = data[name]
    return _sha256(subset)


def _same(a: Any, b: Any) -> bool:
    return _dumps(a) == _dumps(b)


# --- ownership ---------------------------------------------------------------------------------


def check_ownership(ownership: Mapping[str, str]) -> dict[str, FieldOwner]:
    """Validate a field-ownership map (``catalogue.field_ownership``) and return it typed.

    Raises ``ConfigError`` naming the bad key or value. Owning a local-only field is allowed and
    has no effect, since such fields never conflict.
    """
    checked: dict[str, FieldOwner] = {}
    for name, owner in ownership.items():
        if name not in CONTENT_FIELDS:
            raise ConfigError(
                f"catalogue.field_ownership names {name!r}, which is not a service-standard "
                f"field; use one of {', '.join(CONTENT_FIELDS)}"
            )
        if owner not in _OWNERS:
            raise ConfigError(
                f"catalogue.field_ownership.{name} = {owner!r}; write one of "
                f"{', '.join(sorted(_OWNERS))}"
            )
        checked[name] = cast(FieldOwner, owner)
    return checked


# --- merge -------------------------------------------------------------------------------------


def remote_view(standard: ServiceStandard) -> ServiceStandard:
    """The standard as OSS can hold it: local-only fields back at their defaults."""
    data = canonical_form(standard)
    for name in LOCAL_ONLY_FIELDS:
        del data[name]
    return ServiceStandard.model_validate(data)


def merge(
    base: ServiceStandard | None,
    local: ServiceStandard | None,
    remote: ServiceStandard | None,
    *,
    ownership: Mapping[str, str],
) -> MergeOutcome:
    """Decide, field by field, how one entry's local and remote copies come back into step.

    ``remote`` is OSS's current entry (``None`` only when OSS holds none), not merely what the
    last incremental page returned. Raises ``ValueError`` when both ``local`` and ``remote`` are
    ``None`` or the copies have different codes, and ``ConfigError`` for a bad ownership map.
    """
    owners = check_ownership(ownership)
    codes = {s.code for s in (base, local, remote) if s is not None}
    if len(codes) > 1:
        raise ValueError(f"base, local and remote must be one entry; got codes {sorted(codes)!r}")
    if local is None and remote is None:
        raise ValueError("merge needs a local or a remote entry; both are None")
    if local is None:
        assert remote is not None  # for mypy: excluded just above
        return _create_on_one_side(remote_view(remote), receiver="local")
    if remote is None:
        return _create_on_one_side(local, receiver="remote")
    return _merge_fields(base, local, remote, owners)


def _create_on_one_side(source: ServiceStandard, *, receiver: Side) -> MergeOutcome:
    if source.status == "inactive":
        return MergeOutcome(code=source.code, action="none", merged=source)
    data = canonical_form(source)
    changes = tuple(FieldChange(f, None, data[f], "created") for f in REMOTE_FIELDS)
    if receiver == "local":
        return MergeOutcome(
            code=source.code, action="create_local", merged=source, to_local=changes
        )
    return MergeOutcome(code=source.code, action="create_remote", merged=source, to_remote=changes)


def _merge_fields(
    base: ServiceStandard | None,
    local: ServiceStandard,
    remote: ServiceStandard,
    owners: Mapping[str, FieldOwner],
) -> MergeOutcome:
    b = canonical_form(base) if base is not None else None
    lo = canonical_form(local)
    ro = canonical_form(remote)
    merged = dict(lo)
    to_local: list[FieldChange] = []
    to_remote: list[FieldChange] = []
    overrides: list[FieldChange] = []
    conflicts: list[FieldConflict] = []

    for f in REMOTE_FIELDS:
        lv, rv = lo[f], ro[f]
        if _same(lv, rv):
            continue
        local_changed = b is None or not _same(lv, b[f])
        remote_changed = b is None or not _same(rv, b[f])
        if not remote_changed:
            to_remote.append(FieldChange(f, rv, lv, "local_changed"))
        elif not local_changed:
            to_local.append(FieldChange(f, lv, rv, "remote_changed"))
            merged[f] = rv
        elif owners.get(f, "shared") == "oss":
            change = FieldChange(f, lv, rv, "owner_oss")
            to_local.append(change)
            overrides.append(change)
            merged[f] = rv
        elif owners.get(f, "shared") == "region":
            change = FieldChange(f, rv, lv, "owner_region")
            to_remote.append(change)
            overrides.append(change)
        else:
            conflicts.append(FieldConflict(f, None if b is None else b[f], lv, rv))

    return _outcome(
        local.code,
        ServiceStandard.model_validate(merged),
        to_local=tuple(to_local),
        to_remote=tuple(to_remote),
        overrides=tuple(overrides),
        conflicts=tuple(conflicts),
    )


def _outcome(
    code: str,
    merged: ServiceStandard,
    *,
    to_local: tuple[FieldChange, ...],
    to_remote: tuple[FieldChange, ...],
    overrides: tuple[FieldChange, ...],
    conflicts: tuple[FieldConflict, ...],
) -> MergeOutcome:
    action: Action
    if conflicts:
        action = "conflict"
    elif any(c.field == "status" and c.after == "inactive" for c in to_local):
        action = "delete_local"
    elif to_local and to_remote:
        action = "both"
    elif to_local:
        action = "pull"
    elif to_remote:
        action = "push"
    else:
        action = "none"
    return MergeOutcome(
        code=code,
        action=action,
        merged=merged,
        to_local=to_local,
        to_remote=to_remote,
        overrides=overrides,
        conflicts=conflicts,
    )


def resolve(outcome: MergeOutcome, field: str, take: str) -> MergeOutcome:
    """Settle the conflict on ``field`` by taking the ``"local"`` or the ``"remote"`` value.

    Returns a new outcome in which the chosen value is in ``merged``, the other side receives it
    (``to_remote`` or ``to_local``) and the decision is in ``overrides``. Raises ``InputError``
    when ``take`` is neither side or ``field`` has no open conflict.
    """
    if take not in ("local", "remote"):
        raise InputError(f"take = {take!r}; choose 'local' or 'remote'")
    conflict = next((c for c in outcome.conflicts if c.field == field), None)
    if conflict is None:
        open_fields = ", ".join(c.field for c in outcome.conflicts) or "none"
        raise InputError(
            f"entry {outcome.code!r} has no open conflict on {field!r} (open: {open_fields}); "
            "list them with `oss-bridge catalogue conflicts`"
        )
    remaining = tuple(c for c in outcome.conflicts if c.field != field)
    if take == "local":
        change = FieldChange(field, conflict.remote, conflict.local, "resolved_local")
        return _outcome(
            outcome.code,
            outcome.merged,
            to_local=outcome.to_local,
            to_remote=_in_field_order((*outcome.to_remote, change)),
            overrides=_in_field_order((*outcome.overrides, change)),
            conflicts=remaining,
        )
    change = FieldChange(field, conflict.local, conflict.remote, "resolved_remote")
    return _outcome(
        outcome.code,
        apply_changes(outcome.merged, (change,)),
        to_local=_in_field_order((*outcome.to_local, change)),
        to_remote=outcome.to_remote,
        overrides=_in_field_order((*outcome.overrides, change)),
        conflicts=remaining,
    )


def _in_field_order(changes: Iterable[FieldChange]) -> tuple[FieldChange, ...]:
    return tuple(sorted(changes, key=lambda c: CONTENT_FIELDS.index(c.field)))


def apply_changes(standard: ServiceStandard, changes: Iterable[FieldChange]) -> ServiceStandard:
    """``standard`` with each change's ``after`` value written into its field.

    Raises ``ValueError`` for a change to a field that is not a content field.
    """
    data = canonical_form(standard)
    for change in changes:
        if change.field not in CONTENT_FIELDS:
            raise ValueError(f"{change.field!r} is not a service-standard content field")
        data[change.field] = change.after
    return ServiceStandard.model_validate(data)


# --- diffs for the dry run and the audit trail -------------------------------------------------


def _leaf_diffs(path: str, before: Any, after: Any) -> list[dict[str, JsonValue]]:
    """The smallest differing parts of two canonical values, as JSON-able dicts.

    Objects are compared key by key (``fee.amount``); lists as multisets of items (``added``,
    ``removed``) plus ``reordered`` when the kept items changed order; anything else as
    ``before``/``after``. A missing side (``None``) counts as an empty object or list.
    """
    if _same(before, after):
        return []
    if isinstance(before, dict | None) and isinstance(after, dict | None):
        old, new = before or {}, after or {}
        diffs: list[dict[str, JsonValue]] = []
        for key in [*old, *(k for k in new if k not in old)]:
            diffs.extend(_leaf_diffs(f"{path}.{key}", old.get(key), new.get(key)))
        return diffs
    if isinstance(before, list | None) and isinstance(after, list | None):
        old_items, new_items = before or [], after or []
        old_count = Counter(_dumps(i) for i in old_items)
        new_count = Counter(_dumps(i) for i in new_items)
        added = _take(new_items, new_count - old_count)
        removed = _take(old_items, old_count - new_count)
        kept_old = _drop(old_items, old_count - new_count)
        kept_new = _drop(new_items, new_count - old_count)
        return [
            {
                "path": path,
                "added": added,
                "removed": removed,
                "reordered": not _same(kept_old, kept_new),
                "before": before,
                "after": after,
            }
        ]
    return [{"path": path, "before": before, "after": after}]


def _take(items: Sequence[Any], counts: Counter[str]) -> list[JsonValue]:
    """The items counted in ``counts``, in their order of appearance."""
    left = Counter(counts)
    taken: list[JsonValue] = []
    for item in items:
        key = _dumps(item)
        if left[key] > 0:
            left[key] -= 1
            taken.append(item)
    return taken


def _drop(items: Sequence[Any], counts: Counter[str]) -> list[Any]:
    """The items not counted in ``counts``, in their order of appearance."""
    left = Counter(counts)
    kept: list[Any] = []
    for item in items:
        key = _dumps(item)
        if left[key] > 0:
            left[key] -= 1
        else:
            kept.append(item)
    return kept


def change_as_json(change: FieldChange) -> dict[str, JsonValue]:
    """A change as JSON-able data: field, reason, whole values and the leaf-level ``details``."""
    return {
        "field": change.field,
        "reason": change.reason,
        "before": change.before,
        "after": change.after,
        "details": list(_leaf_diffs(change.field, change.before, change.after)),
    }


def diff_lines(changes: Iterable[FieldChange]) -> list[str]:
    """The dry-run lines of ``changes``, one per changed leaf, values written as exact JSON.

    ``path: old -> new`` for a value (``fee.amount: "0.00" -> "5000.00"``); for a list,
    ``path: - item`` per item removed, ``path: + item`` per item added, and
    ``path: reordered old -> new`` when the items kept changed their order.
    """
    lines: list[str] = []
    for change in changes:
        for leaf in _leaf_diffs(change.field, change.before, change.after):
            path = leaf["path"]
            if "added" not in leaf:
                lines.append(f"{path}: {_dumps(leaf['before'])} -> {_dumps(leaf['after'])}")
                continue
            lines.extend(f"{path}: - {_dumps(item)}" for item in _as_list(leaf["removed"]))
            lines.extend(f"{path}: + {_dumps(item)}" for item in _as_list(leaf["added"]))
            if leaf["reordered"]:
                lines.append(
                    f"{path}: reordered {_dumps(leaf['before'])} -> {_dumps(leaf['after'])}"
                )
    return lines


def _as_list(value: JsonValue) -> list[JsonValue]:
    return value if isinstance(value, list) else []


_REASON_TEXT: dict[ChangeReason, str] = {
    "created": "new entry",
    "local_changed": "changed locally",
    "remote_changed": "changed in OSS",
    "owner_oss": "OSS owns this field; the local change is replaced",
    "owner_region": "the region owns this field; the OSS change is replaced",
    "resolved_local": "conflict settled by a person: local value kept",
    "resolved_remote": "conflict settled by a person: OSS value taken",
}


def outcome_lines(outcome: MergeOutcome) -> list[str]:
    """The dry-run text of one entry: what goes to each side, overrides and open conflicts."""
    lines = [f"{outcome.code}: {outcome.action}"]
    for title, changes in (
        ("local <- OSS", outcome.to_local),
        ("OSS <- local", outcome.to_remote),
    ):
        if changes:
            lines.append(f"  {title}:")
            lines.extend(f"    {line}" for line in diff_lines(changes))
    if outcome.overrides:
        lines.append("  overrides (audited):")
        lines.extend(f"    {c.field}: {_REASON_TEXT[c.reason]}" for c in outcome.overrides)
    if outcome.conflicts:
        lines.append(
            "  conflicts (not pushed until settled with "
            "`oss-bridge catalogue resolve ID --take local|remote`):"
        )
        lines.extend(
            f"    {c.field}: base {_dumps(c.base)}, local {_dumps(c.local)}, OSS {_dumps(c.remote)}"
            for c in outcome.conflicts
        )
    return lines


def outcome_as_json(outcome: MergeOutcome) -> dict[str, JsonValue]:
    """The outcome as JSON-able data for ``--json`` output, the admin API and the audit log."""
    return {
        "code": outcome.code,
        "action": outcome.action,
        "to_local": [change_as_json(c) for c in outcome.to_local],
        "to_remote": [change_as_json(c) for c in outcome.to_remote],
        "overrides": [change_as_json(c) for c in outcome.overrides],
        "conflicts": [
            {"field": c.field, "base": c.base, "local": c.local, "remote": c.remote}
            for c in outcome.conflicts
        ],
    }
