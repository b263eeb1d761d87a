"""The two-way catalogue mirror with OSS (DESIGN.md section 4): ``CatalogueSync``.

The CLI, the admin API and the scheduler all call one ``CatalogueSync``, so a sync by hand and a
scheduled one are the same code. What happens to each entry is decided by
``catalogue_merge.merge``; this module fetches, stores, sends and accounts for it.

Pull (OSS to region)
    Incremental. A pull asks for the entries changed since the newest ``diperbarui`` that the last
    completed pull saw, minus ``catalogue.lookback_seconds``, because an entry written while that
    pull ran may carry an earlier stamp. An entry whose ``versi`` the region already holds is
    dropped unread, so the overlap costs nothing. Each page is applied in one transaction with
    the cursor that resumes after it: a pull that stops (a crash, OSS down, a page that stays
    unreadable after the client's retries) resumes after the last page it applied. An entry that
    is not a valid service standard is quarantined (raw body and reason) and the rest of its page
    is applied. An entry OSS deactivated is soft-deleted.

Push (region to OSS)
    Every dirty entry (changed here since it last matched OSS) is sent with the ``versi`` it is
    based on, or as new if OSS never had it. A 409 means OSS moved on: its current entry goes
    through the same merge as a pulled one, and what is still to send is sent again on OSS's
    ``versi``. Not sent: an entry with an open conflict, and an entry whose permit code
    (``kd_izin``) is not in OSS reference table 8, which is read once per run and only when there
    is something to send.

What is stored after a decision
    The region keeps the merged content; its base becomes what OSS holds at the ``versi`` just
    seen (with the region's local-only fields). An entry is dirty exactly when the two differ,
    that is when something is left to send. Deletion is soft and travels as ``status``: a
    soft-deleted entry takes part in the merge as ``inactive``.

Conflicts
    A shared field both sides changed differently is kept as a conflict with the base, local
    and remote values, and the entry is not pushed until staff settle every conflict of it
    (``resolve``). While a conflict is open its field is left alone by later syncs, which only
    refresh the remote value; it closes by itself only when both sides come to hold the same
    value. Every override (the owner's change replacing the other side's) is audited.

Dry run
    Reads what a sync reads, writes nothing and sends nothing; ``SyncReport.diff`` then holds
    the outcome of every entry that would change, field by field, in both directions.
"""

from __future__ import annotations

import asyncio
import contextlib
import getpass
import json
import operator
from collections.abc import AsyncGenerator, AsyncIterator, Callable, Iterable, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass, field, fields
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Literal, get_args

import httpx
import structlog
from pydantic import JsonValue

from oss_bridge.clients import (
    OssClient,
    RejectedEntry,
    RemoteEntry,
    StandardsPage,
    build_http_client,
)
from oss_bridge.config import Settings
from oss_bridge.domain import ServiceStandard
from oss_bridge.domain.canonical import CanonicalStandard
from oss_bridge.domain.service_standard import CONTENT_FIELDS
from oss_bridge.errors import (
    ConcurrentChange,
    InputError,
    NotFound,
    OutcomeUnknown,
    RequestRejected,
    VersionConflict,
)
from oss_bridge.importer import parse_page_file
from oss_bridge.services.catalogue_merge import (
    LOCAL_ONLY_FIELDS,
    REMOTE_FIELDS,
    FieldChange,
    FieldConflict,
    MergeOutcome,
    apply_changes,
    canonical_form,
    check_ownership,
    merge,
    outcome_as_json,
    outcome_lines,
)
from oss_bridge.services.cpsv import to_cpsv_jsonld
from oss_bridge.store import (
    Conflict,
    SavedStandard,
    Store,
    StoredStandard,
    SyncWrite,
    Transaction,
)
from oss_bridge.store._locks import CATALOGUE_SYNC_LOCK

__all__ = [
    "DIRECTIONS",
    "EXPORT_FORMATS",
    "MARK_CURSOR",
    "PAGE_CURSOR",
    "CatalogueSync",
    "Direction",
    "EntryIssue",
    "ExportFormat",
    "ProgressCallback",
    "SyncCounts",
    "SyncProgress",
    "SyncReport",
    "cli_actor",
    "conflict_as_json",
    "conflict_lines",
    "open_catalogue_sync",
]

log = structlog.get_logger("oss_bridge.catalogue")

Direction = Literal["both", "pull", "push"]
DIRECTIONS: tuple[Direction, ...] = get_args(Direction)
ExportFormat = Literal["json", "cpsv-jsonld"]
EXPORT_FORMATS: tuple[ExportFormat, ...] = get_args(ExportFormat)
Take = Literal["local", "remote"]

PAGE_CURSOR = "catalogue"
"""Sync cursor of the pull in progress: its ``sejak`` and the page cursor to resume from."""
MARK_CURSOR = "catalogue.mark"
"""Sync cursor whose ``sejak`` is the newest ``diperbarui`` a pull has seen."""

# How many unreleased quarantine rows a pull reads to avoid keeping the same bad entry twice.
QUARANTINE_SCAN_LIMIT = 10_000
# A push answered 409 is merged and sent again; OSS moving on every time is given up after this.
MAX_PUSH_ATTEMPTS = 3

RESOLVE_HINT = (
    "settle it with `oss-bridge catalogue resolve ID --take local|remote` "
    "(IDs: `oss-bridge catalogue conflicts`)"
)

Clock = Callable[[], datetime]


def utc_now() -> datetime:
    return datetime.now(UTC)


# --- what a sync reports -----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SyncProgress:
    """How far a sync got, handed to the ``progress`` callback after each page and each push.

    ``done`` counts the entries handled in ``phase`` so far; ``total`` is how many the phase
    will handle, ``None`` while pulling (OSS does not say). ``pages`` counts pulled pages.
    """

    phase: Literal["pull", "push"]
    done: int
    total: int | None
    pages: int = 0


ProgressCallback = Callable[[SyncProgress], None]


@dataclass(frozen=True, slots=True)
class EntryIssue:
    """An entry a sync could not handle, and why; ``code`` is None when OSS sent no usable id."""

    code: str | None
    reason: str

    def as_json(self) -> dict[str, JsonValue]:
        return {"code": self.code, "reason": self.reason}


@dataclass(slots=True)
class SyncCounts:
    """What one sync did (in a dry run: would do).

    ``fetched``: entries OSS sent, valid or not; ``created``, ``updated``, ``deleted``: local
    entries created, changed or soft-deleted from OSS; ``pushed``: entries OSS accepted from us;
    ``overrides``: fields where the owner's change replaced the other side's; ``conflicts``:
    fields found in conflict (new or still open); ``quarantined``: entries OSS sent that are not
    valid service standards; ``unchanged``: entries fetched that changed nothing; ``requests``:
    calls made to OSS (a page, the permit codes, an entry sent; retries of a call not counted).
    """

    fetched: int = 0
    created: int = 0
    updated: int = 0
    deleted: int = 0
    pushed: int = 0
    overrides: int = 0
    conflicts: int = 0
    quarantined: int = 0
    unchanged: int = 0
    requests: int = 0

    def as_json(self) -> dict[str, JsonValue]:
        return {f.name: getattr(self, f.name) for f in fields(self)}


@dataclass(frozen=True)
class SyncReport:
    """The result of ``CatalogueSync.sync``.

    ``open_conflicts`` counts the conflicts open after the sync (in a dry run: that would be).
    ``blocked`` lists entries not pushed (open conflicts, unknown permit code), ``failed``
    pushes OSS refused or whose outcome is unknown, ``quarantined`` entries OSS sent that could
    not be read. ``diff`` holds, in a dry run only, the outcome of every entry that would change.
    """

    direction: Direction
    dry_run: bool
    started_at: datetime
    finished_at: datetime
    counts: SyncCounts
    open_conflicts: int
    blocked: tuple[EntryIssue, ...] = ()
    failed: tuple[EntryIssue, ...] = ()
    quarantined: tuple[EntryIssue, ...] = ()
    diff: tuple[MergeOutcome, ...] = ()

    @property
    def needs_person(self) -> bool:
        """True when staff must act: conflicts remain, or an entry was blocked, refused or bad."""
        return bool(self.open_conflicts or self.blocked or self.failed or self.quarantined)

    def as_json(self) -> dict[str, JsonValue]:
        """The report as JSON-able data, for ``--json``, the admin API and job runs."""
        return {
            "direction": self.direction,
            "dry_run": self.dry_run,
            "started_at": self.started_at.isoformat(),
            "finished_at": self.finished_at.isoformat(),
            "counts": self.counts.as_json(),
            "open_conflicts": self.open_conflicts,
            "needs_person": self.needs_person,
            "blocked": [issue.as_json() for issue in self.blocked],
            "failed": [issue.as_json() for issue in self.failed],
            "quarantined": [issue.as_json() for issue in self.quarantined],
            "diff": [outcome_as_json(outcome) for outcome in self.diff],
        }

    def lines(self) -> list[str]:
        """The report for people: the dry run's diff first, then the counts and what to do."""
        c = self.counts
        lines: list[str] = []
        if self.dry_run:
            lines.append("dry run: nothing was written and nothing was sent to OSS")
            for outcome in self.diff:
                lines.extend(outcome_lines(outcome))
        would = "would be " if self.dry_run else ""
        if self.direction in ("both", "pull"):
            lines.append(
                f"pull: {c.fetched} fetched, {c.created} {would}created, {c.updated} "
                f"{would}updated, {c.deleted} {would}deleted, {c.unchanged} unchanged, "
                f"{c.quarantined} quarantined"
            )
        if self.direction in ("both", "push"):
            lines.append(f"push: {c.pushed} {would}sent to OSS")
        lines.append(
            f"{c.overrides} overrides, {c.conflicts} conflicts found, "
            f"{self.open_conflicts} open; {c.requests} requests to OSS"
        )
        for title, issues in (
            ("not pushed", self.blocked),
            ("refused by OSS", self.failed),
            ("quarantined", self.quarantined),
        ):
            lines.extend(f"{title}: {issue.code or '(no id)'}: {issue.reason}" for issue in issues)
        if self.open_conflicts:
            lines.append(
                f"{self.open_conflicts} conflicts wait for a person: list them with "
                "`oss-bridge catalogue conflicts`, settle each with "
                "`oss-bridge catalogue resolve ID --take local|remote`"
            )
        return lines


# --- pure decisions ------------------------------------------------------------------------------


def effective_standard(stored: StoredStandard) -> ServiceStandard:
    """The entry as the merge sees it: a soft-deleted entry is ``inactive`` whatever it says."""
    if stored.deleted and stored.standard.status != "inactive":
        return stored.standard.model_copy(update={"status": "inactive"})
    return stored.standard


def as_oss_holds(merged: ServiceStandard, remote: ServiceStandard) -> ServiceStandard:
    """``merged`` with every field OSS holds taken from ``remote``: the next base."""
    data = canonical_form(merged)
    theirs = canonical_form(remote)
    for name in REMOTE_FIELDS:
        data[name] = theirs[name]
    return ServiceStandard.model_validate(data)


@dataclass(frozen=True)
class Reconciled:
    """A pulled (or 409-returned) entry merged with the region's copy, and what to store.

    ``write`` is None when nothing is to be stored (an inactive entry the region never had);
    ``closed`` lists open conflicts whose two sides now hold the same value. ``outcome`` is None
    only for an entry new to the region decided without detail (``reconcile``): it is created
    as OSS holds it, with nothing to audit but the creation.
    """

    outcome: MergeOutcome | None
    write: SyncWrite | None
    closed: tuple[Conflict, ...] = ()


# The region's own fields, read in one call, and what they hold when the region set none: as a
# model holds them, and as the canonical content does (lists for tuples).
_LOCAL_ONLY_ATTRIBUTES = operator.attrgetter(*LOCAL_ONLY_FIELDS)
_LOCAL_ONLY_ITEMS = operator.itemgetter(*LOCAL_ONLY_FIELDS)
_LOCAL_ONLY_DEFAULTS: tuple[Any, ...] = tuple(
    ServiceStandard.model_fields[name].get_default(call_default_factory=True)
    for name in LOCAL_ONLY_FIELDS
)
_LOCAL_ONLY_CANONICAL: tuple[Any, ...] = tuple(
    list(value) if isinstance(value, tuple) else value for value in _LOCAL_ONLY_DEFAULTS
)


def _holds_only_remote_fields(standard: ServiceStandard | CanonicalStandard) -> bool:
    if isinstance(standard, CanonicalStandard):
        return bool(_LOCAL_ONLY_ITEMS(standard.content) == _LOCAL_ONLY_CANONICAL)
    return bool(_LOCAL_ONLY_ATTRIBUTES(standard) == _LOCAL_ONLY_DEFAULTS)


def reconcile(
    current: StoredStandard | None,
    remote: ServiceStandard | CanonicalStandard,
    *,
    remote_versi: int,
    open_conflicts: Mapping[str, Conflict],
    ownership: Mapping[str, str],
    detailed: bool = True,
) -> Reconciled:
    """Merge OSS's ``remote`` entry at ``remote_versi`` into the region's ``current`` one.

    ``open_conflicts`` maps field names to the entry's open conflicts. Such a field is kept out
    of the merge: it keeps the local value and its conflict is refreshed with the remote one,
    unless both sides now hold the same value, which closes it.

    Without ``detailed``, an entry new to the region comes back without an outcome (the fields
    created, which only a dry run shows), and a ``CanonicalStandard`` is stored as it is, never
    built as a model; what is stored is the same.
    """
    if current is None and not detailed and _holds_only_remote_fields(remote):
        # merge()'s create_local without its per-field bookkeeping, which costs a large share
        # of an initial pull.
        if remote.status == "inactive":
            return Reconciled(None, None)
        return Reconciled(None, SyncWrite(remote, remote_versi, None))
    if isinstance(remote, CanonicalStandard):
        remote = remote.standard
    if current is None:
        outcome = merge(None, None, remote, ownership=ownership)
        if outcome.action == "none":
            return Reconciled(outcome, None)
        return Reconciled(outcome, SyncWrite(outcome.merged, remote_versi, None))

    local = effective_standard(current)
    ours, theirs = canonical_form(local), canonical_form(remote)
    closed = tuple(c for name, c in open_conflicts.items() if ours[name] == theirs[name])
    held = {name: c for name, c in open_conflicts.items() if ours[name] != theirs[name]}
    if held:
        # Showing the merge the remote value makes the field look settled to it.
        local = apply_changes(
            local,
            [FieldChange(name, ours[name], theirs[name], "remote_changed") for name in held],
        )
    outcome = merge(current.base, local, remote, ownership=ownership)
    if held:
        restore = [FieldChange(name, theirs[name], ours[name], "local_changed") for name in held]
        refreshed = [
            FieldConflict(name, c.base, ours[name], theirs[name]) for name, c in held.items()
        ]
        conflicts = sorted(
            (*outcome.conflicts, *refreshed), key=lambda c: CONTENT_FIELDS.index(c.field)
        )
        outcome = MergeOutcome(
            code=outcome.code,
            action="conflict",
            merged=apply_changes(outcome.merged, restore),
            to_local=outcome.to_local,
            to_remote=outcome.to_remote,
            overrides=outcome.overrides,
            conflicts=tuple(conflicts),
        )
    base = None
    if outcome.to_remote or outcome.conflicts:
        base = as_oss_holds(outcome.merged, remote)
    write = SyncWrite(outcome.merged, remote_versi, current.local_version, base)
    return Reconciled(outcome, write, closed)


def to_send(stored: StoredStandard, *, ownership: Mapping[str, str]) -> MergeOutcome:
    """What a dirty entry has for OSS: its changes since the base, as if OSS still held the base.

    An entry OSS never had is created there whole (unless it is inactive: nothing to mirror).
    """
    return merge(stored.base, effective_standard(stored), stored.base, ownership=ownership)


async def _fetching_ahead(
    pages: AsyncGenerator[StandardsPage, None],
) -> AsyncGenerator[StandardsPage, None]:
    """``pages``, with the next page on its way while the caller applies the current one.

    Nothing is lost by fetching early: a page only counts once it is applied with its cursor.
    """
    pending: asyncio.Future[StandardsPage] | None = asyncio.ensure_future(anext(pages))
    try:
        while pending is not None:
            try:
                page = await pending
            except StopAsyncIteration:
                pending = None
                return
            pending = asyncio.ensure_future(anext(pages)) if page.cursor is not None else None
            yield page
    finally:
        if pending is not None:
            pending.cancel()
            # The caller stopped (or failed): how the page it will not read ended is moot.
            with contextlib.suppress(asyncio.CancelledError, StopAsyncIteration, Exception):
                await pending
        await pages.aclose()


def _direction(value: str) -> Direction:
    for direction in DIRECTIONS:
        if value == direction:
            return direction
    raise InputError(f"direction {value!r}; choose one of {', '.join(DIRECTIONS)}")


def _take(value: str) -> Take:
    if value == "local":
        return "local"
    if value == "remote":
        return "remote"
    raise InputError(f"take {value!r}; choose 'local' or 'remote'")


def _field_values(changes: Iterable[FieldChange], side: Literal["before", "after"]) -> JsonValue:
    return {change.field: getattr(change, side) for change in changes}


def _resolution(conflict: Conflict, outcome: MergeOutcome) -> Take:
    merged = canonical_form(outcome.merged)[conflict.field]
    return "local" if merged == conflict.local else "remote"


# --- the service ---------------------------------------------------------------------------------


@dataclass
class _Run:
    """The state of one sync run."""

    dry_run: bool
    progress: ProgressCallback | None
    conflicts: dict[str, dict[str, Conflict]]
    counts: SyncCounts = field(default_factory=SyncCounts)
    blocked: list[EntryIssue] = field(default_factory=list)
    failed: list[EntryIssue] = field(default_factory=list)
    quarantined: list[EntryIssue] = field(default_factory=list)
    diff: list[MergeOutcome] = field(default_factory=list)
    # Dry run only: the versi of each entry previewed, since nothing stores it.
    previewed: dict[str, int] = field(default_factory=dict)
    # Dry run only: conflicts that would be opened or closed.
    opened: set[tuple[str, str]] = field(default_factory=set)
    closed: set[tuple[str, str]] = field(default_factory=set)
    permit_codes: frozenset[str] | None = None
    permit_lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    pages: int = 0

    def tell(self, phase: Literal["pull", "push"], *, done: int, total: int | None) -> None:
        if self.progress is not None:
            self.progress(SyncProgress(phase, done, total, self.pages))


class CatalogueSync:
    """The catalogue mirror between the region's store and OSS; see the module docstring.

    ``settings`` gives ``catalogue.field_ownership`` (checked here: ``ConfigError``),
    ``catalogue.lookback_seconds`` and ``push_concurrency``, and the region and export settings.
    ``actor`` is recorded in the audit log for what a sync does; ``clock`` stamps reports.
    """

    def __init__(
        self,
        store: Store,
        oss_client: OssClient,
        settings: Settings,
        *,
        clock: Clock = utc_now,
        actor: str = "sync",
    ) -> None:
        self._store = store
        self._oss = oss_client
        self._settings = settings
        self._ownership = check_ownership(settings.catalogue.field_ownership)
        self._lookback = timedelta(seconds=settings.catalogue.lookback_seconds)
        self._clock = clock
        self._actor = actor

    # --- sync ------------------------------------------------------------------------------------

    async def sync_alone(
        self,
        direction: str = "both",
        dry_run: bool = False,
        progress: ProgressCallback | None = None,
    ) -> SyncReport | None:
        """``sync`` while no other instance syncs the catalogue; ``None`` when one does.

        Instances share the catalogue-sync lock (an advisory lock on PostgreSQL, a file lock
        beside a SQLite database). A dry run writes nothing, so it takes no lock.
        """
        if dry_run:
            return await self.sync(direction, dry_run=True, progress=progress)
        async with self._store.exclusive(CATALOGUE_SYNC_LOCK) as held:
            if not held:
                return None
            return await self.sync(direction, progress=progress)

    async def sync(
        self,
        direction: str = "both",
        dry_run: bool = False,
        progress: ProgressCallback | None = None,
    ) -> SyncReport:
        """One sync: pull, push or both (pull first), or a dry run of it; see the module docstring.

        Raises ``InputError`` for an unknown direction. Errors of OSS that retrying did not cure
        (unreachable, refused credentials, pages that stay unreadable) and of the store end the
        sync by propagating; what was applied before stays applied.
        """
        checked = _direction(direction)
        started = self._clock()
        run = _Run(dry_run=dry_run, progress=progress, conflicts=await self._open_conflicts())
        if checked in ("both", "pull"):
            await self._pull(run)
        if checked in ("both", "push"):
            await self._push(run)
        if dry_run:
            still_open = {(c, f) for c, by_field in run.conflicts.items() for f in by_field}
            open_count = len((still_open - run.closed) | run.opened)
        else:
            open_count = len(await self._store.list_conflicts())
        report = SyncReport(
            direction=checked,
            dry_run=dry_run,
            started_at=started,
            finished_at=self._clock(),
            counts=run.counts,
            open_conflicts=open_count,
            blocked=tuple(run.blocked),
            failed=tuple(run.failed),
            quarantined=tuple(run.quarantined),
            diff=tuple(run.diff),
        )
        log.info(
            "catalogue sync finished",
            direction=checked,
            dry_run=dry_run,
            open_conflicts=open_count,
            blocked=len(run.blocked),
            failed=len(run.failed),
            **run.counts.as_json(),
        )
        return report

    async def _open_conflicts(self) -> dict[str, dict[str, Conflict]]:
        by_code: dict[str, dict[str, Conflict]] = {}
        for conflict in await self._store.list_conflicts():
            by_code.setdefault(conflict.code, {})[conflict.field] = conflict
        return by_code

    # --- pull ------------------------------------------------------------------------------------

    async def _pull(self, run: _Run) -> None:
        page_state = await self._store.get_cursor(PAGE_CURSOR)
        mark_state = await self._store.get_cursor(MARK_CURSOR)
        mark = mark_state.sejak if mark_state is not None else None
        if page_state is not None and page_state.cursor is not None:
            since, cursor = page_state.sejak, page_state.cursor
        else:
            since, cursor = (None if mark is None else mark - self._lookback), None
        known_bad = await self._quarantined_already()
        try:
            await self._pull_pages(run, since, cursor, mark, known_bad)
        except RequestRejected as exc:
            if cursor is None or run.pages > 0:
                raise
            # OSS no longer knows the cursor of the interrupted pull: run it again from its start.
            log.warning("saved catalogue cursor refused; pulling again", error=str(exc))
            await self._pull_pages(run, since, None, mark, known_bad)

    async def _quarantined_already(self) -> set[tuple[str | None, str]]:
        entries = await self._store.list_quarantine(source="oss", limit=QUARANTINE_SCAN_LIMIT)
        return {(entry.entity_id, entry.raw) for entry in entries}

    async def _pull_pages(
        self,
        run: _Run,
        since: datetime | None,
        cursor: str | None,
        mark: datetime | None,
        known_bad: set[tuple[str | None, str]],
    ) -> None:
        pages = self._oss.standards_since(since, cursor=cursor, tolerant=True)
        run.counts.requests += 1
        async for page in _fetching_ahead(pages):
            run.pages += 1
            run.counts.fetched += len(page.entries) + len(page.rejected)
            for entry in page.entries:
                if mark is None or entry.diperbarui > mark:
                    mark = entry.diperbarui
            if run.dry_run:
                await self._preview_page(run, page)
            else:
                cursors = {PAGE_CURSOR: (since, page.cursor)}
                if mark is not None:
                    cursors[MARK_CURSOR] = (mark, None)
                async with self._store.transaction() as tx:
                    await self._apply_page(tx, run, page, known_bad)
                    await tx.save_cursors(cursors)
            run.tell("pull", done=run.counts.fetched, total=None)
            if page.cursor is not None:
                run.counts.requests += 1

    async def _apply_page(
        self,
        tx: Transaction,
        run: _Run,
        page: StandardsPage,
        known_bad: set[tuple[str | None, str]],
    ) -> None:
        for rejected in page.rejected:
            await self._quarantine(tx, run, rejected, known_bad)
        decisions = await self._decide_page(tx, run, page)
        writes = [decided.write for _, decided in decisions if decided.write is not None]
        await tx.save_synced(writes, actor=self._actor)
        for entry, decided in decisions:
            outcome = decided.outcome
            if outcome is not None and (outcome.overrides or outcome.conflicts or decided.closed):
                await self._record(tx, run, decided, remote_versi=entry.versi)

    async def _preview_page(self, run: _Run, page: StandardsPage) -> None:
        for rejected in page.rejected:
            run.counts.quarantined += 1
            run.quarantined.append(EntryIssue(rejected.id_layanan, rejected.reason))
        for entry, decided in await self._decide_page(self._store, run, page):
            code = entry.code
            outcome = decided.outcome
            assert outcome is not None, "a dry run decides every entry in detail"
            run.previewed[code] = entry.versi
            if outcome.changed:
                run.diff.append(outcome)
            run.counts.overrides += len(outcome.overrides)
            run.counts.conflicts += len(outcome.conflicts)
            run.opened.update((code, c.field) for c in outcome.conflicts)
            run.closed.update((code, c.field) for c in decided.closed)

    async def _decide_page(
        self, reader: Store | Transaction, run: _Run, page: StandardsPage
    ) -> list[tuple[RemoteEntry, Reconciled]]:
        """Each entry of ``page`` that the region does not hold yet, merged; counted."""
        newest: dict[str, RemoteEntry] = {}
        for entry in page.entries:
            seen = newest.get(entry.code)
            if seen is None or entry.versi > seen.versi:
                newest[entry.code] = entry
        marks = await reader.sync_marks(newest.keys())
        fresh = []
        for code, entry in newest.items():
            mark = marks.get(code)
            held = run.previewed.get(code, None if mark is None else mark.remote_versi)
            # Already held: the look-back overlap, or our own write coming back.
            if held is None or entry.versi > held:
                fresh.append(entry)
        run.counts.unchanged += len(page.entries) - len(fresh)
        current = await reader.get_standards([entry.code for entry in fresh if entry.code in marks])
        decisions = []
        for entry in fresh:
            stored = current.get(entry.code)
            decided = reconcile(
                stored,
                entry.canonical or entry.standard,
                remote_versi=entry.versi,
                open_conflicts=run.conflicts.get(entry.code, {}),
                ownership=self._ownership,
                detailed=run.dry_run,
            )
            self._count(run, stored, decided)
            decisions.append((entry, decided))
        return decisions

    @staticmethod
    def _count(run: _Run, stored: StoredStandard | None, decided: Reconciled) -> None:
        counts = run.counts
        write = decided.write
        if write is None:
            counts.unchanged += 1
        elif stored is None:
            counts.created += 1
        elif write.status == "inactive" and not stored.deleted:
            counts.deleted += 1
        elif decided.outcome is not None and decided.outcome.to_local:
            counts.updated += 1
        else:
            counts.unchanged += 1

    async def _record(
        self, tx: Transaction, run: _Run, decided: Reconciled, *, remote_versi: int
    ) -> None:
        """Audit the overrides of a stored decision, keep its conflicts and close settled ones."""
        outcome = decided.outcome
        if outcome is None:
            return
        code = outcome.code
        for change in outcome.overrides:
            await tx.audit(
                actor=self._actor,
                action="override",
                entity_type="service_standard",
                entity_id=code,
                before=change.before,
                after=change.after,
                detail={
                    "field": change.field,
                    "reason": change.reason,
                    "remote_versi": remote_versi,
                },
            )
        run.counts.overrides += len(outcome.overrides)
        by_field = run.conflicts.setdefault(code, {})
        for found in outcome.conflicts:
            by_field[found.field] = await tx.add_conflict(
                code=code,
                field=found.field,
                base=found.base,
                local=found.local,
                remote=found.remote,
                remote_versi=remote_versi,
                actor=self._actor,
            )
        run.counts.conflicts += len(outcome.conflicts)
        for conflict in decided.closed:
            await tx.resolve_conflict(
                conflict.id, resolution=_resolution(conflict, outcome), resolved_by=self._actor
            )
            by_field.pop(conflict.field, None)

    async def _quarantine(
        self,
        tx: Transaction,
        run: _Run,
        rejected: RejectedEntry,
        known_bad: set[tuple[str | None, str]],
    ) -> None:
        run.counts.quarantined += 1
        run.quarantined.append(EntryIssue(rejected.id_layanan, rejected.reason))
        key = (rejected.id_layanan, rejected.raw)
        if key in known_bad:
            return
        known_bad.add(key)
        await tx.quarantine(
            source="oss", raw=rejected.raw, reason=rejected.reason, entity_id=rejected.id_layanan
        )
        log.warning("catalogue entry quarantined", code=rejected.id_layanan, reason=rejected.reason)

    # --- push ------------------------------------------------------------------------------------

    async def _push(self, run: _Run) -> None:
        dirty = await self._store.list_dirty()
        if run.dry_run:
            # An entry the pull previewed already shows what it would send.
            dirty = [entry for entry in dirty if entry.code not in run.previewed]
        total = len(dirty)
        done = 0
        queue = iter(dirty)

        async def worker() -> None:
            nonlocal done
            for stored in queue:
                await self._push_one(run, stored)
                done += 1
                run.tell("push", done=done, total=total)

        concurrency = min(self._settings.catalogue.push_concurrency, max(total, 1))
        await asyncio.gather(*(worker() for _ in range(concurrency)))

    async def _push_one(self, run: _Run, stored: StoredStandard, attempt: int = 1) -> None:
        code = stored.code
        open_fields = sorted(run.conflicts.get(code, {}))
        if open_fields:
            run.blocked.append(
                EntryIssue(code, f"open conflict on {', '.join(open_fields)}; {RESOLVE_HINT}")
            )
            return
        outcome = to_send(stored, ownership=self._ownership)
        local = effective_standard(stored)
        if not outcome.to_remote:
            # Only fields OSS does not hold changed (or an inactive entry OSS never had).
            if not run.dry_run:
                await self._save_pushed(stored, local, stored.remote_versi)
            return
        reason = await self._permit_problem(run, local)
        if reason is not None:
            run.blocked.append(EntryIssue(code, reason))
            return
        if run.dry_run:
            run.diff.append(outcome)
            run.counts.pushed += 1
            return
        await self._send(run, stored, outcome, base_version=stored.remote_versi, attempt=attempt)

    async def _send(
        self,
        run: _Run,
        stored: StoredStandard,
        outcome: MergeOutcome,
        *,
        base_version: int | None,
        attempt: int,
    ) -> None:
        code = stored.code
        local = effective_standard(stored)
        run.counts.requests += 1
        try:
            versi = await self._oss.put_standard(local, base_version=base_version)
        except VersionConflict as conflict:
            await self._after_version_conflict(run, stored, outcome, conflict, attempt)
            return
        except OutcomeUnknown as exc:
            self._failed(run, code, f"{exc}; the next sync's pull shows whether OSS took it")
            return
        except RequestRejected as exc:
            self._failed(run, code, str(exc))
            return
        run.counts.pushed += 1
        await self._save_pushed(stored, local, versi, sent=outcome)

    async def _save_pushed(
        self,
        stored: StoredStandard,
        local: ServiceStandard,
        versi: int | None,
        sent: MergeOutcome | None = None,
    ) -> None:
        """Record that OSS holds ``local`` at ``versi``; audit what was sent."""
        try:
            async with self._store.transaction() as tx:
                await tx.save_synced(
                    [SyncWrite(local, versi, stored.local_version)],
                    actor=self._actor,
                    origin="local",
                )
                if sent is not None:
                    await tx.audit(
                        actor=self._actor,
                        action="push",
                        entity_type="service_standard",
                        entity_id=stored.code,
                        before=_field_values(sent.to_remote, "before"),
                        after=_field_values(sent.to_remote, "after"),
                        detail={"base_versi": stored.remote_versi, "versi": versi},
                    )
        except ConcurrentChange:
            # Edited while it was being sent: it stays dirty on the old versi, so its next push
            # meets a 409 and merges with what was sent here, losing neither edit.
            log.info("catalogue entry changed while pushed", code=stored.code, versi=versi)

    async def _after_version_conflict(
        self,
        run: _Run,
        stored: StoredStandard,
        outcome: MergeOutcome,
        conflict: VersionConflict,
        attempt: int,
    ) -> None:
        code = stored.code
        current = conflict.current
        if attempt >= MAX_PUSH_ATTEMPTS:
            self._failed(
                run,
                code,
                f"OSS kept changing the entry while it was sent ({conflict}); "
                "the next sync tries again",
            )
            return
        if not isinstance(current, RemoteEntry):
            # OSS holds no entry with this id any more: send ours as new.
            await self._send(run, stored, outcome, base_version=None, attempt=attempt + 1)
            return
        async with self._store.transaction() as tx:
            now = (await tx.get_standards([code])).get(code)
            decided = reconcile(
                now,
                current.standard,
                remote_versi=current.versi,
                open_conflicts=run.conflicts.get(code, {}),
                ownership=self._ownership,
            )
            self._count(run, now, decided)
            if decided.write is not None:
                await tx.save_synced([decided.write], actor=self._actor)
            await self._record(tx, run, decided, remote_versi=current.versi)
        reloaded = await self._store.get_standard(code)
        if reloaded is not None and reloaded.dirty:
            await self._push_one(run, reloaded, attempt + 1)

    @staticmethod
    def _failed(run: _Run, code: str, reason: str) -> None:
        run.failed.append(EntryIssue(code, reason))
        log.warning("catalogue entry not sent", code=code, reason=reason)

    async def _permit_problem(self, run: _Run, standard: ServiceStandard) -> str | None:
        """Why ``standard`` cannot go to OSS because of its permit code, or None if it can."""
        if standard.permit_code is None:
            return None
        async with run.permit_lock:
            if run.permit_codes is None:
                run.counts.requests += 1
                table = await self._oss.permit_codes()
                run.permit_codes = frozenset(item.code for item in table)
        if standard.permit_code in run.permit_codes:
            return None
        return (
            f"permit code (kd_izin) {standard.permit_code!r} is not in OSS reference table 8; "
            "correct the entry's permit_code and sync again"
        )

    # --- conflicts -------------------------------------------------------------------------------

    async def conflicts(self) -> list[Conflict]:
        """The open conflicts, oldest first, each with its base, local and remote values."""
        return await self._store.list_conflicts()

    async def resolve(self, conflict_id: int, take: str, actor: str | None = None) -> Conflict:
        """Settle a conflict by taking the ``"local"`` or the ``"remote"`` value; audited.

        Taking the remote value writes it into the entry (a new local version). Once an entry has
        no open conflict it is pushed by the next sync if it still differs from OSS. Raises
        ``InputError`` for a bad ``take`` or a conflict already resolved, ``NotFound`` for an
        unknown id.
        """
        resolution = _take(take)
        who = actor or self._actor
        conflict = await self._store.get_conflict(conflict_id)
        if conflict is None:
            raise NotFound(
                f"no conflict with id {conflict_id!r}; list them with `oss-bridge catalogue conflicts`"
            )
        async with self._store.transaction() as tx:
            if resolution == "remote":
                stored = await tx.get_standard(conflict.code)
                if stored is None:
                    raise NotFound(f"no service standard with code {conflict.code!r}")
                ours = canonical_form(stored.standard)[conflict.field]
                taken = apply_changes(
                    stored.standard,
                    [FieldChange(conflict.field, ours, conflict.remote, "resolved_remote")],
                )
                await tx.save_local_version(
                    taken,
                    origin="resolution",
                    actor=who,
                    expected_local_version=stored.local_version,
                )
            return await tx.resolve_conflict(conflict_id, resolution=resolution, resolved_by=who)

    # --- import and export -----------------------------------------------------------------------

    async def import_page(
        self, path: Path, code: str | None = None, actor: str | None = None
    ) -> SavedStandard:
        """Parse a published page and store it as a new local version, to be pushed; audited.

        Pages never carry a permit code, so an entry that has one keeps it. Raises
        ``PageParseError`` (an ``InputError``) when the page cannot be read.
        """
        standard = parse_page_file(path, code=code)
        current = await self._store.get_standard(standard.code)
        if current is not None and standard.permit_code is None:
            standard = standard.model_copy(update={"permit_code": current.standard.permit_code})
        return await self._store.save_local_version(
            standard,
            origin="import",
            actor=actor or self._actor,
            expected_local_version=None if current is None else current.local_version,
        )

    async def export(self, format: str) -> Any:
        """The live catalogue as JSON-able data: service-standard JSON objects (``"json"``) or
        one CPSV-AP JSON-LD document (``"cpsv-jsonld"``). Raises ``InputError`` for another
        format."""
        if format not in EXPORT_FORMATS:
            raise InputError(f"format {format!r}; choose one of {', '.join(EXPORT_FORMATS)}")
        standards = [stored.standard for stored in await self._store.list_standards()]
        if format == "json":
            return [standard.model_dump(mode="json") for standard in standards]
        region = self._settings.region
        return to_cpsv_jsonld(
            standards,
            base_uri=self._settings.catalogue.export_base_uri,
            authority_name=region.agency,
            authority_id=region.kd_daerah,
            region_code=region.kd_daerah,
            region_name=region.name,
        )


def conflict_as_json(conflict: Conflict) -> dict[str, JsonValue]:
    """A conflict as JSON-able data: its id, entry, field and the three values."""
    return {
        "id": conflict.id,
        "code": conflict.code,
        "field": conflict.field,
        "base": conflict.base,
        "local": conflict.local,
        "remote": conflict.remote,
        "remote_versi": conflict.remote_versi,
        "created_at": conflict.created_at.isoformat(),
        "resolved_at": None if conflict.resolved_at is None else conflict.resolved_at.isoformat(),
        "resolution": conflict.resolution,
        "resolved_by": conflict.resolved_by,
    }


def conflict_lines(conflict: Conflict) -> list[str]:
    """A conflict for people: what it is about, then the base, local and OSS values as JSON."""

    def value(data: Any) -> str:
        return json.dumps(data, ensure_ascii=False, sort_keys=True)

    since = conflict.created_at.strftime("%Y-%m-%d %H:%M UTC")
    return [
        f"#{conflict.id} {conflict.code} {conflict.field} (OSS versi {conflict.remote_versi}, "
        f"since {since})",
        f"  base:  {value(conflict.base)}",
        f"  local: {value(conflict.local)}",
        f"  OSS:   {value(conflict.remote)}",
    ]


def cli_actor() -> str:
    """The actor the command line records: ``cli:<login name>``."""
    try:
        return f"cli:{getpass.getuser()}"
    except (KeyError, OSError):  # no login name in some containers
        return "cli"


@asynccontextmanager
async def open_catalogue_sync(
    settings: Settings,
    *,
    actor: str = "sync",
    transport: httpx.AsyncBaseTransport | None = None,
) -> AsyncIterator[CatalogueSync]:
    """A ``CatalogueSync`` on its own store and OSS connection pool, closed afterwards.

    Raises ``SchemaOutdated`` when the database needs `oss-bridge db upgrade`. ``transport``
    replaces the network (e.g. ``httpx.ASGITransport(app=mock)``).
    """
    store = Store.open(settings.database)
    try:
        await store.check_schema()
        async with build_http_client(settings.oss, transport=transport) as http:
            oss = OssClient(
                http,
                settings.oss,
                kd_daerah=settings.region.kd_daerah,
                agency=settings.region.agency,
            )
            yield CatalogueSync(store, oss, settings, actor=actor)
    finally:
        await store.close()
