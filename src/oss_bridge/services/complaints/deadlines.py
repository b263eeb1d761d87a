"""Statutory deadlines of a complaint, counted in the office's working days.

Working days are Monday to Friday, less Indonesian public holidays (the ``holidays`` package,
optionally with the civil servants' joint leave days) and any extra days off from config. Day
boundaries are those of Western Indonesia Time; instants are taken and returned in UTC.

Counting rule: the day a complaint arrives never counts, whatever the hour, so a complaint given
3 working days on a Friday evening or on a Saturday is due at the end of the following
Wednesday. A deadline falls due at the last instant of its day (23:59:59.999999 WIB).
"""

from __future__ import annotations

import functools
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Literal

import holidays

from oss_bridge.config import DeadlineSettings, HolidayCategory
from oss_bridge.services.complaints._time import WIB, office_date, require_aware

DeadlineName = Literal["verification", "first_response", "closure", "resolution"]
DeadlineState = Literal["running", "met", "met_late", "overdue"]

# Beyond this many calendar days without a working day the calendar itself must be wrong.
_MAX_GAP_DAYS = 60


class WorkingCalendar:
    """Which days the office works: weekdays that are not holidays.

    ``years`` are loaded up front; other years load on first use, so any date works.
    """

    def __init__(
        self,
        *,
        years: Iterable[int] = (),
        categories: Iterable[HolidayCategory] = ("public",),
        extra_holidays: Iterable[date] = (),
    ) -> None:
        self._holidays = holidays.country_holidays(
            "ID", years=sorted(set(years)), categories=tuple(categories)
        )
        self._extra = frozenset(extra_holidays)

    @classmethod
    def from_settings(cls, settings: DeadlineSettings) -> WorkingCalendar:
        """The calendar the settings describe, shared by all callers with equal settings."""
        return _calendar(tuple(settings.holiday_categories), tuple(sorted(settings.extra_holidays)))

    def holiday_name(self, day: date) -> str | None:
        """The name of the holiday on ``day``, if it is one (weekends are not holidays)."""
        if day in self._extra:
            return "extra holiday from config"
        name: str | None = self._holidays.get(day)
        return name

    def is_working_day(self, day: date) -> bool:
        return day.weekday() < 5 and self.holiday_name(day) is None

    def add_working_days(self, start: date | datetime, n: int) -> date:
        """The ``n``-th working day after ``start``'s day (``start`` itself for ``n`` = 0).

        An aware datetime stands for its day in Western Indonesia Time.
        """
        if n < 0:
            raise ValueError(f"n = {n!r} must not be negative; working days only count forward")
        day = _as_day(start)
        remaining = n
        gap = 0
        while remaining:
            day += timedelta(days=1)
            if self.is_working_day(day):
                remaining -= 1
                gap = 0
            else:
                gap += 1
                if gap > _MAX_GAP_DAYS:
                    raise ValueError(f"no working day for {gap} days after {day!r}; check holidays")
        return day

    def working_days_between(self, a: date | datetime, b: date | datetime) -> int:
        """Working days in (a, b]: after ``a``'s day up to and including ``b``'s day.

        Negative when ``b`` is before ``a``; so ``working_days_between(a, add_working_days(a, n))``
        is ``n``.
        """
        first, last = _as_day(a), _as_day(b)
        if last < first:
            return -self.working_days_between(last, first)
        return sum(
            self.is_working_day(first + timedelta(days=offset))
            for offset in range(1, (last - first).days + 1)
        )


@functools.lru_cache(maxsize=8)
def _calendar(
    categories: tuple[HolidayCategory, ...], extra_holidays: tuple[date, ...]
) -> WorkingCalendar:
    return WorkingCalendar(categories=categories, extra_holidays=extra_holidays)


def _as_day(value: date | datetime) -> date:
    if isinstance(value, datetime):
        return office_date(value, "start")
    return value


def end_of_office_day(day: date) -> datetime:
    """The last instant of ``day`` in Western Indonesia Time, in UTC."""
    return datetime.combine(day, time.max, WIB).astimezone(UTC)


@dataclass(frozen=True, slots=True)
class Deadline:
    """One clock of a complaint.

    ``due_at`` is the last instant allowed (UTC); ``met_at`` when the step happened, if it did;
    ``overdue`` is true while the step is still outstanding after ``due_at``.
    """

    name: DeadlineName
    due_at: datetime
    met_at: datetime | None
    overdue: bool

    @property
    def state(self) -> DeadlineState:
        if self.met_at is not None:
            return "met" if self.met_at <= self.due_at else "met_late"
        return "overdue" if self.overdue else "running"


def deadlines_for(
    received_at: datetime,
    *,
    settings: DeadlineSettings,
    now: datetime,
    verified_at: datetime | None = None,
    first_response_at: datetime | None = None,
    closed_at: datetime | None = None,
    calendar: WorkingCalendar | None = None,
) -> list[Deadline]:
    """The deadlines of a complaint received at ``received_at``, judged at ``now``.

    - verification: ``verification_working_days`` after receipt, met by ``verified_at``;
    - first_response: ``first_response_working_days`` after receipt, met by
      ``first_response_at``;
    - closure: ``closure_working_days`` after the first response (a case left without reply
      by then is to be closed), met by ``closed_at``; listed only once a first response exists;
    - resolution: ``resolution_days`` calendar days after receipt, met by ``closed_at``.

    Closing a complaint stops every clock: a step never taken (e.g. a complaint rejected
    before verification) counts as met when the complaint closed. ``calendar`` defaults to the
    one the settings describe. Every datetime must be aware.
    """
    received = require_aware(received_at, "received_at")
    now = require_aware(now, "now")
    verified = _aware_or_none(verified_at, "verified_at")
    responded = _aware_or_none(first_response_at, "first_response_at")
    closed = _aware_or_none(closed_at, "closed_at")
    if calendar is None:
        calendar = WorkingCalendar.from_settings(settings)

    def deadline(name: DeadlineName, due_day: date, met: datetime | None) -> Deadline:
        due_at = end_of_office_day(due_day)
        met = met or closed
        return Deadline(name=name, due_at=due_at, met_at=met, overdue=met is None and now > due_at)

    found = [
        deadline(
            "verification",
            calendar.add_working_days(received, settings.verification_working_days),
            verified,
        ),
        deadline(
            "first_response",
            calendar.add_working_days(received, settings.first_response_working_days),
            responded,
        ),
    ]
    if responded is not None:
        found.append(
            deadline(
                "closure",
                calendar.add_working_days(responded, settings.closure_working_days),
                closed,
            )
        )
    found.append(
        deadline(
            "resolution",
            office_date(received) + timedelta(days=settings.resolution_days),
            closed,
        )
    )
    return found


def is_overdue(deadlines: Iterable[Deadline]) -> bool:
    """Whether any step of the complaint is outstanding past its deadline."""
    return any(deadline.overdue for deadline in deadlines)


def _aware_or_none(value: datetime | None, name: str) -> datetime | None:
    return None if value is None else require_aware(value, name)
