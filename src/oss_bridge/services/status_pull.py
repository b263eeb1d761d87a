"""The status puller: brings each forwarded complaint's national status and replies back.

The channel has no change feed, so every complaint that has a national id and no final status
is pulled on its own adaptive schedule (``schedule.next_pull_at``: often while young or just
changed, less often the longer it stays quiet, never after a final status). One pass
(``run_once``) leases the complaints that are due and pulls each (its status with the past
transitions, and its follow-ups), at most ``status_pull.concurrency`` at a time, up to
``status_pull.batch_size`` complaints.

What a pull found is decided by ``decide_pull`` (a pure function) and written by the store in one
transaction, together with what other pulls found while the last write ran (group commit,
``services._batch``): the raw national status beside the stage it maps to
(``config/status-mapping.toml``; the stage never moves backwards), every new status transition
and follow-up as an event of the complaint's history (each once, whatever the channel repeats),
and the next pull time. A status the map does not know keeps the stage and is reported as
unmapped. The puller refuses to start when the map leaves a known national status unmapped
(``ConfigError`` naming it).

A failed pull is logged and counted; the complaint is tried again on its schedule as if the pull
had found nothing. Each pull is cut off after ``ATTEMPT_SHARE_OF_LEASE`` of its lease.
"""

from __future__ import annotations

import asyncio
import random
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import structlog

from oss_bridge.clients import ChannelComplaint, FollowUp, LaporClient
from oss_bridge.config import LaporSettings, StatusPullSettings
from oss_bridge.errors import RateLimited
from oss_bridge.services._batch import GroupWriter
from oss_bridge.services._passes import run_passes
from oss_bridge.services._pool import run_leased
from oss_bridge.services.complaints.followups import (
    StatusLogEntry,
    dedupe_status_logs,
    followup_key,
    new_followups,
)
from oss_bridge.services.complaints.schedule import next_pull_at, spread_for
from oss_bridge.services.complaints.status_mapping import (
    StatusMapping,
    fold_status,
    load_status_mapping,
)
from oss_bridge.services.forwarder import (
    ATTEMPT_SHARE_OF_LEASE,
    Clock,
    describe,
    utc_now,
    worker_id,
)
from oss_bridge.store import Store
from oss_bridge.store._pulls import NewEvent, PullApplied, PullClaim, PullUpdate

log = structlog.get_logger("oss_bridge.status_pull")

MAX_NOTE_CHARS = 4000


@dataclass
class PullReport:
    """What one pass of the status puller did.

    ``pulled`` complaints were read and written back; ``changed`` of them had something new,
    ``moved`` changed stage and ``finished`` reached a final status. ``events`` counts the
    history entries added. ``unmapped`` counts complaints per national status the map lacks.
    """

    claimed: int = 0
    pulled: int = 0
    changed: int = 0
    moved: int = 0
    finished: int = 0
    events: int = 0
    failed: int = 0
    lost_lease: int = 0
    paused_until: datetime | None = None
    unmapped: Counter[str] = field(default_factory=Counter)
    errors: Counter[str] = field(default_factory=Counter)

    def as_dict(self) -> dict[str, Any]:
        return {
            "claimed": self.claimed,
            "pulled": self.pulled,
            "changed": self.changed,
            "moved": self.moved,
            "finished": self.finished,
            "events": self.events,
            "failed": self.failed,
            "lost_lease": self.lost_lease,
            "paused_until": self.paused_until.isoformat() if self.paused_until else None,
            "unmapped": dict(sorted(self.unmapped.items())),
            "errors": dict(sorted(self.errors.items())),
        }


@dataclass(frozen=True)
class PullDecision:
    """The update to store and why: ``unmapped`` names a status the map does not know."""

    update: PullUpdate
    unmapped: str | None


def decide_pull(
    claim: PullClaim,
    remote: ChannelComplaint,
    followups: Sequence[FollowUp],
    *,
    mapping: StatusMapping,
    settings: StatusPullSettings,
    now: datetime,
) -> PullDecision:
    """What one pull of ``claim`` found: new transitions and follow-ups, stage, next pull.

    An answer older than the status we hold (``updated_at`` before ``external_status_at``, as a
    lagging replica may give) leaves the status alone; its follow-ups still count.
    """
    stale = claim.external_status_at is not None and remote.updated_at < claim.external_status_at
    events: list[NewEvent] = []
    unmapped: str | None = None
    stage = None
    final = False
    if not stale:
        entries = [StatusLogEntry(status=log.status_name, at=log.at) for log in remote.logs]
        notes = {(log.status_name, log.at): log for log in remote.logs}
        fresh = dedupe_status_logs(
            entries, last_status=claim.external_status, after=claim.external_status_at
        )
        for entry in fresh:
            source = notes[(entry.status, entry.at)]
            events.append(_status_event(entry.status, entry.at, source.status_code, source.note))
        last_seen = fresh[-1].status if fresh else claim.external_status
        if last_seen is None or fold_status(last_seen) != fold_status(remote.status_name):
            # The transitions lack the current status: record it as of the last update.
            events.append(
                _status_event(remote.status_name, remote.updated_at, remote.status_code, None)
            )
        decision = mapping.apply(claim.stage, remote.status_name)
        stage = decision.mapped_stage
        final = decision.final
        if decision.unmapped:
            unmapped = remote.status_name
    for followup in new_followups(claim.followup_keys, followups):
        events.append(
            NewEvent(
                kind="followup",
                dedupe_key=followup_key(followup),
                external_at=followup.created_at,
                payload={
                    "id": followup.id,
                    "content": followup.content[:MAX_NOTE_CHARS],
                    "created_at": followup.created_at.astimezone(UTC).isoformat(),
                },
            )
        )
    changed = bool(events)
    instants = [f.created_at for f in followups]
    if not stale:
        instants.append(remote.updated_at)
    if claim.external_status_at is not None:
        instants.append(claim.external_status_at)
    return PullDecision(
        update=PullUpdate(
            external_status=None if stale else remote.status_name,
            external_status_at=None if stale else remote.updated_at,
            stage=stage,
            final=final,
            events=tuple(events),
            next_pull_at=next_pull_at(
                now=now,
                received_at=claim.received_at,
                last_change_at=max(instants) if instants else None,
                final=final,
                consecutive_unchanged=0 if changed else claim.unchanged_pulls + 1,
                tiers=settings.tiers,
                growth=settings.unchanged_growth,
                jitter=settings.jitter,
                spread=spread_for(claim.complaint_id),
            ),
            changed=changed,
        ),
        unmapped=unmapped,
    )


def _status_event(name: str, at: datetime, code: str | None, note: str | None) -> NewEvent:
    instant = at.astimezone(UTC)
    return NewEvent(
        kind="status",
        dedupe_key=f"{fold_status(name)}@{instant.isoformat()}"[:200],
        external_at=instant,
        payload={"status": name, "status_code": code, "note": note, "at": instant.isoformat()},
    )


class StatusPuller:
    """Pulls national statuses back onto the regional complaint stages.

    ``mapping`` defaults to the file named by ``status_pull.mapping_file`` (else the packaged
    map); building the puller raises ``ConfigError`` when it cannot be read or leaves a known
    national status unmapped. ``clock`` must be the store's clock. ``owner`` names the leases.
    """

    def __init__(
        self,
        store: Store,
        lapor: LaporClient,
        settings: StatusPullSettings,
        *,
        mapping: StatusMapping | None = None,
        owner: str | None = None,
        clock: Clock = utc_now,
        rand: Callable[[], float] = random.random,
    ) -> None:
        self.store = store
        self.lapor = lapor
        self.settings = settings
        self.mapping = (
            mapping if mapping is not None else load_status_mapping(settings.mapping_file)
        )
        self.owner = owner or worker_id()
        self._clock = clock
        self._rand = rand
        self._timeout = settings.lease_seconds * ATTEMPT_SHARE_OF_LEASE
        self._paused_until: datetime | None = None

    @classmethod
    def from_settings(
        cls,
        store: Store,
        http: httpx.AsyncClient,
        status_pull: StatusPullSettings,
        lapor: LaporSettings,
        **options: Any,
    ) -> StatusPuller:
        """A puller on ``http`` (the channel's pooled client) whose client tries each read once:
        a failed pull is simply pulled again on the complaint's schedule."""
        client = LaporClient(http, lapor.model_copy(update={"max_attempts": 1}))
        return cls(store, client, status_pull, **options)

    async def run_once(self) -> PullReport:
        """Pull every complaint that is due, up to ``batch_size``, ``concurrency`` at a time.

        Store errors end the pass and propagate (leases are released when the store allows);
        a failed pull of one complaint never does.
        """
        report = PullReport()
        if self._paused():
            report.paused_until = self._paused_until
            return report

        async def claim(limit: int) -> list[PullClaim]:
            claims = await self.store.claim_pulls(
                owner=self.owner, lease_seconds=self.settings.lease_seconds, limit=limit
            )
            report.claimed += len(claims)
            return claims

        async def apply(pulls: list[tuple[int, PullUpdate]]) -> list[PullApplied | None]:
            return await self.store.apply_pulls(pulls, owner=self.owner)

        writer = GroupWriter(apply)

        async def pull(claim: PullClaim) -> None:
            await self._pull(claim, report, writer)

        try:
            try:
                await run_leased(
                    claim,
                    pull,
                    concurrency=self.settings.concurrency,
                    budget=self.settings.batch_size,
                    may_claim=lambda: not self._paused(),
                )
            finally:
                await writer.close()
        except BaseException:
            try:
                await asyncio.shield(self.store.release_pull_leases(self.owner))
            except Exception as exc:  # noqa: BLE001 - the pass fails anyway; leases expire
                log.warning("could not release pull leases", owner=self.owner, error=repr(exc))
            raise
        if self._paused():
            report.paused_until = self._paused_until
        return report

    async def _pull(
        self,
        claim: PullClaim,
        report: PullReport,
        writer: GroupWriter[tuple[int, PullUpdate], PullApplied | None],
    ) -> None:
        fields = {"complaint_id": claim.complaint_id, "external_id": claim.external_id}
        try:
            async with asyncio.timeout(self._timeout):
                remote = await self.lapor.complaint(claim.external_id)
                followups = await self.lapor.followups(claim.external_id)
        except Exception as exc:  # noqa: BLE001 - any failed pull is retried on schedule
            await self._record_failure(claim, exc, report, fields)
            return
        now = self._clock()
        decision = decide_pull(
            claim, remote, followups, mapping=self.mapping, settings=self.settings, now=now
        )
        applied = await writer.submit((claim.complaint_id, decision.update))
        if applied is None:
            report.lost_lease += 1
            log.warning("pull lease lost before recording the pull", **fields)
            return
        report.pulled += 1
        report.events += applied.events_added
        report.changed += decision.update.changed
        report.moved += applied.moved
        report.finished += decision.update.final
        if decision.unmapped is not None:
            report.unmapped[decision.unmapped] += 1
            log.warning(
                "national status is not in the status mapping; the stage is kept",
                status=decision.unmapped,
                mapping=self.mapping.source,
                **fields,
            )
        if decision.update.changed:
            log.info(
                "complaint status pulled",
                external_status=remote.status_name,
                stage=applied.stage.value,
                events=applied.events_added,
                **fields,
            )

    async def _record_failure(
        self, claim: PullClaim, error: Exception, report: PullReport, fields: dict[str, Any]
    ) -> None:
        now = self._clock()
        retry_at = next_pull_at(
            now=now,
            received_at=claim.received_at,
            last_change_at=claim.external_status_at,
            final=False,
            consecutive_unchanged=claim.unchanged_pulls + 1,
            tiers=self.settings.tiers,
            growth=self.settings.unchanged_growth,
            jitter=self.settings.jitter,
            spread=self._rand(),
        )
        assert retry_at is not None  # a complaint being pulled is never final
        if isinstance(error, RateLimited):
            wait = error.retry_after if error.retry_after is not None else 60.0
            until = now + timedelta(seconds=min(wait, self.settings.lease_seconds))
            if self._paused_until is None or until > self._paused_until:
                self._paused_until = until
            retry_at = max(retry_at, until)
        await self.store.record_pull_failure(
            claim.complaint_id, owner=self.owner, next_pull_at=retry_at
        )
        report.failed += 1
        report.errors[type(error).__name__] += 1
        log.warning(
            "status pull failed; will retry",
            error=describe(error),
            retry_at=retry_at.isoformat(),
            **fields,
        )

    def _paused(self) -> bool:
        return self._paused_until is not None and self._clock() < self._paused_until

    async def run_forever(
        self, stop: asyncio.Event, *, sleep: Callable[[float], Any] = asyncio.sleep
    ) -> None:
        """Run passes every ``interval_seconds`` (at once again after a full batch) until ``stop``."""
        interval = self.settings.interval_seconds

        async def one_pass() -> float:
            report = await self.run_once()
            return 0.0 if report.claimed >= self.settings.batch_size else interval

        try:
            await run_passes(
                stop,
                one_pass,
                failed_wait=interval,
                failure="status pull pass failed",
                log=log,
                sleep=sleep,
                describe=describe,
            )
        finally:
            try:
                await self.store.release_pull_leases(self.owner)
            except Exception as exc:  # noqa: BLE001 - stopping anyway; leases expire
                log.warning("could not release pull leases", owner=self.owner, error=repr(exc))
