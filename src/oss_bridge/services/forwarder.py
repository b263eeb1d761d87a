"""The complaint forwarder: the outbox relay that delivers each complaint once to the channel.

Intake writes a complaint and its outbox row in one transaction; this service moves the row on.
One pass (``run_once``) claims due rows with a lease and runs one attempt per row, at most
``forwarder.concurrency`` at a time, refilling free slots as attempts finish, until
``forwarder.batch_size`` rows were tried or none is due. One task of the pass does all its
database writing: each transaction records the attempts that finished since the last and claims
rows ahead for the slots (``PREFETCH``), so the database costs a few transactions per batch
rather than two per complaint. An attempt:

1. works on the row as the claim just read it (never on a copy from an earlier attempt);
2. if the complaint already has its national id, only settles the row;
3. if an earlier attempt's outcome is unknown, asks the channel for the complaint by its
   receipt number (``external_reference``) and settles the row if it is there;
4. otherwise sends it, with the row's idempotency key, which is the same on every attempt;
5. records the channel's ``complaint_id`` and ``tracking_id``, or counts the failure.

Every exception of an attempt, whatever its class, is a failed attempt with its reason stored
(DESIGN.md section 6). A failure waits a full-jitter exponential backoff, at least the channel's
``Retry-After`` (capped), before the row is due again; after ``forwarder.max_attempts`` failures,
or at once when the channel refused the complaint itself (4xx other than 401/429), the row is
``dead`` until an operator requeues or acknowledges it. A 429 or a refused credential also pauses
the whole destination for that wait, so one burst of refusals is not met by a burst of sends.

Each attempt must end before its lease does, or another worker could take the row while the
request is still out: an attempt is cut off after ``ATTEMPT_SHARE_OF_LEASE`` of the lease, and a
create cut off that way counts as an unknown outcome. The client should not retry on its own
(``forwarding_client_settings`` sets ``max_attempts = 1``): the outbox is the retry loop, with
waits that survive restarts.

A destination suspended in the store (``oss-bridge complaints suspend lapor``) or by
``forwarder.suspended`` keeps its queue; a pass then claims nothing and says so.
"""

from __future__ import annotations

import asyncio
import os
import random
import secrets
import socket
from collections import Counter, deque
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import structlog

from oss_bridge.clients import LaporClient
from oss_bridge.config import DEFAULT_CATEGORY_IDS, ForwarderSettings, LaporSettings
from oss_bridge.errors import (
    AuthenticationFailed,
    ConfigError,
    InputError,
    OutcomeUnknown,
    RateLimited,
    RequestRejected,
    TransportError,
)
from oss_bridge.services._passes import run_passes
from oss_bridge.services.complaints.backoff import next_attempt_delay
from oss_bridge.store import Store, Transaction
from oss_bridge.store._outbox import DEFAULT_DESTINATION, Delivered, OutboxClaim, OutboxItem

log = structlog.get_logger("oss_bridge.forwarder")

ATTEMPT_SHARE_OF_LEASE = 0.8
"""An attempt is cut off after this share of the lease, leaving the rest to record its result."""

PREFETCH = 8
"""A pass keeps up to this many times ``concurrency`` rows claimed (sending or ready to), so a
slot that frees up starts its next send without waiting for the database, and each database
transaction records and claims many rows at once. Measured with ``bench/bench_forwarding.py``
on SQLite: at twice ``concurrency`` the channel sat idle between transactions (ratio to raw
creates about 0.55); at eight times it stays busy (about 0.75). Sixteen times, with
``WRITE_BATCH`` 8, saved 7% of the instructions per complaint on PostgreSQL, but a daemon killed
mid-pass then strands twice as many leased rows until their lease expires, and its longer
transactions kept intake waiting for SQLite's write lock on a loaded machine: not worth it. A
row that waits too long for a slot is given back untried, so a slow channel cannot make the
prefetched rows outlive their lease."""

WRITE_BATCH = 4
"""The writer records finished attempts once this many times ``concurrency`` have finished (or
sooner: when claimed rows run low or nothing is running). Each transaction costs about as much
as recording a few dozen rows, so recording in batches keeps the database's share small."""

LOW_WATER = 2
"""The writer claims more rows once fewer than this many times ``concurrency`` are waiting."""

Clock = Callable[[], datetime]
Sleep = Callable[[float], Awaitable[None]]


def utc_now() -> datetime:
    return datetime.now(UTC)


def worker_id() -> str:
    """An id for this process's leases: host, process id and a random part (at most 64 chars)."""
    return f"{socket.gethostname()[:40]}:{os.getpid()}:{secrets.token_hex(4)}"


def forwarding_client_settings(settings: LaporSettings) -> LaporSettings:
    """The channel settings for the forwarder's client: one try per call, the outbox retries."""
    return settings.model_copy(update={"max_attempts": 1})


@dataclass
class ForwardReport:
    """What one pass of the forwarder did.

    ``claimed`` rows were tried (a row claimed but left untried because the destination asked
    us to wait is given back and not counted). ``sent`` complaints were created on the channel
    by this pass; ``reconciled`` were found
    there (after an unknown outcome) or already carried their national id; ``retrying`` failed
    and wait for another attempt; ``dead`` failed for the last time; ``lost_lease`` attempts
    ended after another worker had taken their row over (their result is left to that worker).
    ``errors`` counts the failures by error class.
    """

    destination: str = DEFAULT_DESTINATION
    suspended: bool = False
    paused_until: datetime | None = None
    claimed: int = 0
    sent: int = 0
    reconciled: int = 0
    retrying: int = 0
    dead: int = 0
    lost_lease: int = 0
    errors: Counter[str] = field(default_factory=Counter)

    @property
    def delivered(self) -> int:
        return self.sent + self.reconciled

    def as_dict(self) -> dict[str, Any]:
        return {
            "destination": self.destination,
            "suspended": self.suspended,
            "paused_until": self.paused_until.isoformat() if self.paused_until else None,
            "claimed": self.claimed,
            "sent": self.sent,
            "reconciled": self.reconciled,
            "retrying": self.retrying,
            "dead": self.dead,
            "lost_lease": self.lost_lease,
            "errors": dict(sorted(self.errors.items())),
        }


@dataclass
class _Attempt:
    """Where an attempt got to, so a failure knows whether the create may have reached the channel."""

    sending: bool = False


@dataclass
class _PassState:
    """What the workers and the writer of one pass share."""

    budget: int
    busy: int = 0
    drained: bool = False
    over: bool = False

    def wanted(self, ready: deque[tuple[OutboxClaim, float]], concurrency: int) -> int:
        """How many rows to claim now to keep ``PREFETCH * concurrency`` claimed."""
        if self.drained:
            return 0
        return max(0, min(self.budget, PREFETCH * concurrency - self.busy - len(ready)))


@dataclass(frozen=True)
class _Delivered:
    external_id: str
    tracking_id: str | None
    reconciled: bool


@dataclass(frozen=True)
class _Failed:
    """A failed attempt, decided when it failed: how long to wait, whether to give up."""

    error: Exception
    retry_at: datetime
    delay: float
    outcome_unknown: bool
    give_up: bool


@dataclass(frozen=True)
class _Outcome:
    claim: OutboxClaim
    result: _Delivered | _Failed


class ComplaintForwarder:
    """Delivers the outbox of one destination (the complaint channel) exactly once in effect.

    ``clock`` must be the store's clock (both default to UTC now); ``sleep`` drives the waits of
    ``run_forever``; ``rand`` (in [0, 1)) the backoff jitter. ``owner`` names this worker's
    leases; the default is unique per process. Build the client with
    ``forwarding_client_settings`` (see the module docstring), or use ``from_settings``.
    """

    def __init__(
        self,
        store: Store,
        lapor: LaporClient,
        settings: ForwarderSettings,
        *,
        category_ids: Mapping[str, str] = DEFAULT_CATEGORY_IDS,
        destination: str = DEFAULT_DESTINATION,
        owner: str | None = None,
        clock: Clock = utc_now,
        sleep: Sleep = asyncio.sleep,
        rand: Callable[[], float] = random.random,
    ) -> None:
        self.store = store
        self.lapor = lapor
        self.settings = settings
        self.destination = destination
        self.owner = owner or worker_id()
        self.category_ids = dict(category_ids)
        self._clock = clock
        self._sleep = sleep
        self._rand = rand
        self._attempt_timeout = settings.lease_seconds * ATTEMPT_SHARE_OF_LEASE
        self._paused_until: datetime | None = None
        self._wake = asyncio.Event()

    @classmethod
    def from_settings(
        cls,
        store: Store,
        http: httpx.AsyncClient,
        forwarder: ForwarderSettings,
        lapor: LaporSettings,
        **options: Any,
    ) -> ComplaintForwarder:
        """A forwarder on ``http`` (the channel's pooled client) with a one-try client."""
        client = LaporClient(http, forwarding_client_settings(lapor))
        return cls(store, client, forwarder, category_ids=lapor.category_ids, **options)

    # --- one pass --------------------------------------------------------------------------

    async def run_once(self) -> ForwardReport:
        """Try every due row once, up to ``batch_size`` rows, ``concurrency`` at a time.

        Returns what happened. Store errors end the pass and propagate (rows in flight are
        released when the store allows); errors of single attempts never do.
        """
        report = ForwardReport(destination=self.destination)
        if self.settings.suspended or await self.store.is_suspended(self.destination):
            report.suspended = True
            return report
        if self._paused():
            report.paused_until = self._paused_until
            return report

        try:
            await self._drive(report)
        except BaseException:
            await self._release()
            raise
        if self._paused():
            report.paused_until = self._paused_until
        return report

    async def _drive(self, report: ForwardReport) -> None:
        """One pass: ``concurrency`` slot workers send, one writer does all database work.

        A slot worker takes the next claimed row, runs its attempt and takes the next at once,
        so the channel's connections never sit idle between sends. The writer records
        finished attempts and claims rows ahead in one transaction, when enough attempts have
        finished (``WRITE_BATCH``), when the claimed rows run low, or when no attempt is
        running (so a lone complaint is recorded at once). A row that waited for a slot longer
        than half its attempt's share of the lease is given back untried. A failed write ends
        the pass (the caller releases the leases)."""
        concurrency = self.settings.concurrency
        loop = asyncio.get_running_loop()
        ready: deque[tuple[OutboxClaim, float]] = deque()
        stale: list[OutboxClaim] = []
        finished: list[_Outcome] = []
        idle: list[asyncio.Future[None]] = []
        writer_wake = asyncio.Event()
        state = _PassState(budget=self.settings.batch_size)

        def take() -> tuple[OutboxClaim, float] | None:
            while ready and not self._paused():
                claim, claimed_at = ready.popleft()
                if loop.time() - claimed_at > self._attempt_timeout / 2:
                    # Waited so long for a slot (a slow channel) that its attempt could not
                    # finish within the lease: given back untried, not failed.
                    stale.append(claim)
                    continue
                state.busy += 1
                report.claimed += 1
                return claim, claimed_at
            return None

        def write_due() -> bool:
            if stale:
                return True
            low = len(ready) < LOW_WATER * concurrency and state.wanted(ready, concurrency) > 0
            if low and not self._paused():
                return True
            return bool(finished) and (
                len(finished) >= WRITE_BATCH * concurrency or state.busy == 0 or low
            )

        def wake_idle() -> None:
            while idle:
                waiter = idle.pop()
                if not waiter.done():
                    waiter.set_result(None)

        async def work() -> None:
            while not state.over:
                taken = take()
                if taken is None:
                    waiter = loop.create_future()
                    idle.append(waiter)
                    writer_wake.set()
                    await waiter
                    continue
                outcome = await self._attempt(*taken)
                state.busy -= 1
                finished.append(outcome)
                if write_due():
                    writer_wake.set()

        async def write() -> None:
            while True:
                if write_due():
                    wanted = 0 if self._paused() else state.wanted(ready, concurrency)
                    batch, given_back = finished[:], stale[:]
                    finished.clear()
                    stale.clear()
                    claims = await self._settle_and_claim(batch, given_back, wanted, report)
                    claimed_at = loop.time()
                    ready.extend((claim, claimed_at) for claim in claims)
                    state.budget -= len(claims)
                    state.drained = state.drained or len(claims) < wanted
                    wake_idle()
                    continue
                idle_now = state.busy == 0 and not finished and (not ready or self._paused())
                if idle_now and (state.drained or self._paused() or state.budget <= 0):
                    state.over = True
                    wake_idle()
                    return
                writer_wake.clear()
                await writer_wake.wait()

        workers = [asyncio.create_task(work()) for _ in range(concurrency)]
        writer = asyncio.create_task(write())
        try:
            await writer
            await asyncio.gather(*workers)
        finally:
            pending: list[asyncio.Future[Any]] = [*workers, writer]
            for future in pending:
                future.cancel()
            await asyncio.gather(*pending, return_exceptions=True)
        untried = [claim.id for claim, _ in ready] + [claim.id for claim in stale]
        if untried:
            # Claimed but never tried (the destination asked us to wait): due again as they were.
            await self.store.release_claims(untried, owner=self.owner)

    async def _settle_and_claim(
        self,
        finished: list[_Outcome],
        given_back: list[OutboxClaim],
        wanted: int,
        report: ForwardReport,
    ) -> list[OutboxClaim]:
        """Record ``finished`` attempts, give back ``given_back`` rows untried and claim up to
        ``wanted`` rows, in one transaction."""
        delivered = [o for o in finished if isinstance(o.result, _Delivered)]
        failed = [o for o in finished if isinstance(o.result, _Failed)]
        failures: list[tuple[_Outcome, OutboxItem | None]] = []
        async with self.store.transaction() as tx:
            written = await tx.record_successes(
                [
                    Delivered(
                        o.claim.id,
                        external_id=o.result.external_id,
                        tracking_id=o.result.tracking_id,
                        reconciled=o.result.reconciled,
                    )
                    for o in delivered
                    if isinstance(o.result, _Delivered)
                ],
                owner=self.owner,
            )
            for outcome in failed:
                assert isinstance(outcome.result, _Failed)
                failures.append((outcome, await self._write_failure(tx, outcome)))
            await tx.release_claims([claim.id for claim in given_back], owner=self.owner)
            claims = []
            if wanted:
                claims = await tx.claim_due(
                    self.destination,
                    owner=self.owner,
                    lease_seconds=self.settings.lease_seconds,
                    limit=wanted,
                    max_attempts=self.settings.max_attempts,
                )
        # Reported only once committed: a rolled-back write reported nothing.
        for outcome in delivered:
            self._report_delivery(outcome, outcome.claim.id in written, report)
        for outcome, item in failures:
            self._report_failure(outcome, item, report)
        return claims

    async def _release(self) -> None:
        try:
            await asyncio.shield(self.store.release_leases(self.owner))
        except Exception as exc:  # noqa: BLE001 - the pass fails anyway; leases expire by themselves
            log.warning("could not release leases", owner=self.owner, error=repr(exc))

    async def _attempt(self, claim: OutboxClaim, claimed_at: float) -> _Outcome:
        progress = _Attempt()
        try:
            async with asyncio.timeout_at(claimed_at + self._attempt_timeout):
                return _Outcome(claim, await self._deliver(claim, progress))
        except Exception as exc:  # noqa: BLE001 - every failure of an attempt counts (DESIGN.md 6)
            return _Outcome(claim, self._failed(claim, exc, progress))

    def _report_delivery(self, outcome: _Outcome, recorded: bool, report: ForwardReport) -> None:
        result = outcome.result
        assert isinstance(result, _Delivered)
        fields = self._fields(outcome.claim)
        if not recorded:
            report.lost_lease += 1
            log.warning("lease lost before recording delivery", **fields)
            return
        if result.reconciled:
            report.reconciled += 1
        else:
            report.sent += 1
        log.info(
            "complaint forwarded",
            external_id=result.external_id,
            reconciled=result.reconciled,
            **fields,
        )

    async def _deliver(self, claim: OutboxClaim, progress: _Attempt) -> _Delivered:
        complaint = claim.complaint
        if claim.external_id is not None:
            return _Delivered(claim.external_id, claim.tracking_id, reconciled=True)
        category_id = self.category_ids.get(complaint.category.value)
        if category_id is None:
            raise ConfigError(
                f"no channel category for complaint category {complaint.category.value!r}; "
                f"set lapor.category_ids.{complaint.category.value} in the config, then "
                f"`oss-bridge complaints requeue {complaint.id}`"
            )
        if claim.item.outcome_unknown:
            found = await self.lapor.find_by_external_reference(complaint.receipt_number)
            if found is not None:
                return _Delivered(found.complaint_id, found.tracking_id, reconciled=True)
        progress.sending = True
        created = await self.lapor.create_complaint(
            complaint, category_id=category_id, idempotency_key=claim.item.idempotency_key
        )
        return _Delivered(created.complaint_id, created.tracking_id, reconciled=False)

    def _failed(self, claim: OutboxClaim, error: Exception, progress: _Attempt) -> _Failed:
        """What a failed attempt means for its row; a 429 or refused credentials also pause
        the destination for the wait."""
        retry_after = error.retry_after if isinstance(error, RateLimited) else None
        delay = next_attempt_delay(
            claim.item.attempts + 1,
            initial=self.settings.backoff_initial,
            cap=max(self.settings.backoff_max, self.settings.backoff_initial),
            retry_after=retry_after,
            retry_after_cap=self.settings.retry_after_cap,
            rand=self._rand,
        )
        retry_at = self._clock() + timedelta(seconds=delay)
        if isinstance(error, RateLimited | AuthenticationFailed):
            self._pause_until(retry_at)
        return _Failed(
            error=error,
            retry_at=retry_at,
            delay=delay,
            outcome_unknown=progress.sending and _may_have_landed(error),
            give_up=isinstance(error, RequestRejected | ConfigError),
        )

    async def _write_failure(self, tx: Transaction, outcome: _Outcome) -> OutboxItem | None:
        failed = outcome.result
        assert isinstance(failed, _Failed)
        return await tx.record_failure(
            outcome.claim.id,
            owner=self.owner,
            error=describe(failed.error),
            retry_at=failed.retry_at,
            outcome_unknown=failed.outcome_unknown,
            max_attempts=self.settings.max_attempts,
            give_up=failed.give_up,
        )

    def _report_failure(
        self, outcome: _Outcome, item: OutboxItem | None, report: ForwardReport
    ) -> None:
        failed = outcome.result
        assert isinstance(failed, _Failed)
        error = describe(failed.error)
        report.errors[type(failed.error).__name__] += 1
        fields = self._fields(outcome.claim)
        if item is None:
            report.lost_lease += 1
            log.warning("lease lost before recording failure", error=error, **fields)
        elif item.state == "dead":
            report.dead += 1
            log.error(
                "complaint delivery is dead; requeue or acknowledge it",
                attempts=item.attempts,
                error=error,
                **fields,
            )
        else:
            report.retrying += 1
            log.warning(
                "complaint delivery failed; will retry",
                attempts=item.attempts,
                retry_in=round(failed.delay, 3),
                error=error,
                **fields,
            )

    def _fields(self, claim: OutboxClaim) -> dict[str, Any]:
        return {
            "complaint_id": claim.complaint.id,
            "receipt_number": claim.complaint.receipt_number,
            "destination": self.destination,
        }

    # --- pausing and waking ----------------------------------------------------------------

    def _pause_until(self, until: datetime) -> None:
        if self._paused_until is None or until > self._paused_until:
            self._paused_until = until
            log.warning("destination paused", destination=self.destination, until=until.isoformat())

    def _paused(self) -> bool:
        return self._paused_until is not None and self._clock() < self._paused_until

    def wake(self) -> None:
        """Start the next pass now instead of at the end of the interval (a new complaint)."""
        self._wake.set()

    async def run_forever(self, stop: asyncio.Event) -> None:
        """Run passes until ``stop`` is set: at once after ``wake()``, when a retry falls due,
        after a full batch, or every ``interval_seconds``. A failed pass is logged and the
        loop goes on after the interval; leases still held are released at the end."""

        async def one_pass() -> float:
            return await self._next_wait(await self.run_once())

        try:
            await run_passes(
                stop,
                one_pass,
                failed_wait=self.settings.interval_seconds,
                failure="forwarding pass failed",
                log=log,
                sleep=self._sleep,
                wake=self._wake,
                describe=describe,
            )
        finally:
            await self._release()

    async def _next_wait(self, report: ForwardReport) -> float:
        if report.suspended:
            return self.settings.interval_seconds
        now = self._clock()
        if self._paused() and self._paused_until is not None:
            return (self._paused_until - now).total_seconds()
        if report.claimed >= self.settings.batch_size:
            return 0.0
        due = (await self.store.outbox_counts(self.destination)).next_attempt_at
        if due is None:
            return self.settings.interval_seconds
        return min(self.settings.interval_seconds, max(0.0, (due - now).total_seconds()))


KNOWN_DESTINATIONS: tuple[str, ...] = (DEFAULT_DESTINATION,)


class DeliveryDesk:
    """What an operator does to deliveries: requeue or acknowledge dead letters, suspend and
    resume a destination. Every action is audited under ``actor``."""

    def __init__(self, store: Store, *, destination: str = DEFAULT_DESTINATION) -> None:
        self.store = store
        self.destination = check_destination(destination)

    async def requeue(self, complaint_id: int, *, actor: str) -> OutboxItem:
        """Send a dead (or acknowledged) complaint again from attempt one."""
        item = await self.store.requeue(complaint_id, actor=actor, destination=self.destination)
        log.info("delivery requeued", complaint_id=complaint_id, actor=actor)
        return item

    async def requeue_all_dead(self, *, actor: str) -> list[OutboxItem]:
        items = await self.store.requeue_all_dead(actor=actor, destination=self.destination)
        log.info("dead deliveries requeued", count=len(items), actor=actor)
        return items

    async def acknowledge(self, complaint_id: int, *, actor: str) -> OutboxItem:
        """Take a dead complaint off the dead letters without sending it."""
        item = await self.store.acknowledge(complaint_id, actor=actor, destination=self.destination)
        log.info("dead delivery acknowledged", complaint_id=complaint_id, actor=actor)
        return item

    async def set_suspended(self, suspended: bool, *, actor: str) -> None:
        """Stop (or restart) sending to the destination; its queue is kept either way."""
        await self.store.set_suspended(self.destination, suspended, actor=actor)
        log.info(
            "destination suspended" if suspended else "destination resumed",
            destination=self.destination,
            actor=actor,
        )

    async def dead_letters(self) -> int:
        return (await self.store.outbox_counts(self.destination)).dead


def check_destination(name: str) -> str:
    """``name`` if it is a destination the bridge delivers to; ``InputError`` otherwise."""
    if name not in KNOWN_DESTINATIONS:
        raise InputError(
            f"{name!r} is not a destination; use one of: {', '.join(KNOWN_DESTINATIONS)}"
        )
    return name


def describe(error: BaseException) -> str:
    """The reason stored for a failed attempt: the error's class and message."""
    if isinstance(error, TimeoutError) and not str(error):
        return "TimeoutError: the attempt took longer than its share of the lease"
    text = str(error)
    return f"{type(error).__name__}: {text}" if text else type(error).__name__


def _may_have_landed(error: Exception) -> bool:
    """Whether a create that failed this way may still have created the complaint.

    Only answers that prove the channel did nothing say no: it refused us (401, 429, other
    4xx), or the request never left. A 5xx may come from a gateway after the channel committed.
    """
    if isinstance(error, OutcomeUnknown):
        return True
    if isinstance(error, RateLimited | AuthenticationFailed | RequestRejected | TransportError):
        return False
    return not isinstance(error, ConfigError)


__all__ = [
    "ATTEMPT_SHARE_OF_LEASE",
    "KNOWN_DESTINATIONS",
    "ComplaintForwarder",
    "DeliveryDesk",
    "ForwardReport",
    "check_destination",
    "describe",
    "forwarding_client_settings",
    "worker_id",
]
