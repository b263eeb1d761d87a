"""How long the forwarder waits before the next attempt at a complaint, and when it gives up.

Full-jitter capped exponential backoff: before attempt ``k + 1`` wait a uniform draw from
``[0, min(cap, initial * 2 ** (k - 1)))``, so rows that failed together spread out. A
``Retry-After`` from the channel is a floor: the wait is at least what the channel asked for,
up to ``retry_after_cap`` (a longer request waits the cap). Values that cannot be a sane wait
(negative, not a number, infinite) are ignored and plain backoff applies.
"""

from __future__ import annotations

import math
from collections.abc import Callable

# 2 ** 1023 is the largest power of two a float holds; far beyond any cap.
_MAX_DOUBLINGS = 1000


def next_attempt_delay(
    attempt: int,
    *,
    initial: float,
    cap: float,
    retry_after: float | None,
    retry_after_cap: float,
    rand: Callable[[], float],
) -> float:
    """Seconds to wait after failed attempt number ``attempt`` (1 for the first).

    ``rand`` returns a number in [0, 1) (``random.random`` in production, fixed in tests).
    """
    if attempt < 1:
        raise ValueError(f"attempt = {attempt!r} must be 1 or more (the attempt that just failed)")
    if not (initial > 0 and math.isfinite(initial)):
        raise ValueError(f"initial = {initial!r} must be a positive number of seconds")
    if not (cap >= initial and math.isfinite(cap)):
        raise ValueError(f"cap = {cap!r} must be a number of seconds of at least initial")
    if not (retry_after_cap > 0 and math.isfinite(retry_after_cap)):
        raise ValueError(f"retry_after_cap = {retry_after_cap!r} must be a positive number")
    draw = rand()
    if not 0.0 <= draw < 1.0:
        raise ValueError(f"rand() returned {draw!r}; it must return a number in [0, 1)")
    ceiling = min(cap, initial * 2.0 ** min(attempt - 1, _MAX_DOUBLINGS))
    backoff = draw * ceiling
    if retry_after is None or not math.isfinite(retry_after) or retry_after < 0:
        return backoff
    return max(min(retry_after, retry_after_cap), backoff)


def should_die(attempts: int, max_attempts: int) -> bool:
    """Whether a row that has failed ``attempts`` times goes to ``dead`` instead of waiting."""
    if max_attempts < 1:
        raise ValueError(f"max_attempts = {max_attempts!r} must be 1 or more")
    return attempts >= max_attempts
