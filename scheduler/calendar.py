"""Working days in Viet Nam: weekends, public holidays (Lunar New Year included), swapped
working days, and the loaded calendar documents, which win (PRODUCT §7).

Pure: the overrides are handed in by `set_overrides` (scheduler.calendar_sync reads them from
the database); nothing here does I/O.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from functools import cache

import holidays
from holidays.version import __version__ as holidays_version


@dataclass(frozen=True, slots=True)
class CalendarOverride:
    """A day a loaded calendar document sets: off (working=False) or worked."""

    day: date
    working: bool
    name: str
    source: str


@dataclass(frozen=True, slots=True)
class CalendarEntry:
    """A day that differs from the plain Monday-to-Friday week, and where that comes from."""

    day: date
    working: bool
    name: str  # "" when the package names no reason (its worked Saturdays)
    source: str  # "holidays <version>" or the calendar document's source


# Replaced whole (never mutated) so that a reader sees either the old set or the new one.
_overrides: dict[date, CalendarOverride] = {}
_working: dict[date, bool] = {}  # per-day answers of is_working_day, valid for _overrides


@cache
def _vietnam() -> holidays.HolidayBase:
    # One calendar that grows by the years asked (expand=True); it knows the official
    # make-up Saturdays (weekend_workdays) as well as the days off. Names in Vietnamese.
    return holidays.country_holidays("VN", language="vi")


def package_source() -> str:
    """Where a day the loaded documents do not set comes from: the package and its version."""
    return f"holidays {holidays_version}"


def set_overrides(overrides: Iterable[CalendarOverride]) -> None:
    """Install the loaded calendar days process-wide, replacing the previous set."""
    global _overrides, _working
    new = {o.day: o for o in overrides}
    if new == _overrides:
        return  # the scheduler installs every minute: keep the cache when nothing changed
    _overrides, _working = new, {}


def is_working_day(day: date) -> bool:
    """Whether offices work that day."""
    known = _working.get(day)
    if known is None:
        override = _overrides.get(day)
        known = override.working if override else bool(_vietnam().is_working_day(day))
        _working[day] = known
    return known


def year_calendar(year: int) -> list[CalendarEntry]:
    """Every day of the year off on a weekday or worked on a weekend, by date."""
    entries = []
    day, end = date(year, 1, 1), date(year, 12, 31)
    while day <= end:
        working = is_working_day(day)
        if working == (day.weekday() >= 5):
            override = _overrides.get(day)
            if override is not None:
                entries.append(CalendarEntry(day, working, override.name, override.source))
            else:
                name = _vietnam().get(day)
                entries.append(
                    CalendarEntry(day, working, "" if name is None else str(name), package_source())
                )
        day += timedelta(days=1)
    return entries


def working_days_between(start: date, end: date) -> int:
    """Working days d with start < d <= end (0 when end <= start): the working days left."""
    if end <= start:
        return 0
    count, day = 0, start + timedelta(days=1)
    while day <= end:
        count += is_working_day(day)
        day += timedelta(days=1)
    return count


def previous_working_day(day: date) -> date:
    """The day itself if offices work, else the closest working day before it."""
    while not is_working_day(day):
        day -= timedelta(days=1)
    return day


def next_working_day(day: date) -> date:
    """The day itself if offices work, else the closest working day after it."""
    while not is_working_day(day):
        day += timedelta(days=1)
    return day


def quarter_of(day: date) -> int:
    """1 to 4."""
    return (day.month - 1) // 3 + 1


def quarter_start(year: int, quarter: int) -> date:
    """The first calendar day of a quarter."""
    return date(year, 3 * quarter - 2, 1)
