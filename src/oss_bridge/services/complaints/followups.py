"""Follow-ups and status history from the national channel: parse its times, drop repeats.

The channel has no change feed and re-sends its whole history on every pull, and back ends are
known to re-send identical updates. These functions decide what is new, so the status puller
stores each follow-up once and applies status changes in order.
"""

from __future__ import annotations

import hashlib
from collections.abc import Collection, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Protocol, TypeVar

from oss_bridge.services.complaints._time import WIB, require_aware
from oss_bridge.services.complaints.status_mapping import fold_status

LAPOR_DATETIME_FORMAT = "%d-%m-%Y %H:%M:%S"


def parse_lapor_datetime(value: str) -> datetime:
    """Parse the channel's ``d-m-Y H:i:s`` Western Indonesia Time into an aware UTC datetime.

    ``"29-11-2026 14:05:00"`` is 07:05 UTC that day. Raises ``ValueError`` (which pydantic
    validators and the client seam turn into their own errors) showing the bad value.
    """
    if not isinstance(value, str):
        raise ValueError(
            f"{value!r} is not a channel date-time; expected text like '29-11-2026 14:05:00'"
        )
    try:
        local = datetime.strptime(value.strip(), LAPOR_DATETIME_FORMAT)
    except ValueError:
        raise ValueError(
            f"{value!r} is not a channel date-time; expected day-month-year "
            "hour:minute:second like '29-11-2026 14:05:00' (Western Indonesia Time)"
        ) from None
    return local.replace(tzinfo=WIB).astimezone(UTC)


class FollowUpLike(Protocol):
    """What de-duplication needs of a follow-up, however the client models it."""

    @property
    def id(self) -> str | int | None: ...

    @property
    def content(self) -> str: ...

    @property
    def created_at(self) -> datetime: ...


@dataclass(frozen=True, slots=True)
class FollowUp:
    """One follow-up (tindak lanjut) on a complaint, as the channel reports it."""

    id: str | None
    content: str
    created_at: datetime


F = TypeVar("F", bound=FollowUpLike)


def followup_key(followup: FollowUpLike) -> str:
    """The de-duplication key of a follow-up: the channel's id, else a hash of what it says.

    Without an id, the key hashes the content (white space folded) and the instant it was
    written, so the same text re-sent with other spacing is still recognised.
    """
    if followup.id is not None and str(followup.id).strip():
        return f"id:{str(followup.id).strip()}"
    created = require_aware(followup.created_at, "followup.created_at").isoformat()
    content = " ".join(followup.content.split())
    digest = hashlib.sha256(f"{created}\n{content}".encode()).hexdigest()
    return f"sha256:{digest}"


def new_followups(seen_keys: Collection[str], followups: Iterable[F]) -> list[F]:
    """The follow-ups not yet seen, each once, oldest first (ties keep the channel's order).

    ``seen_keys`` holds the ``followup_key`` of every follow-up already stored.
    """
    fresh: list[F] = []
    taken = set(seen_keys)
    for followup in followups:
        key = followup_key(followup)
        if key not in taken:
            taken.add(key)
            fresh.append(followup)
    fresh.sort(key=lambda f: require_aware(f.created_at, "followup.created_at"))
    return fresh


class StatusLogLike(Protocol):
    """What ordering the status history needs of one entry."""

    @property
    def status(self) -> str: ...

    @property
    def at(self) -> datetime: ...


@dataclass(frozen=True, slots=True)
class StatusLogEntry:
    """One past transition from the channel's ``data_logs``."""

    status: str
    at: datetime


S = TypeVar("S", bound=StatusLogLike)


def dedupe_status_logs(
    entries: Iterable[S], *, last_status: str | None = None, after: datetime | None = None
) -> list[S]:
    """The transitions to apply, oldest first, without the ones that change nothing.

    Entries at or before ``after`` (the instant of the last transition already applied) are
    dropped, as is each entry whose status equals the one before it (``last_status`` is the
    status the complaint already has; without it, the last entry dropped by ``after`` stands in
    for it). Statuses compare with white space folded and case
    ignored. Ties in time keep the channel's order.
    """
    cutoff = require_aware(after, "after") if after is not None else None
    ordered = sorted(entries, key=lambda e: require_aware(e.at, "status log time"))
    previous = fold_status(last_status) if last_status is not None else None
    kept: list[S] = []
    for entry in ordered:
        if cutoff is not None and require_aware(entry.at, "status log time") <= cutoff:
            if last_status is None:
                previous = fold_status(entry.status)
            continue
        status = fold_status(entry.status)
        if status == previous:
            continue
        kept.append(entry)
        previous = status
    return kept
