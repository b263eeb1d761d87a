"""Time as the national systems show it, and the mock's movable clock.

Both systems live in Asia/Jakarta (WIB, UTC+7, no daylight saving since 1964), so a fixed offset
is exact and needs no time-zone database.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta, timezone

WIB = timezone(timedelta(hours=7), "WIB")

Clock = Callable[[], datetime]


def system_clock() -> datetime:
    return datetime.now(UTC)


class MockClock:
    """The mock's now: the injected clock plus an offset that ``/_mock/clock`` moves forward.

    A naive time from the injected clock is read as UTC; every time leaving ``now`` is aware UTC.
    """

    def __init__(self, base: Clock) -> None:
        self._base = base
        self.offset = timedelta(0)

    def now(self) -> datetime:
        current = self._base()
        if current.tzinfo is None:
            current = current.replace(tzinfo=UTC)
        return current.astimezone(UTC) + self.offset

    def advance(self, seconds: float) -> None:
        if seconds < 0:
            raise ValueError(f"the clock only moves forward; got {seconds!r} seconds")
        self.offset += timedelta(seconds=seconds)

    def reset(self) -> None:
        self.offset = timedelta(0)


def iso_wib(moment: datetime) -> str:
    """ISO-8601 in WIB, as OSS writes ``diperbarui``."""
    return moment.astimezone(WIB).isoformat()


def laravel_wib(moment: datetime) -> str:
    """``Y-m-d H:i:s`` in WIB, as the complaint channel writes ``created_at``/``updated_at``."""
    return moment.astimezone(WIB).strftime("%Y-%m-%d %H:%M:%S")


def dmy_wib(moment: datetime) -> str:
    """``d-m-Y H:i:s`` in WIB, as the complaint channel writes a follow-up's ``created_at``."""
    return moment.astimezone(WIB).strftime("%d-%m-%Y %H:%M:%S")


def parse_aware(text: str) -> datetime:
    """An ISO-8601 instant that names its offset; raises ValueError otherwise."""
    moment = datetime.fromisoformat(text)
    if moment.tzinfo is None:
        raise ValueError(
            f"{text!r} has no UTC offset; write it like 2024-05-01T10:00:00+07:00 or ...Z"
        )
    return moment.astimezone(UTC)
