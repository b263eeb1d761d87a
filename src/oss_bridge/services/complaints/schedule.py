"""When to pull a complaint's national status next.

The channel has no change feed, so each complaint is pulled on its own adaptive schedule:
often while it is young or just changed, less often the longer it stays quiet, never once its
status is final. ``StatusPullSettings.tiers`` sets the steps; between two steps each pull that
finds nothing new stretches the interval a little (``unchanged_growth``), never beyond the next
step's interval. A per-complaint ``spread`` in [0, 1) pulls each complaint a little early (up to
``jitter`` of its interval), so thousands received together do not pull in the same second.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Sequence
from datetime import datetime, timedelta

from oss_bridge.config import PullTier
from oss_bridge.services.complaints._time import require_aware

# A larger share could bring a pull so far forward that complaints are pulled back to back.
MAX_JITTER = 0.5
# exp() of more than this overflows a float; such a stretch is past every cap anyway.
_MAX_LOG_FACTOR = 700.0


def spread_for(key: str | int) -> float:
    """A stable number in [0, 1) derived from a complaint's id, for ``next_pull_at(spread=...)``."""
    digest = hashlib.sha256(str(key).encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


def pull_interval(
    *,
    quiet_for: timedelta,
    consecutive_unchanged: int,
    tiers: Sequence[PullTier],
    growth: float,
) -> timedelta:
    """The interval, before jitter, for a complaint that has been quiet for ``quiet_for``.

    The first tier whose ``quiet_below_hours`` exceeds ``quiet_for`` applies (the last tier
    otherwise). Its interval is multiplied by ``growth`` for each consecutive unchanged pull,
    up to the next tier's interval (the last tier's own interval for the last tier).
    """
    if not tiers:
        raise ValueError("tiers is empty; give at least one tier (the last one covers all ages)")
    if consecutive_unchanged < 0:
        raise ValueError(f"consecutive_unchanged = {consecutive_unchanged!r} must be 0 or more")
    if growth < 1.0:
        raise ValueError(f"growth = {growth!r} must be at least 1.0 (1.0 turns stretching off)")
    quiet_hours = max(quiet_for, timedelta(0)) / timedelta(hours=1)
    index = next(
        (
            i
            for i, tier in enumerate(tiers)
            if tier.quiet_below_hours is not None and quiet_hours < tier.quiet_below_hours
        ),
        len(tiers) - 1,
    )
    base = tiers[index].every_minutes
    ceiling = max(base, tiers[index + 1].every_minutes) if index + 1 < len(tiers) else base
    stretch = math.exp(min(consecutive_unchanged * math.log(growth), _MAX_LOG_FACTOR))
    return timedelta(minutes=min(base * stretch, ceiling))


def next_pull_at(
    *,
    now: datetime,
    received_at: datetime,
    last_change_at: datetime | None,
    final: bool,
    consecutive_unchanged: int,
    tiers: Sequence[PullTier],
    growth: float,
    jitter: float,
    spread: float,
) -> datetime | None:
    """When to pull next, or ``None`` for a complaint with a final status (never again).

    A complaint is quiet since its last national change, or since receipt if none was seen.
    ``spread`` (e.g. ``spread_for(complaint_id)`` or a random draw) in [0, 1) brings the pull
    forward by ``jitter * spread`` of the interval, so a complaint is never pulled later than
    its tier promises. The result is in ``now``'s time zone.
    """
    if not 0.0 <= jitter <= MAX_JITTER:
        raise ValueError(f"jitter = {jitter!r} must be from 0 to {MAX_JITTER}")
    if not 0.0 <= spread < 1.0:
        raise ValueError(f"spread = {spread!r} must be in [0, 1)")
    require_aware(now, "now")
    if final:
        return None
    quiet_since = require_aware(received_at, "received_at")
    if last_change_at is not None:
        quiet_since = max(quiet_since, require_aware(last_change_at, "last_change_at"))
    interval = pull_interval(
        quiet_for=now - quiet_since,
        consecutive_unchanged=consecutive_unchanged,
        tiers=tiers,
        growth=growth,
    )
    return now + interval * (1.0 - jitter * spread)
