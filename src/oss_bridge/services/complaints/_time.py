"""Time helpers shared by the complaint rules: the office's day boundaries and aware instants."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone

# Western Indonesia Time, the zone of Kabupaten Pelalawan and of the national channel's clocks.
# A fixed offset rather than ZoneInfo("Asia/Jakarta"): Indonesia has kept UTC+7 without daylight
# saving since 1964, and a fixed offset needs no tz database on the machine.
WIB = timezone(timedelta(hours=7), "WIB")


def require_aware(value: datetime, name: str) -> datetime:
    """Return ``value`` in UTC; raise ``ValueError`` if it carries no time zone."""
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{name} {value!r} has no time zone; pass an aware datetime, e.g. in UTC")
    return value.astimezone(UTC)


def office_date(instant: datetime, name: str = "instant") -> date:
    """The calendar day in Western Indonesia Time on which ``instant`` falls."""
    return require_aware(instant, name).astimezone(WIB).date()
