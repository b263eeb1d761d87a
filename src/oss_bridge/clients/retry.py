"""The retry policy of the national-system clients, declared as data.

One frozen ``RetryPolicy`` per client decides, for every failed attempt of one logical call:

- whether to try again: exactly when the error's class says it is ``retryable`` (see the tree in
  ``oss_bridge.errors``). The seam has already turned what happened into the right class: a
  connection refused before the request left is a ``TransportError``, a create whose answer never
  came is an ``OutcomeUnknown`` (never resent blindly), a read whose answer never came is a
  ``TransportError`` (repeating a read is harmless);
- how long to wait: a ``RateLimited`` error's ``Retry-After`` hint, capped at ``retry_after_cap``,
  when the hint is sane; otherwise capped exponential backoff with full jitter
  (``random() * min(backoff_max, backoff_initial * 2 ** (attempt - 1))``);
- when to stop: after ``max_attempts`` attempts, or when the next wait would end after
  ``total_deadline`` seconds from the start of the call. The last error is then raised as it is.
  (The transport core also shortens each attempt's timeouts to what is left of the deadline.)

Every decision is logged with the system, endpoint, attempt number, decision and wait. Waits,
clocks and the jitter source are injected (``RetryRuntime``), so tests never sleep.
"""

from __future__ import annotations

import asyncio
import math
import re
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from random import random as _uniform
from typing import Any, Literal

import structlog
from tenacity import AsyncRetrying, RetryCallState

from oss_bridge.config import HttpSettings
from oss_bridge.errors import ExternalSystemError, RateLimited, System

log = structlog.get_logger("oss_bridge.clients")

WaitBasis = Literal["retry_after", "backoff"]
_SECONDS = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+|inf(inity)?|nan)$", re.IGNORECASE)


def parse_retry_after(value: str | None, *, now: datetime) -> float | None:
    """Seconds to wait according to a ``Retry-After`` header, or None when it gives no usable hint.

    Accepts delta-seconds (``"120"``, also ``"1.5"``) and an HTTP date, read against ``now`` (the
    answer's own ``Date`` header where there is one, so clock skew between us and the server does
    not matter). Negative, infinite or not-a-number values and dates in the past give None: they
    say nothing a client can act on. Large values are returned as they are; capping them is the
    policy's business.
    """
    if value is None:
        return None
    text = value.strip()
    if _SECONDS.match(text):
        seconds = float(text)
    else:
        try:
            when = parsedate_to_datetime(text)
        except (TypeError, ValueError, IndexError, OverflowError):
            return None
        if when.tzinfo is None:
            # RFC 9110 dates are always GMT; a date without a zone is read as such.
            when = when.replace(tzinfo=UTC)
        seconds = (when - now).total_seconds()
    if not math.isfinite(seconds) or seconds < 0:
        return None
    return seconds


@dataclass(frozen=True)
class Wait:
    """How long the policy waits before the next attempt, and why."""

    seconds: float
    basis: WaitBasis


@dataclass(frozen=True)
class RetryPolicy:
    """When and how long one client retries a call. Build it with ``from_settings``."""

    max_attempts: int = 5
    total_deadline: float = 300.0
    backoff_initial: float = 0.5
    backoff_max: float = 60.0
    retry_after_cap: float = 120.0
    # A Retry-After further away than this is not advice but a broken server or clock: back off.
    retry_after_horizon: float = 86_400.0

    def __post_init__(self) -> None:
        if self.max_attempts < 1:
            raise ValueError(f"max_attempts must be at least 1, not {self.max_attempts!r}")
        for name in (
            "total_deadline",
            "backoff_initial",
            "backoff_max",
            "retry_after_cap",
            "retry_after_horizon",
        ):
            value = getattr(self, name)
            if not (math.isfinite(value) and value > 0):
                raise ValueError(f"{name} must be a positive number of seconds, not {value!r}")

    @classmethod
    def from_settings(cls, settings: HttpSettings) -> RetryPolicy:
        return cls(
            max_attempts=settings.max_attempts,
            total_deadline=settings.total_deadline,
            backoff_initial=settings.backoff_initial,
            backoff_max=settings.backoff_max,
            retry_after_cap=settings.retry_after_cap,
        )

    def should_retry(self, error: BaseException) -> bool:
        """True when another attempt may succeed and cannot do harm: the class decides."""
        return isinstance(error, ExternalSystemError) and error.retryable

    def backoff(self, attempt: int, draw: float) -> float:
        """Full-jitter backoff after failed attempt number ``attempt`` (1-based); ``draw`` in [0, 1)."""
        ceiling = min(self.backoff_max, self.backoff_initial * 2.0 ** (attempt - 1))
        return draw * ceiling

    def retry_after_wait(self, hint: float | None) -> float | None:
        """The wait a server's hint asks for, capped; None when the hint is missing or absurd."""
        if hint is None or not math.isfinite(hint) or hint < 0 or hint > self.retry_after_horizon:
            return None
        return min(hint, self.retry_after_cap)

    def wait(self, error: BaseException, attempt: int, draw: float) -> Wait:
        """The wait before the attempt after failed attempt number ``attempt``."""
        if isinstance(error, RateLimited):
            honoured = self.retry_after_wait(error.retry_after)
            if honoured is not None:
                return Wait(honoured, "retry_after")
        return Wait(self.backoff(attempt, draw), "backoff")

    def retrying(
        self,
        *,
        system: System,
        endpoint: str,
        runtime: RetryRuntime,
        started: float | None = None,
    ) -> AsyncRetrying:
        """A tenacity controller for one logical call; build a new one for every call.

        ``started`` is the call's start on ``runtime.clock`` (now when None), from which
        ``total_deadline`` counts.
        """
        return _Controller(
            self, system=system, endpoint=endpoint, runtime=runtime, started=started
        ).build()


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class RetryRuntime:
    """The outside world as the retry loop sees it; tests replace every part."""

    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep
    clock: Callable[[], float] = time.monotonic
    random: Callable[[], float] = _uniform
    now: Callable[[], datetime] = utc_now


class _Controller:
    """Tenacity's retry/wait/stop/before_sleep hooks for one call, over one ``RetryPolicy``."""

    def __init__(
        self,
        policy: RetryPolicy,
        *,
        system: System,
        endpoint: str,
        runtime: RetryRuntime,
        started: float | None,
    ) -> None:
        self.policy = policy
        self.system = system
        self.endpoint = endpoint
        self.runtime = runtime
        self.started = runtime.clock() if started is None else started
        self.basis: WaitBasis = "backoff"

    def build(self) -> AsyncRetrying:
        return AsyncRetrying(
            sleep=self.runtime.sleep,
            retry=self._retry,
            wait=self._wait,
            stop=self._stop,
            before_sleep=self._before_sleep,
            retry_error_callback=self._give_up,
            reraise=True,
        )

    def _retry(self, state: RetryCallState) -> bool:
        outcome = state.outcome
        if outcome is None or not outcome.failed:
            return False
        error = outcome.exception()
        if error is None:
            return False
        if self.policy.should_retry(error):
            return True
        if isinstance(error, ExternalSystemError):
            self._log(state, "raise", reason="not retryable", error=error)
        return False

    def _wait(self, state: RetryCallState) -> float:
        wait = self.policy.wait(_error_of(state), state.attempt_number, self.runtime.random())
        self.basis = wait.basis
        return wait.seconds

    def _stop(self, state: RetryCallState) -> bool:
        if state.attempt_number >= self.policy.max_attempts:
            return True
        ends_at = self.runtime.clock() - self.started + state.upcoming_sleep
        return ends_at > self.policy.total_deadline

    def _before_sleep(self, state: RetryCallState) -> None:
        self._log(state, "retry", error=_error_of(state), wait=state.upcoming_sleep)

    def _give_up(self, state: RetryCallState) -> Any:
        error = _error_of(state)
        if state.attempt_number >= self.policy.max_attempts:
            reason = f"{state.attempt_number} attempts made"
        else:
            reason = f"waiting {state.upcoming_sleep:.1f}s would pass the call's deadline"
        self._log(state, "give_up", reason=reason, error=error, detail=str(error))
        return state.outcome.result() if state.outcome is not None else None

    def _log(
        self,
        state: RetryCallState,
        decision: str,
        *,
        error: BaseException,
        wait: float | None = None,
        reason: str | None = None,
        detail: str | None = None,
    ) -> None:
        fields: dict[str, Any] = {
            "system": self.system,
            "endpoint": self.endpoint,
            "attempt": state.attempt_number,
            "decision": decision,
            "error": type(error).__name__,
        }
        if isinstance(error, ExternalSystemError):
            fields["status"] = error.status
            fields["request_id"] = error.request_id
        if wait is not None:
            fields["wait"] = round(wait, 3)
            fields["wait_basis"] = self.basis
        if reason is not None:
            fields["reason"] = reason
        if detail is not None:
            fields["detail"] = detail
        if decision == "raise":
            log.info("retry decision", **fields)
        else:
            log.warning("retry decision", **fields)


def _error_of(state: RetryCallState) -> BaseException:
    outcome = state.outcome
    # Tenacity asks for waits, stops and sleeps only after an attempt failed.
    assert outcome is not None
    error = outcome.exception()
    assert error is not None
    return error
